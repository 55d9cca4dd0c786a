"""Copies and rotations: roll, Tensor.repeat, tile, repeat_interleave.

Each composes slicing, cat, broadcast and reshape, so the gradient is theirs: a rotated
slice sends its gradient back rotated the other way, and every copy's gradient sums.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..devices import backend_of
from ..tensor import Tensor, _shape_arg, as_tensor, wrap_dim
from .indexing import getitem, is_device_array, on_device
from .join import cat
from .shape import Clone, broadcast_to, reshape


def roll(input: Any, shifts: Any, dims: Any = None) -> Tensor:
    """Rotate elements along `dims` by `shifts` (those pushed off the end come back at the start);
    with no dims, the flattened tensor is rolled and reshaped back."""
    t = as_tensor(input)
    if isinstance(shifts, Tensor):
        shifts = shifts.array.tolist()
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: 0")
        return reshape(roll(reshape(t, (-1,)), shifts, 0), t.shape)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
    if t.ndim == 0:
        for d in dims:
            wrap_dim("roll", d, 0)
        return t
    out = t
    for s, d in zip(shifts, dims):
        d = wrap_dim("roll", d, t.ndim)
        n = t.shape[d]
        if n == 0 or int(s) % n == 0:
            continue
        cut = n - int(s) % n
        lead = (slice(None),) * d
        out = cat([getitem(out, lead + (slice(cut, None),)), getitem(out, lead + (slice(None, cut),))], d)
    return out


def repeat(input: Any, *sizes: Any) -> Tensor:
    """Tile the tensor: repeat(2, 3) copies it twice along dim 0 and 3 times along dim 1 (numpy.tile)."""
    t = as_tensor(input)
    reps = tuple(int(r) for r in _shape_arg(sizes))
    if len(reps) < t.ndim:  # PyTorch's RuntimeError, here and below
        raise RuntimeError(
            f"repeat: Number of dimensions of repeat dims ({len(reps)}) can not be smaller than number of "
            f"dimensions of tensor ({t.ndim})"
        )
    if any(r < 0 for r in reps):
        raise RuntimeError(f"repeat: Trying to create tensor with negative dimension: repeats must be non-negative, "
                           f"got {reps}")
    shape = (1,) * (len(reps) - t.ndim) + t.shape
    if all(r == 1 for r in reps):  # nothing to tile: still a copy, as PyTorch's (not a view of the input)
        return reshape(Clone.apply(t), shape)
    split = tuple(x for s in shape for x in (1, s))
    tiled = tuple(x for r, s in zip(reps, shape) for x in (r, s))
    return reshape(broadcast_to(reshape(t, split), tiled), tuple(r * s for r, s in zip(reps, shape)))


def repeat_interleave(input: Any, repeats: Any = None, dim: Any = None, *, output_size: Any = None) -> Tensor:
    """Repeat each element `repeats` times along `dim` (flattened if None); `repeats` may be a
    tensor of one count per element. repeat_interleave(counts) alone gives each index count times."""
    if repeats is None:  # torch.repeat_interleave(repeats): 0, 1, ... each repeated
        counts = as_tensor(input).array
        if counts.ndim != 1 or counts.dtype.kind not in "iu":
            raise ValueError(
                f"repeat_interleave: repeats must be a 1-D integer tensor, got {counts.dtype} {counts.shape}"
            )
        return Tensor._make(_repeat_index(counts), None, False)
    t = as_tensor(input)
    if dim is None:
        t, d = reshape(t, (-1,)), 0
    else:
        d = wrap_dim("repeat_interleave", dim, t.ndim)
        if t.ndim == 0:
            t = reshape(t, (1,))
    reps = repeats.array if isinstance(repeats, Tensor) else repeats
    reps = reps if is_device_array(reps) else np.asarray(reps)
    if reps.dtype.kind not in "iu":
        raise TypeError(f"repeat_interleave: repeats must be integers, got {reps.dtype}")
    if np.any(reps < 0):
        raise RuntimeError(f"repeat_interleave: Repeats must be non-negative, got {reps.min()}")
    n = t.shape[d]
    if reps.ndim == 0 or reps.size == 1 and reps.ndim == 1 and n != 1:
        r = int(reps.reshape(()))
        expanded = t.shape[:d + 1] + (r,) + t.shape[d + 1:]
        x = broadcast_to(reshape(t, t.shape[:d + 1] + (1,) + t.shape[d + 1:]), expanded)
        return reshape(x, t.shape[:d] + (n * r,) + t.shape[d + 1:])
    if reps.ndim != 1 or reps.shape[0] != n:
        raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along dim, "
                         f"got {reps.shape[0] if reps.ndim else reps.shape} repeats for size {n}")
    return getitem(t, (slice(None),) * d + (_repeat_index(on_device(reps, t.array)),))


def _repeat_index(counts: Any) -> Any:
    """0, 1, ... each repeated counts[i] times (int64), on counts' device."""
    if type(counts) is np.ndarray:
        return np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    # CuPy's repeat takes no array of counts: each output position's source is where the running total passes it
    xp = backend_of(counts).xp
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(counts) else 0
    return np.searchsorted(ends, xp.arange(total, dtype=np.int64), side="right").astype(np.int64)


def tile(input: Any, dims: Any) -> Tensor:
    """Copies of input laid side by side `dims[i]` times along each dim (numpy.tile); fewer dims than
    the tensor has are padded with 1s in front."""
    t = as_tensor(input)
    reps = tuple(int(r) for r in ((dims,) if isinstance(dims, (int, np.integer)) else dims))
    if any(r < 0 for r in reps):
        raise RuntimeError(f"tile: Trying to create tensor with negative dimension, got dims {reps}")
    return repeat(t, (1,) * (t.ndim - len(reps)) + reps)
