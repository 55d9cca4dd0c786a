"""Joining and splitting: cat, stack, split, chunk, pad, hstack, vstack, dstack, column_stack,
tensor_split, hsplit, vsplit, dsplit, block_diag."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..autograd.op import Op
from ..tensor import Tensor, as_tensor, wrap_dim
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
    """The tensors of a list, in one dtype; PyTorch's error types for a lone tensor and for an empty list."""
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' must be a tuple or list of Tensors, not Tensor "
                        f"(pass [t] to {op} one tensor)")
    if not len(tensors):  # PyTorch's cat checks this in Python (ValueError), the others in C++ (RuntimeError)
        if op == "cat":
            raise ValueError("torch.cat(): expected a non-empty list of Tensors")
        raise RuntimeError(f"{op} expects a non-empty TensorList")
    return promote(*(as_tensor(t) for t in tensors))


def _int_arg(op: str, name: str, value: Any) -> int:
    """An integer argument (a NumPy integer or a 0-d integer tensor too); PyTorch's TypeError for a float or bool."""
    if isinstance(value, Tensor) and value.ndim == 0 and value.array.dtype.kind in "iu":
        return int(value.item())
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    return int(value)


def cat(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dimension."""
    ts = _tensors("cat", tensors)
    d = axis if axis is not None else dim
    # PyTorch's legacy rule: a 1-D empty tensor, shape (0,), is left out beside tensors of other shapes, so the idiom
    # `out = cat([tensor([]), x])` works; its dtype is left out too (it stays a leaf without a gradient)
    kept = [t for t in ts if t.shape != (0,)]
    if kept and len(kept) < len(ts) and any(t.ndim != 1 for t in kept):
        ts = kept
    nd = ts[0].ndim
    for i, t in enumerate(ts):
        if t.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated; "
                               "use stack for scalars")
    d = wrap_dim("cat", d, nd)  # IndexError "Dimension out of range", as PyTorch
    for i, t in enumerate(ts):
        if t.ndim != nd:
            raise RuntimeError(f"cat: Tensors must have same number of dimensions: got {nd} and {t.ndim} "
                               f"(tensor 0 has shape {ts[0].shape}, tensor {i} has {t.shape})")
        if t.shape[:d] + t.shape[d + 1:] != ts[0].shape[:d] + ts[0].shape[d + 1:]:
            raise RuntimeError(
                f"cat: Sizes of tensors must match except in dimension {d}: tensor {i} has shape {t.shape}, "
                f"which does not match tensor 0's {ts[0].shape} outside dim {d}"
            )
    return Cat.apply(*ts, axis=d)


concat = concatenate = cat


def stack(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors of one shape along a new dimension."""
    from .shape import unsqueeze

    ts = _tensors("stack", tensors)
    d = wrap_dim("stack", axis if axis is not None else dim, ts[0].ndim + 1)  # checked before the shapes, as PyTorch
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size: tensor {i} has shape {t.shape}, "
                               f"but tensor 0 has {ts[0].shape}")
    return cat([unsqueeze(t, d) for t in ts], d)


def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into pieces of a given size (the last may be smaller) or of the given sizes."""
    t = as_tensor(tensor)
    if t.ndim == 0:  # checked before dim, as PyTorch
        raise RuntimeError("split expects at least a 1-dimensional tensor, but got a 0-d tensor")
    d = wrap_dim("split", dim, t.ndim)
    n = t.shape[d]
    spec = split_size_or_sections
    if isinstance(spec, Tensor) and spec.ndim == 0:  # a 0-d integer tensor is a size, as in PyTorch
        spec = _int_arg("split", "split_size", spec)
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        step = int(spec)
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0 and n:
            raise RuntimeError(f"split: split_size can only be 0 if dimension size is 0, but got dimension size of "
                               f"{n}")
        sizes = [min(step, n - i) for i in range(0, n, step)] if step else []
        sizes = sizes or [0]  # an empty dim: one empty piece
    else:
        try:
            items = list(spec)
        except TypeError:
            raise TypeError(f"split(): argument 'split_size_or_sections' must be an int or a sequence of ints, "
                            f"not {type(spec).__name__}") from None
        sizes = [_int_arg("split", "split_sizes", s) for s in items]
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                               f"split_sizes={sizes}")
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {d}), but got split_sizes={sizes}: they add up to {sum(sizes)}")
    lead = (slice(None),) * d
    bounds = np.cumsum([0] + sizes)
    return tuple(getitem(t, lead + (slice(int(a), int(b)),)) for a, b in zip(bounds[:-1], bounds[1:]))


def chunk(input: Any, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into `chunks` nearly equal pieces."""
    t = as_tensor(input)
    if t.ndim == 0:  # checked before dim, as PyTorch
        raise RuntimeError("chunk expects at least a 1-dimensional tensor, but got a 0-d tensor")
    chunks = _int_arg("chunk", "chunks", chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = wrap_dim("chunk", dim, t.ndim)
    n = t.shape[d]
    if n == 0:  # as PyTorch: `chunks` empty pieces
        return tuple(getitem(t, (slice(None),) * d + (slice(0, 0),)) for _ in range(chunks))
    return split(t, -(-n // chunks), d)


def unbind(input: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along `dim`, that dimension removed."""
    t = as_tensor(input)
    d = wrap_dim("unbind", dim, t.ndim)
    if t.ndim == 0:  # dim 0 and -1 pass wrap_dim (a 0-d tensor counts as 1-D) but name nothing here
        raise IndexError("unbind: Dimension specified as 0 but tensor has no dimensions")
    lead = (slice(None),) * d
    return tuple(getitem(t, lead + (i,)) for i in range(t.shape[d]))


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad with a constant; `pad` lists (before, after) pairs starting from the last dim, as PyTorch."""
    t = as_tensor(input)
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is supported, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > t.ndim:  # PyTorch's RuntimeError
        raise RuntimeError(
            f"pad: expects pairs (before, after) for at most {t.ndim} dims, got {tuple(pad)} (Padding length must "
            f"be divisible by 2 and at most two times the input dimension)"
        )
    widths = [(0, 0)] * t.ndim
    crop = [slice(None)] * t.ndim
    for i in range(len(pad) // 2):
        d = t.ndim - 1 - i
        lo, hi = int(pad[2 * i]), int(pad[2 * i + 1])
        if t.shape[d] + lo + hi < 0:
            raise RuntimeError(f"pad: {tuple(pad)} would crop dim {d} of size {t.shape[d]} below zero")
        crop[d] = slice(-min(lo, 0), t.shape[d] + min(hi, 0))  # negative padding crops, as PyTorch
        widths[d] = (max(lo, 0), max(hi, 0))
    if any(s != slice(None) for s in crop) and any(p < 0 for p in pad):
        t = getitem(t, tuple(crop))
    return Pad.apply(t, widths=tuple(widths), value=value)


def hstack(tensors: Sequence[Any]) -> Tensor:
    """Join along dim 1, or dim 0 for 1-D (and 0-d) tensors, as NumPy's hstack."""
    from .shape import atleast_1d

    ts = atleast_1d(tuple(_tensors("hstack", tensors)))
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Any]) -> Tensor:
    """Join along dim 0, 0-d and 1-D tensors first made rows (atleast_2d); also called row_stack."""
    from .shape import atleast_2d

    return cat(atleast_2d(tuple(_tensors("vstack", tensors))), 0)


row_stack = vstack


def dstack(tensors: Sequence[Any]) -> Tensor:
    """Join along dim 2, after atleast_3d."""
    from .shape import atleast_3d

    return cat(atleast_3d(tuple(_tensors("dstack", tensors))), 2)


def column_stack(tensors: Sequence[Any]) -> Tensor:
    """Join along dim 1, 0-d and 1-D tensors first made columns (shape (n, 1))."""
    from .shape import reshape

    ts = _tensors("column_stack", tensors)
    return cat([reshape(t, (t.array.size, 1)) if t.ndim <= 1 else t for t in ts], 1)


def tensor_split(input: Any, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Views along dim: `n` sections (the first size % n of them one longer), or cut at the given indices
    (Python slice rules: negative counts from the end, past the end is empty)."""
    t = as_tensor(input)
    if t.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = wrap_dim("tensor_split", dim, t.ndim)
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        if spec.array.dtype.kind not in "iu":
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have integer dtype, but got "
                               f"{spec.dtype}")
        if spec.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {spec.ndim} dims")
        spec = int(spec.item()) if spec.ndim == 0 else [int(i) for i in spec.tolist()]
    lead = (slice(None),) * d
    n = t.shape[d]
    if isinstance(spec, (int, np.integer)):
        k = int(spec)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        size, extra = divmod(n, k)
        bounds = np.cumsum([0] + [size + (i < extra) for i in range(k)])
        return tuple(getitem(t, lead + (slice(int(a), int(b)),)) for a, b in zip(bounds[:-1], bounds[1:]))
    cuts = [None] + [int(i) for i in spec] + [None]
    return tuple(getitem(t, lead + (slice(a, b),)) for a, b in zip(cuts[:-1], cuts[1:]))


def _split_along(op: str, input: Any, sections: Any, dim: int, min_dims: int) -> tuple[Tensor, ...]:
    t = as_tensor(input)
    if t.ndim < min_dims:
        raise RuntimeError(f"torch.{op} requires a tensor with at least {min_dims} dimension, but got a tensor "
                           f"with {t.ndim} dimensions!")
    if isinstance(sections, (int, np.integer)):
        n = t.shape[dim]
        if sections == 0 or n % sections:
            raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the size of the dimension "
                               f"{n} is not divisible by the split_size {sections}!")
    return tensor_split(t, sections, dim)


def hsplit(input: Any, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """tensor_split along dim 1 (dim 0 for a 1-D tensor); a number of sections must divide the size."""
    t = as_tensor(input)
    return _split_along("hsplit", t, indices_or_sections, 1 if t.ndim > 1 else 0, 1)


def vsplit(input: Any, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """tensor_split along dim 0 of a tensor of at least 2 dims; a number of sections must divide the size."""
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Any, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """tensor_split along dim 2 of a tensor of at least 3 dims; a number of sections must divide the size."""
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


def block_diag(*tensors: Any) -> Tensor:
    """The tensors (0-d, 1-D as one row, or 2-D) down the diagonal of a zero matrix, in a common dtype."""
    from .shape import reshape

    if not tensors:
        from ..tensor import get_default_dtype

        return Tensor._make(np.zeros((1, 0), np.dtype(get_default_dtype())), None, False)
    ts = []
    for i, x in enumerate(promote(*(as_tensor(t) for t in tensors))):
        if x.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{x.ndim} dimensions")
        ts.append(reshape(x, (1, x.array.size)) if x.ndim < 2 else x)
    width = sum(x.shape[1] for x in ts)
    rows, left = [], 0
    for x in ts:
        rows.append(Pad.apply(x, widths=((0, 0), (left, width - left - x.shape[1])), value=0))
        left += x.shape[1]
    return cat(rows, 0)
