"""The local derivative of each op, in words and numbers: the table the explainer reads.

Each rule says what the op's backward does (the text a tutorial would write under the
node), names the gradient-flow pattern ("add distributes", "multiply swaps", "max routes"),
and for elementwise ops gives the local derivative per input, both as a symbol built
from the operands' names and as numbers, so a step reads `∂J/∂b = ∂J/∂u · c = 3 · 2 = 6`.
Beside the rules, how each op's forward pass is written (`{0} · {1}`) and its symbol in
the pictures (`×`). All three tables are keyed by the op's class, imported from
matgrad.ops, so a renamed op fails at import. Ops with no entry fall back to the first
line of their docstring, which by convention states the local derivative.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from ..autograd.op import Op
from ..ops import (
    activation,
    arithmetic,
    binary,
    indexing,
    join,
    linear,
    matmul,
    reduction,
    shape,
    softmax,
    unary,
)
from .values import num

#: local(names, xs, y, node) -> one (symbol, value) per input; value broadcasts against dy.
Local = Callable[[list, list, Any, Any], list]


@dataclass(frozen=True)
class Rule:
    """How one op sends gradients back: words, pattern, and (elementwise) local derivatives.

    `infix` writes the forward pass from the operands' names, by position (`{p}`: the
    node's exponent), and `symbol` is the op's mark in the pictures.
    """

    text: str
    pattern: str
    local: Local | None = None  # elementwise ops: dx_i = dy ⊙ local_i
    view: str | None = None  # other ops: how dx is made from dy, in words (per input)
    infix: str = ""
    symbol: str = ""
    # small tensors: per element, how dx is made from dy, in numbers (detail(names, xs, y, dy, node, yname))
    detail: Callable[..., list[str]] | None = None

    def forward_text(self, node: Any, operands: list[str]) -> str:
        """How the forward pass reads with these operands: 'b · c', 'x^2', 'Conv2d(x, w)'."""
        if self.infix:
            try:
                return self.infix.format(*operands, p=num(getattr(node, "p", float("nan"))))
            except (IndexError, KeyError, ValueError):  # fewer operands than the form has
                pass
        return f"{node.name}({', '.join(operands)})"


def _one(s: str, v: Any) -> Local:
    return lambda n, xs, y, node: [(s, v)]


def _share(first: np.ndarray, tie: np.ndarray) -> np.ndarray:
    return np.where(tie, 0.5, first.astype(np.float64))


def _pow_scalar(n, xs, y, node):
    p = getattr(node, "p", None)
    if p is None:
        return [("p·x^(p−1)", None)]
    if p == 0:  # x⁰ = 1 is constant: zero, as the op's backward (never 0·0⁻¹ = nan)
        return [("0", 0.0)]
    power = "" if p - 1 == 1 else f"^{_g(p - 1)}"
    return [(f"{_g(p)}·{n[0]}{power}", p * xs[0] ** (p - 1))]


def _g(x: Any) -> str:
    return f"{float(x):.4g}"


def _log_or_nan(a: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(a)


def _softmax_routing(n: list, xs: list, y: Any, dy: Any, node: Any, yname: str) -> list[str]:
    """How softmax routes dy to each element of x: d{x}ᵢ = yᵢ · (d{y}ᵢ − Σ y·d{y}), with the numbers.

    Along its axis, every element (in attention: every key) gets its weight yᵢ times how far its
    own upstream stands above the weighted mean Σ y·dy: the gradient goes where the weight is.
    """
    y, dy = np.asarray(y, dtype=np.float64), np.broadcast_to(np.asarray(dy, dtype=np.float64), np.shape(y))
    axis = getattr(node, "axis", -1)
    mean = np.sum(y * dy, axis=axis, keepdims=True)
    dx = y * (dy - mean)
    means = np.broadcast_to(mean, y.shape)
    x, ax = n[0], axis % y.ndim if y.ndim else 0
    lines = []
    rows = np.ndindex(*[1 if k == ax else d for k, d in enumerate(y.shape)]) if y.ndim else [()]
    for row in rows:
        first = row if not row else tuple(0 if k == ax else i for k, i in enumerate(row))
        if y.ndim:
            lines.append(f"softmax routes d{yname} along axis {ax}" + (f" at {list(row)}" if y.ndim > 1 else "")
                         + f": Σ {yname}·d{yname} = {num(means[first])} (the weighted mean upstream)")
        for i in range(y.shape[ax] if y.ndim else 1):
            idx = tuple(i if k == ax else r for k, r in enumerate(row)) if y.ndim else ()
            at = ", ".join(map(str, idx))
            lines.append(f"  d{x}[{at}] = {yname}[{at}] · (d{yname}[{at}] − Σ) = {num(y[idx])} · "
                         f"({num(dy[idx])} − {num(means[idx])}) = {num(dx[idx])}")
    return lines


#: The rule of each op, by its class: renaming or moving an op fails here, at import, rather than
#: leaving the explainer to fall back to a docstring without a word.
RULES: dict[type[Op], Rule] = {
    arithmetic.Add: Rule("d(u+v)/du = 1, d(u+v)/dv = 1", "add distributes: each input gets the gradient unchanged",
                         lambda n, xs, y, node: [("1", 1.0), ("1", 1.0)]),
    arithmetic.Sub: Rule("d(u−v)/du = 1, d(u−v)/dv = −1", "subtract distributes, negating the second input's share",
                         lambda n, xs, y, node: [("1", 1.0), ("−1", -1.0)]),
    arithmetic.Mul: Rule("d(u·v)/du = v, d(u·v)/dv = u", "multiply swaps: each input gets the other one",
                         lambda n, xs, y, node: [(n[1], xs[1]), (n[0], xs[0])]),
    arithmetic.Div: Rule("d(u/v)/du = 1/v, d(u/v)/dv = −u/v²",
                         "divide: 1/v to the numerator u, −u/v² to the denominator v",
                         lambda n, xs, y, node: [(f"1/{n[1]}", 1 / xs[1]), (f"−{n[0]}/{n[1]}²", -xs[0] / xs[1] ** 2)]),
    arithmetic.Neg: Rule("d(−u)/du = −1", "negate flips the sign", _one("−1", -1.0)),
    arithmetic.PowScalar: Rule("d(uᵖ)/du = p·uᵖ⁻¹", "a layer multiplies by its local derivative", _pow_scalar),
    arithmetic.Pow: Rule("d(uᵛ)/du = v·uᵛ⁻¹, d(uᵛ)/dv = uᵛ·ln u", "a layer multiplies by its local derivative",
                         lambda n, xs, y, node: [(f"{n[1]}·{n[0]}^({n[1]}−1)", xs[1] * xs[0] ** (xs[1] - 1)),
                                                 (f"{n[0]}^{n[1]}·ln {n[0]}", y * _log_or_nan(xs[0]))]),
    unary.Exp: Rule("d(eᵘ)/du = eᵘ", "a layer multiplies by its local derivative (here its own output)",
                    lambda n, xs, y, node: [(f"exp({n[0]})", y)]),
    unary.Log: Rule("d(ln u)/du = 1/u", "a layer multiplies by its local derivative",
                    lambda n, xs, y, node: [(f"1/{n[0]}", 1 / xs[0])]),
    unary.Sqrt: Rule("d(√u)/du = 1/(2√u)", "a layer multiplies by its local derivative",
                     lambda n, xs, y, node: [(f"1/(2·√{n[0]})", 0.5 / y)]),
    unary.Abs: Rule("d|u|/du = sign(u) (0 at u = 0)", "abs routes the gradient with the sign of its input",
                    lambda n, xs, y, node: [(f"sign({n[0]})", np.sign(xs[0]))]),
    unary.Sign: Rule("d sign(u)/du = 0", "sign stops the gradient", lambda n, xs, y, node: [("0", 0.0)]),
    unary.Sin: Rule("d(sin u)/du = cos u", "a layer multiplies by its local derivative",
                    lambda n, xs, y, node: [(f"cos({n[0]})", np.cos(xs[0]))]),
    unary.Cos: Rule("d(cos u)/du = −sin u", "a layer multiplies by its local derivative",
                    lambda n, xs, y, node: [(f"−sin({n[0]})", -np.sin(xs[0]))]),
    unary.Erf: Rule("d erf(u)/du = 2/√π·e^(−u²)", "a layer multiplies by its local derivative",
                    lambda n, xs, y, node: [(f"2/√π·exp(−{n[0]}²)", 2 / np.sqrt(np.pi) * np.exp(-xs[0] ** 2))]),
    activation.Tanh: Rule("d(tanh u)/du = 1 − tanh²u", "a layer multiplies by its local derivative",
                          lambda n, xs, y, node: [(f"(1 − tanh({n[0]})²)", 1 - y * y)]),
    activation.Sigmoid: Rule("dσ(u)/du = σ(u)·(1 − σ(u))", "a layer multiplies by its local derivative",
                             lambda n, xs, y, node: [(f"σ({n[0]})·(1 − σ({n[0]}))", y * (1 - y))]),
    activation.ReLU: Rule("d relu(u)/du = 1 where u > 0, else 0 (0 at u = 0)",
                          "relu gates: max(0, u) passes the gradient where u > 0",
                          lambda n, xs, y, node: [(f"[{n[0]} > 0]", (xs[0] > 0).astype(np.float64))]),
    activation.LeakyReLU: Rule("d leaky_relu(u)/du = 1 where u > 0, else slope", "leaky relu gates",
                               lambda n, xs, y, node: [(f"[{n[0]} > 0 ? 1 : slope]",
                                                        np.where(xs[0] > 0, 1.0, getattr(node, "slope", 0.01)))]),
    activation.Clamp: Rule("d clamp(u)/du = 1 inside [min, max], else 0", "clamp gates",
                           lambda n, xs, y, node: [(f"[{n[0]} inside the bounds]", (y == xs[0]).astype(np.float64))]),
    binary.Maximum: Rule("d max(u,v)/du = 1 where u > v, d/dv = 1 where v > u (½ each on a tie)",
                         "max routes: the larger input takes the whole gradient",
                         lambda n, xs, y, node: [(f"[{n[0]} > {n[1]}]", _share(xs[0] > xs[1], xs[0] == xs[1])),
                                                 (f"[{n[1]} > {n[0]}]", _share(xs[1] > xs[0], xs[0] == xs[1]))]),
    binary.Minimum: Rule("d min(u,v)/du = 1 where u < v, d/dv = 1 where v < u (½ each on a tie)",
                         "min routes: the smaller input takes the whole gradient",
                         lambda n, xs, y, node: [(f"[{n[0]} < {n[1]}]", _share(xs[0] < xs[1], xs[0] == xs[1])),
                                                 (f"[{n[1]} < {n[0]}]", _share(xs[1] < xs[0], xs[0] == xs[1]))]),
    shape.AsType: Rule("d(u as another dtype)/du = 1", "a dtype change passes the gradient through",
                       _one("1", 1.0)),
    # --- ops whose gradient is not dy ⊙ (something elementwise) -------------------------
    linear.Linear: Rule("G = U·Vᵀ + bias: dU = dG·V, dV = dGᵀ·U, d bias = Σ over the rows of dG",
                        "a linear layer: the input gets the gradient times the weight; the weight gets the "
                        "gradient (transposed) times the input; the bias the gradient summed over the batch",
                        view="linear"),
    matmul.MatMul: Rule("G = U·V: dU = dG·Vᵀ, dV = Uᵀ·dG", "matmul swaps and transposes: each input gets "
                        "the upstream gradient times the other input, transposed", view="matmul"),
    reduction.Sum: Rule("d(Σu)/du = 1", "sum copies the gradient to every element it summed",
                        view="d{y} copied to every element of {x}"),
    reduction.Mean: Rule("d(mean u)/du = 1/n", "mean copies the gradient, divided by n",
                         view="d{y} / {n} copied to every element of {x}"),
    reduction.AMax: Rule("d max(u)/du = 1 at the maximum, 0 elsewhere (shared among ties)",
                         "max routes: only the largest element gets the gradient",
                         view="d{y} routed to the maximum of {x}"),
    reduction.AMin: Rule("d min(u)/du = 1 at the minimum, 0 elsewhere (shared among ties)",
                         "min routes: only the smallest element gets the gradient",
                         view="d{y} routed to the minimum of {x}"),
    reduction.SelectAlong: Rule("d u[idx]/du = 1 at the chosen index, 0 elsewhere",
                                "max routes: the chosen element gets the gradient",
                                view="d{y} routed to the chosen elements of {x}"),
    reduction.Var: Rule("d var(u)/du = 2·(u − mean)/(n − correction)", "var weighs each element by its deviation",
                        view="d{y} · 2·({x} − mean)/(n − correction)"),
    reduction.LogSumExp: Rule("d logsumexp(u)/du = softmax(u)", "logsumexp spreads the gradient by softmax",
                              view="d{y} · softmax({x})"),
    softmax.Softmax: Rule("s = softmax(u): du = s ⊙ (ds − Σ(ds ⊙ s)), the Jacobian diag(s) − s·sᵀ",
                          "softmax couples every output with every input: each element gets its weight × "
                          "(its upstream − the weighted mean upstream)", view="{y} ⊙ (d{y} − Σ d{y} ⊙ {y})",
                          detail=_softmax_routing),
    softmax.LogSoftmax: Rule("g = log_softmax(u): du = dg − softmax(u)·Σdg",
                             "log-softmax couples every output with every input",
                             view="d{y} − softmax({x}) · Σ d{y}"),
    shape.Reshape: Rule("du = dg reshaped back (g: the output)", "a reshape moves the gradient back unchanged",
                        view="d{y} reshaped back to the shape of {x}"),
    shape.Permute: Rule("du = dg with the axes put back (g: the output)",
                        "a transpose moves the gradient back unchanged",
                        view="d{y} with its axes put back"),
    shape.Expand: Rule("du = dg summed over the copies (g: the output)",
                       "a copy sums", view="d{y} summed over the copies"),
    indexing.GetItem: Rule("du = zeros, with dg put at the index (g: the output)",
                           "indexing scatters the gradient back",
                           view="zeros like {x}, with d{y} added at the index"),
    indexing.IndexAdd: Rule("du = dg[index] (g: the output)",
                            "index-add gathers the gradient", view="d{y} at the index"),
    join.Cat: Rule("duᵢ = the slice of dg where uᵢ was put (g: the output)", "cat splits the gradient",
                   view="the slice of d{y} where {x} was put"),
    join.Pad: Rule("du = dg without the padding (g: the output)",
                   "pad crops the gradient", view="d{y} without the padding"),
    binary.Where: Rule("g = where(c, u, v): dg goes to u where c, to v elsewhere", "where routes",
                       view="d{y} where the condition picks {x}, 0 elsewhere"),
}


# math ops (issue 14): the elementwise ones with their local derivative in numbers.
_LOCAL = "a layer multiplies by its local derivative"
RULES.update({
    unary.Tan: Rule("d(tan u)/du = 1 + tan²u", _LOCAL,
                    lambda n, xs, y, node: [(f"(1 + tan({n[0]})²)", 1 + y * y)]),
    unary.Asin: Rule("d(asin u)/du = 1/√(1 − u²)", _LOCAL,
                     lambda n, xs, y, node: [(f"1/√(1 − {n[0]}²)", 1 / np.sqrt(1 - xs[0] ** 2))]),
    unary.Acos: Rule("d(acos u)/du = −1/√(1 − u²)", _LOCAL,
                     lambda n, xs, y, node: [(f"−1/√(1 − {n[0]}²)", -1 / np.sqrt(1 - xs[0] ** 2))]),
    unary.Atan: Rule("d(atan u)/du = 1/(1 + u²)", _LOCAL,
                     lambda n, xs, y, node: [(f"1/(1 + {n[0]}²)", 1 / (1 + xs[0] ** 2))]),
    unary.Sinh: Rule("d(sinh u)/du = cosh u", _LOCAL,
                     lambda n, xs, y, node: [(f"cosh({n[0]})", np.cosh(xs[0]))]),
    unary.Cosh: Rule("d(cosh u)/du = sinh u", _LOCAL,
                     lambda n, xs, y, node: [(f"sinh({n[0]})", np.sinh(xs[0]))]),
    unary.Log2: Rule("d(log₂ u)/du = 1/(u·ln 2)", _LOCAL,
                     lambda n, xs, y, node: [(f"1/({n[0]}·ln 2)", 1 / (xs[0] * np.log(2)))]),
    unary.Log10: Rule("d(log₁₀ u)/du = 1/(u·ln 10)", _LOCAL,
                      lambda n, xs, y, node: [(f"1/({n[0]}·ln 10)", 1 / (xs[0] * np.log(10)))]),
    unary.Exp2: Rule("d(2ᵘ)/du = 2ᵘ·ln 2", _LOCAL,
                     lambda n, xs, y, node: [(f"2^{n[0]}·ln 2", y * np.log(2))]),
    unary.Rounding: Rule("d round(u)/du = 0 (piecewise constant)", "rounding stops the gradient",
                         lambda n, xs, y, node: [("0", 0.0)]),
})

#: How the forward pass of each op is written, operands by position ({p}: a constant exponent).
INFIX: dict[type[Op], str] = {
    arithmetic.Add: "{0} + {1}", arithmetic.Sub: "{0} − {1}", arithmetic.Mul: "{0} · {1}",
    arithmetic.Div: "{0} / {1}", arithmetic.Neg: "−{0}", arithmetic.Pow: "{0}^{1}", arithmetic.PowScalar: "{0}^{p}",
    linear.Linear: "{0} @ {1}ᵀ + {2}",
    matmul.MatMul: "{0} @ {1}", unary.Exp: "exp({0})", unary.Log: "log({0})", unary.Sqrt: "sqrt({0})",
    unary.Abs: "|{0}|", unary.Sin: "sin({0})", unary.Cos: "cos({0})", activation.Tanh: "tanh({0})",
    activation.Sigmoid: "σ({0})", activation.ReLU: "relu({0})", binary.Maximum: "max({0}, {1})",
    binary.Minimum: "min({0}, {1})", reduction.Sum: "sum({0})", reduction.Mean: "mean({0})",
    reduction.AMax: "max({0})", reduction.AMin: "min({0})", softmax.Softmax: "softmax({0})",
    softmax.LogSoftmax: "log_softmax({0})", shape.Reshape: "reshape({0})", shape.Permute: "permute({0})",
    shape.Expand: "expand({0})", indexing.GetItem: "{0}[…]",
}

#: Each op's mark in the pictures (others show the first letters of their name).
SYMBOLS: dict[type[Op], str] = {
    arithmetic.Add: "+", arithmetic.Sub: "−", arithmetic.Mul: "×", arithmetic.Div: "÷", arithmetic.Neg: "−x",
    linear.Linear: "linear",
    arithmetic.PowScalar: "xᵖ", arithmetic.Pow: "aᵇ", matmul.MatMul: "@", unary.Exp: "exp", unary.Log: "log",
    unary.Sqrt: "√", unary.Abs: "|x|", unary.Sin: "sin", unary.Cos: "cos", activation.Tanh: "tanh",
    activation.Sigmoid: "σ", activation.ReLU: "relu", binary.Maximum: "max", binary.Minimum: "min",
    reduction.Sum: "Σ", reduction.Mean: "mean", reduction.AMax: "max", reduction.AMin: "min",
    softmax.Softmax: "softmax", softmax.LogSoftmax: "logsm", shape.Reshape: "reshape", shape.Permute: "T",
    shape.Expand: "expand", indexing.GetItem: "[ ]", join.Cat: "cat",
}

DEFAULT_PATTERN = "a layer multiplies by its local derivative"


def _from_docstring(op: type) -> Rule:
    """A rule for an op with no entry: its docstring's first line, which states the local derivative."""
    name = op.__name__
    doc = (op.__doc__ or "").strip().splitlines()
    return Rule(doc[0] if doc else f"local derivative from {name}.backward", DEFAULT_PATTERN,
                view=f"{name}.backward(d{{y}})")


def _complete(op: type, rule: Rule) -> Rule:
    name = op.__name__
    return replace(rule, infix=INFIX.get(op, rule.infix), symbol=SYMBOLS.get(op, rule.symbol or name.lower()[:7]))


#: Every op with an entry in any table, its rule completed with its form and symbol.
_COMPLETE: dict[type, Rule] = {op: _complete(op, RULES.get(op) or _from_docstring(op))
                               for op in {**RULES, **INFIX, **SYMBOLS}}


def rule_for(node: Any) -> Rule:
    """The rule for a node's op, found by its exact class; else one made from its docstring.

    The exact class, not a parent's: a subclass (AMin of AMax, Std of Var) computes
    something else, so it has its own entry or its own docstring.
    """
    op = type(node)
    rule = _COMPLETE.get(op)
    if rule is None:
        rule = _complete(op, _from_docstring(op))
    return rule
