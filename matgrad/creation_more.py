"""torch's smaller creation functions and process settings that matgrad lacked: asarray, scalar_tensor,
empty_strided, frombuffer, fill, gradient, and is_storage, typename, set_warn_always / is_warn_always_enabled,
get_num_interop_threads / set_num_interop_threads, set_flush_denormal.

matgrad tensors wrap NumPy arrays, so "shares memory" below means the tensor's `.array` is a view of the object
given (np.shares_memory holds), and a tensor's strides are its array's.
"""
from __future__ import annotations

import numbers
import warnings
from typing import Any, Sequence

import numpy as np

from .creation import _make, _on, _put
from .devices import resolve
from .ops.binary import where
from .ops.join import cat
from .ops.shape import clone
from .tensor import Tensor, get_default_dtype, to_array, wrap_dim

__all__ = ["asarray", "scalar_tensor", "empty_strided", "frombuffer", "fill", "gradient", "is_storage", "typename",
           "set_warn_always", "is_warn_always_enabled", "get_num_interop_threads", "set_num_interop_threads",
           "set_flush_denormal"]


# --- a number into a dtype, with torch's overflow check -----------------------------------------------------------
def _checked_number(value: Any, dtype: np.dtype) -> np.ndarray:
    """`value` as a 0-d array of `dtype`; a value the dtype cannot hold is an error, as in torch, not NumPy's wrap.

    torch's rule (c10::checked_convert): to float32/float64 a finite value must be within range (float16 takes
    anything, overflowing to inf); to an integer type a value must be finite and in range, where Python ints to
    an unsigned type may also go down to -max (they wrap: -1 is 255 as uint8); bool takes anything."""
    if isinstance(value, (bool, np.bool_)):
        value = bool(value)
    elif isinstance(value, numbers.Integral):
        value = int(value)
        if not -2 ** 63 <= value < 2 ** 64:
            raise OverflowError(f"int too big to convert: {value} does not fit in 64 bits")
    elif isinstance(value, numbers.Real):
        value = float(value)
    elif isinstance(value, numbers.Complex):
        raise TypeError("matgrad has no complex dtypes: give a real number")
    else:
        raise TypeError(f"expected a number, got {type(value).__name__}")
    if dtype.kind == "f":
        fits = dtype == np.float16 or not np.isfinite(value) or abs(value) <= float(np.finfo(dtype).max)
    elif dtype.kind in "iu" and not isinstance(value, bool):
        info = np.iinfo(dtype)
        low = -int(info.max) if dtype.kind == "u" and isinstance(value, int) else int(info.min)
        fits = low <= value <= int(info.max)  # exact (Python compares floats and ints exactly); False for nan
        if fits and value < 0 and dtype.kind == "u":
            value = int(value) % (int(info.max) + 1)
    else:
        fits = True
    if not fits:
        raise RuntimeError(f"value cannot be converted to type matgrad.{dtype.name} without overflow: {value}")
    with np.errstate(over="ignore"):  # float16 overflows to inf, as torch's
        return np.asarray(value).astype(dtype)


def _dtype(dtype: Any) -> np.dtype | None:
    return None if dtype is None else np.dtype(dtype)


# --- asarray ------------------------------------------------------------------------------------------------------
def _dtype_word(dt: np.dtype) -> str:
    return f"matgrad.{dt.name}"


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool | None = None) -> Tensor:
    """`obj` as a tensor, sharing memory with it where it can (torch.asarray).

    A Tensor comes back as itself when dtype and device already match and copy is not True (with
    requires_grad=True/False set on it if a leaf, as torch does, or detached for requires_grad=False);
    a NumPy array shares its memory likewise; copy=False where a copy is needed is a ValueError. An object with
    the buffer protocol (bytearray, memoryview ...) is read as bytes of `dtype` (default: the default float dtype),
    sharing memory. Numbers and sequences are copied, with tensor()'s dtype inference. requires_grad=None means
    obj's own (False for everything but tensors).
    """
    dt = _dtype(dtype)
    if isinstance(obj, Tensor):
        return _asarray_tensor(obj, dt, device, copy, requires_grad)
    if isinstance(obj, np.generic):
        if copy is False:
            raise RuntimeError("can't alias NumPy scalars. Either remove copy=False or transform it in a ndarray.")
        out = _put(to_array(obj, dt).copy(), _on(device))
    elif isinstance(obj, np.ndarray) or hasattr(obj, "__array_function__"):  # NumPy's, or a device's
        out = _asarray_array(obj, dt, device, copy)
    elif _has_buffer(obj):
        out = frombuffer(obj, dtype=get_default_dtype() if dt is None else dt).array
        if copy:
            out = out.copy()
        out = _put(out, _on(device))
    else:
        if copy is False:
            raise ValueError("can't alias arbitrary sequence into a tensor.")
        out = to_array(obj, dt)
        if not isinstance(obj, (list, tuple, numbers.Number)):  # an object with __array__ may have lent its memory
            out = out.copy()
        out = _put(out, _on(device))
    return Tensor(out, requires_grad=bool(requires_grad))


def _asarray_tensor(obj: Tensor, dt: np.dtype | None, device: Any, copy: bool | None,
                    requires_grad: bool | None) -> Tensor:
    dev = obj.device if device is None else resolve(device)
    new_dtype = dt is not None and dt != obj.array.dtype
    if copy is False and new_dtype:
        raise ValueError(f"can't alias tensor with dtype '{_dtype_word(obj.array.dtype)}' into dtype "
                         f"'{_dtype_word(dt)}'.")
    if copy is False and dev != obj.device:
        raise ValueError(f"can't alias tensor from device '{obj.device}' to '{dev}'.")
    out = obj
    if new_dtype or dev != obj.device:
        out = obj.to(dev) if dev != obj.device else obj  # recorded: gradients flow back to obj
        out = out.to(dt) if new_dtype else out
    elif copy:
        out = clone(obj)
    if requires_grad is None:
        if obj.requires_grad:
            warnings.warn("asarray: unspecified requires_grad now defaults to obj.requires_grad instead of False "
                          "(as in torch). Pass requires_grad=False explicitly to get a tensor cut from the graph.",
                          UserWarning, stacklevel=3)
    elif requires_grad and out.grad_fn is None:
        out.requires_grad_(True)  # on obj itself when nothing was copied, as torch does
    elif not requires_grad and out.requires_grad:
        out = out.requires_grad_(False) if out.grad_fn is None else out.detach()
    return out


def _asarray_array(obj: Any, dt: np.dtype | None, device: Any, copy: bool | None) -> Any:
    """A NumPy (or device) array: itself unless dtype, device or copy=True ask for a new one."""
    arr = to_array(obj)  # checks the element type; returns the array itself
    dev = None if device is None else resolve(device)
    new_dtype = dt is not None and dt != arr.dtype
    if copy is False and new_dtype:
        raise ValueError(f"can't alias array with dtype '{arr.dtype}' into dtype '{_dtype_word(dt)}'.")
    moved = _put(arr, dev) if dev is not None else arr
    if copy is False and moved is not arr:
        raise ValueError(f"can't alias an array into a tensor on device '{dev}'.")
    if new_dtype:
        moved = moved.astype(dt)
    elif copy and moved is arr:
        moved = moved.copy()
    return moved


def _has_buffer(obj: Any) -> bool:
    try:
        memoryview(obj)
    except TypeError:
        return False
    return True


# --- scalar_tensor, empty_strided, frombuffer ------------------------------------------------------------------
def scalar_tensor(s: Any, *, dtype: Any = None, layout: Any = None, device: Any = None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:
    """A 0-d tensor holding the number `s`, of the default float dtype whatever s is (bool and int included)."""
    if isinstance(s, Tensor):
        if s.ndim != 0:
            raise TypeError(f"scalar_tensor(): argument 's' must be Number, not a {s.ndim}-d Tensor")
        s = s.item()
    if not isinstance(s, (numbers.Number, np.bool_)):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not {type(s).__name__}")
    dt = get_default_dtype().dtype if dtype is None else np.dtype(dtype)
    return _make(_checked_number(s, dt), requires_grad, _on(device))


def _non_overlapping(size: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    """Whether no two indices reach one element: each stride (by size, ascending) clears the span below it."""
    span = 1
    for n, s in sorted(((n, s) for n, s in zip(size, stride) if n > 1), key=lambda p: p[1]):
        if s < span:
            return False
        span = s * n
    return True


def empty_strided(size: Sequence[int], stride: Sequence[int], *, dtype: Any = None, layout: Any = None,
                  device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor of `size` whose elements lie `stride` apart in memory (filled with zeros, as matgrad's empty).

    On the CPU, where the strides reach every element once (any order, gaps allowed: (1, 2), (10, 2)), the tensor's
    array is a strided view of a zeroed buffer, so `t.stride()` is `stride`. Strides that make elements overlap
    ((0, 1), (1, 1)) give a contiguous tensor instead: NumPy would let an in-place op on such a view write one
    element several times, where torch refuses. So do negative strides on dims of size 1 (torch's result is
    contiguous there too), and any strides on a GPU."""
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of strides "
                           f"({len(stride)})")
    if any(n < 0 for n in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {list(size)}")
    if any(s < 0 and n > 1 for n, s in zip(size, stride)):
        raise RuntimeError(f"empty_strided: negative strides are not supported, got sizes={list(size)} and "
                           f"strides={list(stride)}")
    dt = get_default_dtype().dtype if dtype is None else np.dtype(dtype)
    dev = _on(device)
    if dev.type != "cpu" or not _non_overlapping(size, stride) or min(stride, default=0) < 0:
        return _make(np.zeros(size, dt), requires_grad, dev)
    # elements from the first to the last (none for an empty tensor, whose strides then reach nothing)
    extent = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    buffer = np.zeros(extent, dt)
    view = np.lib.stride_tricks.as_strided(buffer, size, tuple(s * dt.itemsize for s in stride))
    return _make(view, requires_grad, dev)


def frombuffer(buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0, requires_grad: bool = False) -> Tensor:
    """A 1-d tensor viewing `count` elements of `dtype` in `buffer` from byte `offset` (all that fit if count < 0).

    The memory is shared: writes to the tensor change the buffer and the other way round. A read-only buffer
    (bytes) warns, as torch does, and its tensor stays read-only: an in-place op on it raises NumPy's
    "assignment destination is read-only" instead of writing into an immutable object."""
    try:
        view = memoryview(buffer)
    except TypeError:
        raise ValueError("object does not implement Python buffer protocol.") from None
    if not view.contiguous:
        raise RuntimeError("could not retrieve buffer from object: it is not contiguous (copy it first, e.g. "
                           "bytes(view) or np.ascontiguousarray(array))")
    dt = np.dtype(dtype)
    length, size = view.nbytes, dt.itemsize
    count, offset = int(count), int(offset)
    if length <= 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer length "
                         f"({length} bytes) minus 1")
    if count < 0 and (length - offset) % size:
        raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} bytes) must be a multiple "
                         f"of element size ({size})")
    n = (length - offset) // size if count < 0 else count
    if offset + n * size > length:
        raise ValueError(f"requested buffer length ({n} * {size} bytes) after offset ({offset} bytes) must not be "
                         f"greater than actual buffer length ({length} bytes)")
    if view.readonly:
        warnings.warn("frombuffer: the given buffer is not writable; the tensor shares its memory and is read-only "
                      "(copy the buffer, e.g. bytearray(buffer), to get a writable tensor)", UserWarning,
                      stacklevel=2)
    arr = np.frombuffer(view.cast("B"), dtype=dt, count=n, offset=offset)
    return Tensor(arr, requires_grad=requires_grad)


# --- fill ---------------------------------------------------------------------------------------------------------
def fill(input: Tensor, value: Any) -> Tensor:
    """A new tensor of input's shape and dtype, every element `value` (a number or a 0-d tensor).

    Gradient: none to input (its values are all replaced), the sum of the incoming gradient to a tensor value."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fill(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    dt = input.array.dtype
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
                               "dimensions.")
        if value.array.dtype != dt:
            value = value.to(dt) if value.requires_grad and dt.kind == "f" else value.detach().to(dt)
        value = value.to(input.device)
    else:
        value = Tensor._make(_put(_checked_number(value, dt), input.device), None, False)
    # where() on an all-False mask: input's shape and dtype, value's values, and the gradients above
    return where(np.zeros((), bool), input, value)


# --- gradient -----------------------------------------------------------------------------------------------------
def _cut(t: Tensor, dim: int, start: int | None, stop: int | None) -> Tensor:
    return t[(slice(None),) * dim + (slice(start, stop),)]


def _dims(input: Tensor, dim: Any) -> list[int]:
    nd = input.ndim
    if nd == 0 and dim is not None:
        raise IndexError("gradient(): dim given for a 0-d tensor, which has no dimensions")
    if dim is None:
        given = list(range(nd))
    elif isinstance(dim, (list, tuple)):  # an int list in PyTorch takes a bool as an int (a lone dim= does not)
        given = [int(d) if isinstance(d, bool) else d for d in dim]
    else:
        given = [dim]
    out = []
    for d in given:
        d = wrap_dim("gradient", d, nd)  # IndexError out of range, TypeError for a float, as PyTorch
        if d in out:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        out.append(d)
    return out


def _spacing(spacing: Any) -> tuple[str, Any]:
    """('scalar', h), ('scalars', [h, ...]) or ('coordinates', [1-d tensor, ...])."""
    if isinstance(spacing, Tensor):
        if spacing.ndim:
            raise TypeError("gradient(): spacing must be a number, a list of numbers or a list of 1-d tensors, "
                            f"not a {spacing.ndim}-d Tensor (put it in a list for coordinates: spacing=[t])")
        return "scalar", spacing.item()
    if isinstance(spacing, (numbers.Number, np.number)):
        return "scalar", spacing
    if isinstance(spacing, (list, tuple)):
        if spacing and all(isinstance(s, Tensor) for s in spacing):
            return "coordinates", list(spacing)
        if all(isinstance(s, (numbers.Number, np.number)) for s in spacing):
            return "scalars", list(spacing)
    raise TypeError("gradient(): spacing must be a number, a list of numbers or a list of 1-d tensors, got "
                    f"{spacing!r:.80}")


def gradient(input: Tensor, *, spacing: Any = 1, dim: Any = None, edge_order: int = 1) -> tuple[Tensor, ...]:
    """Derivative estimates of `input` along each dim in `dim` (all by default), one tensor per dim (torch.gradient).

    Inside, second-order central differences (for uneven coordinates, the weighted three-point formula); at the
    ends, one-sided differences of first (edge_order=1) or second order (edge_order=2). `spacing` is the distance
    between samples (a number, or one per dim) or the sample coordinates (a list of 1-d tensors, one per dim).
    Built from slicing, arithmetic and cat, so it is differentiable in input and in the coordinates."""
    if not isinstance(input, Tensor):
        raise TypeError(f"gradient(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    kind, h = _spacing(spacing)
    if input.array.dtype == np.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    if input.array.dtype == np.bool_:
        raise RuntimeError("gradient: bool tensors cannot be subtracted; convert the input to a number type first")
    n_spacing = None if kind == "scalar" else len(h)
    if n_spacing is not None and dim is None and n_spacing != input.ndim:
        raise RuntimeError("torch.gradient expected spacing to be unspecified, a scalar, or a list of length equal "
                           f"to 'self.dim() = {input.ndim}', since dim argument was not given, but got a list of "
                           f"length {n_spacing}")
    n_dim = None if dim is None else len(dim) if isinstance(dim, (list, tuple)) else 1  # else one dim (_dims)
    if n_spacing is not None and n_dim is not None and n_spacing != n_dim:
        raise RuntimeError("torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
                           f"arguments to have the same length, but got a spacing argument of length {n_spacing} "
                           f"and a dim argument of length {n_dim}.")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = _dims(input, dim)
    if any(input.shape[d] < edge_order + 1 for d in dims):
        raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    if kind == "coordinates":
        for i, (c, d) in enumerate(zip(h, dims)):
            if c.ndim != 1:
                raise RuntimeError("torch.gradient expected each element of spacing to have one dimension, but got "
                                   f"an element with {c.ndim} dimensions!")
            if c.shape[0] != input.shape[d]:  # torch broadcasts a wrong length into wrong values; say so instead
                raise RuntimeError(f"gradient(): spacing[{i}] has {c.shape[0]} coordinates but dim {d} of the input "
                                   f"has size {input.shape[d]}; give one coordinate per sample")
        return tuple(_along_coordinates(input, c, d, edge_order) for c, d in zip(h, dims))
    steps = [h] * len(dims) if kind == "scalar" else h
    return tuple(_along_uniform(input, s, d, edge_order) for s, d in zip(steps, dims))


def _along_uniform(x: Tensor, h: Any, d: int, edge_order: int) -> Tensor:
    """Samples `h` apart: (x[i+1] - x[i-1]) / 2h inside; one-sided differences at the ends."""
    center = (_cut(x, d, 2, None) - _cut(x, d, 0, -2)) / h
    if edge_order == 1:
        first = (_cut(x, d, 1, 2) - _cut(x, d, 0, 1)) / h
        last = (_cut(x, d, -1, None) - _cut(x, d, -2, -1)) / h
    else:
        first = (_cut(x, d, 0, 1) * -1.5 + _cut(x, d, 1, 2) * 2 - _cut(x, d, 2, 3) * 0.5) / h
        last = (_cut(x, d, -3, -2) * 0.5 + _cut(x, d, -2, -1) * -2 + _cut(x, d, -1, None) * 1.5) / h
    return cat([first, center / 2, last], d)


def _along_coordinates(x: Tensor, coords: Tensor, d: int, edge_order: int) -> Tensor:
    """Samples at `coords`: the three-point formula exact for quadratics, with torch's weights and order of ops."""
    shape = [1] * x.ndim
    shape[d] = -1
    dx = coords[1:] - coords[:-1]
    dx1, dx2 = dx[:-1], dx[1:]
    a = (-dx2 / (dx1 * (dx1 + dx2))).reshape(shape)
    b = ((dx2 - dx1) / (dx1 * dx2)).reshape(shape)
    c = (dx1 / (dx2 * (dx1 + dx2))).reshape(shape)
    center = a * _cut(x, d, 0, -2) + b * _cut(x, d, 1, -1) + c * _cut(x, d, 2, None)
    if edge_order == 1:
        first = (_cut(x, d, 1, 2) - _cut(x, d, 0, 1)) / dx[0]
        last = (_cut(x, d, -1, None) - _cut(x, d, -2, -1)) / dx[-1]
    else:
        h0, h1 = dx[0], dx[1]
        first = (-(2.0 * h0 + h1) / (h0 * (h0 + h1)) * _cut(x, d, 0, 1) + (h0 + h1) / (h0 * h1) * _cut(x, d, 1, 2)
                 + (-h0) / (h1 * (h0 + h1)) * _cut(x, d, 2, 3))
        hl, hm = dx[-1], dx[-2]
        last = (hl / (hm * (hl + hm)) * _cut(x, d, -3, -2) + -(hl + hm) / (hl * hm) * _cut(x, d, -2, -1)
                + (2 * hl + hm) / (hl * (hl + hm)) * _cut(x, d, -1, None))
    return cat([first, center, last], d)


# --- facts and process settings -----------------------------------------------------------------------------------
def is_storage(obj: Any) -> bool:
    """Whether obj is a torch storage: never here (matgrad tensors hold NumPy arrays, no storage objects)."""
    return False


def typename(obj: Any) -> str:
    """torch.typename: 'torch.FloatTensor' (and the like) for a tensor, else 'module.QualifiedName' of obj."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


#: set_warn_always's flag ([False] until set)
_warn_always = [False]
#: the interop thread count set_num_interop_threads was given (1: matgrad runs ops one after another)
_interop_threads = [1]


def set_warn_always(b: bool) -> None:
    """Record torch's warn-always flag (matgrad's warnings follow Python's warnings filters either way)."""
    if not isinstance(b, (bool, np.bool_)):
        raise RuntimeError(f"set_warn_always expects a bool, but got {type(b).__name__}")
    _warn_always[0] = bool(b)


def is_warn_always_enabled() -> bool:
    """The flag set_warn_always set (False by default)."""
    return _warn_always[0]


def get_num_interop_threads() -> int:
    """The inter-op thread count: 1 unless set (matgrad has no inter-op pool: it runs ops one after another)."""
    return _interop_threads[0]


def set_num_interop_threads(n: int) -> None:
    """Record an inter-op thread count for get_num_interop_threads (matgrad has no pool it would size)."""
    if not isinstance(n, (numbers.Integral, np.integer)) or isinstance(n, bool):
        raise RuntimeError(f"set_num_interop_threads expects an int, but got {type(n).__name__}")
    if n < 1:
        raise RuntimeError(f"set_num_interop_threads expects a positive integer, got {n}")
    _interop_threads[0] = int(n)


def set_flush_denormal(mode: bool) -> bool:
    """Flush subnormal floats to zero on the CPU (True) or not, as torch.set_flush_denormal; False where it cannot
    be set here (see matgrad.denormal)."""
    from .denormal import set_flush_denormal as _set

    return _set(mode)
