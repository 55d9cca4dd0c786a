"""softmax and log_softmax along one dimension, stable for logits in the hundreds."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _autocast, parallel
from ..autograd.op import Op
from ..tensor import Tensor, as_tensor, wrap_dim
from .reduction import _float, max_or_neg_inf


# The formulas as matgrad.parallel takes them: with out=None the plain expression, with out= a chunk
# of the result the same steps in place, into it.
def _softmax(x, axis, out=None):
    """e^(x - max) / Σ e^(x - max) along `axis`."""
    m = max_or_neg_inf(x, axis)
    e = np.exp(x - m) if out is None else np.exp(np.subtract(x, m, out=out), out=out)
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def _softmax_grad(dy, y, axis, out=None):
    """y·(dy - Σ dy·y) along `axis`, for NumPy's arrays."""
    if out is None:
        return y * (dy - np.add.reduce(dy * y, axis=axis, keepdims=True))
    np.multiply(dy, y, out=out)
    np.subtract(dy, np.add.reduce(out, axis=axis, keepdims=True), out=out)
    return np.multiply(y, out, out=out)


class Softmax(Op):
    """y = e^(x - max) / Σ e^(x - max).  dx = y ⊙ (dy - Σ dy ⊙ y)."""

    save_output = True

    def forward(self, x, axis):
        self.axis = axis
        return parallel.along(_softmax, x, axis=axis, heavy=True)

    def backward(self, dy):
        y = self.output
        if type(dy) is np.ndarray:  # NumPy's arrays: in place, on the threads (matgrad.parallel)
            return parallel.along(_softmax_grad, dy, y, axis=self.axis, heavy=True)
        return y * (dy - self.xp.sum(dy * y, axis=self.axis, keepdims=True))


def _log_softmax(x, axis, out=None):
    """x - max - log Σ e^(x - max) along `axis`."""
    m = max_or_neg_inf(x, axis)
    shifted = x - m if out is None else np.subtract(x, m, out=out)
    with np.errstate(divide="ignore"):  # a dim of size 0: log(0), on no elements at all
        shifted -= np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return shifted


def _log_softmax_grad(dy, y, axis, out=None):
    """dy - e^y·Σ dy along `axis`, for NumPy's arrays."""
    if out is None:
        return dy - np.exp(y) * np.add.reduce(dy, axis=axis, keepdims=True)
    np.exp(y, out=out)
    np.multiply(out, np.add.reduce(dy, axis=axis, keepdims=True), out=out)
    return np.subtract(dy, out, out=out)


class LogSoftmax(Op):
    """y = x - logsumexp(x).  dx = dy - softmax(x) · Σ dy."""

    save_output = True

    def forward(self, x, axis):
        self.axis = axis
        return parallel.along(_log_softmax, x, axis=axis, heavy=True)

    def backward(self, dy):
        xp, y = self.xp, self.output
        if type(dy) is np.ndarray:  # NumPy's arrays: in place, on the threads (matgrad.parallel)
            return parallel.along(_log_softmax_grad, dy, y, axis=self.axis, heavy=True)
        return dy - xp.exp(y) * xp.sum(dy, axis=self.axis, keepdims=True)


def _dim(op: str, t: Tensor, dim: Any) -> int:
    if dim is None:  # PyTorch's legacy default: dim 1 for 2-D and up, else 0
        dim = 0 if t.ndim in (0, 1, 3) else 1
    return wrap_dim(op, dim, t.ndim)  # a 0-d tensor takes dim 0 or -1 (it counts as 1-D), as PyTorch


def softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Tensor:
    """e^x / Σ e^x along `dim`: probabilities that sum to 1."""
    if _autocast.on and dtype is None:  # mixed precision (matgrad/_autocast.py); an explicit dtype wins
        (input,) = _autocast.cast(_autocast.FP32_CUDA, input)
    t = _float(as_tensor(input) if dtype is None else as_tensor(input).to(dtype))
    return Softmax.apply(t, axis=_dim("softmax", t, dim))


def log_softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along `dim`: log-probabilities, exact even for huge logits."""
    if _autocast.on and dtype is None:  # mixed precision (matgrad/_autocast.py); an explicit dtype wins
        (input,) = _autocast.cast(_autocast.FP32_CUDA, input)
    t = _float(as_tensor(input) if dtype is None else as_tensor(input).to(dtype))
    return LogSoftmax.apply(t, axis=_dim("log_softmax", t, dim))
