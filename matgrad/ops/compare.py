"""Comparisons: < <= > >= == != and isclose; bool results that carry no gradient."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import ShapeError, Tensor, as_tensor
from .arithmetic import fit_int


def _compare(op: str, fn: Any, a: Any, b: Any) -> Tensor:
    if type(a) is int or type(b) is int:  # an int that does not fit an integer tensor wraps into it, as PyTorch
        a, b = fit_int(op, a, b)
    ta = as_tensor(a, b if isinstance(b, Tensor) else None)
    tb = as_tensor(b, ta)
    try:
        return Tensor._make(fn(ta.array, tb.array), None, False)
    except ValueError:
        raise ShapeError(f"{op}: shapes {ta.shape} and {tb.shape} cannot be broadcast together (compare them from "
                         "the right: each pair of sizes must be equal or one of them 1)") from None


def lt(input: Any, other: Any) -> Tensor:
    """input < other, elementwise."""
    return _compare("lt", np.less, input, other)


def le(input: Any, other: Any) -> Tensor:
    """input <= other, elementwise."""
    return _compare("le", np.less_equal, input, other)


def gt(input: Any, other: Any) -> Tensor:
    """input > other, elementwise."""
    return _compare("gt", np.greater, input, other)


def ge(input: Any, other: Any) -> Tensor:
    """input >= other, elementwise."""
    return _compare("ge", np.greater_equal, input, other)


def eq(input: Any, other: Any) -> Tensor:
    """input == other, elementwise."""
    return _compare("eq", np.equal, input, other)


def ne(input: Any, other: Any) -> Tensor:
    """input != other, elementwise."""
    return _compare("ne", np.not_equal, input, other)


def isclose(input: Any, other: Any, rtol: float = 1e-5, atol: float = 1e-8) -> Tensor:
    """|input - other| <= atol + rtol·|other|, elementwise."""
    return _compare("isclose", lambda a, b: np.isclose(a, b, rtol=rtol, atol=atol), input, other)


def allclose(input: Any, other: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    """True if every element is close."""
    return bool(isclose(input, other, rtol, atol).array.all())


def equal(input: Any, other: Any) -> bool:
    """True if both have the same shape and elements."""
    a, b = as_tensor(input), as_tensor(other)
    return a.shape == b.shape and bool(np.array_equal(a.array, b.array))


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logical(op: str, fn: Any, a: Any, b: Any) -> Tensor:
    from .arithmetic import promote

    if type(a) is int or type(b) is int:  # an int that does not fit an integer tensor wraps into it, as PyTorch
        a, b = fit_int(op, a, b)
    ta = as_tensor(a, b if isinstance(b, Tensor) else None)
    tb = as_tensor(b, ta)
    if ta.array.dtype.kind not in "biu" or tb.array.dtype.kind not in "biu":
        raise TypeError(f"{op}: expects bool or integer tensors, got {ta.dtype} and {tb.dtype}")
    return _compare(op, fn, *promote(ta, tb))


def bitwise_and(input: Any, other: Any) -> Tensor:
    """input & other (logical "and" on bool masks)."""
    return _logical("bitwise_and", np.bitwise_and, input, other)


def bitwise_or(input: Any, other: Any) -> Tensor:
    """input | other (logical "or" on bool masks)."""
    return _logical("bitwise_or", np.bitwise_or, input, other)


def bitwise_xor(input: Any, other: Any) -> Tensor:
    """input ^ other."""
    return _logical("bitwise_xor", np.bitwise_xor, input, other)


def bitwise_not(input: Any) -> Tensor:
    """~input: logical not of a bool mask, bitwise not of integers."""
    t = as_tensor(input)
    if t.array.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not (~): expects a bool or integer tensor, got {t.dtype}")
    return Tensor._make(np.invert(t.array), None, False)


def logical_not(input: Any) -> Tensor:
    """True where input is zero."""
    return Tensor._make(np.logical_not(as_tensor(input).array), None, False)


def logical_and(input: Any, other: Any) -> Tensor:
    """True where both are non-zero."""
    return _compare("logical_and", np.logical_and, input, other)


def logical_or(input: Any, other: Any) -> Tensor:
    """True where either is non-zero."""
    return _compare("logical_or", np.logical_or, input, other)


def isnan(input: Any) -> Tensor:
    """True where the element is nan."""
    return Tensor._make(np.isnan(as_tensor(input).array), None, False)


def isinf(input: Any) -> Tensor:
    """True where the element is ±inf."""
    return Tensor._make(np.isinf(as_tensor(input).array), None, False)


def isfinite(input: Any) -> Tensor:
    """True where the element is neither nan nor ±inf."""
    return Tensor._make(np.isfinite(as_tensor(input).array), None, False)


def logical_xor(input: Any, other: Any) -> Tensor:
    """True where exactly one of the two is non-zero."""
    return _compare("logical_xor", np.logical_xor, input, other)


def _real_only(op: str, input: Any) -> Tensor:
    """The input as a tensor; matgrad has no complex dtype, so a complex array is refused."""
    t = as_tensor(input)
    if t.array.dtype.kind == "c":
        raise TypeError(f"{op}: matgrad has no complex dtype, got a tensor of {t.array.dtype}")
    return t


def isposinf(input: Any) -> Tensor:
    """True where the element is +inf (never for integers and bools)."""
    a = _real_only("isposinf", input).array
    return Tensor._make(np.isposinf(a) if a.dtype.kind == "f" else np.zeros_like(a, dtype=bool), None, False)


def isneginf(input: Any) -> Tensor:
    """True where the element is -inf (never for integers and bools)."""
    a = _real_only("isneginf", input).array
    return Tensor._make(np.isneginf(a) if a.dtype.kind == "f" else np.zeros_like(a, dtype=bool), None, False)


def isreal(input: Any) -> Tensor:
    """True where the imaginary part is zero: everywhere, for matgrad's real dtypes."""
    return Tensor._make(np.ones_like(_real_only("isreal", input).array, dtype=bool), None, False)


def is_nonzero(input: Any) -> bool:
    """bool() of a one-element tensor (nan is non-zero, -0.0 is zero); an error for any other size."""
    t = as_tensor(input)
    n = t.array.size
    if n != 1:
        what = "with no values" if n == 0 else "with more than one value"
        raise RuntimeError(f"is_nonzero: Boolean value of Tensor {what} is ambiguous (shape {tuple(t.shape)})")
    return bool(t.array.reshape(()) != 0)
