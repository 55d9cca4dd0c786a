"""softmax and log_softmax along one dimension, stable for logits in the hundreds."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _autocast, parallel
from ..autograd.op import Op
from ..kernels import ignoring
from ..tensor import Tensor, as_tensor, wrap_dim
from .reduction import _float, max_or_neg_inf

# Rows along a short last axis reduce slowly in NumPy's own reductions, which pay ~15-36 ns a row whatever its
# length. Two other ways, each giving a row the same bits wherever it lies (so parallel.along's chunks give the
# one-thread bits), measured at 131,072 float32 values, one thread (2-core AMD EPYC Zen 3, NumPy 2.4.6, medians
# of 100-300):
# - Sums by np.einsum, whose inner loop adds up each contiguous row in SIMD lanes: Σ over rows of 16 in 43 µs,
#   against 140 folding the columns and 200 for np.add.reduce; of 64, 19 against 69; from 256 on, ~12 against
#   27-35. Σ a·b in the same loop: 62 µs against 170 (16) and 31 against 101 (64). Up to _EINSUM_LONGEST values
#   its relative error stays within 3e-7 (uniform values; NumPy's pairwise sum 1.6e-7); longer rows keep NumPy's.
# - The max of rows up to _WINDOW long by windows over the flat array (_window_max): 68 µs at 16 values, 80 at
#   32, against 127 and 152 folding the columns, 307 and 163 for np.max; at 64, np.max's 87 wins over 102.
# The whole op at the vit recipe's attention, (128, 4, 16, 16): forward 594 -> 407 µs, backward 241 -> 138
# (PyTorch 205 and 44); at (128, 8, 64, 64) 21.5 -> 14.3 ms and 6.5 -> 4.6.
_EINSUM_LONGEST = 4096
_WINDOW = 32
# A row this short is divided by its sum as a product with the reciprocal, as PyTorch's CPU kernel does: a
# short row's broadcast divide costs 2x the product. Strided rows this short take their max by columns.
_SHORT = 16


def _rows(x, axis, longest):
    """Whether x is a host float32/64 array reduced along its last axis, of 1 to `longest` values."""
    return (type(x) is np.ndarray and (axis == -1 or axis == x.ndim - 1) and 0 < x.shape[-1] <= longest
            and x.dtype.char in "fd")  # float16 keeps NumPy's sum, which accumulates in float32


def _by_columns(ufunc, x):
    """ufunc.reduce(x, axis=-1, keepdims=True) as x's columns folded in from the left: each row on its own,
    in the same order wherever it lies (so parallel.along's chunks give the same bits)."""
    cols = x.reshape(-1, x.shape[-1]) if x.flags.c_contiguous else x  # 1-D columns step faster than N-D ones
    acc = cols[..., 0].copy()
    for j in range(1, x.shape[-1]):
        ufunc(acc, cols[..., j], out=acc)
    return acc.reshape(x.shape[:-1] + (1,))


def _window_max(x, scratch=None):
    """The max of each row of a C-contiguous (..., k) array, 2 <= k, kept as a size-1 dim: passes over the flat
    values make each one the max of the 2, 4, 8, ... values from it on (contiguous passes, where a row's own
    reduction steps row by row); a last pass joins two overlapping windows into one of k (a max may see a value
    twice), and a row's max is the window at its start. `scratch`: an array of x's size to use for one buffer."""
    k = x.shape[-1]
    shifts, w = [], 1
    while 2 * w <= k:
        shifts.append(w)
        w *= 2
    if w < k:
        shifts.append(k - w)
    flat = x.reshape(-1)
    buffers = (np.empty_like(flat) if scratch is None else scratch.reshape(-1), np.empty_like(flat))
    side = len(shifts) % 2  # the last pass lands in the second buffer, not in the caller's scratch
    for s in shifts:
        n = flat.size - s
        flat = np.maximum(flat[:n], flat[s:], out=buffers[side][:n])
        side ^= 1
    return flat[::k].reshape(x.shape[:-1] + (1,))


def _row_max(x, axis, scratch=None):
    """max along `axis`, kept as a size-1 dim (-inf for no values); `scratch` as _window_max's."""
    if _rows(x, axis, _WINDOW) and x.shape[-1] > 1 and x.size and x.flags.c_contiguous:
        return _window_max(x, scratch)
    return _by_columns(np.maximum, x) if _rows(x, axis, _SHORT) else max_or_neg_inf(x, axis)


def _row_sum(x, axis, other=None):
    """Σ x (or Σ x·other) along `axis`, kept as a size-1 dim."""
    if _rows(x, axis, _EINSUM_LONGEST):
        return (np.einsum("...j->...", x) if other is None else np.einsum("...j,...j->...", x, other))[..., None]
    return np.add.reduce(x if other is None else x * other, axis=axis, keepdims=True)


# The formulas as matgrad.parallel takes them: with out=None the plain expression, with out= a chunk
# of the result the same steps in place, into it.
def _softmax(x, axis, out=None):
    """e^(x - max) / Σ e^(x - max) along `axis`."""
    if out is None and type(x) is np.ndarray:
        out = np.empty_like(x)  # filled in place from here on, and the max's scratch before that
    m = _row_max(x, axis, out)
    e = np.exp(x - m) if out is None else np.exp(np.subtract(x, m, out=out), out=out)
    if _rows(e, axis, _SHORT):  # e · (1 / Σ), as PyTorch's CPU kernel
        e *= np.reciprocal(_row_sum(e, axis))
    else:
        e /= _row_sum(e, axis)
    return e


def _softmax_grad(dy, y, axis, out=None):
    """y·(dy - Σ dy·y) along `axis`, for NumPy's arrays."""
    out = np.subtract(dy, _row_sum(dy, axis, y), out=out)
    out *= y
    return out


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
    if out is None and type(x) is np.ndarray:
        out = np.empty_like(x)  # as _softmax's
    m = _row_max(x, axis, out)
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
