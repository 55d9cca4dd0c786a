"""Elementwise math: exp, log, sqrt, abs, sign, sin, cos, erf, log1p, expm1, reciprocal."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.op import Op
from ..tensor import Tensor, as_tensor, get_default_dtype


def _float_input(op: str, x: Any) -> Tensor:
    t = as_tensor(x)
    if t.array.dtype.kind != "f":
        return Tensor._make(t.array.astype(get_default_dtype()), None, False)
    return t


class Exp(Op):
    """y = eˣ.  dy/dx = eˣ = y."""

    save_output = True

    def forward(self, x):
        with np.errstate(over="ignore"):
            return np.exp(x)

    def backward(self, dy):
        return dy * self.output


class Log(Op):
    """y = ln x.  dy/dx = 1/x."""

    def forward(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy / x


class Sqrt(Op):
    """y = √x.  dy/dx = 1/(2√x) = 1/(2y)."""

    save_output = True

    def forward(self, x):
        with np.errstate(invalid="ignore"):
            return np.sqrt(x)

    def backward(self, dy):
        return dy / (2 * self.output)


class Abs(Op):
    """y = |x|.  dy/dx = sign(x) (0 at x = 0, as PyTorch)."""

    def forward(self, x):
        return np.abs(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy * self.xp.sign(x)


class Sign(Op):
    """y = sign(x).  dy/dx = 0 everywhere it is defined."""

    def forward(self, x):
        out = np.asarray(np.sign(x))
        if out.dtype.kind == "f":
            np.nan_to_num(out, copy=False, nan=0.0)  # sign(nan) is 0, as PyTorch
        return out

    def backward(self, dy):
        return dy * 0


class Sin(Op):
    """y = sin x.  dy/dx = cos x."""

    def forward(self, x):
        return np.sin(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy * self.xp.cos(x)


class Cos(Op):
    """y = cos x.  dy/dx = -sin x."""

    def forward(self, x):
        return np.cos(x)

    def backward(self, dy):
        (x,) = self.inputs
        return -(dy * self.xp.sin(x))


class Erf(Op):
    """y = erf x.  dy/dx = 2/√π · e^(-x²)."""

    def forward(self, x):
        return self.xp.erf(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy * (2 / math.sqrt(math.pi)) * self.xp.exp(-(x * x))


def exp(input: Any) -> Tensor:
    """eˣ, elementwise."""
    return Exp.apply(_float_input("exp", input))


def log(input: Any) -> Tensor:
    """Natural logarithm, elementwise (-inf at 0, nan below)."""
    return Log.apply(_float_input("log", input))


def sqrt(input: Any) -> Tensor:
    """Square root, elementwise."""
    return Sqrt.apply(_float_input("sqrt", input))


def abs(input: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """|x|, elementwise."""
    return Abs.apply(as_tensor(input))


def sign(input: Any) -> Tensor:
    """-1, 0 or 1 by the sign of each element."""
    return Sign.apply(as_tensor(input))


def sin(input: Any) -> Tensor:
    """Sine, elementwise."""
    return Sin.apply(_float_input("sin", input))


def cos(input: Any) -> Tensor:
    """Cosine, elementwise."""
    return Cos.apply(_float_input("cos", input))


def erf(input: Any) -> Tensor:
    """The error function, elementwise."""
    return Erf.apply(_float_input("erf", input))


def square(input: Any) -> Tensor:
    """x², elementwise."""
    from .arithmetic import pow

    return pow(input, 2)


def rsqrt(input: Any) -> Tensor:
    """1/√x, elementwise."""
    from .arithmetic import pow

    return pow(input, -0.5)


absolute = abs


class Log1p(Op):
    """y = ln(1 + x), exact for tiny x.  dy/dx = 1/(1 + x)."""

    def forward(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy / (x + 1)


class Expm1(Op):
    """y = eˣ - 1, exact for tiny x.  dy/dx = eˣ = y + 1."""

    save_output = True

    def forward(self, x):
        with np.errstate(over="ignore"):
            return np.expm1(x)

    def backward(self, dy):
        return dy * (self.output + 1)


def log1p(input: Any) -> Tensor:
    """ln(1 + x), elementwise, accurate near 0."""
    return Log1p.apply(_float_input("log1p", input))


def expm1(input: Any) -> Tensor:
    """eˣ - 1, elementwise, accurate near 0."""
    return Expm1.apply(_float_input("expm1", input))


def reciprocal(input: Any) -> Tensor:
    """1/x, elementwise (integers become floats)."""
    from .arithmetic import div

    t = _float_input("reciprocal", input)
    return div(Tensor._make(np.ones((), t.dtype), None, False), t)
