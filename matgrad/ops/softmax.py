"""softmax and log_softmax along one dimension, stable for logits in the hundreds."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _autocast, parallel
from ..autograd.op import Op
from ..kernels import ignoring
from ..tensor import Tensor, as_tensor, wrap_dim
from .reduction import _float, max_or_neg_inf

# Short rows (attention over a few tokens, a handful of classes): NumPy reduces a short last axis row by row,
# at ~36 ns a row for max over 4 elements and ~15 ns over 16, whatever the row's length. Reduced as its columns
# instead (k - 1 ufunc calls, each a pass over all rows) the same max, and the sum in column order. One thread,
# 131,072 float32 elements (2-core AMD EPYC Zen 5, NumPy 2.4.6), rows by columns: max 1142 / 57 µs at k = 4,
# 254 / 54 at k = 16, 138 / 63 at k = 32, 80 / 79 at k = 64; sum 461 / 67 at k = 4, 131 / 53 at k = 16,
# 76 / 85 at k = 32; at 16,384 elements k = 16 is the last width where both win (max 0.58×, sum 0.86×).
# Softmax forward at (128, 4, 16, 16), the vit recipe's attention: 928 µs by rows.
_SHORT = 16  # the widest last axis reduced by columns


def _short(x, axis):
    """Whether x's reductions along `axis` go by columns: a host float32/64 array, the last axis, 1 to _SHORT long."""
    return (type(x) is np.ndarray and (axis == -1 or axis == x.ndim - 1) and 0 < x.shape[-1] <= _SHORT
            and x.dtype.char in "fd")  # float16 keeps NumPy's sum, which accumulates in float32


def _by_columns(ufunc, x):
    """ufunc.reduce(x, axis=-1, keepdims=True) as x's columns folded in from the left: each row on its own,
    in the same order wherever it lies (so parallel.along's chunks give the same bits)."""
    cols = x.reshape(-1, x.shape[-1]) if x.flags.c_contiguous else x  # 1-D columns step faster than N-D ones
    acc = cols[..., 0].copy()
    for j in range(1, x.shape[-1]):
        ufunc(acc, cols[..., j], out=acc)
    return acc.reshape(x.shape[:-1] + (1,))


def _row_max(x, axis):
    return _by_columns(np.maximum, x) if _short(x, axis) else max_or_neg_inf(x, axis)


def _row_sum(x, axis):
    return _by_columns(np.add, x) if _short(x, axis) else np.add.reduce(x, axis=axis, keepdims=True)


# The formulas as matgrad.parallel takes them: with out=None the plain expression, with out= a chunk
# of the result the same steps in place, into it.
def _softmax(x, axis, out=None):
    """e^(x - max) / Σ e^(x - max) along `axis`."""
    m = _row_max(x, axis)
    e = np.exp(x - m) if out is None else np.exp(np.subtract(x, m, out=out), out=out)
    if _short(e, axis):  # e · (1 / Σ), as PyTorch's CPU kernel: a short row's broadcast divide costs 2× the product
        e *= np.reciprocal(_by_columns(np.add, e))
    else:
        e /= np.add.reduce(e, axis=axis, keepdims=True)
    return e


def _softmax_grad(dy, y, axis, out=None):
    """y·(dy - Σ dy·y) along `axis`, for NumPy's arrays."""
    if out is None:
        return y * (dy - _row_sum(dy * y, axis))
    np.multiply(dy, y, out=out)
    np.subtract(dy, _row_sum(out, axis), out=out)
    return np.multiply(y, out, out=out)


class Softmax(Op):
    """y = e^(x - max) / Σ e^(x - max).  dx = y ⊙ (dy - Σ dy ⊙ y)."""

    save_output = True

    @ignoring(invalid="ignore")  # a row holding +inf, or all -inf: inf - inf is nan, as PyTorch gives (quietly)
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
    m = _row_max(x, axis)
    shifted = x - m if out is None else np.subtract(x, m, out=out)
    with np.errstate(divide="ignore"):  # a dim of size 0: log(0), on no elements at all
        shifted -= np.log(_row_sum(np.exp(shifted), axis))
    return shifted


def _log_softmax_grad(dy, y, axis, out=None):
    """dy - e^y·Σ dy along `axis`, for NumPy's arrays."""
    if out is None:
        return dy - np.exp(y) * _row_sum(dy, axis)
    np.exp(y, out=out)
    np.multiply(out, _row_sum(dy, axis), out=out)
    return np.subtract(dy, out, out=out)


class LogSoftmax(Op):
    """y = x - logsumexp(x).  dx = dy - softmax(x) · Σ dy."""

    save_output = True

    @ignoring(invalid="ignore")  # as Softmax's
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
