"""Comparisons: < <= > >= == != and isclose; bool results that carry no gradient."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, as_tensor


def _compare(op: str, fn: Any, a: Any, b: Any) -> Tensor:
    ta = as_tensor(a, b if isinstance(b, Tensor) else None)
    tb = as_tensor(b, ta)
    try:
        return Tensor._make(fn(ta.data, tb.data), None, False)
    except ValueError:
        raise ValueError(f"{op}: shapes {ta.shape} and {tb.shape} cannot be broadcast together") from None


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
    return bool(isclose(input, other, rtol, atol).data.all())


def equal(input: Any, other: Any) -> bool:
    """True if both have the same shape and elements."""
    a, b = as_tensor(input), as_tensor(other)
    return a.shape == b.shape and bool(np.array_equal(a.data, b.data))


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
