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


#: The rule of each op, by its class: renaming or moving an op fails here, at import, rather than
#: leaving the explainer to fall back to a docstring without a word.
RULES: dict[type[Op], Rule] = {
    arithmetic.Add: Rule("d(a+b)/da = 1, d(a+b)/db = 1", "add distributes: each input gets the gradient unchanged",
                         lambda n, xs, y, node: [("1", 1.0), ("1", 1.0)]),
    arithmetic.Sub: Rule("d(a−b)/da = 1, d(a−b)/db = −1", "subtract distributes, negating b's share",
                         lambda n, xs, y, node: [("1", 1.0), ("−1", -1.0)]),
    arithmetic.Mul: Rule("d(a*b)/da = b, d(a*b)/db = a", "multiply swaps: each input gets the other one",
                         lambda n, xs, y, node: [(n[1], xs[1]), (n[0], xs[0])]),
    arithmetic.Div: Rule("d(a/b)/da = 1/b, d(a/b)/db = −a/b²", "divide: 1/b to a, −a/b² to b",
                         lambda n, xs, y, node: [(f"1/{n[1]}", 1 / xs[1]), (f"−{n[0]}/{n[1]}²", -xs[0] / xs[1] ** 2)]),
    arithmetic.Neg: Rule("d(−x)/dx = −1", "negate flips the sign", _one("−1", -1.0)),
    arithmetic.PowScalar: Rule("d(xᵖ)/dx = p·xᵖ⁻¹", "a layer multiplies by its local derivative", _pow_scalar),
    arithmetic.Pow: Rule("d(aᵇ)/da = b·aᵇ⁻¹, d(aᵇ)/db = aᵇ·ln a", "a layer multiplies by its local derivative",
                         lambda n, xs, y, node: [(f"{n[1]}·{n[0]}^({n[1]}−1)", xs[1] * xs[0] ** (xs[1] - 1)),
                                                 (f"{n[0]}^{n[1]}·ln {n[0]}", y * _log_or_nan(xs[0]))]),
    unary.Exp: Rule("d(eˣ)/dx = eˣ", "a layer multiplies by its local derivative (here its own output)",
                    lambda n, xs, y, node: [(f"exp({n[0]})", y)]),
    unary.Log: Rule("d(ln x)/dx = 1/x", "a layer multiplies by its local derivative",
                    lambda n, xs, y, node: [(f"1/{n[0]}", 1 / xs[0])]),
    unary.Sqrt: Rule("d(√x)/dx = 1/(2√x)", "a layer multiplies by its local derivative",
                     lambda n, xs, y, node: [(f"1/(2·√{n[0]})", 0.5 / y)]),
    unary.Abs: Rule("d|x|/dx = sign(x)", "abs routes the gradient with the sign of x",
                    lambda n, xs, y, node: [(f"sign({n[0]})", np.sign(xs[0]))]),
    unary.Sign: Rule("d sign(x)/dx = 0", "sign stops the gradient", lambda n, xs, y, node: [("0", 0.0)]),
    unary.Sin: Rule("d(sin x)/dx = cos x", "a layer multiplies by its local derivative",
                    lambda n, xs, y, node: [(f"cos({n[0]})", np.cos(xs[0]))]),
    unary.Cos: Rule("d(cos x)/dx = −sin x", "a layer multiplies by its local derivative",
                    lambda n, xs, y, node: [(f"−sin({n[0]})", -np.sin(xs[0]))]),
    unary.Erf: Rule("d erf(x)/dx = 2/√π·e^(−x²)", "a layer multiplies by its local derivative",
                    lambda n, xs, y, node: [(f"2/√π·exp(−{n[0]}²)", 2 / np.sqrt(np.pi) * np.exp(-xs[0] ** 2))]),
    activation.Tanh: Rule("d(tanh x)/dx = 1 − tanh²x", "a layer multiplies by its local derivative",
                          lambda n, xs, y, node: [(f"(1 − tanh({n[0]})²)", 1 - y * y)]),
    activation.Sigmoid: Rule("dσ(x)/dx = σ(x)·(1 − σ(x))", "a layer multiplies by its local derivative",
                             lambda n, xs, y, node: [(f"σ({n[0]})·(1 − σ({n[0]}))", y * (1 - y))]),
    activation.ReLU: Rule("d relu(x)/dx = 1 where x > 0, else 0", "relu gates: max(0, x) routes to x where x > 0",
                          lambda n, xs, y, node: [(f"[{n[0]} > 0]", (xs[0] > 0).astype(np.float64))]),
    activation.LeakyReLU: Rule("d leaky_relu(x)/dx = 1 where x > 0, else slope", "leaky relu gates",
                               lambda n, xs, y, node: [(f"[{n[0]} > 0 ? 1 : slope]",
                                                        np.where(xs[0] > 0, 1.0, getattr(node, "slope", 0.01)))]),
    activation.Clamp: Rule("d clamp(x)/dx = 1 inside [min, max], else 0", "clamp gates",
                           lambda n, xs, y, node: [(f"[{n[0]} inside the bounds]", (y == xs[0]).astype(np.float64))]),
    binary.Maximum: Rule("d max(a,b)/da = 1 where a > b, d/db = 1 where b > a (½ each on a tie)",
                         "max routes: the larger input takes the whole gradient",
                         lambda n, xs, y, node: [(f"[{n[0]} > {n[1]}]", _share(xs[0] > xs[1], xs[0] == xs[1])),
                                                 (f"[{n[1]} > {n[0]}]", _share(xs[1] > xs[0], xs[0] == xs[1]))]),
    binary.Minimum: Rule("d min(a,b)/da = 1 where a < b, d/db = 1 where b < a (½ each on a tie)",
                         "min routes: the smaller input takes the whole gradient",
                         lambda n, xs, y, node: [(f"[{n[0]} < {n[1]}]", _share(xs[0] < xs[1], xs[0] == xs[1])),
                                                 (f"[{n[1]} < {n[0]}]", _share(xs[1] < xs[0], xs[0] == xs[1]))]),
    shape.AsType: Rule("d(x as another dtype)/dx = 1", "a dtype change passes the gradient through",
                       _one("1", 1.0)),
    # --- ops whose gradient is not dy ⊙ (something elementwise) -------------------------
    matmul.MatMul: Rule("Y = A·B: dA = dY·Bᵀ, dB = Aᵀ·dY", "matmul swaps and transposes: each input gets "
                        "the upstream gradient times the other input, transposed", view="matmul"),
    reduction.Sum: Rule("d(Σx)/dx = 1", "sum copies the gradient to every element it summed",
                        view="d{y} copied to every element of {x}"),
    reduction.Mean: Rule("d(mean x)/dx = 1/n", "mean copies the gradient, divided by n",
                         view="d{y} / {n} copied to every element of {x}"),
    reduction.AMax: Rule("d max(x)/dx = 1 at the maximum, 0 elsewhere (shared among ties)",
                         "max routes: only the largest element gets the gradient",
                         view="d{y} routed to the maximum of {x}"),
    reduction.AMin: Rule("d min(x)/dx = 1 at the minimum, 0 elsewhere (shared among ties)",
                         "min routes: only the smallest element gets the gradient",
                         view="d{y} routed to the minimum of {x}"),
    reduction.SelectAlong: Rule("d x[idx]/dx = 1 at the chosen index, 0 elsewhere",
                                "max routes: the chosen element gets the gradient",
                                view="d{y} routed to the chosen elements of {x}"),
    reduction.Var: Rule("d var(x)/dx = 2·(x − mean)/(n − correction)", "var weighs each element by its deviation",
                        view="d{y} · 2·({x} − mean)/(n − correction)"),
    reduction.LogSumExp: Rule("d logsumexp(x)/dx = softmax(x)", "logsumexp spreads the gradient by softmax",
                              view="d{y} · softmax({x})"),
    softmax.Softmax: Rule("dx = y ⊙ (dy − Σ(dy ⊙ y)): the Jacobian diag(y) − y·yᵀ",
                          "softmax couples every output with every input", view="{y} ⊙ (d{y} − Σ d{y} ⊙ {y})"),
    softmax.LogSoftmax: Rule("dx = dy − softmax(x)·Σdy", "log-softmax couples every output with every input",
                             view="d{y} − softmax({x}) · Σ d{y}"),
    shape.Reshape: Rule("dx = dy reshaped back", "a reshape moves the gradient back unchanged",
                        view="d{y} reshaped back to the shape of {x}"),
    shape.Permute: Rule("dx = dy with the axes put back", "a transpose moves the gradient back unchanged",
                        view="d{y} with its axes put back"),
    shape.Expand: Rule("dx = dy summed over the copies", "a copy sums", view="d{y} summed over the copies"),
    indexing.GetItem: Rule("dx = zeros, with dy put at the index", "indexing scatters the gradient back",
                           view="zeros like {x}, with d{y} added at the index"),
    indexing.IndexAdd: Rule("dx = dy[index]", "index-add gathers the gradient", view="d{y} at the index"),
    join.Cat: Rule("dxᵢ = the slice of dy where xᵢ was put", "cat splits the gradient",
                   view="the slice of d{y} where {x} was put"),
    join.Pad: Rule("dx = dy without the padding", "pad crops the gradient", view="d{y} without the padding"),
    binary.Where: Rule("d where(c, a, b) = dy to a where c, to b elsewhere", "where routes",
                       view="d{y} where the condition picks {x}, 0 elsewhere"),
}


# math ops (issue 14): the elementwise ones with their local derivative in numbers.
_LOCAL = "a layer multiplies by its local derivative"
RULES.update({
    unary.Tan: Rule("d(tan x)/dx = 1 + tan²x", _LOCAL,
                    lambda n, xs, y, node: [(f"(1 + tan({n[0]})²)", 1 + y * y)]),
    unary.Asin: Rule("d(asin x)/dx = 1/√(1 − x²)", _LOCAL,
                     lambda n, xs, y, node: [(f"1/√(1 − {n[0]}²)", 1 / np.sqrt(1 - xs[0] ** 2))]),
    unary.Acos: Rule("d(acos x)/dx = −1/√(1 − x²)", _LOCAL,
                     lambda n, xs, y, node: [(f"−1/√(1 − {n[0]}²)", -1 / np.sqrt(1 - xs[0] ** 2))]),
    unary.Atan: Rule("d(atan x)/dx = 1/(1 + x²)", _LOCAL,
                     lambda n, xs, y, node: [(f"1/(1 + {n[0]}²)", 1 / (1 + xs[0] ** 2))]),
    unary.Sinh: Rule("d(sinh x)/dx = cosh x", _LOCAL,
                     lambda n, xs, y, node: [(f"cosh({n[0]})", np.cosh(xs[0]))]),
    unary.Cosh: Rule("d(cosh x)/dx = sinh x", _LOCAL,
                     lambda n, xs, y, node: [(f"sinh({n[0]})", np.sinh(xs[0]))]),
    unary.Log2: Rule("d(log₂ x)/dx = 1/(x·ln 2)", _LOCAL,
                     lambda n, xs, y, node: [(f"1/({n[0]}·ln 2)", 1 / (xs[0] * np.log(2)))]),
    unary.Log10: Rule("d(log₁₀ x)/dx = 1/(x·ln 10)", _LOCAL,
                      lambda n, xs, y, node: [(f"1/({n[0]}·ln 10)", 1 / (xs[0] * np.log(10)))]),
    unary.Exp2: Rule("d(2ˣ)/dx = 2ˣ·ln 2", _LOCAL,
                     lambda n, xs, y, node: [(f"2^{n[0]}·ln 2", y * np.log(2))]),
    unary.Rounding: Rule("d round(x)/dx = 0 (piecewise constant)", "rounding stops the gradient",
                         lambda n, xs, y, node: [("0", 0.0)]),
})

#: How the forward pass of each op is written, operands by position ({p}: a constant exponent).
INFIX: dict[type[Op], str] = {
    arithmetic.Add: "{0} + {1}", arithmetic.Sub: "{0} − {1}", arithmetic.Mul: "{0} · {1}",
    arithmetic.Div: "{0} / {1}", arithmetic.Neg: "−{0}", arithmetic.Pow: "{0}^{1}", arithmetic.PowScalar: "{0}^{p}",
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
