"""unfold (im2col) and fold (col2im) as PyTorch's nn.functional.unfold / fold.

    unfold: X (N, C, H, W) → cols (N, C·kH·kW, L), one column per window position (L = Hₒ·Wₒ)
    fold:   cols (N, C·kH·kW, L) → X (N, C, H, W), each column added back onto its window

fold is unfold's transpose (overlapping windows add up), so each is the other's backward
and gradients of any order are the same two ops. The kernels are conv.py's unfold and fold.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op
from ..tensor import Tensor, as_tensor
from .conv import Pair, apply_in, out_size, pair
from .conv import fold as _col2im
from .conv import unfold as _im2col


def _contiguous(a: Any) -> Any:
    """`a` in row-major order (a copy if it is not): NumPy's own call for NumPy arrays, a copy on a device."""
    if type(a) is np.ndarray:
        return np.ascontiguousarray(a)
    return a if a.flags.c_contiguous else a.copy()


class Unfold(Op):
    """cols = im2col(X), (N, C·kH·kW, L).  dX = col2im(dcols) (Fold)."""

    def forward(self, x, *, k, s, p, d):
        self.conf = (k, s, p, d)
        n, c = x.shape[:2]
        cols = _im2col(x, k, s, p, d)  # (C, kH, kW, N, Hₒ, Wₒ)
        ho, wo = cols.shape[-2:]
        return _contiguous(cols.transpose(3, 0, 1, 2, 4, 5)).reshape(n, c * k[0] * k[1], ho * wo)

    def backward(self, dy):
        k, s, p, d = self.conf
        return apply_in(self.xp, Fold, dy, size=self.input_arrays[0].shape[2:], k=k, s=s, p=p, d=d)


class Fold(Op):
    """X = col2im(cols): each column added onto the pixels of its window.  dcols = im2col(dX) (Unfold)."""

    def forward(self, cols, *, size, k, s, p, d):
        self.conf = (k, s, p, d)
        n, ckk, _ = cols.shape
        c = ckk // (k[0] * k[1])
        ho, wo = (out_size(size[i], k[i], s[i], p[i], d[i]) for i in range(2))
        c6 = cols.reshape(n, c, k[0], k[1], ho, wo).transpose(1, 2, 3, 0, 4, 5)
        return _contiguous(_col2im(c6, (n, c) + tuple(size), s, p, d))

    def backward(self, dx):
        k, s, p, d = self.conf
        return apply_in(self.xp, Unfold, dx, k=k, s=s, p=p, d=d)


def _conf(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> tuple[Pair, Pair, Pair, Pair]:
    k, d = pair(op, "kernel_size", kernel_size), pair(op, "dilation", dilation)
    p, s = pair(op, "padding", padding), pair(op, "stride", stride)
    if min(k) < 1 or min(d) < 1 or min(s) < 1:
        raise ValueError(f"{op}: kernel_size {k}, dilation {d} and stride {s} must be positive")
    if min(p) < 0:
        raise ValueError(f"{op}: padding {p} must be non-negative")
    return k, s, p, d


def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Sliding local blocks of a (N, C, H, W) or (C, H, W) input as columns, as torch.nn.functional.unfold."""
    op = "unfold"
    x = as_tensor(input)
    if x.ndim not in (3, 4):
        raise NotImplementedError(
            f"Input Error: Only 3D or 4D input Tensors are supported (got {x.ndim}D)"
        )
    k, s, p, d = _conf(op, kernel_size, dilation, padding, stride)
    unbatched = x.ndim == 3
    if unbatched:
        x = x.reshape(1, *x.shape)
    ho, wo = (out_size(x.shape[2 + i], k[i], s[i], p[i], d[i]) for i in range(2))
    if ho < 1 or wo < 1:
        raise RuntimeError(
            f"Given input with spatial size ({x.shape[2]}, {x.shape[3]}), kernel_size={k}, dilation={d}, "
            f"padding={p}, calculated shape of the array of sliding blocks as ({ho}, {wo}), but its "
            "components must be at least one."
        )
    y = Unfold.apply(x, k=k, s=s, p=p, d=d)
    return y.reshape(*y.shape[1:]) if unbatched else y


def fold(input: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Sum columns (N, C·kH·kW, L) back into an (N, C, H, W) image, as torch.nn.functional.fold."""
    op = "fold"
    x = as_tensor(input)
    if x.ndim not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                                  f"(got {x.ndim}D)")
    k, s, p, d = _conf(op, kernel_size, dilation, padding, stride)
    size = pair(op, "output_size", output_size)
    unbatched = x.ndim == 2
    if unbatched:
        x = x.reshape(1, *x.shape)
    n, ckk, L = x.shape
    if ckk % (k[0] * k[1]):
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={ckk} and kernel_size={k}"
        )
    ho, wo = (out_size(size[i], k[i], s[i], p[i], d[i]) for i in range(2))
    if ho * wo != L:
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, expected "
            f"size of input's dimension 2 to match the calculated number of sliding blocks {ho} * {wo} = "
            f"{ho * wo}, but got input.size(2)={L}."
        )
    y = Fold.apply(x, size=size, k=k, s=s, p=p, d=d)
    return y.reshape(*y.shape[1:]) if unbatched else y
