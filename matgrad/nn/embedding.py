"""Embedding: a lookup table, i.e. one_hot(indices) @ W done as indexing."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import xp as _xp
from ..autograd.function import Function
from ..tensor import Tensor, as_tensor, get_default_dtype
from . import init
from .module import Module
from .parameter import Parameter


class EmbeddingLookup(Function):
    """Y = W[idx] = onehot(idx)·W.  dW = onehot(idx)ᵀ·dY: rows of dY summed per index (repeats add),
    the padding_idx row left at 0."""

    def forward(self, weight, *, indices, padding_idx):
        self.indices, self.padding_idx = indices, padding_idx
        return weight[indices]

    def backward(self, dy):
        shape = self.parents[0].data.shape
        flat = self.indices.reshape(-1)
        rows = self.xp.reshape(dy, (flat.size, shape[1]))
        if self.xp is _xp.numpy_ns:
            dw = np.zeros(shape, dtype=dy.dtype)
            np.add.at(dw, flat, rows)
            if self.padding_idx is not None:
                dw[self.padding_idx] = 0
            return dw
        dw = self.xp.index_add(shape, flat, rows, False)
        if self.padding_idx is None:
            return dw
        keep = np.ones((shape[0], 1), dtype=dy.dtype)
        keep[self.padding_idx] = 0
        return dw * keep


def embedding(input: Any, weight: Any, padding_idx: int | None = None, max_norm: Any = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of weight (num_embeddings, dim) picked by integer input (*) → (*, dim)."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not supported")
    w = as_tensor(weight)
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    if w.ndim != 2:
        raise ValueError(
            f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got {tuple(w.shape)}"
        )
    n = w.shape[0]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(
            f"embedding: index out of range: indices span [{idx.min()}, {idx.max()}], table has {n} rows"
        )
    if padding_idx is not None:
        padding_idx = _padding_idx(n, padding_idx)
    return EmbeddingLookup.apply(w, indices=idx % n, padding_idx=padding_idx)


def _padding_idx(n: int, padding_idx: int) -> int:
    if not -n <= padding_idx < n:
        raise ValueError(f"Embedding: padding_idx must be within [-{n}, {n}), got {padding_idx}")
    return padding_idx % n


class Embedding(Module):
    """A table of num_embeddings vectors of size embedding_dim, looked up by integer index.

    weight starts N(0, 1) as PyTorch, with the padding_idx row zero and never updated.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: Any = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Any = None, _freeze: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = None if padding_idx is None else _padding_idx(num_embeddings, padding_idx)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        if _weight is None:
            table = np.empty((num_embeddings, embedding_dim), dtype=dt)
            self.weight = Parameter(table, requires_grad=not _freeze)
            self.reset_parameters()
        else:
            w = as_tensor(_weight)
            if tuple(w.shape) != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight must have shape {(num_embeddings, embedding_dim)}, got {w.shape}"
                )
            self.weight = Parameter(w.data, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """N(0, 1), the padding row zero."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None,
                        **kwargs: Any) -> Embedding:
        """An Embedding holding the given (num_embeddings, dim) table (frozen unless freeze=False)."""
        w = as_tensor(embeddings)
        if w.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {tuple(w.shape)}")
        return cls(w.shape[0], w.shape[1], padding_idx=padding_idx, _weight=w, _freeze=freeze, **kwargs)

    def forward(self, input: Any) -> Tensor:
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
