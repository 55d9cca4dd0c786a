"""softmax and log_softmax along one dimension, stable for logits in the hundreds."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op
from ..tensor import Tensor, as_tensor
from .reduction import _float, max_or_neg_inf, normalize_axes


class Softmax(Op):
    """y = e^(x - max) / Σ e^(x - max).  dx = y ⊙ (dy - Σ dy ⊙ y)."""

    save_output = True

    def forward(self, x, axis):
        self.axis = axis
        e = np.exp(x - max_or_neg_inf(x, axis))
        e /= np.sum(e, axis=axis, keepdims=True)
        return e

    def backward(self, dy):
        y = self.output
        return y * (dy - self.xp.sum(dy * y, axis=self.axis, keepdims=True))


class LogSoftmax(Op):
    """y = x - logsumexp(x).  dx = dy - softmax(x) · Σ dy."""

    save_output = True

    def forward(self, x, axis):
        self.axis = axis
        shifted = x - max_or_neg_inf(x, axis)
        with np.errstate(divide="ignore"):  # a dim of size 0: log(0), on no elements at all
            shifted -= np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        return shifted

    def backward(self, dy):
        xp = self.xp
        return dy - xp.exp(self.output) * xp.sum(dy, axis=self.axis, keepdims=True)


def _dim(op: str, t: Tensor, dim: Any) -> int:
    if dim is None:  # PyTorch's legacy default: dim 1 for 2-D and up, else 0
        dim = 0 if t.ndim in (0, 1, 3) else 1
    if t.ndim == 0:
        return 0
    return normalize_axes(op, int(dim), None, t.ndim)[0]


def softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Tensor:
    """e^x / Σ e^x along `dim`: probabilities that sum to 1."""
    t = _float(as_tensor(input) if dtype is None else as_tensor(input).to(dtype))
    return Softmax.apply(t, axis=_dim("softmax", t, dim))


def log_softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along `dim`: log-probabilities, exact even for huge logits."""
    t = _float(as_tensor(input) if dtype is None else as_tensor(input).to(dtype))
    return LogSoftmax.apply(t, axis=_dim("log_softmax", t, dim))
