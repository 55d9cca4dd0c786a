"""Arithmetic: + - * / ** and negation, with NumPy broadcasting.

The engine sums each gradient back to its input's shape, so these backward rules are
written for same-shaped operands: add distributes, multiply swaps.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor, as_tensor


def _shapes_error(op: str, a: np.ndarray, b: np.ndarray) -> ValueError:
    return ValueError(
        f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together "
        "(compare them from the right: each pair of sizes must be equal or one of them 1)"
    )


def _binary(fn: type[Function], op: str, a: Any, b: Any) -> Tensor:
    """Apply a broadcasting binary op, turning NumPy's shape error into a clear one."""
    ta = as_tensor(a, b if isinstance(b, Tensor) else None)
    tb = as_tensor(b, ta)
    try:
        return fn.apply(ta, tb)
    except ValueError as e:
        if "broadcast" in str(e) and ta.data.shape != tb.data.shape:
            raise _shapes_error(op, ta.data, tb.data) from None
        raise


class Add(Function):
    """y = a + b.  dy/da = 1, dy/db = 1: add distributes the gradient unchanged."""

    def forward(self, a, b):
        return a + b

    def backward(self, dy):
        return dy, dy


class Sub(Function):
    """y = a - b.  dy/da = 1, dy/db = -1."""

    def forward(self, a, b):
        return a - b

    def backward(self, dy):
        return dy, (-dy if self.needs_input_grad[1] else None)


class Mul(Function):
    """y = a * b.  dy/da = b, dy/db = a: multiply swaps its inputs."""

    def forward(self, a, b):
        return a * b

    def backward(self, dy):
        a, b = self.inputs
        da = dy * b if self.needs_input_grad[0] else None
        db = dy * a if self.needs_input_grad[1] else None
        return da, db


class Div(Function):
    """y = a / b.  dy/da = 1/b, dy/db = -a/b² = -y/b."""

    save_output = True

    def forward(self, a, b):
        return a / b

    def backward(self, dy):
        _, b = self.inputs
        da = dy / b
        db = -da * self.output if self.needs_input_grad[1] else None
        return da, db


class Neg(Function):
    """y = -x.  dy/dx = -1."""

    def forward(self, x):
        return -x

    def backward(self, dy):
        return -dy


class PowScalar(Function):
    """y = x ** p for a constant p.  dy/dx = p · x^(p-1)."""

    def forward(self, x, p):
        self.p = p
        return x**p

    def backward(self, dy):
        (x,) = self.inputs
        p = self.p
        if p == 2:
            return dy * (2 * x)
        return dy * (p * x ** (p - 1))


class Pow(Function):
    """y = a ** b.  dy/da = b · a^(b-1), dy/db = y · ln a (0 where a = 0 and b >= 0, as PyTorch)."""

    save_output = True

    def forward(self, a, b):
        return a**b

    def backward(self, dy):
        xp = self.xp
        a, b = self.inputs
        da = dy * b * a ** (b - 1) if self.needs_input_grad[0] else None
        db = None
        if self.needs_input_grad[1]:
            a_arr, b_arr = self.parents[0].data, self.parents[1].data
            zero = (a_arr == 0) & (b_arr >= 0)
            safe_a = xp.where(zero, 1, a) if zero.any() else a
            db = dy * self.output * xp.log(safe_a)
        return da, db


def add(input: Any, other: Any, alpha: Any = 1) -> Tensor:
    """input + alpha · other."""
    return _binary(Add, "add", input, other if alpha == 1 else mul(other, alpha))


def sub(input: Any, other: Any, alpha: Any = 1) -> Tensor:
    """input - alpha · other."""
    return _binary(Sub, "sub", input, other if alpha == 1 else mul(other, alpha))


def mul(input: Any, other: Any) -> Tensor:
    """Elementwise product."""
    return _binary(Mul, "mul", input, other)


def div(input: Any, other: Any) -> Tensor:
    """Elementwise true division."""
    return _binary(Div, "div", input, other)


def neg(input: Any) -> Tensor:
    """-input."""
    return Neg.apply(as_tensor(input))


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """input ** exponent, elementwise; a constant exponent is the fast, common case."""
    if not isinstance(exponent, (Tensor, np.ndarray)) and np.ndim(exponent) == 0:
        t = as_tensor(input)
        if t.data.dtype.kind in "iub" and isinstance(exponent, int) and exponent < 0:
            raise ValueError("pow: integers to negative integer powers are not allowed")
        return PowScalar.apply(t, p=exponent)
    return _binary(Pow, "pow", input, exponent)


subtract, multiply, divide, true_divide, negative = sub, mul, div, div, neg
