"""Elementwise choice between two tensors: maximum, minimum, where.

Max routes: the gradient goes to whichever input was chosen (split evenly on a tie,
as PyTorch does).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor, as_tensor
from .arithmetic import _binary


class Maximum(Function):
    """y = max(a, b).  dy/da = 1 where a > b, dy/db = 1 where b > a, ½ each on a tie."""

    def forward(self, a, b):
        return np.maximum(a, b)

    def backward(self, dy):
        a, b = self.parents[0].data, self.parents[1].data
        return _route(self.xp, dy, a > b, a == b)


class Minimum(Function):
    """y = min(a, b).  dy/da = 1 where a < b, dy/db = 1 where b < a, ½ each on a tie."""

    def forward(self, a, b):
        return np.minimum(a, b)

    def backward(self, dy):
        a, b = self.parents[0].data, self.parents[1].data
        return _route(self.xp, dy, a < b, a == b)


def _route(xp: Any, dy: Any, first: np.ndarray, tie: np.ndarray) -> tuple[Any, Any]:
    """Send dy to the first input where `first`, to the second elsewhere, half each on ties."""
    share = np.where(tie, 0.5, first.astype(np.float64)).astype(dy.dtype)
    return dy * share, dy * (1 - share)


class Where(Function):
    """y = a where cond else b.  dy/da = cond, dy/db = not cond."""

    def forward(self, a, b, cond):
        self.cond = cond
        return np.where(cond, a, b)

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


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """Elementwise `input` where condition holds, else `other`."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    a = as_tensor(input, other if isinstance(other, Tensor) else None)
    b = as_tensor(other, a)
    try:
        np.broadcast_shapes(cond.shape, a.data.shape, b.data.shape)
    except ValueError:
        raise ValueError(
            f"where: condition {cond.shape}, input {a.data.shape} and other {b.data.shape} "
            "cannot be broadcast together"
        ) from None
    out = Where.apply(a, b, cond=cond)
    return out
