"""Indexing: x[index] with everything NumPy takes (slices, None, ..., int and bool arrays); flip, fliplr,
flipud, rot90 (copies, as PyTorch) and take (by flat index)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op
from ..devices import backend_of, device_of, move, on_a_device
from ..kernels import ignoring
from ..tensor import ShapeError, Tensor, as_tensor, wrap_dim
from .shape import Clone, reshape, transpose


def _index_array(index: Any) -> Any:
    """Replace Tensors inside an index with their arrays."""
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, tuple):
        return tuple(i.array if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):  # a list indexes like an array, as in NumPy and PyTorch
        return np.asarray([i.item() if isinstance(i, Tensor) else i for i in index])
    return index


def is_device_array(p: Any) -> bool:
    """An array that is not NumPy's (CuPy's, or the test device's)."""
    return type(p) is not np.ndarray and hasattr(p, "__array_function__") and on_a_device(p)


def on_device(arr: Any, like: Any) -> Any:
    """`arr` (an index, a mask, a host constant) on `like`'s device; NumPy data takes NumPy arrays as they are.

    As in PyTorch, a CPU index may index a CUDA tensor; a CUDA index cannot index a CPU one.
    """
    if type(like) is np.ndarray:
        if is_device_array(arr):
            raise RuntimeError(f"indices should be either on cpu or on the same device as the indexed tensor (cpu), "
                               f"got indices on {device_of(arr)}")
        return arr
    if type(arr) is np.ndarray:
        return move(arr, device_of(like))
    return arr


def index_on(index: Any, like: Any) -> Any:
    """An index (a tuple of parts, or one part) with its host arrays moved to `like`'s device."""
    if type(like) is np.ndarray:  # NumPy data: nothing to move (a device index fails in NumPy's indexing)
        return index
    if type(index) is tuple:
        return tuple([on_device(p, like) for p in index])
    return on_device(index, like)


def _is_basic(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) for p in parts
    )


class GetItem(Op):
    """y = x[index].  dx = zeros like x, with dy added at index (repeated indices add up)."""

    def forward(self, x, index, basic):
        index = index_on(index, x)
        # the shape saved: backward needs no values, so x changed in place later is no error (as PyTorch)
        self.index, self.basic, self.in_shape = index, basic, x.shape
        return x[index]

    def backward(self, dy):
        return self.xp.index_add(self.in_shape, self.index, dy, self.basic)

    @ignoring(invalid="ignore")  # a sum of gradients, quiet as the engine's own (inf + -inf is nan)
    def add_grad_into(self, acc, dy):
        """acc[index] += dy in place, for a basic index (see Op.add_grad_into): backward without the zeros."""
        if (not self.basic or type(acc) is not np.ndarray or type(dy) is not np.ndarray or acc.dtype != dy.dtype
                or acc.shape != self.in_shape or not acc.flags.writeable):
            return False
        part = acc[self.index]
        if type(part) is np.ndarray:  # a view (slices, None, ...): added where it lies
            np.add(part, dy, out=part)
        else:  # an integer for every dim: one element
            acc[self.index] = part + dy
        return True


class IndexAdd(Op):
    """y = zeros(shape) with x added at index (getitem's backward).  dx = dy[index]."""

    def forward(self, x, shape, index, basic):
        if type(x) is not np.ndarray:  # on a device: its own scatter-add, index and output there
            self.index = index = index_on(index, x)
            return backend_of(x).namespace.index_add(shape, index, x, basic)
        self.index = index
        out = np.zeros(shape, dtype=x.dtype)
        if basic:
            out[index] = x
        else:
            np.add.at(out, index, x)
        return out

    def backward(self, dy):
        return dy[self.index]


class IndexPut(Op):
    """y = x, then y[idx] = v.  dx = dy with dy[idx] = 0;  dv = dy[idx] (summed back to v's shape)."""

    def forward(self, x, v, *, index):
        self.index = index = index_on(index, x)
        y = x.copy()
        y[index] = v
        return y

    def backward(self, dy):
        keep = np.ones_like(self.input_arrays[0], dtype=dy.dtype)  # on the input's device
        keep[self.index] = 0  # these places were overwritten: x gets no gradient there
        return dy * keep, dy[self.index]


def index_put(input: Any, index: Any, value: Any) -> Tensor:
    """A copy of `input` with `value` written at `index` (what `x[index] = value` does, out of place)."""
    x = as_tensor(input)
    v = as_tensor(value, x)
    if type(x.array) is not np.ndarray and type(v.array) is np.ndarray:  # CPU values written into a device tensor
        v = v.to(x.device)
    if v.array.dtype != x.array.dtype:
        v = v.to(x.array.dtype)
    try:
        return IndexPut.apply(x, v, index=_index_array(index))
    except ValueError as e:  # NumPy's broadcast error, where PyTorch raises RuntimeError
        if "broadcast" not in str(e):
            raise
        raise ShapeError(f"index_put: {e}; the value must broadcast to the shape of the place it is written "
                         "to") from None


def getitem(input: Any, index: Any) -> Tensor:
    """input[index], as NumPy indexes; the gradient flows back to the chosen elements."""
    t = as_tensor(input)
    idx = _index_array(index)
    try:
        return GetItem.apply(t, index=idx, basic=_is_basic(idx))
    except IndexError as e:
        raise IndexError(f"index {index!r} does not fit a tensor of shape {t.shape}: {e}") from None


def index_add_zeros(shape: tuple[int, ...], index: Any, values: Tensor, basic: bool) -> Tensor:
    """zeros(shape) with `values` added at `index`, differentiably."""
    return IndexAdd.apply(as_tensor(values), shape=shape, index=index, basic=basic)


def flip(input: Any, dims: Any) -> Tensor:
    """Reverse the order of elements along `dims` (an int or a tuple)."""
    t = as_tensor(input)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    index = [slice(None)] * t.ndim
    seen = set()
    for d in dims:
        d = wrap_dim("flip", d, t.ndim)
        if d in seen:
            raise RuntimeError(f"flip: dims {dims} name the same dimension twice (dim {d} appears multiple times in "
                               "the list of dims)")
        seen.add(d)
        if t.ndim:
            index[d] = slice(None, None, -1)
    return Clone.apply(getitem(t, tuple(index)))  # a copy, as PyTorch's flip (not a reversed view)


def fliplr(input: Any) -> Tensor:
    """Reverse the columns (dim 1) of a tensor of at least 2 dims (a copy)."""
    t = as_tensor(input)
    if t.ndim < 2:
        raise RuntimeError(f"fliplr: Input must be >= 2-d, got a tensor of shape {tuple(t.shape)}")
    return flip(t, (1,))


def flipud(input: Any) -> Tensor:
    """Reverse the rows (dim 0) of a tensor of at least 1 dim (a copy)."""
    t = as_tensor(input)
    if t.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d, got a 0-d tensor")
    return flip(t, (0,))


def rot90(input: Any, k: int = 1, dims: Any = (0, 1)) -> Tensor:
    """Rotate by 90° k times in the plane of `dims`, from the first dim towards the second (a copy)."""
    t = as_tensor(input)
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if t.ndim < 2:
        raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {t.ndim}")
    a, b = dims
    if wrap_dim("rot90", a, t.ndim) == wrap_dim("rot90", b, t.ndim):
        raise RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}")
    k = int(k) % 4
    if k == 1:
        return transpose(flip(t, (b,)), a, b)
    if k == 2:
        return flip(t, (a, b))
    if k == 3:
        return flip(transpose(t, a, b), (b,))
    return Clone.apply(t)


def take(input: Any, index: Any) -> Tensor:
    """The elements of the flattened input at `index` (int64, any shape; negative counts from the end)."""
    t = as_tensor(input)
    idx = index.array if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {idx.dtype}")
    n = t.array.size
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        bad = int(idx.min()) if int(idx.min()) < -n else int(idx.max())
        raise IndexError(f"take(): index {bad} is out of range for a tensor of {n} elements (shape {tuple(t.shape)})")
    return GetItem.apply(reshape(t, (-1,)), index=on_device(idx.astype(np.int64, copy=False), t.array),
                         basic=False)


def nonzero(input: Any, *, as_tuple: bool = False) -> Any:
    """The indices of the nonzero elements: an int64 (n, ndim) tensor, or with as_tuple one 1-D tensor per dim."""
    a = as_tensor(input).array
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64, copy=False), None, False)
                     for i in (np.nonzero(a) if a.ndim else np.nonzero(a.reshape(1))))
    return Tensor._make(np.argwhere(a).astype(np.int64, copy=False), None, False)


def argwhere(input: Any) -> Tensor:
    """The indices of the nonzero elements, as an int64 (n, ndim) tensor (nonzero's default form)."""
    return nonzero(input)


def index_put_tuple(input: Any, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """A copy of input with values written at the tuple of index tensors `indices` (Tensor.index_put);
    with accumulate they are added instead, repeated indices adding up."""
    x = as_tensor(input)
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): indices must be a tuple of tensors, got {type(indices).__name__}")
    if len(indices) > max(x.ndim, 1):
        raise IndexError(f"index_put(): too many indices for tensor of dimension {x.ndim} (got {len(indices)})")
    index = tuple(_index_array(i) if isinstance(i, Tensor) else i if is_device_array(i) else np.asarray(i)
                  for i in indices)
    for i in index:
        if getattr(i, "dtype", None) is not None and i.dtype.kind not in "iub":
            raise IndexError(f"index_put(): tensors used as indices must be long, int, byte or bool tensors, "
                             f"got {i.dtype}")
    if not accumulate:
        return index_put(x, index, values)
    v = as_tensor(values, x)
    if v.array.dtype != x.array.dtype:
        v = v.to(x.array.dtype)
    xp = np if type(x.array) is np.ndarray else backend_of(x.array).xp  # the shape picked, on x's device
    try:
        picked = xp.empty(x.shape, dtype=np.bool_)[index_on(index, x.array)].shape
    except IndexError as e:
        raise IndexError(f"index_put(): indices {tuple(i.tolist() for i in index)} do not fit a tensor of shape "
                         f"{tuple(x.shape)}: {e}") from None
    from .shape import broadcast_to

    return x + index_add_zeros(x.shape, index, broadcast_to(v, picked), False)


def put(input: Any, index: Any, source: Any, accumulate: bool = False) -> Tensor:
    """A copy of input with source's elements written (or with accumulate, added) at the flat indices
    `index` of the flattened input (Tensor.put); index and source must have as many elements."""
    t = as_tensor(input)
    idx = index.array if isinstance(index, Tensor) else index if is_device_array(index) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"put(): Expected a long tensor for index, but got {idx.dtype}")
    s = as_tensor(source, t)
    if idx.size != s.array.size:
        raise RuntimeError(f"put(): Expected source and index to have the same number of elements, but got "
                           f"source.numel() = {s.array.size}, index.numel() = {idx.size}")
    n = t.array.size
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        bad = int(idx.min()) if int(idx.min()) < -n else int(idx.max())
        raise IndexError(f"put(): index {bad} is out of range for a tensor of {n} elements (shape {tuple(t.shape)})")
    flat = index_put_tuple(reshape(t, (-1,)), (idx.reshape(-1).astype(np.int64),), reshape(s, (-1,)), accumulate)
    return reshape(flat, t.shape)


def diagonal_mask(a: Any, wrap: bool = False) -> np.ndarray:
    """A bool mask of `a`'s shape, True on the main diagonal (Tensor.fill_diagonal_'s places)."""
    if a.ndim < 2:
        raise RuntimeError(f"fill_diagonal_: dimensions must larger than 1, got a tensor of {a.ndim} dimension(s)")
    if a.ndim > 2 and len(set(a.shape)) != 1:
        raise RuntimeError(f"fill_diagonal_: all dimensions of input must be of equal length, got shape "
                           f"{tuple(a.shape)}")
    mask = np.zeros(a.shape, dtype=np.bool_)
    np.fill_diagonal(mask, True, wrap=wrap)
    return on_device(mask, a)
