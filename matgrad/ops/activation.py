"""Activations: tanh, sigmoid, relu, leaky_relu, elu, gelu, softplus, clamp."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import parallel
from ..autograd.op import Op
from ..devices import backend_of
from ..kernels import ignoring
from ..tensor import Tensor, as_tensor
from .unary import _float_input


class Tanh(Op):
    """y = tanh x.  dy/dx = 1 - y²."""

    save_output = True

    def forward(self, x):
        return parallel.elementwise(np.tanh, x, heavy=True)

    def backward(self, dy):
        return parallel.elementwise(_tanh_grad, dy, self.output)


# The formulas as matgrad.parallel takes them: with out=None the plain expression (for any array or
# Tensor), with out= a chunk of the result the same steps in place, into it.
def _tanh_grad(dy, y, out=None):
    """dy·(1 - y²)."""
    if out is None:
        return dy * (1 - y * y)
    np.multiply(y, y, out=out)
    np.subtract(1, out, out=out)
    return np.multiply(dy, out, out=out)


def _logistic(x, out=None):
    """1 / (1 + e⁻ˣ)."""
    y = np.exp(-x) if out is None else np.exp(np.negative(x, out=out), out=out)
    if isinstance(y, np.generic):  # 0-d input: NumPy returns a scalar, not an array
        y = np.asarray(y)
    y += 1
    return np.reciprocal(y, out=y)


def _sigmoid_grad(dy, y, out=None):
    """dy·(y·(1 - y))."""
    if out is None:
        return dy * (y * (1 - y))
    np.subtract(1, y, out=out)
    np.multiply(y, out, out=out)
    return np.multiply(dy, out, out=out)


class Sigmoid(Op):
    """y = 1 / (1 + e⁻ˣ).  dy/dx = y · (1 - y)."""

    save_output = True

    @ignoring(over="ignore")  # exp(-x) overflows to inf for very negative x, and 1/(1+inf) is exactly 0: right
    def forward(self, x):
        return parallel.elementwise(_logistic, x, heavy=True)

    def backward(self, dy):
        return parallel.elementwise(_sigmoid_grad, dy, self.output)


def _clip_below(x, out=None):
    """max(x, 0), as np.clip does it."""
    return np.clip(x, 0, np.inf) if out is None else np.clip(x, 0, np.inf, out=out)


def _relu_grad(dy, y, out=None):
    """dy where y > 0, else 0."""
    return np.multiply(dy, y > 0, dtype=dy.dtype, out=out)


class ReLU(Op):
    """y = max(x, 0).  dy/dx = 1 where x > 0, else 0: the gradient is routed or stopped."""

    save_output = True

    def forward(self, x):
        if x.dtype.kind == "f" and x.size >= 4096:
            # clip's loop is branch-free, 3× np.maximum's on random signs; its Python wrapper
            # costs ~1 µs more, so small arrays keep maximum
            return parallel.elementwise(_clip_below, x)
        # 0 first: on a tie maximum returns its second argument, so relu(-0.0) = -0.0 as clip
        # and PyTorch give, whatever the size
        return np.maximum(0, x)

    def backward(self, dy):
        if self.xp.plain:
            return parallel.elementwise(_relu_grad, dy, self.out)
        return dy * (self.out > 0)


class LeakyReLU(Op):
    """y = x if x > 0 else s·x.  dy/dx = 1 or s."""

    def forward(self, x, slope):
        self.slope = slope
        # = where(x > 0, x, s·x), without np.where's slow branchy loop: for s ≤ 1 the larger
        # of x and s·x is x exactly when x > 0; for s > 1 the smaller.
        return np.maximum(x, x * slope) if slope <= 1 else np.minimum(x, x * slope)

    def backward(self, dy):
        x = self.input_arrays[0]
        if self.xp.plain and 0 <= self.slope <= 1:
            factor = (x > 0).astype(dy.dtype)  # 1 or 0 ...
            np.clip(factor, self.slope, 1, out=factor)  # ... 1 or s, branch-free (np.where is ~10× slower)
            factor *= dy
            return factor
        return self.xp.where(x > 0, dy, dy * self.slope)


class ELU(Op):
    """y = x if x > 0 else α(eˣ - 1).  dy/dx = 1 or y + α."""

    save_output = True

    def forward(self, x, alpha):
        self.alpha = alpha
        # clip, not np.minimum(x, 0): branch-free, and it keeps -0.0 (elu(-0.0) = -0.0, as PyTorch)
        return backend_of(x).namespace.where(x > 0, x, alpha * np.expm1(np.clip(x, -np.inf, 0)))

    def backward(self, dy):
        x = self.input_arrays[0]
        return self.xp.where(x > 0, dy, dy * (self.output + self.alpha))


class GELU(Op):
    """y = x·Φ(x).  dy/dx = Φ(x) + x·φ(x); approximate='tanh' uses PyTorch's tanh form."""

    def forward(self, x, approximate):
        self.approximate = approximate
        if approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            return 0.5 * x * (1 + np.tanh(k * (x + 0.044715 * x**3)))
        return 0.5 * x * (1 + backend_of(x).namespace.erf(x / math.sqrt(2)))

    def backward(self, dy):
        xp = self.xp
        (x,) = self.inputs
        if self.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            t = xp.tanh(k * (x + 0.044715 * x * x * x))
            dt = (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
            return dy * (0.5 * (1 + t) + 0.5 * x * dt)
        cdf = 0.5 * (1 + xp.erf(x * (1 / math.sqrt(2))))
        pdf = xp.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return dy * (cdf + x * pdf)


class Softplus(Op):
    """y = ln(1 + e^(βx))/β (x above threshold/β: y = x).  dy/dx = sigmoid(βx)."""

    def forward(self, x, beta, threshold):
        self.beta, self.threshold = beta, threshold
        bx = beta * x
        ns = backend_of(x).namespace  # the kernels of x's device
        return ns.where(bx > threshold, x, ns.softplus(bx) / beta)

    def backward(self, dy):
        xp = self.xp
        (x,) = self.inputs
        bx = x * self.beta
        lin = self.input_arrays[0] * self.beta > self.threshold
        with np.errstate(over="ignore"):  # e^(-βx) = inf for very negative x gives σ = 0: right
            s = 1 / (1 + xp.exp(-bx))
        return xp.where(lin, dy, dy * s)


class Clamp(Op):
    """y = min(max(x, lo), hi).  dy/dx = 1 where lo <= x <= hi, else 0."""

    def forward(self, x, lo, hi):
        self.lo, self.hi = lo, hi
        # a missing bound as ±inf: given None, np.clip falls back to np.maximum/minimum, which
        # branch (4× slower on random data) and give +0.0 for -0.0 where PyTorch keeps -0.0
        if x.dtype.kind == "f":
            lo, hi = -np.inf if lo is None else lo, np.inf if hi is None else hi
        return np.clip(x, lo, hi)

    def backward(self, dy):
        x = self.input_arrays[0]
        keep = np.ones_like(x, dtype=bool)
        if self.lo is not None:
            keep &= x >= self.lo
        if self.hi is not None:
            keep &= x <= self.hi
        return dy * keep


def tanh(input: Any) -> Tensor:
    """Hyperbolic tangent, elementwise."""
    return Tanh.apply(_float_input("tanh", input))


def sigmoid(input: Any) -> Tensor:
    """The logistic function 1/(1+e⁻ˣ), elementwise; exact 0 and 1 at the extremes, never nan."""
    return Sigmoid.apply(_float_input("sigmoid", input))


def relu(input: Any) -> Tensor:
    """max(x, 0), elementwise."""
    return ReLU.apply(as_tensor(input))


def leaky_relu(input: Any, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope·x otherwise."""
    return LeakyReLU.apply(as_tensor(input), slope=float(negative_slope))


def elu(input: Any, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha·(eˣ - 1) otherwise."""
    return ELU.apply(_float_input("elu", input), alpha=float(alpha))


def gelu(input: Any, approximate: str = "none") -> Tensor:
    """x·Φ(x), Φ the standard normal CDF; approximate='tanh' for the tanh form."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(_float_input("gelu", input), approximate=approximate)


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """ln(1 + e^(βx))/β, linear above threshold/β (as PyTorch), stable for any x."""
    return Softplus.apply(_float_input("softplus", input), beta=float(beta), threshold=float(threshold))


def clamp(input: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Limit every element to [min, max]; either bound may be None."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from .binary import maximum, minimum

        out = as_tensor(input)
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    # NumPy scalars as bounds would upcast float32 to float64; Python numbers do not.
    min, max = (v.item() if isinstance(v, np.generic) else v for v in (min, max))  # noqa: A001
    t = as_tensor(input)
    if t.array.dtype.kind in "iub" and any(isinstance(v, float) for v in (min, max)):
        from .arithmetic import _to_float

        t = _to_float(t)  # int.clamp(2.5) is a float tensor, as PyTorch
    return Clamp.apply(t, lo=min, hi=max)


clip = clamp
