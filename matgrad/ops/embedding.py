"""Embedding lookup: rows of a table picked by integer indices.  Y = W[idx], dW = onehot(idx)ᵀ·dY."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op
from ..devices import to_host
from ..tensor import Tensor, as_tensor
from .indexing import is_device_array, on_device


class EmbeddingLookup(Op):
    """Y = W[idx] = onehot(idx)·W.  dW = onehot(idx)ᵀ·dY: rows of dY summed per index (repeats add),
    the padding_idx row left at 0; with scale_grad_by_freq each row then divided by its index's count."""

    def forward(self, weight, *, indices, padding_idx, scale=None):
        self.indices, self.padding_idx, self.scale = indices, padding_idx, scale
        return weight[indices]

    def backward(self, dy):
        shape = self.input_arrays[0].shape
        flat = self.indices.reshape(-1)
        rows = self.xp.reshape(dy, (flat.size, shape[1]))
        dw = self.xp.index_add(shape, flat, rows, False)  # on the device of dy (np.add.at for NumPy arrays)
        if self.scale is not None:  # (num_embeddings, 1): 1 / how often each row was looked up
            dw = dw * self.scale
        if self.padding_idx is None:
            return dw
        if self.xp.plain:
            dw[self.padding_idx] = 0
            return dw
        keep = np.ones_like(self.input_arrays[0], shape=(shape[0], 1), dtype=dy.dtype)
        keep[self.padding_idx] = 0
        return dw * keep


def embedding(input: Any, weight: Any, padding_idx: int | None = None, max_norm: Any = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of weight (num_embeddings, dim) picked by integer input (*) → (*, dim). scale_grad_by_freq divides
    each row's gradient by how often its index occurs in input, as PyTorch's."""
    if max_norm is not None:
        raise NotImplementedError("embedding: max_norm is not supported (PyTorch renormalizes the looked-up rows "
                                  "of weight in place); renormalize weight under no_grad() before the lookup")
    if sparse:
        raise NotImplementedError("embedding: sparse=True asks for a sparse gradient of weight, and matgrad has no "
                                  "sparse tensors; use sparse=False (the same gradient, dense)")
    w = as_tensor(weight)
    idx = input.array if isinstance(input, Tensor) else input if is_device_array(input) else np.asarray(input)
    idx = on_device(idx, w.array)  # a CPU index picks from a CUDA table, as in PyTorch
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: Expected tensor for argument #1 'indices' to have one of the following "
                           f"scalar types: Long, Int; but got dtype {idx.dtype}; convert with .long()")
    if w.ndim != 2:
        raise RuntimeError(
            f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got {tuple(w.shape)}"
        )
    n = w.shape[0]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(
            f"embedding: index out of range: indices span [{idx.min()}, {idx.max()}], table has {n} rows"
        )
    if padding_idx is not None:
        padding_idx = _padding_idx(n, padding_idx)
    idx = idx % n
    scale = None
    if scale_grad_by_freq:  # the counts on the host, the scale where the table is
        counts = np.bincount(to_host(idx).reshape(-1), minlength=n)
        scale = on_device((1.0 / np.maximum(counts, 1)).astype(w.array.dtype).reshape(n, 1), w.array)
    return EmbeddingLookup.apply(w, indices=idx, padding_idx=padding_idx, scale=scale)


def _padding_idx(n: int, padding_idx: int) -> int:
    if not -n <= padding_idx < n:
        raise ValueError(f"Embedding: padding_idx must be within [-{n}, {n}), got {padding_idx}")
    return padding_idx % n
