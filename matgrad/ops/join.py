"""Joining and splitting: cat, stack, split, chunk, pad."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..autograd.op import Op
from ..tensor import Tensor, as_tensor
from .arithmetic import promote
from .indexing import getitem


class Cat(Op):
    """y = [x₁, x₂, …] joined along an axis.  dxᵢ = the slice of dy that xᵢ became."""

    def forward(self, *xs, axis):
        self.axis = axis
        self.bounds = np.cumsum([0] + [x.shape[axis] for x in xs])
        return np.concatenate(xs, axis=axis)

    def backward(self, dy):
        lead = (slice(None),) * self.axis
        return tuple(
            dy[lead + (slice(int(lo), int(hi)),)] if need else None
            for lo, hi, need in zip(self.bounds[:-1], self.bounds[1:], self.needs_input_grad)
        )


class Pad(Op):
    """y = x with a constant border.  dx = dy without the border."""

    def forward(self, x, widths, value):
        self.inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    def backward(self, dy):
        return dy[self.inner]


def _tensors(op: str, tensors: Sequence[Any]) -> tuple[Tensor, ...]:
    if isinstance(tensors, Tensor) or not len(tensors):
        raise ValueError(f"{op}: expects a non-empty list or tuple of tensors")
    return promote(*(as_tensor(t) for t in tensors))


def cat(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dimension."""
    ts = _tensors("cat", tensors)
    d = axis if axis is not None else dim
    nd = ts[0].ndim
    for i, t in enumerate(ts):
        if t.ndim == 0:
            raise ValueError(f"cat: tensor {i} is 0-d and cannot be concatenated; use stack for scalars")
    if not -nd <= d < max(nd, 1):
        raise IndexError(f"cat: dim {d} is out of range for tensors with {nd} dimension(s)")
    d %= max(nd, 1)
    for i, t in enumerate(ts):
        if t.ndim != nd or t.shape[:d] + t.shape[d + 1:] != ts[0].shape[:d] + ts[0].shape[d + 1:]:
            raise ValueError(
                f"cat: tensor {i} has shape {t.shape}, which does not match tensor 0's {ts[0].shape} "
                f"outside dim {d}"
            )
    return Cat.apply(*ts, axis=d)


concat = concatenate = cat


def stack(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors of one shape along a new dimension."""
    from .shape import unsqueeze

    ts = _tensors("stack", tensors)
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, but tensor 0 has {ts[0].shape}")
    d = axis if axis is not None else dim
    return cat([unsqueeze(t, d) for t in ts], d)


def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into pieces of a given size (the last may be smaller) or of the given sizes."""
    t = as_tensor(tensor)
    d = dim % t.ndim
    n = t.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, n - i) for i in range(0, n, step)] or [0]  # an empty dim: one empty piece
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise ValueError(f"split: sections {sizes} add up to {sum(sizes)}, but dim {dim} has size {n}")
    lead = (slice(None),) * d
    bounds = np.cumsum([0] + sizes)
    return tuple(getitem(t, lead + (slice(int(a), int(b)),)) for a, b in zip(bounds[:-1], bounds[1:]))


def chunk(input: Any, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into `chunks` nearly equal pieces."""
    t = as_tensor(input)
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = t.shape[dim]
    if n == 0:  # as PyTorch: `chunks` empty pieces
        return tuple(getitem(t, (slice(None),) * (dim % t.ndim) + (slice(0, 0),)) for _ in range(chunks))
    return split(t, -(-n // chunks), dim)


def unbind(input: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along `dim`, that dimension removed."""
    t = as_tensor(input)
    lead = (slice(None),) * (dim % t.ndim)
    return tuple(getitem(t, lead + (i,)) for i in range(t.shape[dim]))


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad with a constant; `pad` lists (before, after) pairs starting from the last dim, as PyTorch."""
    t = as_tensor(input)
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is supported, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > t.ndim:
        raise ValueError(
            f"pad: expects pairs (before, after) for at most {t.ndim} dims, got {tuple(pad)}"
        )
    widths = [(0, 0)] * t.ndim
    crop = [slice(None)] * t.ndim
    for i in range(len(pad) // 2):
        d = t.ndim - 1 - i
        lo, hi = int(pad[2 * i]), int(pad[2 * i + 1])
        if t.shape[d] + lo + hi < 0:
            raise ValueError(f"pad: {tuple(pad)} would crop dim {d} of size {t.shape[d]} below zero")
        crop[d] = slice(-min(lo, 0), t.shape[d] + min(hi, 0))  # negative padding crops, as PyTorch
        widths[d] = (max(lo, 0), max(hi, 0))
    if any(s != slice(None) for s in crop) and any(p < 0 for p in pad):
        t = getitem(t, tuple(crop))
    return Pad.apply(t, widths=tuple(widths), value=value)
