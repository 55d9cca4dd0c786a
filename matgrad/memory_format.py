"""torch.memory_format: how a tensor's elements lie in memory, and the strides each format gives.

    matgrad.contiguous_format   row-major (N, C, H, W): the default
    matgrad.channels_last       a 4-D tensor stored as (N, H, W, C); its shape stays (N, C, H, W)
    matgrad.channels_last_3d    a 5-D tensor stored as (N, D, H, W, C)
    matgrad.preserve_format     keep the input's layout (clone, to, the *_like factories)

A tensor's array is a NumPy array, which can have any strides, so these are real layouts:
`x.contiguous(memory_format=matgrad.channels_last).stride()` is torch's (60, 1, 15, 3) for a
(2, 3, 4, 5) tensor, and every op takes such arrays as they are. The rules below are torch's
(c10/core/MemoryFormat.h, TensorImpl's contiguity checks, and empty_like's preserve rule); strides
are counted in elements, as Tensor.stride() gives them.
"""
from __future__ import annotations

from typing import Any

import numpy as np


class memory_format:  # noqa: N801 - torch's name
    """A memory layout: matgrad.contiguous_format, channels_last, channels_last_3d or preserve_format."""

    __slots__ = ("_name",)

    def __new__(cls, *args: Any, **kwargs: Any) -> memory_format:
        raise TypeError("cannot create 'matgrad.memory_format' instances: use matgrad.contiguous_format, "
                        "matgrad.channels_last, matgrad.channels_last_3d or matgrad.preserve_format")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("matgrad memory formats cannot be changed")

    def __repr__(self) -> str:
        return f"matgrad.{self._name}"

    __str__ = __repr__

    def __reduce__(self) -> str:
        return self._name  # pickle and copy find the one object of this name in this module


def _make(name: str) -> memory_format:
    fmt = object.__new__(memory_format)
    object.__setattr__(fmt, "_name", name)
    return fmt


contiguous_format = _make("contiguous_format")
channels_last = _make("channels_last")
channels_last_3d = _make("channels_last_3d")
preserve_format = _make("preserve_format")

#: The dims from innermost to outermost in memory for each channels-last format (torch's loop order).
_CHANNELS_LAST_ORDER = {channels_last: (1, 3, 2, 0), channels_last_3d: (1, 4, 3, 2, 0)}
_RANK = {channels_last: 4, channels_last_3d: 5}


def check(fmt: Any, where: str, optional: bool = True) -> memory_format:
    """`fmt` as a memory format for `where`'s memory_format argument; None is preserve_format where torch's
    argument is optional (clone, to, the *_like factories), a TypeError where it is not (contiguous)."""
    if fmt is None and optional:
        return preserve_format
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{where}(): argument 'memory_format' must be matgrad.memory_format, not "
                        f"{type(fmt).__name__} (use matgrad.contiguous_format, matgrad.channels_last, "
                        "matgrad.channels_last_3d or matgrad.preserve_format)")
    return fmt


def element_strides(array: Any) -> tuple[int, ...]:
    """The array's strides in elements (NumPy's are in bytes)."""
    item = array.itemsize
    return tuple(s // item for s in array.strides)


def contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Row-major strides, a size-0 dim counted as 1 (as torch and NumPy)."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def format_strides(shape: tuple[int, ...], fmt: memory_format) -> tuple[int, ...]:
    """The strides of a new tensor of `shape` in `fmt` (contiguous_format, channels_last or channels_last_3d);
    a channels-last format on a tensor of another rank is torch's RuntimeError."""
    if fmt is contiguous_format:
        return contiguous_strides(shape)
    if fmt is preserve_format:
        raise RuntimeError("preserve_format has no strides of its own: it keeps an input's layout")
    if len(shape) != _RANK[fmt]:
        raise RuntimeError(f"required rank {_RANK[fmt]} tensor to use {fmt._name} format")
    strides, step = [0] * len(shape), 1
    for d in _CHANNELS_LAST_ORDER[fmt]:  # torch's get_channels_last_strides: sizes as they are, 0 included
        strides[d] = step
        step *= shape[d]
    return tuple(strides)


def is_contiguous(shape: tuple[int, ...], strides: tuple[int, ...], fmt: memory_format) -> bool:
    """Whether a tensor of these strides is laid out in `fmt`: size-1 dims' strides do not count, and only
    a 4-D (5-D) tensor can be channels_last (channels_last_3d); preserve_format asks for contiguous_format."""
    if fmt is contiguous_format or fmt is preserve_format:
        order: Any = reversed(range(len(shape)))
        if 0 in shape:
            return True
    elif len(shape) != _RANK[fmt]:
        return False
    else:
        order = _CHANNELS_LAST_ORDER[fmt]
    expected = 1
    for d in order:
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True


def is_non_overlapping_and_dense(shape: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    """Whether the elements fill a block of memory exactly once, in some order of the dims (torch's rule)."""
    if len(shape) == 1:
        return shape[0] < 2 or strides[0] == 1
    required = 1
    for d in sorted((d for d in range(len(shape)) if shape[d] >= 2), key=lambda d: strides[d]):
        if strides[d] != required:
            return False
        required *= shape[d]
    return True


def _strides_like_channels_last(shape: tuple[int, ...], strides: tuple[int, ...], fmt: memory_format) -> bool:
    """torch's is_channels_last_strides_2d/3d: whether the strides order the dims as `fmt` does (gaps allowed);
    ambiguous cases (a channel stride of 0, N111 tensors) count as contiguous."""
    if len(shape) != _RANK[fmt] or strides[1] == 0:
        return False
    low = 0
    for d in _CHANNELS_LAST_ORDER[fmt]:
        if shape[d] == 0 or strides[d] < low or (d == 0 and low == strides[1]):
            return False
        low = strides[d] * shape[d] if shape[d] > 1 else strides[d]
    return True


def suggest_memory_format(shape: tuple[int, ...], strides: tuple[int, ...]) -> memory_format:
    """The format a tensor's strides look like (torch's Tensor.suggest_memory_format)."""
    for fmt in (channels_last, channels_last_3d):
        if _strides_like_channels_last(shape, strides, fmt):
            return fmt
    return contiguous_format


def sort_dims(perm: list[int], should_swap: Any) -> None:
    """Sort `perm` (dims, innermost first) in place as TensorIterator does: a stable insertion sort that moves a dim
    left while should_swap(left, it) > 0 and stops at the first < 0 (0: no opinion, keep looking further left)."""
    for i in range(1, len(perm)):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break


def _dense_strides_like(shape: tuple[int, ...], strides: tuple[int, ...]) -> tuple[int, ...]:
    """Dense strides that keep the dims' order in memory (torch's infer_dense_strides): TensorIterator's stable
    insertion sort, which leaves dims of stride 0 where they are and puts the smaller of equal strides first."""
    n = len(shape)
    if n <= 1:
        return (1,) * n
    perm = list(reversed(range(n)))  # innermost first

    def should_swap(a: int, b: int) -> int:
        sa, sb = strides[a], strides[b]
        if sa == 0 or sb == 0:
            return 0
        if sa != sb:
            return -1 if sa < sb else 1
        return 1 if shape[a] > shape[b] else 0

    sort_dims(perm, should_swap)
    out, step = [0] * n, 1
    for d in perm:
        out[d] = step
        if shape[d] > 1:
            step *= shape[d]
    return tuple(out)


def layout_strides(shape: tuple[int, ...], strides: tuple[int, ...], fmt: memory_format) -> tuple[int, ...]:
    """The strides a copy in `fmt` of a tensor with these strides gets: preserve_format keeps a dense input's
    strides and gives other inputs dense strides in the same order (torch's empty_like and clone)."""
    if fmt is not preserve_format:
        return format_strides(shape, fmt)
    if is_non_overlapping_and_dense(shape, strides):
        return strides
    return _dense_strides_like(shape, strides)


def empty_laid_out(shape: tuple[int, ...], dtype: Any, strides: tuple[int, ...]) -> np.ndarray:
    """An uninitialized NumPy array of `shape` whose elements lie in memory with `strides` (in elements; dense)."""
    dtype = np.dtype(dtype)
    span = 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if 0 not in shape else 0
    return np.lib.stride_tricks.as_strided(np.empty(span, dtype), shape, tuple(s * dtype.itemsize for s in strides))


def relayout(array: Any, strides: tuple[int, ...]) -> Any:
    """A copy of `array` whose elements lie in memory with `strides` (in elements; a dense layout)."""
    shape = array.shape
    if type(array) is np.ndarray:
        out = empty_laid_out(shape, array.dtype, strides)
        np.copyto(out, array)
        return out
    # another array library (CuPy): the same order of dims in memory, by a row-major copy of a transpose
    order = sorted(range(len(shape)), key=lambda d: -strides[d])
    return array.transpose(order).copy(order="C").transpose(np.argsort(order).tolist())


def to_format(array: Any, fmt: memory_format) -> Any:
    """A copy of `array` laid out in `fmt` (preserve_format: as layout_strides says)."""
    strides = layout_strides(array.shape, element_strides(array), fmt)
    if strides == contiguous_strides(array.shape):
        return array.copy(order="C")
    return relayout(array, strides)


__all__ = ["memory_format", "contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]
