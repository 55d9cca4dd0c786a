"""Arithmetic: + - * / ** and negation, with NumPy broadcasting.

The engine sums each gradient back to its input's shape, so these backward rules are
written for same-shaped operands: add distributes, multiply swaps.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op
from ..kernels import ignoring
from ..tensor import Tensor, as_tensor


def _shapes_error(op: str, a: np.ndarray, b: np.ndarray) -> ValueError:
    return ValueError(
        f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together "
        "(compare them from the right: each pair of sizes must be equal or one of them 1)"
    )


def _category(dt: np.dtype) -> int:
    return 2 if dt.kind in "fc" else 0 if dt.kind == "b" else 1


def _promote(a: np.dtype | None, b: np.dtype | None) -> np.dtype | None:
    """PyTorch's promoteTypes: the higher category (bool < int < float) wins outright."""
    if a is None or b is None:
        return b if a is None else a
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.result_type(a, b)


def result_dtype(*tensors: Tensor) -> np.dtype:
    """The dtype PyTorch gives an op on these tensors (torch.result_type).

    Tensors with dimensions decide; a 0-d tensor (or a Python number, which as_tensor
    made 0-d) only counts when it is of a higher category: float32 + 0-d float64 stays
    float32, but int64 + 0-d float32 is float32.
    """
    dim = zero = None
    for t in tensors:
        if t.array.ndim:
            dim = _promote(dim, t.array.dtype)
        else:
            zero = _promote(zero, t.array.dtype)
    if dim is None or zero is None:
        return dim if zero is None else zero
    if _category(dim) == 2:
        return dim
    if dim.kind == "b" or _category(zero) == 2:
        return _promote(dim, zero)
    return dim


def promote(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors converted (differentiably) to their common result dtype."""
    dt = tensors[0].array.dtype
    if all(t.array.dtype == dt for t in tensors):
        return tensors
    dt = result_dtype(*tensors)
    return tuple(t if t.array.dtype == dt else t.to(dt) for t in tensors)


def _to_float(t: Tensor) -> Tensor:
    """Integers and bools become the default float dtype (true division, fractional powers)."""
    from ..tensor import get_default_dtype

    return t if t.array.dtype.kind in "fc" else t.to(get_default_dtype())


def _binary(fn: type[Op], op: str, a: Any, b: Any) -> Tensor:
    """Apply a broadcasting binary op, turning NumPy's shape error into a clear one."""
    ta = as_tensor(a, b if isinstance(b, Tensor) else None)
    tb = as_tensor(b, ta)
    if ta.array.dtype != tb.array.dtype:
        ta, tb = promote(ta, tb)
    if fn is Div:
        ta, tb = _to_float(ta), _to_float(tb)
    try:
        return fn.apply(ta, tb)
    except ValueError as e:
        if "broadcast" in str(e) and ta.array.shape != tb.array.shape:
            raise _shapes_error(op, ta.array, tb.array) from None
        raise


class Add(Op):
    """y = a + b.  dy/da = 1, dy/db = 1: add distributes the gradient unchanged."""

    def forward(self, a, b):
        return a + b

    def backward(self, dy):
        return dy, dy


class Sub(Op):
    """y = a - b.  dy/da = 1, dy/db = -1."""

    def forward(self, a, b):
        return a - b

    def backward(self, dy):
        return dy, (-dy if self.needs_input_grad[1] else None)


class Mul(Op):
    """y = a * b.  dy/da = b, dy/db = a: multiply swaps its inputs."""

    def forward(self, a, b):
        return a * b

    def backward(self, dy):
        a, b = self.inputs
        da = dy * b if self.needs_input_grad[0] else None
        db = dy * a if self.needs_input_grad[1] else None
        return da, db


class Div(Op):
    """y = a / b.  dy/da = 1/b, dy/db = -a/b² = -y/b."""

    save_output = True

    def forward(self, a, b):
        return a / b

    def backward(self, dy):
        _, b = self.inputs
        da = dy / b
        db = -da * self.output if self.needs_input_grad[1] else None
        return da, db


class Neg(Op):
    """y = -x.  dy/dx = -1."""

    def forward(self, x):
        return -x

    def backward(self, dy):
        return -dy


class PowScalar(Op):
    """y = x ** p for a constant p.  dy/dx = p · x^(p-1)."""

    def forward(self, x, p):
        self.p = p
        return x**p

    def backward(self, dy):
        (x,) = self.inputs
        p = self.p
        if p == 2:
            return dy * (2 * x)
        if p == 0:  # x⁰ = 1 is constant: a zero gradient, never 0·0⁻¹ = nan at x = 0
            return dy * 0
        with np.errstate(divide="ignore", invalid="ignore"):
            return dy * (p * x ** (p - 1))


class Pow(Op):
    """y = a ** b.  dy/da = b · a^(b-1), dy/db = y · ln a (0 where a = 0 and b >= 0, as PyTorch)."""

    save_output = True

    def forward(self, a, b):
        return a**b

    def backward(self, dy):
        xp = self.xp
        a, b = self.inputs
        a_arr, b_arr = self.input_arrays
        da = db = None
        if self.needs_input_grad[0]:
            with np.errstate(divide="ignore", invalid="ignore"):
                da = dy * b * a ** (b - 1)
            const = b_arr == 0  # a⁰ = 1: zero gradient, never 0·0⁻¹ = nan, as PyTorch
            if const.any():
                da = xp.where(const, 0, da)
        if self.needs_input_grad[1]:
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
        if isinstance(exponent, np.generic):  # a NumPy scalar must not upcast float32 to float64
            exponent = exponent.item()
        t = as_tensor(input)
        if t.array.dtype.kind in "iub":
            if isinstance(exponent, (int, np.integer)) and exponent < 0:
                raise ValueError("pow: integers to negative integer powers are not allowed")
            if not isinstance(exponent, (int, np.integer)):  # int ** 0.5 is a float, as PyTorch
                t = _to_float(t)
            elif t.array.dtype.kind == "b" and not isinstance(exponent, bool):
                t = Tensor._make(t.array.astype(np.int64), None, False)
        return PowScalar.apply(t, p=exponent)
    return _binary(Pow, "pow", input, exponent)


subtract, multiply, divide, true_divide, negative = sub, mul, div, div, neg


# --- division's relatives: fmod, remainder, floor_divide, atan2; lerp ----------------------------
def _int_zero_division(op: str, a: Tensor, b: Tensor) -> None:
    if b.array.dtype.kind in "biu" and a.array.dtype.kind in "biu" and np.any(b.array == 0):
        raise ZeroDivisionError(f"{op}: integer division by zero")


class Fmod(Op):
    """y = a − trunc(a/b)·b (C's fmod: the sign of a).  da = dy, db = −dy·trunc(a/b)."""

    @ignoring(divide="ignore", invalid="ignore")
    def forward(self, a, b):
        return np.fmod(a, b)

    def backward(self, dy):
        a, b = self.input_arrays
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.trunc(a / b)
        return dy, (-(dy * q) if self.needs_input_grad[1] else None)


class Remainder(Op):
    """y = a − floor(a/b)·b (Python's %: the sign of b).  da = dy, db = −dy·floor(a/b)."""

    @ignoring(divide="ignore", invalid="ignore")
    def forward(self, a, b):
        return np.remainder(a, b)

    def backward(self, dy):
        a, b = self.input_arrays
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.floor(a / b)
        return dy, (-(dy * q) if self.needs_input_grad[1] else None)


class FloorDivide(Op):
    """y = floor(a/b).  No derivative, as in PyTorch (it is 0 almost everywhere)."""

    @ignoring(divide="ignore", invalid="ignore")
    def forward(self, a, b):
        return np.floor_divide(a, b)

    def backward(self, dy):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


class Atan2(Op):
    """y = atan2(a, b), the angle of (b, a).  da = dy·b/(a² + b²), db = −dy·a/(a² + b²)."""

    def forward(self, a, b):
        return np.arctan2(a, b)

    def backward(self, dy):
        a, b = self.inputs
        g = dy / (a * a + b * b)
        return g * b, -(g * a)


def _binary_checked(fn: type[Op], op: str, a: Any, b: Any) -> Tensor:
    ta = as_tensor(a, b if isinstance(b, Tensor) else None)
    tb = as_tensor(b, ta)
    _int_zero_division(op, ta, tb)
    return _binary(fn, op, ta, tb)


def fmod(input: Any, other: Any) -> Tensor:
    """The remainder of input / other with the sign of input (C's fmod)."""
    return _binary_checked(Fmod, "fmod", input, other)


def remainder(input: Any, other: Any) -> Tensor:
    """The remainder of input / other with the sign of other (Python's %)."""
    return _binary_checked(Remainder, "remainder", input, other)


def floor_divide(input: Any, other: Any) -> Tensor:
    """floor(input / other), elementwise (the // operator); integers stay integers."""
    return _binary_checked(FloorDivide, "floor_divide", input, other)


def atan2(input: Any, other: Any) -> Tensor:
    """The angle of the point (other, input), elementwise: atan(input / other) in the right quadrant."""
    ta = as_tensor(input, other if isinstance(other, Tensor) else None)
    tb = as_tensor(other, ta)
    if ta.array.dtype != tb.array.dtype:
        ta, tb = promote(ta, tb)
    return _binary(Atan2, "atan2", _to_float(ta), _to_float(tb))


arctan2 = atan2


def lerp(input: Any, end: Any, weight: Any) -> Tensor:
    """input + weight · (end − input): linear interpolation (weight a number or a tensor)."""
    start = as_tensor(input)
    return add(start, mul(weight, sub(end, start)))
