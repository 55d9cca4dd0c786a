"""`matgrad explain EXPR name=value ...`: backprop by hand, done for you, one step at a time.

    matgrad explain "3*(a+b*c)" a=5 b=3 c=2
    matgrad explain "f = (x+y)*z" x=-2 y=5 z=-4 --svg graph.svg --html steps.html
    matgrad explain "sigmoid(w0*x0 + w1*x1 + w2)" w0=2 x0=-1 w1=-3 x1=-2 w2=-3 --json

The expression is read safely (numbers, names, + - * / **, parentheses and a few math
functions; nothing is ever eval'd), built as a float64 graph, and explained: the forward
pass, the reverse pass, and d(out)/d(var) for every variable beside a finite-difference check.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..explain.expr import (
    FUNCTIONS,
    ExpressionError,
    build,
    finite_difference,
    parse,
    parse_assignments,
    split_name,
)
from ..explain.values import num


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the `explain` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "explain",
        help="show how every gradient of an expression comes to be (forward and reverse pass)",
        description=(
            "Build the graph of EXPR with the given variable values and explain backprop step by step: "
            "each gradient = upstream gradient × local derivative. Allowed: numbers, names, + - * / **, "
            f"unary -, parentheses and {', '.join(FUNCTIONS)}(...). Prefix 'NAME =' to name the output."
        ),
        epilog='example: matgrad explain "3*(a+b*c)" a=5 b=3 c=2',
    )
    p.add_argument("expr", help='the expression, e.g. "3*(a+b*c)" or "f = (x+y)*z"')
    p.add_argument("values", nargs="*", metavar="NAME=VALUE", help="a value for every variable, e.g. a=5")
    p.add_argument("--name", default=None, help="name of the output in the tables (default J)")
    p.add_argument("--json", action="store_true", help="print one JSON object (value, grads, steps)")
    p.add_argument("--svg", metavar="FILE", help="also draw the graph as an SVG picture")
    p.add_argument("--html", metavar="FILE", help="also write a step-through HTML page")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; 0 on success, 2 for a bad expression or values."""
    from ..explain import explain

    try:
        given_name, text = split_name(args.expr)
        tree = parse(text)
        values = parse_assignments(list(args.values))
        out, inputs = build(tree, values)
    except ExpressionError as e:
        print(str(e), file=sys.stderr)
        return 2
    unused = sorted(set(values) - set(inputs))
    if unused:
        print(f"explain: {', '.join(unused)} not in the expression; remove "
              f"{'them' if len(unused) > 1 else 'it'} or check the spelling", file=sys.stderr)
        return 2
    if not inputs:
        print("explain: the expression has no variables, so there is no gradient to explain; "
              "e.g. matgrad explain \"3*(a+b*c)\" a=5 b=3 c=2", file=sys.stderr)
        return 2
    name = args.name or given_name or "J"
    exp = explain(out, print_table=False, name=name)
    # list the variables as the expression does, not in the order the graph reads them
    exp.grads = {k: exp.grads[k] for k in inputs if k in exp.grads}
    exp.leaves = {k: exp.leaves[k] for k in inputs if k in exp.leaves}
    grads = {k: float(inputs[k].grad.item()) for k in inputs}
    fd = {k: finite_difference(tree, values, k) for k in inputs}
    for flag, writer in (("svg", "draw"), ("html", "html")):
        path = getattr(args, flag, None)
        if path:
            from .. import viz

            try:
                getattr(viz, writer)(exp, path)
            except OSError as e:
                print(f"explain: could not write {path}: {e}", file=sys.stderr)
                return 2
            print(f"wrote {path}", file=sys.stderr)
    if args.json:
        d = exp.to_dict()
        print(json.dumps({
            "expression": text.strip(), "output": name, "value": float(out.data.item()), "grads": grads,
            "finite_difference": fd, "inputs": values, "forward": d["forward"], "steps": d["steps"],
        }, indent=1, ensure_ascii=False))
        return 0
    print(f"{name} = {text.strip()}   with " + ", ".join(f"{k} = {num(v)}" for k, v in values.items()))
    print()
    print(exp.forward_table())
    print()
    print(exp.table())
    print()
    print(f"Result: {name} = {num(out.data.item())}")
    width = max(len(k) for k in inputs)
    for k in inputs:
        ok = abs(grads[k] - fd[k]) <= 1e-5 * max(1.0, abs(grads[k]))
        print(f"  d{name}/d{k.ljust(width)} = {num(grads[k]):>10}    finite difference {fd[k]:.6f}  "
              f"{'agrees' if ok else 'DIFFERS'}")
    return 0
