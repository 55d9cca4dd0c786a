"""as_strided, as_strided_copy, as_strided_scatter: a tensor's elements read (or written) through a size, a
stride and a storage offset, as PyTorch reads a tensor's storage.

matgrad's tensors are NumPy arrays, and a matgrad op may copy where PyTorch's makes a view (diagonal, ...),
so the "storage" here is the tensor's own elements in row-major order, which is PyTorch's storage exactly
when the tensor is contiguous. So:

- the input must be contiguous (`t.is_contiguous()`); for any other tensor PyTorch reads its underlying
  storage in memory order, which matgrad cannot promise to have, so it raises (call `.contiguous()` first,
  knowing that PyTorch would read the original storage instead);
- `storage_offset` counts, as PyTorch's, from the start of the memory the tensor views (`t.storage_offset()`,
  the default); what it reaches must lie inside the tensor's own elements (PyTorch may read past them into
  the rest of a base tensor's storage: take as_strided of the base tensor instead).

as_strided is a gather by an index array (`np.lib.stride_tricks.as_strided` over 0..numel-1), so its result is
a copy (writing into it does not change the input, unlike PyTorch's view) and its backward is a scatter-add:
elements that several windows overlap get every window's gradient, as PyTorch's.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..tensor import Tensor, as_tensor
from .indexing import GetItem, IndexPut
from .shape import reshape


def _ints(op: str, name: str, values: Any) -> tuple[int, ...]:
    if isinstance(values, (int, np.integer)):
        values = (values,)
    if not isinstance(values, (Sequence, np.ndarray)) or isinstance(values, str):
        raise TypeError(f"{op}(): argument '{name}' must be a tuple of ints, not {type(values).__name__}")
    return tuple(int(v) for v in values)


def strided_index(op: str, t: Tensor, size: Any, stride: Any, storage_offset: Any) -> np.ndarray:
    """The int64 array of `size` whose entries are the positions, among t's elements in row-major order, that
    a tensor of that size, stride and storage offset reads (checked to lie inside t)."""
    size, stride = _ints(op, "size", size), _ints(op, "stride", stride)
    if len(size) != len(stride):
        raise RuntimeError(f"{op}(): mismatch in length of strides and shape (size {list(size)}, stride "
                           f"{list(stride)})")
    if any(s < 0 for s in size):
        raise RuntimeError(f"{op}(): sizes must be non-negative, got size {list(size)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"{op}: Negative strides are not supported at the moment, got strides: {list(stride)}")
    if not t.array.flags.c_contiguous:
        raise RuntimeError(
            f"{op}(): matgrad reads only contiguous tensors this way, and this one (shape {tuple(t.shape)}, stride "
            f"{t.stride()}) is not: PyTorch would read its underlying storage in memory order, which a matgrad "
            "tensor need not share. Call .contiguous() first (that reads the elements in row-major order) or take "
            "as_strided of the contiguous tensor this one was made from")
    base = 0 if storage_offset is None else t.storage_offset()  # (None: the tensor's own offset, start 0 below)
    offset = base if storage_offset is None else int(storage_offset)
    if offset < 0:
        raise RuntimeError(f"{op}(): Tensor: invalid storage offset {offset}")
    start, n = offset - base, t.array.size
    if int(np.prod(size, dtype=np.int64)) == 0:
        return np.zeros(size, dtype=np.int64)
    last = start + sum((k - 1) * s for k, s in zip(size, stride))
    if start < 0 or last >= n:
        where = f", at storage offsets {base} to {base + n - 1}" if base else ""
        raise RuntimeError(
            f"{op}(): size {list(size)}, stride {list(stride)} and storage offset {offset} reach elements {start} to "
            f"{last} of this tensor, outside its {n} elements (0 to {n - 1}{where}); matgrad reads only the tensor's "
            "own elements: take as_strided of the tensor it was sliced from")
    flat = np.arange(n, dtype=np.int64)[start:]
    # a read-only strided view of the positions (windows may overlap), copied so the op keeps its own index
    return np.lib.stride_tricks.as_strided(flat, shape=size, strides=tuple(s * flat.itemsize for s in stride),
                                           writeable=False).copy()


def as_strided(input: Any, size: Any, stride: Any, storage_offset: Any = None) -> Tensor:
    """The elements of a contiguous input read as a tensor of `size` with `stride` from `storage_offset`
    (see the module docstring); a copy, whose gradient adds back into every element each window read."""
    t = as_tensor(input)
    idx = strided_index("as_strided", t, size, stride, storage_offset)
    return GetItem.apply(reshape(t, (-1,)), index=idx, basic=False)


def as_strided_copy(input: Any, size: Any, stride: Any, storage_offset: Any = None) -> Tensor:
    """as_strided, as a copy (matgrad's as_strided already is one)."""
    return as_strided(input, size, stride, storage_offset)


def as_strided_scatter(input: Any, src: Any, size: Any, stride: Any, storage_offset: Any = None) -> Tensor:
    """A copy of a contiguous input with src written where as_strided(input, size, stride, storage_offset)
    reads; src is cast to input's dtype.

    Where windows overlap, src's element that comes last in row-major order is the one kept (as PyTorch on the
    CPU). The gradient is the derivative of that: input gets none where it was written over, and an element of
    src that was itself written over gets none either. (PyTorch 2.13's backward instead gives input the
    gradient at exactly the places written, and every element of src its place's gradient; finite differences
    agree with matgrad's.)
    """
    t = as_tensor(input)
    if not isinstance(src, Tensor):
        raise TypeError(f"as_strided_scatter(): argument 'src' (position 2) must be Tensor, not {type(src).__name__}")
    idx = strided_index("as_strided_scatter", t, size, stride, storage_offset)
    if tuple(src.shape) != idx.shape:
        raise RuntimeError(f"as_strided_scatter(): expected src to have a size equal to the slice of self. src size "
                           f"= {list(src.shape)}, slice size = {list(idx.shape)}")
    s = src if src.array.dtype == t.array.dtype else src.to(t.array.dtype)
    flat_idx, flat_src = idx.reshape(-1), reshape(s, (-1,))
    # the last writer of each place wins: its position is the first one in the reversed order
    places, first_rev = np.unique(flat_idx[::-1], return_index=True)
    if places.size != flat_idx.size:
        keep = np.sort(flat_idx.size - 1 - first_rev)
        flat_idx = flat_idx[keep]
        flat_src = GetItem.apply(flat_src, index=keep, basic=False)
    out = IndexPut.apply(reshape(t, (-1,)), flat_src, index=flat_idx)
    return reshape(out, t.shape)
