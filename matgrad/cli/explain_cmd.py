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
import math
import sys
from typing import Any

import numpy as np

from ..explain.expr import (
    FUNCTIONS,
    ExpressionError,
    build,
    finite_difference,
    kink_note,
    one_sided,
    parse,
    parse_assignments,
    split_name,
)
from ..explain.record import explain
from ..explain.values import json_ready, num
from .errors import error

#: The step of the finite-difference check.
H = 1e-6


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


def _error(message: str) -> int:
    """Print `matgrad explain: error: MESSAGE`, as every command does; the exit status 2."""
    error("explain", message)
    return 2


def _check(grad: float, fd: float, value_finite: bool, name: str, var: str) -> str:
    """What the finite difference says of one gradient; never 'agrees' unless both are finite numbers."""
    if not value_finite:
        return f"not defined at this point ({name} is not finite)"
    if not math.isfinite(grad):
        return "not defined at this point (the gradient is not finite)"
    if not math.isfinite(fd):
        return f"finite difference not defined ({name} is not finite at {var} ± {num(H)})"
    ok = abs(grad - fd) <= 1e-5 * max(1.0, abs(grad))
    return f"finite difference {fd:.6f}  {'agrees' if ok else 'DIFFERS'}"


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; 0 on success, 2 for a bad expression or values."""
    try:
        given_name, text = split_name(args.expr)
        tree = parse(text)
        values = parse_assignments(list(args.values))
        out, inputs = build(tree, values, source=text.strip())
    except ExpressionError as e:
        return _error(str(e))
    if not inputs:
        return _error("the expression has no variables, so there is no gradient to explain; "
                      "e.g. matgrad explain \"3*(a+b*c)\" a=5 b=3 c=2")
    unused = sorted(set(values) - set(inputs))
    if unused:
        return _error(f"{', '.join(unused)} not in the expression; remove "
                      f"{'them' if len(unused) > 1 else 'it'} or check the spelling")
    name = args.name or given_name or "J"
    exp = explain(out, print_table=False, name=name)
    # list the variables as the expression does, not in the order the graph reads them
    exp.grads = {k: exp.grads[k] for k in inputs if k in exp.grads}
    exp.leaves = {k: exp.leaves[k] for k in inputs if k in exp.leaves}
    value = float(out.array.item())
    grads = {k: float(np.asarray(exp.grads[k]).item()) if k in exp.grads else 0.0 for k in inputs}
    fd = {k: finite_difference(tree, values, k, H) for k in inputs}
    for flag, writer in (("svg", "draw"), ("html", "html")):
        path = getattr(args, flag, None)
        if path:
            from .. import viz  # only when a picture is asked for

            try:
                getattr(viz, writer)(exp, path)
            except OSError as e:
                return _error(f"could not write {path}: {e}")
            print(f"wrote {path}", file=sys.stderr)
    not_finite = ([name] if not math.isfinite(value) else []) + [
        f"d{name}/d{k}" for k in inputs if not math.isfinite(grads[k])]
    if args.json:
        d = exp.to_dict()
        # JSON has no inf or nan: a value that is not finite is null, and "not_finite" names it
        print(json.dumps(json_ready({
            "expression": text.strip(), "output": name, "value": value, "grads": grads,
            "finite_difference": fd, "inputs": values, "forward": d["forward"], "steps": d["steps"],
            "not_finite": not_finite, "notes": d["notes"],
        }), indent=1, ensure_ascii=False, allow_nan=False))
        return 0
    print(f"{name} = {text.strip()}   with " + ", ".join(f"{k} = {num(v)}" for k, v in values.items()))
    print()
    print(exp.forward_table())
    print()
    print(exp.table(totals=False))  # the gradients are listed once, below, beside their check
    print()
    result = f"Result: {name} = {num(value)}"
    if not math.isfinite(value):
        result += f"   (not finite: {name} is not defined at these values)"
    print(result)
    width = max(len(k) for k in inputs)
    for k in inputs:
        check = _check(grads[k], fd[k], math.isfinite(value), name, k)
        print(f"  d{name}/d{k.ljust(width)} = {num(grads[k]):>10}    {check}")
        if check.endswith("DIFFERS"):  # at a kink, say so rather than leave it a mystery
            note = kink_note(grads[k], *one_sided(tree, values, k, H), k, values[k])
            if note:
                print(" " * (width + 7) + f"({note})")
    if exp.notes:
        print()
        print("Not finite, so not defined at this point:" if not_finite else "Notes:")
        for note in exp.notes:
            print(f"  {note}")
    return 0
