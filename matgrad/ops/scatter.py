"""Gather and scatter: gather, scatter, scatter_add, scatter_reduce, index_select, index_add, index_fill,
index_copy, index_reduce, select_scatter, slice_scatter, diagonal_scatter, masked_select, masked_scatter,
take_along_dim.

Each picks or writes elements by an index tensor along one dim. The index becomes a NumPy
fancy index (`index_along`: the index along `dim`, aranges along the others), so a gather
is `x[idx]` and its backward adds dy back at `idx` with repeats adding up (`xp.index_add`),
never through a dense one-hot; a scatter's backward gathers. Indices and masks are put on
the data's device (a CPU index may pick from a CUDA tensor, as in PyTorch).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import grad_mode
from ..autograd.op import Op
from ..cupy_backend import ufunc_at as cupy_ufunc_at
from ..devices import backend_of
from ..tensor import Tensor, as_tensor, wrap_dim
from .indexing import GetItem, IndexPut, getitem, index_on, is_device_array, on_device
from .shape import broadcast_to, reshape


def index_array(op: str, index: Any, like: Any = None) -> np.ndarray:
    """An index tensor (or list) as an int64 array, on `like`'s device if given; PyTorch's RuntimeError for
    anything not integral."""
    arr = index.array if isinstance(index, Tensor) else index if is_device_array(index) else np.asarray(index)
    if like is not None:
        arr = on_device(arr, like)
    if arr.dtype.kind not in "iu":
        if arr.size == 0 and arr.dtype.kind == "f":  # torch.tensor([]) is float; an empty index is fine
            return arr.astype(np.int64)
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {arr.dtype}")
    return arr.astype(np.int64, copy=False)


class IndexOutOfRangeError(IndexError, RuntimeError):
    """An index outside its dim. PyTorch raises IndexError for some ops and RuntimeError for others
    (index_select, gather); this is both, so either `except` catches it."""


def _check_range(op: str, idx: np.ndarray, size: int, dim: int, negative: bool = False) -> np.ndarray:
    """Raise PyTorch's error for an index outside the dim; with `negative`, wrap -size..-1 first."""
    if idx.size == 0:
        return idx
    lo, hi = int(idx.min()), int(idx.max())
    low = -size if negative else 0
    if lo < low or hi >= size:
        bad = lo if lo < low else hi
        raise IndexOutOfRangeError(f"{op}(): index {bad} is out of bounds for dimension {dim} with size {size}")
    return idx + size * (idx < 0) if negative and lo < 0 else idx


def index_along(index: np.ndarray, dim: int) -> tuple[np.ndarray, ...]:
    """The fancy index that picks `index[i][j][k]` along `dim` and position i, j, k along the others."""
    if type(index) is np.ndarray:
        grids = list(np.indices(index.shape, sparse=True))
    else:  # on the index's device
        xp, nd = backend_of(index).xp, index.ndim
        grids = [xp.arange(n).reshape((1,) * i + (n,) + (1,) * (nd - i - 1)) for i, n in enumerate(index.shape)]
    grids[dim] = index
    return tuple(grids)


def _check_index_shape(op: str, x_shape: tuple[int, ...], index: np.ndarray, dim: int,
                       src_shape: tuple[int, ...] | None = None) -> None:
    nd = max(len(x_shape), 1)
    if max(index.ndim, 1) != nd and index.size:
        raise RuntimeError(
            f"{op}(): Index tensor must have the same number of dimensions as input tensor "
            f"(index {tuple(index.shape)}, input {tuple(x_shape)})"
        )
    for d in range(index.ndim):
        if d != dim and index.shape[d] > x_shape[d]:
            raise RuntimeError(
                f"{op}(): Size does not match at dimension {d}: expected index {tuple(index.shape)} to be no "
                f"larger than self {tuple(x_shape)} apart from dimension {dim}"
            )
        if src_shape is not None and index.shape[d] > src_shape[d]:
            raise RuntimeError(
                f"{op}(): Expected index {tuple(index.shape)} to be no larger than src {tuple(src_shape)} "
                f"(at dimension {d})"
            )


def _same_dtype(op: str, x: Tensor, src: Tensor) -> None:
    if src.array.dtype != x.array.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype "
                           f"(self is {x.array.dtype}, src is {src.array.dtype})")


class Gather(GetItem):
    """y[i][j] = x[i][index[i][j]] (along dim 1).  dx = zeros like x, with dy added at index (repeats add up)."""


class ScatterAdd(Op):
    """y = x, with src added at index (repeats add up).  dx = dy;  dsrc = dy[index] (a gather)."""

    def forward(self, x, src, index):
        self.index = index = index_on(index, x)
        if type(x) is not np.ndarray:  # the device's own scatter-add (cupyx.scatter_add on a GPU)
            return x + backend_of(x).namespace.index_add(x.shape, index, src, False)
        out = x.copy()
        np.add.at(out, index, src)
        return out

    def backward(self, dy):
        return dy, dy[self.index]


class Scatter(IndexPut):
    """y = x, with src written at index.  dx = dy, 0 where written;  dsrc = dy[index] (a gather)."""


def _prepare_index(op: str, t: Tensor, dim: Any, index: Any) -> tuple[int, np.ndarray]:
    d = wrap_dim(op, dim, t.ndim)
    idx = index_array(op, index, t.array)
    if t.ndim == 0:
        if idx.size and int(np.abs(idx).max()) != 0:
            raise IndexOutOfRangeError(f"{op}(): index {int(idx.reshape(-1)[0])} is out of bounds for dimension 0 "
                                       "with size 1")
        return d, idx
    _check_index_shape(op, t.shape, idx, d)
    _check_range(op, idx, t.shape[d], d)
    return d, idx


def _full_index(t: Tensor, idx: np.ndarray, d: int) -> Any:
    if t.ndim == 0:
        return ()
    return index_along(idx, d)


def gather(input: Any, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:
    """out[i][j][k] = input[i][index[i][j][k]][k] (for dim 1); the gradient adds back at the index."""
    t = as_tensor(input)
    d, idx = _prepare_index("gather", t, dim, index)
    if t.ndim == 0:
        return reshape(t, idx.shape) if idx.ndim else t * 1
    return Gather.apply(t, index=_full_index(t, idx, d), basic=False)


def take_along_dim(input: Any, indices: Any, dim: int | None = None) -> Tensor:
    """Pick values along `dim` by `indices` (broadcast against input); dim None: from the flattened input."""
    t = as_tensor(input)
    idx = index_array("take_along_dim", indices, t.array)
    if dim is None:
        return gather(reshape(t, (-1,)), 0, idx.reshape(-1))
    d = wrap_dim("take_along_dim", dim, t.ndim)
    shape_t, shape_i = list(t.shape), list(idx.shape)
    shape_t[d] = shape_i[d] = 1
    common = np.broadcast_shapes(tuple(shape_t), tuple(shape_i))
    t = broadcast_to(t, common[:d] + (t.shape[d],) + common[d + 1:])
    idx = np.broadcast_to(idx, common[:d] + (idx.shape[d],) + common[d + 1:])
    return gather(t, d, idx)


def _src_part(src: Tensor, idx: np.ndarray) -> Tensor:
    """The leading index-shaped block of src (PyTorch uses only that much of a larger src)."""
    if src.shape == idx.shape:
        return src
    return getitem(src, tuple(slice(0, n) for n in idx.shape))


def _no_grad_reduce(op: str, reduce: str, *tensors: Any) -> None:
    if grad_mode.is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad for a in tensors):
        raise RuntimeError(f"{op}(): the derivative for reduce={reduce!r} is not implemented (as in PyTorch)")


def scatter(input: Any, dim: int, index: Any, src: Any = None, value: Any = None, *,
            reduce: str | None = None) -> Tensor:
    """A copy of input with src (a tensor, or a number as `value`) written at index along dim.

    `reduce='add'` adds instead, `'multiply'` multiplies (PyTorch's deprecated forms).
    """
    t = as_tensor(input)
    if src is None and value is None:
        raise TypeError("scatter(): expected src (a tensor) or value (a number)")
    if src is None or not (isinstance(src, (Tensor, np.ndarray, list)) or is_device_array(src)):
        return _scatter_value(t, dim, index, value if src is None else src, reduce)
    s = as_tensor(src)
    d, idx = _prepare_index("scatter", t, dim, index)
    _same_dtype("scatter", t, s)
    _check_index_shape("scatter", t.shape, idx, d, s.shape)
    if t.ndim == 0:
        t, s, idx, d = reshape(t, (1,)), reshape(s, (-1,)), idx.reshape(-1), 0
        return reshape(scatter(t, d, idx, s, reduce=reduce), ())
    full = index_along(idx, d)
    if reduce is None:
        return Scatter.apply(t, _src_part(s, idx), index=full)
    if reduce == "add":
        return ScatterAdd.apply(t, _src_part(s, idx), index=full)
    if reduce == "multiply":
        _no_grad_reduce("scatter", reduce, t, s)
        out = t.array.copy()
        multiply_at(out, index_on(full, out), s.array[tuple(slice(0, n) for n in idx.shape)])
        return Tensor._make(out, None, False)
    raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}")


def _scatter_value(t: Tensor, dim: Any, index: Any, value: Any, reduce: str | None) -> Tensor:
    d, idx = _prepare_index("scatter", t, dim, index)
    if isinstance(value, Tensor):
        value = value.item()
    full = _full_index(t, idx, d)
    if reduce is None:
        v = Tensor._make(np.full_like(t.array, value, shape=()), None, False)
        return Scatter.apply(t, v, index=full)
    if reduce not in ("add", "multiply"):
        raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}")
    _no_grad_reduce("scatter", reduce, t)
    out = t.array.copy()
    ufunc_at(np.add if reduce == "add" else np.multiply, out, index_on(full, out), np.full_like(out, value, shape=()))
    return Tensor._make(out, None, False)


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Tensor:
    """A copy of input with src added at index along dim; repeated indices add up."""
    t, s = as_tensor(input), as_tensor(src)
    d, idx = _prepare_index("scatter_add", t, dim, index)
    _same_dtype("scatter_add", t, s)
    _check_index_shape("scatter_add", t.shape, idx, d, s.shape)
    if t.ndim == 0:
        return reshape(scatter_add(reshape(t, (1,)), 0, idx.reshape(-1), reshape(s, (-1,))), ())
    return ScatterAdd.apply(t, _src_part(s, idx), index=index_along(idx, d))


def _vector_index(op: str, t: Tensor, dim: Any, index: Any, negative: bool = False) -> tuple[int, np.ndarray]:
    d = wrap_dim(op, dim, t.ndim)
    idx = index_array(op, index, t.array)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got shape {tuple(idx.shape)}")
    size = t.shape[d] if t.ndim else 1
    return d, _check_range(op, idx.reshape(-1), size, d, negative)


def index_select(input: Any, dim: int, index: Any) -> Tensor:
    """The slices input[..., index[i], ...] along dim, in index's order (repeats allowed)."""
    t = as_tensor(input)
    d, idx = _vector_index("index_select", t, dim, index)
    if t.ndim == 0:
        return reshape(t, (1,)) if idx.size else reshape(t, (1,))[:0]
    return Gather.apply(t, index=(slice(None),) * d + (idx,), basic=False)


def index_add(input: Any, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
    """A copy of input with alpha·source[..., i, ...] added at input[..., index[i], ...]; repeats add up."""
    t, s = as_tensor(input), as_tensor(source)
    d, idx = _vector_index("index_add", t, dim, index)
    if s.array.dtype != t.array.dtype:
        raise RuntimeError(f"index_add(): self ({t.array.dtype}) and source ({s.array.dtype}) must have the "
                           "same scalar type")
    want = t.shape[:d] + (idx.size,) + t.shape[d + 1:] if t.ndim else ((idx.size,) if s.ndim else ())
    if tuple(s.shape) != tuple(want):
        raise RuntimeError(f"index_add(): source {tuple(s.shape)} must have the shape of self {tuple(t.shape)} "
                           f"with dim {d} of size {idx.size} (index's length), i.e. {tuple(want)}")
    if alpha != 1:
        s = s * alpha
    if t.ndim == 0:
        return reshape(index_add(reshape(t, (1,)), 0, idx, reshape(s, (-1,))), ())
    return ScatterAdd.apply(t, s, index=(slice(None),) * d + (idx,))


def index_fill(input: Any, dim: int, index: Any, value: Any) -> Tensor:
    """A copy of input with the slices at index along dim set to value."""
    t = as_tensor(input)
    d, idx = _vector_index("index_fill", t, dim, index, negative=True)
    v = as_tensor(value, t)
    if v.ndim:
        raise RuntimeError(f"index_fill(): only supports a 0-dimensional value tensor, got shape {tuple(v.shape)}")
    if v.array.dtype != t.array.dtype:
        v = v.to(t.array.dtype)
    if t.ndim == 0:
        return Scatter.apply(t, v, index=np.full_like(t.array, idx.size > 0, shape=(), dtype=bool))
    return Scatter.apply(t, v, index=(slice(None),) * d + (idx,))


def _mask(op: str, mask: Any, like: Any) -> np.ndarray:
    m = mask.array if isinstance(mask, Tensor) else mask if is_device_array(mask) else np.asarray(mask)
    m = on_device(m, like)
    if m.dtype != np.bool_:
        raise RuntimeError(f"{op}(): expected a boolean mask, got {m.dtype}")
    return m


def masked_select(input: Any, mask: Any) -> Tensor:
    """The elements of input where mask (broadcast against it) is True, as a 1-D tensor."""
    t = as_tensor(input)
    m = _mask("masked_select", mask, t.array)
    try:
        shape = np.broadcast_shapes(t.shape, m.shape)
    except ValueError:
        raise RuntimeError(f"masked_select(): the mask of shape {tuple(m.shape)} does not broadcast against "
                           f"the input of shape {tuple(t.shape)}") from None
    if t.shape != shape:
        t = broadcast_to(t, shape)
    return GetItem.apply(t, index=np.broadcast_to(m, shape), basic=False)


def masked_scatter(input: Any, mask: Any, source: Any) -> Tensor:
    """A copy of input with source's elements, in order, written where mask is True."""
    t, s = as_tensor(input), as_tensor(source)
    m = _mask("masked_scatter", mask, t.array)
    try:
        m = np.broadcast_to(m, t.shape)
    except ValueError:
        raise RuntimeError(f"masked_scatter(): the mask of shape {tuple(m.shape)} does not broadcast to the "
                           f"input of shape {tuple(t.shape)}") from None
    n = int(m.sum())
    if s.array.size < n:
        raise RuntimeError(f"masked_scatter(): the mask has {n} True elements, but source has only "
                           f"{s.array.size} elements (shape {tuple(s.shape)})")
    _same_dtype("masked_scatter", t, s)
    flat = reshape(s, (-1,))
    return Scatter.apply(t, flat[:n] if flat.shape[0] != n else flat, index=m)


def index_copy(input: Any, dim: int, index: Any, source: Any) -> Tensor:
    """A copy of input with source[..., i, ...] written at input[..., index[i], ...] along dim.

    The overwritten places get no gradient; source gets dy at the places it was written to.
    """
    t, s = as_tensor(input), as_tensor(source)
    d = wrap_dim("index_copy_", dim, t.ndim)
    idx = index_array("index_copy_", index, t.array)
    if idx.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {idx.ndim})")
    idx = idx.reshape(-1)
    n_src = s.shape[d] if s.ndim else 1
    if idx.size != n_src:
        raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal to source.size(dim) "
                         f"({n_src})")
    _check_range("index_copy_", idx, t.shape[d] if t.ndim else 1, d)
    _same_dtype("index_copy_", t, s)
    want = t.shape[:d] + (idx.size,) + t.shape[d + 1:] if t.ndim else s.shape
    if tuple(s.shape) != tuple(want):
        raise RuntimeError(f"index_copy_(): source {tuple(s.shape)} must have the shape of self {tuple(t.shape)} "
                           f"with dim {d} of size {idx.size} (index's length), i.e. {tuple(want)}")
    if t.ndim == 0:
        return reshape(s, ()) if idx.size else t * 1
    return Scatter.apply(t, s, index=(slice(None),) * d + (idx,))


def select_scatter(input: Any, src: Any, dim: int, index: int) -> Tensor:
    """A copy of input with src written into the slice input.select(dim, index); src is cast to input's dtype,
    as in PyTorch."""
    t, s = as_tensor(input), _src_tensor("select_scatter", src)
    if t.ndim == 0:
        raise IndexError("select_scatter(): cannot be applied to a 0-dim tensor.")
    d = wrap_dim("select_scatter", dim, t.ndim)
    n, i = t.shape[d], int(index)
    if not -n <= i < n:
        raise IndexError(f"select_scatter(): index {i} out of range for tensor of size {tuple(t.shape)} at "
                         f"dimension {d}")
    return _write_slice("select_scatter", t, s, (slice(None),) * d + (i % n,))


def slice_scatter(input: Any, src: Any, dim: int = 0, start: Any = None, end: Any = None, step: int = 1) -> Tensor:
    """A copy of input with src written into the slice input[..., start:end:step, ...] along dim; src is cast
    to input's dtype, as in PyTorch."""
    t, s = as_tensor(input), _src_tensor("slice_scatter", src)
    d = wrap_dim("slice_scatter", dim, t.ndim)
    if int(step) <= 0:
        raise RuntimeError(f"slice_scatter(): slice step must be positive, got {step}")
    return _write_slice("slice_scatter", t, s, (slice(None),) * d + (slice(start, end, int(step)),))


def _src_tensor(op: str, src: Any) -> Tensor:
    if not isinstance(src, Tensor):
        raise TypeError(f"{op}(): argument 'src' (position 2) must be Tensor, not {type(src).__name__}")
    return src


def _write_slice(op: str, t: Tensor, s: Tensor, index: tuple[Any, ...]) -> Tensor:
    want = np.empty(t.shape, dtype=np.bool_)[index].shape
    if tuple(s.shape) != want:
        raise RuntimeError(f"{op}(): expected src to have a size equal to the slice of self. src size = "
                           f"{list(s.shape)}, slice size = {list(want)}")
    if s.array.dtype != t.array.dtype:  # a differentiable cast: src's gradient comes back in src's dtype
        s = s.to(t.array.dtype)
    return Scatter.apply(t, s, index=index)


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


class ScatterExtreme(Op):
    """y = x, set at index to the max (or min) of src's values.  dx, dsrc = dy split among the values equal to y.

    Each place written by index along dim takes the max (or min) of src's values there (and x's own, with
    include_self).

    dx, dsrc: dy split evenly among the values equal to the result at each place (PyTorch's rule for ties);
    the others get none.  self.share_x / self.share_src hold each value's share (1/ties or 0): constants, so
    the backward is linear in dy and its own derivative is zero, as the max's is.
    """

    def forward(self, x, src, *, index, largest, include_self):
        self.index = index = index_on(index, x)
        out = x.copy()
        hit = np.zeros(x.shape, dtype=np.bool_) if type(x) is np.ndarray else backend_of(x).xp.zeros(x.shape, bool)
        hit[index] = True
        if not include_self:  # the places written to start from src's values alone
            info = np.finfo(x.dtype) if x.dtype.kind == "f" else np.iinfo(x.dtype)
            out[hit] = (-np.inf if largest else np.inf) if x.dtype.kind == "f" else info.min if largest else info.max
        ufunc_at(np.maximum if largest else np.minimum, out, index, src)
        from_x = (x == out) & (~hit if not include_self else True)
        from_src = src == out[index]
        ties = from_x.astype(x.dtype)
        ufunc_at(np.add, ties, index, from_src.astype(x.dtype))
        ties = np.where(ties == 0, 1, ties)
        self.share_x = from_x / ties
        self.share_src = from_src / ties[index]
        return out

    def backward(self, dy):
        return dy * self.share_x, dy[self.index] * self.share_src


class ScatterProd(Op):
    """y = x times src's values at index.  dx = dy · (the product of the other factors there), dsrc gathered.

    Each place written by index along dim is multiplied by src's values there (x's own value left out at
    those places without include_self).

    dx = dy · (the product of the other factors at its place);  dsrc = the same, gathered at index.
    "The others" is y / value where value ≠ 0; for a zero value it is the product with that zero made 1
    (zero again if another factor there is zero), as PyTorch computes it.
    """

    def forward(self, x, src, *, index, include_self):
        self.index, self.include_self = index_on(index, x), include_self
        return _scatter_prod(x, src, self.index, include_self)

    def backward(self, dy):
        xp, index, inc = self.xp, self.index, self.include_self
        x, src = self.inputs
        xa, sa = self.input_arrays
        module = backend_of(xa).xp  # the masks and counts made on the data's device
        hit = module.zeros(xa.shape, dtype=np.bool_)
        hit[index] = True
        y = self._prod(x, src)
        x_zero = xa == 0
        x1 = xp.where(x_zero, np.ones_like(xa), x)
        dx = dy * self._prod(x1, src) / x1
        if not inc:
            dx = dx * (~hit)
        src_zero = sa == 0
        zeros_at = module.zeros(xa.shape, dtype=np.int64)
        ufunc_at(np.add, zeros_at, index, src_zero.astype(np.int64))
        single = src_zero & (zeros_at[index] == 1)
        ones = np.ones_like(sa)
        s1 = xp.where(single, ones, src)
        dsrc = xp.where(single, (dy * self._prod(x, s1))[index], (dy * y)[index] / xp.where(src_zero, ones, src))
        return dx, dsrc

    def _prod(self, x: Any, src: Any) -> Any:
        """The forward on arrays, or recorded on Tensors under create_graph (so the backward differentiates)."""
        if self.xp.plain:
            return _scatter_prod(x, src, self.index, self.include_self)
        return ScatterProd.apply(x, src, index=self.index, include_self=self.include_self)


def _scatter_prod(x: Any, src: Any, index: Any, include_self: bool) -> Any:
    out = x.copy()
    if not include_self:
        out[index] = 1
    multiply_at(out, index, src)
    return out


def multiply_at(out: Any, index: Any, values: Any) -> None:
    """`np.multiply.at(out, index, values)` on any device: out[index] *= values in place, repeats multiplying."""
    ufunc_at(np.multiply, out, index, values)


def ufunc_at(ufunc: Any, out: Any, index: Any, values: Any) -> None:
    """`ufunc.at(out, index, values)` for add, multiply, maximum, minimum, on any device.

    NumPy's on the CPU. CuPy has no `multiply.at`, and its add/maximum/minimum.at refuse int64 and bool
    targets (float16 too for maximum/minimum): cupy_backend.ufunc_at uses CuPy's where it can and a sort
    and segmented scan elsewhere (no logarithms: zeros, signs, integers and infinities come out as NumPy's;
    a float product rounds in another order).
    """
    if type(out) is np.ndarray:
        ufunc.at(out, index, values)
    else:
        cupy_ufunc_at(backend_of(out).xp, ufunc, out, index, values)


def scatter_reduce(input: Any, dim: int, index: Any, src: Any, reduce: str, *, include_self: bool = True) -> Tensor:
    """A copy of input with src's values combined into it at index along dim by `reduce`: 'sum', 'prod',
    'mean', 'amax' or 'amin'; include_self=False leaves input's own value out at the places written to."""
    if reduce not in _REDUCES:
        raise RuntimeError(f"scatter_reduce(): reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce!r}")
    t, s = as_tensor(input), as_tensor(src)
    d, idx = _prepare_index("scatter_reduce", t, dim, index)
    _same_dtype("scatter_reduce", t, s)
    _check_index_shape("scatter_reduce", t.shape, idx, d, s.shape)
    if t.ndim == 0:
        out = scatter_reduce(reshape(t, (1,)), 0, idx.reshape(-1), reshape(s, (-1,)), reduce,
                             include_self=include_self)
        return reshape(out, ())
    full = index_along(idx, d)
    s = _src_part(s, idx)
    if reduce in ("amax", "amin"):
        return ScatterExtreme.apply(t, s, index=full, largest=reduce == "amax", include_self=include_self)
    if reduce == "prod":
        return ScatterProd.apply(t, s, index=full, include_self=include_self)
    xp = backend_of(t.array).xp  # the mask and counts made on t's device (full is there already)
    hit = xp.zeros(t.shape, dtype=np.bool_)
    hit[full] = True
    base = t if include_self else Scatter.apply(t, Tensor._make(xp.zeros((), t.array.dtype), None, False),
                                                index=hit)
    total = ScatterAdd.apply(base, s, index=full)
    if reduce == "sum":
        return total
    count = (xp.ones if include_self else xp.zeros)(t.shape, dtype=np.int64)
    count[~hit] = 1
    ufunc_at(np.add, count, full, 1)
    if t.array.dtype.kind == "f":
        return total / Tensor._make(count.astype(t.array.dtype), None, False)
    return Tensor._make(np.floor_divide(total.array, count).astype(t.array.dtype), None, False)


_INDEX_REDUCES = ("prod", "mean", "amax", "amin")


def index_reduce(input: Any, dim: int, index: Any, source: Any, reduce: str, *, include_self: bool = True) -> Tensor:
    """A copy of input with source's slices combined by `reduce` ('prod', 'mean', 'amax' or 'amin') into the
    slices input[..., index[i], ...] along dim; include_self=False leaves input's own values out there.

    It is scatter_reduce with index spread over source's other dims, so the gradients are scatter_reduce's:
    ties of amax/amin share the gradient evenly. (One difference from PyTorch 2.13: with include_self=False
    PyTorch still counts input's own value among the ties, and so gives source half the gradient where input's
    excluded value equals the result; matgrad, as finite differences, gives it all.)
    """
    if reduce not in _INDEX_REDUCES:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    t, s = as_tensor(input), as_tensor(source)
    d = wrap_dim("index_reduce", dim, t.ndim)
    idx = index_array("index_reduce_", index, t.array)
    if idx.ndim > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: {idx.ndim} with size "
                         f"{list(idx.shape)}")
    idx = idx.reshape(-1)
    if s.ndim != t.ndim or any(a != b for k, (a, b) in enumerate(zip(t.shape, s.shape)) if k != d):
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(t.shape)} source.shape = {list(s.shape)}")
    n_src = s.shape[d] if s.ndim else 1
    if idx.size != n_src:
        raise RuntimeError(f"index_reduce_(): Number of indices ({idx.size}) should be equal to source.size(dim): "
                           f"({n_src}), for dim: {d}")
    if s.array.dtype != t.array.dtype:
        raise RuntimeError(f"index_reduce_(): self ({t.array.dtype}) and source ({s.array.dtype}) must have the "
                           "same scalar type")
    _check_range("index_reduce", idx, t.shape[d] if t.ndim else 1, d)
    if t.ndim == 0:
        out = index_reduce(reshape(t, (1,)), 0, idx, reshape(s, (1,)), reduce, include_self=include_self)
        return reshape(out, ())
    # index[i] for every element of source's slice i: scatter_reduce's index
    spread = np.broadcast_to(idx.reshape((1,) * d + (-1,) + (1,) * (t.ndim - d - 1)), s.shape)
    return scatter_reduce(t, d, spread, s, reduce, include_self=include_self)


def diagonal_scatter(input: Any, src: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A copy of input with src written on the diagonal of dims dim1 and dim2 (`offset` above it, below if
    negative): where input.diagonal(offset, dim1, dim2) reads. src is cast to input's dtype, as in PyTorch."""
    from .linalg import _diagonal_index

    t = as_tensor(input)
    if not isinstance(src, Tensor):
        raise TypeError(f"diagonal_scatter(): argument 'src' (position 2) must be Tensor, not {type(src).__name__}")
    d1, d2 = wrap_dim("diagonal_scatter", dim1, t.ndim), wrap_dim("diagonal_scatter", dim2, t.ndim)
    if t.ndim < 2:  # a 1-D tensor has no dim 1 (0-d counts as 1-D)
        wrap_dim("diagonal_scatter", 1, t.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal_scatter(): diagonal dimensions cannot be identical {dim1}, {dim2}")
    index = _diagonal_index(t.shape, int(offset), d1, d2, t.array)
    want = np.broadcast_shapes(*(np.shape(i) for i in index))
    if tuple(src.shape) != want:
        raise RuntimeError(f"diagonal_scatter(): expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(want)}")
    s = src if src.array.dtype == t.array.dtype else src.to(t.array.dtype)
    return Scatter.apply(t, s, index=index)
