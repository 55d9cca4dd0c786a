"""A safe arithmetic-expression reader for `matgrad explain "3*(a+b*c)" a=5 b=3 c=2`.

The text is parsed with Python's `ast` (parsing runs nothing) and every node is checked
against a short list: numbers, variable names, + - * / **, unary minus, parentheses and
calls of a few math functions. Anything else is refused with a caret under the offending
part. The graph is then built by walking the checked tree; nothing is ever eval'd.
"""
from __future__ import annotations

import ast
import math
import re
from typing import Any, Callable

import numpy as np

from ..autograd.grad_mode import no_grad
from ..ops import activation, binary, unary
from ..tensor import Tensor
from .values import num

MAX_CHARS = 500
MAX_DEPTH = 40

#: The functions an expression may call, with how many arguments each takes.
FUNCTIONS: dict[str, int] = {
    "exp": 1, "log": 1, "sqrt": 1, "abs": 1, "tanh": 1, "sigmoid": 1, "relu": 1, "sin": 1, "cos": 1,
    "max": 2, "min": 2,
}
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_ALLOWED = "numbers, variable names, + - * / **, unary -, parentheses and calls of " + ", ".join(FUNCTIONS)
_ASSIGN = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")


class ExpressionError(ValueError):
    """An expression that is not allowed or not well formed; the message points at the spot."""


def _error(source: str, col: int | None, what: str) -> ExpressionError:
    msg = what
    if col is not None:
        shown = source.replace("\n", " ")
        if len(shown) > 100:  # keep the caret on screen
            start = max(0, col - 50)
            shown, col = shown[start:start + 100], col - start
        msg += f"\n  {shown}\n  {' ' * col}^"
    return ExpressionError(msg)


def split_name(text: str) -> tuple[str | None, str]:
    """'f = (x+y)*z' -> ('f', '(x+y)*z'); an expression without a name -> (None, text)."""
    m = _ASSIGN.match(text)
    if m:
        return m.group(1), text[m.end():]
    return None, text


def _depth(source: str) -> tuple[int, int]:
    """The deepest bracket nesting and where it is first reached (refused before parsing)."""
    depth = best = at = 0
    for i, ch in enumerate(source):
        if ch in "([{":
            depth += 1
            if depth > best:
                best, at = depth, i
        elif ch in ")]}":
            depth -= 1
    return best, at


def parse(source: str) -> ast.expr:
    """The checked syntax tree of `source`, or ExpressionError naming what is not allowed."""
    if not isinstance(source, str):
        raise ExpressionError(f"the expression must be text, got {type(source).__name__}")
    if len(source) > MAX_CHARS:
        raise _error(source[:120], None,
                     f"the expression is {len(source)} characters long; at most {MAX_CHARS} are allowed")
    if not source.strip():
        raise ExpressionError(
            "the expression is empty; e.g. matgrad explain \"3*(a+b*c)\" a=5 b=3 c=2"
        )
    depth, at = _depth(source)
    if depth > MAX_DEPTH:
        raise _error(source, at, f"brackets nested {depth} deep; at most {MAX_DEPTH} are allowed")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as e:
        col = (e.offset or 1) - 1
        raise _error(source.strip(), col, f"not a valid expression ({e.msg})") from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise _error(source, None, f"could not read the expression ({type(e).__name__})") from None
    src = source.strip()
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, d = stack.pop()
        if d > 2 * MAX_DEPTH + 100:
            raise _error(src, getattr(node, "col_offset", None), "the expression is nested too deeply")
        for child in _check(src, node):
            stack.append((child, d + 1))
    return tree.body


def _check(src: str, node: ast.AST) -> list[ast.AST]:
    """Refuse `node` unless it is on the allowed list; return the children to check next."""
    col = getattr(node, "col_offset", None)
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _error(src, col, f"{type(v).__name__} literal {v!r:.30} is not allowed; only {_ALLOWED}")
        try:
            finite = math.isfinite(float(v))
        except OverflowError:
            finite = False
        if not finite:
            raise _error(src, col, "this number is too large for a float")
        return []
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise _error(src, col, f"name {node.id!r} is not allowed (names may not start with _)")
        return []
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            what = f"operator {type(node.op).__name__} is not allowed; only {_ALLOWED}"
            if isinstance(node.op, ast.BitXor):  # x^2 as on paper: Python's power is **
                left, right = (ast.get_source_segment(src, n) or "…" for n in (node.left, node.right))
                what = f"operator ^ is not a power here; use ** for powers: {left}**{right}"
            raise _error(src, node.right.col_offset - 1 if col is not None else None, what)
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise _error(src, col, f"operator {type(node.op).__name__} is not allowed; only {_ALLOWED}")
        return [node.operand]
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = ast.get_source_segment(src, node.func) or type(node.func).__name__
            raise _error(src, node.func.col_offset, f"calling {what!s:.40} is not allowed; only {_ALLOWED}")
        if node.keywords:
            kw = node.keywords[0]
            raise _error(src, getattr(kw, "col_offset", col), "keyword arguments are not allowed")
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise _error(src, a.col_offset, "starred arguments are not allowed")
        n = FUNCTIONS[node.func.id]
        if len(node.args) != n:
            raise _error(src, col, f"{node.func.id}() takes {n} argument{'s' if n > 1 else ''}, "
                                   f"got {len(node.args)}")
        return list(node.args)
    kind = {ast.Attribute: "attribute access", ast.Subscript: "subscripts", ast.Lambda: "lambdas",
            ast.ListComp: "comprehensions", ast.GeneratorExp: "comprehensions", ast.SetComp: "comprehensions",
            ast.DictComp: "comprehensions", ast.JoinedStr: "strings", ast.Compare: "comparisons",
            ast.BoolOp: "and/or", ast.IfExp: "if-else", ast.NamedExpr: ":=", ast.Starred: "starred arguments",
            }.get(type(node), type(node).__name__)
    raise _error(src, col, f"not allowed here: {kind}; only {_ALLOWED}")


def variables(tree: ast.expr) -> list[str]:
    """The variable names in the checked tree, left to right (function names excluded)."""
    funcs = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    found = sorted(
        (n.col_offset, n.id) for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in funcs
    )
    return list(dict.fromkeys(name for _, name in found))


#: What each function of an expression calls.
_OPS: dict[str, Callable[..., Tensor]] = {
    "exp": unary.exp, "log": unary.log, "sqrt": unary.sqrt, "abs": unary.abs, "tanh": activation.tanh,
    "sigmoid": activation.sigmoid, "relu": activation.relu, "sin": unary.sin, "cos": unary.cos,
    "max": binary.maximum, "min": binary.minimum,
}


def build(
    tree: ast.expr, values: dict[str, Any], requires_grad: bool = True, source: str | None = None
) -> tuple[Tensor, dict[str, Tensor]]:
    """Evaluate the checked tree on float64 tensors; returns (output, the variables' tensors).

    A part made of numbers alone that is not finite (9**9**9**9 overflows, 1/0, log(0)) makes
    the expression undefined for every value: ExpressionError says so, with a caret under it
    when `source` (the text `parse` read) is given. A value that stops being finite because
    of the variables' values is inf or nan, silently: whoever shows it says it is not defined
    at that point (see the notes of matgrad.explain), rather than NumPy's warnings.
    """
    with np.errstate(all="ignore"):
        return _build(tree, values, requires_grad, source)


def _why_not_finite(op: str, xs: list[float], y: float) -> str:
    """How an operation on finite numbers gave one that is not: '1/0 divides by zero' ..."""
    if math.isnan(y):
        return "is not a number (0/0, inf − inf, or outside the function's domain)"
    if op == "/" and xs[1] == 0:
        return "divides by zero"
    if op == "**" and xs[0] == 0:
        return "is a negative power of 0, which is inf"
    if op == "log" and xs[0] == 0:
        return "is the log of 0, which is −inf"
    return "overflows: it is too large for float64"


def _build(tree: ast.expr, values: dict[str, Any], requires_grad: bool,
           source: str | None) -> tuple[Tensor, dict[str, Tensor]]:
    inputs: dict[str, Tensor] = {}
    for name in variables(tree):
        if name not in values:
            raise ExpressionError(f"no value given for variable {name!r}; add {name}=VALUE")
        t = Tensor(np.asarray(values[name], dtype=np.float64), requires_grad=requires_grad)
        t.name = name
        inputs[name] = t

    def const(v: float) -> Tensor:
        return Tensor(np.asarray(float(v), dtype=np.float64))

    def numbers_only_check(node: ast.AST, op: str, kids: list[ast.AST]) -> None:
        """Refuse a part of numbers alone that is not finite, though its operands are."""
        varying[id(node)] = any(varying[id(k)] for k in kids)
        y = float(done[id(node)].array)
        xs = [float(done[id(k)].array) for k in kids]
        if varying[id(node)] or math.isfinite(y) or not all(math.isfinite(x) for x in xs):
            return
        what = (ast.get_source_segment(source, node) if source else None) or ast.unparse(node)
        raise _error(source or what, node.col_offset if source else None,
                     f"{what} {_why_not_finite(op, xs, y)}; it is made of numbers alone, so the expression is "
                     "not defined for any values")

    # iterative post-order walk: no recursion limit to reach
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    done: dict[int, Tensor] = {}
    varying: dict[int, bool] = {}  # whether a part depends on a variable
    while stack:
        node, ready = stack.pop()
        if isinstance(node, ast.Constant):
            done[id(node)] = const(node.value)
            varying[id(node)] = False
        elif isinstance(node, ast.Name):
            done[id(node)] = inputs[node.id]
            varying[id(node)] = True
        elif not ready:
            stack.append((node, True))
            stack.extend((k, False) for k in _children(node))
        elif isinstance(node, ast.BinOp):
            a, b = done[id(node.left)], done[id(node.right)]
            op = _BINOPS[type(node.op)]
            if op == "**" and b.grad_fn is None and not b.requires_grad:
                b = float(b.array)  # a number as exponent: x^p with d/dx = p·x^(p−1)
            done[id(node)] = {"+": a.__add__, "-": a.__sub__, "*": a.__mul__, "/": a.__truediv__,
                              "**": a.__pow__}[op](b)
            numbers_only_check(node, op, [node.left, node.right])
        elif isinstance(node, ast.UnaryOp):
            x = done[id(node.operand)]
            done[id(node)] = -x if isinstance(node.op, ast.USub) else x
            numbers_only_check(node, "-", [node.operand])
        else:
            done[id(node)] = _OPS[node.func.id](*[done[id(a)] for a in node.args])
            numbers_only_check(node, node.func.id, list(node.args))
    out = done[id(tree)]
    if out.grad_fn is None and requires_grad:
        out = out * 1.0  # a bare variable or number still gets one node to explain
    return out, inputs


def _children(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    return list(node.args)


def parse_assignments(items: list[str]) -> dict[str, float]:
    """['a=5', 'b=3'] -> {'a': 5.0, 'b': 3.0}, or a clear error naming the bad item."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, val = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ExpressionError(f"expected NAME=VALUE, got {item!r} (e.g. a=5)")
        try:
            v = float(val)
        except ValueError:
            raise ExpressionError(f"the value of {name} must be a number, got {val!r}") from None
        if not math.isfinite(v):
            raise ExpressionError(f"the value of {name} must be finite, got {val!r}")
        values[name] = v
    return values


def finite_difference(tree: ast.expr, values: dict[str, float], name: str, h: float = 1e-6) -> float:
    """Central difference (f(v+h) − f(v−h)) / 2h for one variable, in float64 (inf or nan where f is not finite)."""
    with no_grad(), np.errstate(all="ignore"):
        up = build(tree, {**values, name: values[name] + h}, requires_grad=False)[0].array.item()
        down = build(tree, {**values, name: values[name] - h}, requires_grad=False)[0].array.item()
    return (up - down) / (2 * h)


def one_sided(tree: ast.expr, values: dict[str, float], name: str, h: float = 1e-6) -> tuple[float, float]:
    """The one-sided differences (f(v) − f(v−h))/h and (f(v+h) − f(v))/h: far apart at a kink."""
    with no_grad(), np.errstate(all="ignore"):
        at = [build(tree, {**values, name: values[name] + d}, requires_grad=False)[0].array.item()
              for d in (-h, 0.0, h)]
    return (at[1] - at[0]) / h, (at[2] - at[1]) / h


def kink_note(grad: float, left: float, right: float, var: str, value: float) -> str:
    """Why the central difference differs at a kink, and which one-sided derivative the library uses."""
    if not (math.isfinite(left) and math.isfinite(right)) or abs(left - right) <= 1e-3 * max(1.0, abs(left),
                                                                                            abs(right)):
        return ""
    def close(a: float) -> bool:
        return abs(grad - a) <= 1e-3 * max(1.0, abs(a))
    used = ("the one from the left" if close(left) else "the one from the right" if close(right)
            else f"{num(grad)}, a value between them (a subgradient)")
    return (f"the function has a kink at {var} = {num(value)}: its slope is {num(left)} from the left and "
            f"{num(right)} from the right, so no derivative exists there (the central difference sees their "
            f"mean); matgrad uses {used}, as PyTorch does")
