"""Elementwise choice between two tensors: maximum, minimum, where.

Max routes: the gradient goes to whichever input was chosen (split evenly on a tie,
as PyTorch does).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op
from ..tensor import Tensor, as_tensor
from .arithmetic import _binary, promote


class Maximum(Op):
    """y = max(a, b).  dy/da = 1 where a > b, dy/db = 1 where b > a, ½ each on a tie."""

    def forward(self, a, b):
        return np.maximum(a, b)

    def backward(self, dy):
        a, b = self.input_arrays
        return _route(self.xp, dy, a > b, a == b)


class Minimum(Op):
    """y = min(a, b).  dy/da = 1 where a < b, dy/db = 1 where b < a, ½ each on a tie."""

    def forward(self, a, b):
        return np.minimum(a, b)

    def backward(self, dy):
        a, b = self.input_arrays
        return _route(self.xp, dy, a < b, a == b)


def _route(xp: Any, dy: Any, first: np.ndarray, tie: np.ndarray) -> tuple[Any, Any]:
    """Send dy to the first input where `first`, to the second elsewhere, half each on ties."""
    share = np.multiply(tie, 0.5, dtype=dy.dtype)  # first and tie never both hold
    share += first
    return dy * share, dy * (1 - share)


class Where(Op):
    """y = a where cond else b.  dy/da = cond, dy/db = not cond."""

    def forward(self, a, b, cond):
        self.cond = cond
        return self.xp.where(cond, a, b)

    def backward(self, dy):
        xp, cond = self.xp, self.cond
        da = xp.where(cond, dy, 0) if self.needs_input_grad[0] else None
        db = xp.where(cond, 0, dy) if self.needs_input_grad[1] else None
        return da, db


def maximum(input: Any, other: Any) -> Tensor:
    """Elementwise larger of two tensors."""
    return _binary(Maximum, "maximum", input, other)


def minimum(input: Any, other: Any) -> Tensor:
    """Elementwise smaller of two tensors."""
    return _binary(Minimum, "minimum", input, other)


def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    """Elementwise `input` where condition holds, else `other`; where(cond) = cond.nonzero(as_tuple=True)."""
    if input is None and other is None:
        nz = np.nonzero(as_tensor(condition).array)
        return tuple(Tensor._make(i.astype(np.int64), None, False) for i in nz)
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither (for the indices where cond holds)")
    cond = np.asarray(condition.array if isinstance(condition, Tensor) else condition, dtype=bool)
    a = as_tensor(input, other if isinstance(other, Tensor) else None)
    b = as_tensor(other, a)
    if a.array.dtype != b.array.dtype:
        a, b = promote(a, b)
    try:
        np.broadcast_shapes(cond.shape, a.array.shape, b.array.shape)
    except ValueError:
        raise ValueError(
            f"where: condition {cond.shape}, input {a.array.shape} and other {b.array.shape} "
            "cannot be broadcast together"
        ) from None
    out = Where.apply(a, b, cond=cond)
    return out


def masked_fill(input: Any, mask: Any, value: Any) -> Tensor:
    """`value` where mask is True, input elsewhere (no gradient to the filled places)."""
    t = as_tensor(input)
    m = np.asarray(mask.array if isinstance(mask, Tensor) else mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {m.dtype}")
    v = as_tensor(value, t)
    if v.ndim:
        raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape {v.shape}")
    if v.array.dtype != t.array.dtype:
        v = Tensor._make(v.array.astype(t.array.dtype), None, False) if not v.requires_grad else v.to(t.dtype)
    try:
        shape = np.broadcast_shapes(m.shape, t.shape)
    except ValueError:
        shape = None
    if shape != t.shape:
        raise ValueError(f"masked_fill: mask of shape {m.shape} does not broadcast to the input's {t.shape}")
    return Where.apply(v, t, cond=m)
