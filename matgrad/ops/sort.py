"""Sorting and order statistics: sort, argsort, topk, median, mode, quantile, unique,
bincount, histc, histogram, histogramdd, count_nonzero, searchsorted, bucketize, isin, unravel_index.

The sorts are stable (ties keep their order, as torch.sort(stable=True)); the values a sort
or a selection returns are a gather of the input (`scatter.Gather`), so the gradient goes
back to the element each value came from.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ..devices import CPU, backend_of, move
from ..tensor import Tensor, as_tensor, wrap_dim
from .indexing import GetItem, is_device_array, on_device
from .reduction import AMax, SelectAlong, normalize_axes
from .scatter import Gather, index_along
from .shape import reshape

SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])
MedianResult = namedtuple("median", ["values", "indices"])
KthvalueResult = namedtuple("kthvalue", ["values", "indices"])  # torch.return_types.kthvalue
ModeResult = namedtuple("mode", ["values", "indices"])
NanMedianResult = namedtuple("nanmedian", ["values", "indices"])


def _const(arr: Any) -> Tensor:
    return Tensor._make(arr if is_device_array(arr) else np.asarray(arr), None, False)


def _zero_index(t: Tensor) -> Tensor:
    """The int64 index 0 of a 0-d tensor's only element, on its device."""
    return _const(np.zeros_like(t.array, shape=(), dtype=np.int64))


def _arange(n: int, like: Any) -> Any:
    """0, 1, ..., n - 1 as int64, on `like`'s device."""
    return np.arange(n) if type(like) is np.ndarray else backend_of(like).xp.arange(n, dtype=np.int64)


def stable_argsort(a: np.ndarray, axis: int, descending: bool = False) -> np.ndarray:
    """Stable argsort along axis; NaN sorts as the largest value (last ascending, first descending), as PyTorch.

    Descending keeps tied elements in their original order too: sort the reversed array
    ascending (ties then come out last-first), and read the result backwards.
    """
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    rev = np.flip(a, axis)
    return np.flip(n - 1 - np.argsort(rev, axis=axis, kind="stable"), axis)


def _sort_values(t: Tensor, idx: np.ndarray, d: int) -> Tensor:
    if t.ndim == 0:
        return t * 1
    # a sort's indices never repeat along dim, so the backward may assign dy rather than add it (`basic`)
    return Gather.apply(t, index=index_along(idx, d), basic=True)


def sort(input: Any, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """(values, indices) sorted along dim; ties keep their order (stable, whatever `stable` says)."""
    t = as_tensor(input)
    if isinstance(dim, bool):  # sort(x, True): PyTorch reads a lone bool as stable= only by keyword
        raise TypeError("sort(): argument 'dim' must be int, not bool")
    d = wrap_dim("sort", dim, t.ndim)
    if t.ndim == 0:
        return SortResult(t * 1 if t.requires_grad else t, _zero_index(t))
    idx = stable_argsort(t.array, d, descending)
    return SortResult(_sort_values(t, idx, d), _const(idx.astype(np.int64, copy=False)))


def argsort(input: Any, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort input along dim (stable: ties keep their order)."""
    t = as_tensor(input)
    d = wrap_dim("argsort", dim, t.ndim)
    if t.ndim == 0:
        return _zero_index(t)
    return _const(stable_argsort(t.array, d, descending).astype(np.int64, copy=False))


def msort(input: Any) -> Tensor:
    """input sorted along dim 0."""
    return sort(input, 0).values


def topk(input: Any, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    """The k largest (or smallest) elements along dim, as (values, indices); ties: the lower index first."""
    t = as_tensor(input)
    d = wrap_dim("topk", dim, t.ndim)
    n = t.shape[d] if t.ndim else 1
    k = int(k)
    if not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k={k} out of range for dimension {d} of size {n}")
    if t.ndim == 0:
        return TopkResult(t * 1 if t.requires_grad else t, _zero_index(t))
    idx = stable_argsort(t.array, d, descending=largest)
    idx = np.take(idx, _arange(k, idx), axis=d)
    return TopkResult(_sort_values(t, idx, d), _const(idx.astype(np.int64, copy=False)))


def kthvalue(input: Any, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """The k-th smallest element along dim (k from 1), as (values, indices)."""
    t = as_tensor(input)
    d = wrap_dim("kthvalue", dim, t.ndim)
    n = t.shape[d] if t.ndim else 1
    if not 1 <= k <= n and n:  # (an empty dim is _select_sorted's IndexError, as PyTorch)
        raise RuntimeError(f"kthvalue(): selected number k={k} out of range for dimension {d} of size {n}")
    return _select_sorted("kthvalue", t, d, keepdim, lambda _n: k - 1, KthvalueResult)


class Median(AMax):
    """y = the lower median of x.  dy/dx = 1 at the median (shared evenly among ties), 0 elsewhere."""

    @staticmethod
    def reduce(x, axis=None, keepdims=False):
        flat = np.sort(x, axis=None)
        if type(x) is not np.ndarray:  # on a device: a 0-d array there
            return flat[(flat.size - 1) // 2] if flat.size else np.full_like(x, np.nan, shape=())
        out = flat[(flat.size - 1) // 2] if flat.size else np.nan
        return np.asarray(out, dtype=x.dtype)


def _select_sorted(op: str, t: Tensor, d: int, keepdim: bool, position: Any, result: type) -> Any:
    """The element at sorted position `position(n)` along d: (values, indices); values a gather."""
    if t.ndim == 0:
        return result(t * 1 if t.requires_grad else t, _zero_index(t))
    n = t.shape[d]
    if n == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size (input shape {tuple(t.shape)})")
    order = stable_argsort(t.array, d)
    idx = np.take(order, _arange(1, order) + position(n), axis=d)
    # median of a slice with a NaN: PyTorch returns NaN and the index of the first NaN in the slice; kthvalue
    # takes NaN as the largest value, as sort does (so only k = n reaches it)
    nans = np.isnan(t.array) if op == "median" and t.array.dtype.kind == "f" else None
    if nans is not None and nans.any():
        has = nans.any(axis=d, keepdims=True)
        idx = np.where(has, np.argmax(nans, axis=d, keepdims=True), idx)
    values = SelectAlong.apply(t, index=idx, axis=d, keepdims=keepdim)
    return result(values, _const(idx if keepdim else np.squeeze(idx, d)))


def median(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    """The lower median: of all elements (one value), or along dim as (values, indices), as PyTorch."""
    t = as_tensor(input)
    if dim is None:
        if t.array.size == 0 and not t.requires_grad:  # (Median gives the NaN too, with PyTorch's grad_fn)
            return _const(np.full_like(t.array, np.nan, shape=()))
        if t.array.dtype.kind == "f" and np.isnan(t.array).any():  # NaN, the first one's (for its gradient)
            return reshape(t, (-1,))[int(np.argmax(np.isnan(t.array.reshape(-1))))]
        return Median.apply(t, axes=None, keepdims=False)
    d = wrap_dim("median", dim, t.ndim)
    return _select_sorted("median", t, d, keepdim, lambda n: (n - 1) // 2, MedianResult)


class NanMedian(AMax):
    """y = the lower median of x's values that are not NaN.  dy/dx = 1 at the median (shared among ties)."""

    @staticmethod
    def reduce(x, axis=None, keepdims=False):
        flat = np.sort(x, axis=None)  # NaNs last
        count = int((flat == flat).sum())
        if type(x) is not np.ndarray:  # on a device: a 0-d array there
            return flat[(count - 1) // 2] if count else np.full_like(x, np.nan, shape=())
        return np.asarray(flat[(count - 1) // 2] if count else np.nan, dtype=x.dtype)


def _all_nan_index(n: int) -> int:
    """The index PyTorch's CPU nanmedian gives a slice of n NaNs: where libstdc++'s std::nth_element leaves it.

    PyTorch partitions the indices 0..n-1 with nth_element(first, first + (n - 0 - 1) / 2 = first, last)
    under a comparison that is false for any two NaNs. Each of introselect's rounds on such a range
    [0, last) swaps 0 with last/2 (median of three) and reverses [1, last) (the unguarded partition),
    then keeps [0, 1 + (last - 1)/2); at 3 or fewer its insertion sort moves nothing. Followed back from
    position 0: n = 5 gives 2, 9 gives 7, 40 gives 28.
    """
    lasts = []
    while n > 3:
        lasts.append(n)
        n = 1 + (n - 1) // 2
    p = 0
    for last in reversed(lasts):
        mid = last // 2
        if p == 0:
            p = mid  # the swap brought the middle one to the front
        else:
            p = last - p  # reversed in [1, last) ...
            p = 0 if p == mid else p  # ... after the swap put the front one in the middle
    return p


def nanmedian(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    """median() of the values that are not NaN: of all elements (one value), or along dim as (values, indices);
    NaN only where a slice is all NaN (its index is then PyTorch's, see _all_nan_index)."""
    t = as_tensor(input)
    if dim is None:
        if t.array.size == 0 and not t.requires_grad:
            return _const(np.full_like(t.array, np.nan, shape=()))
        return NanMedian.apply(t, axes=None, keepdims=False)
    d = wrap_dim("nanmedian", dim, t.ndim)
    if t.ndim == 0:
        return NanMedianResult(t * 1 if t.requires_grad else t, _zero_index(t))
    if t.shape[d] == 0:
        raise IndexError(f"nanmedian(): Expected reduction dim {d} to have non-zero size (input shape "
                         f"{tuple(t.shape)})")
    a = t.array
    order = stable_argsort(a, d)  # NaNs last
    count = (a == a).sum(axis=d, keepdims=True)
    idx = np.take_along_axis(order, np.maximum(count - 1, 0) // 2, axis=d)
    if t.shape[d] > 3 and not count.all():  # an all-NaN slice: PyTorch's index (up to 3 long, it is 0 as here)
        idx = np.where(count == 0, _all_nan_index(t.shape[d]), idx)
    values = SelectAlong.apply(t, index=idx, axis=d, keepdims=keepdim)
    return NanMedianResult(values, _const(idx if keepdim else np.squeeze(idx, d)))


def mode(input: Any, dim: int = -1, keepdim: bool = False) -> Any:
    """The most frequent value along dim (the smallest among equally frequent ones) and its last index."""
    t = as_tensor(input)
    d = wrap_dim("mode", dim, t.ndim)
    if t.ndim == 0:
        return ModeResult(t * 1 if t.requires_grad else t, _zero_index(t))
    n = t.shape[d]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size (input shape {tuple(t.shape)})")
    a = np.moveaxis(t.array, d, -1)
    order = np.argsort(a, axis=-1, kind="stable")
    s = np.take_along_axis(a, order, -1)
    new_run = np.ones_like(s, dtype=bool)
    new_run[..., 1:] = s[..., 1:] != s[..., :-1]
    # the length of the run each element is in; at every run's last element, pick the longest (first longest)
    positions = _arange(n, s)
    if type(s) is np.ndarray:
        run_start = np.maximum.accumulate(np.where(new_run, positions, 0), axis=-1)
    else:  # without ufunc.accumulate, which not every device module has: each element's run, by counting
        flat = new_run.reshape(-1)  # every row starts a run, so runs never cross rows
        run_start = (np.flatnonzero(flat)[np.cumsum(flat) - 1] % n).reshape(s.shape)
    length = positions - run_start + 1
    last = np.ones_like(s, dtype=bool)
    last[..., :-1] = new_run[..., 1:]
    score = np.where(last, length, 0)
    best = np.argmax(score, axis=-1)  # the first maximal run: the smallest value
    pick = np.take_along_axis(order, best[..., None], -1)  # the last original index within that run
    idx = np.moveaxis(pick, -1, d)
    values = SelectAlong.apply(t, index=idx, axis=d, keepdims=keepdim)
    return ModeResult(values, _const(idx if keepdim else np.squeeze(idx, d)))


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(input: Any, q: Any, dim: Any = None, keepdim: bool = False, *, interpolation: str = "linear") -> Tensor:
    """The q-th quantiles along dim (of all elements if None), interpolating between sorted neighbours.

    q a number or a 0-d/1-d tensor in [0, 1]; a 1-d q puts its dimension first, as PyTorch.
    Differentiable: the gradient goes to the two neighbours, weighted by the interpolation.
    A NaN in a slice makes its quantiles NaN (nanquantile ignores them instead).
    """
    return _quantile("quantile", input, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(input: Any, q: Any, dim: Any = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """quantile() of the values that are not NaN (NaN only for a slice that is all NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, ignore_nan=True)


def _quantile(op: str, input: Any, q: Any, dim: Any, keepdim: bool, interpolation: str, ignore_nan: bool) -> Tensor:
    t = as_tensor(input)
    if t.array.dtype.kind != "f":
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype, got {t.array.dtype}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{op}() interpolation must be one of {', '.join(_INTERPOLATIONS)}. "
                         f"Got {interpolation!r}")
    qa = np.asarray(move(q.array, CPU) if isinstance(q, Tensor) else q, dtype=np.float64)
    if qa.ndim > 1:
        raise RuntimeError(f"{op}() q must be a scalar or 1D tensor, got shape {tuple(qa.shape)}")
    if qa.size and (qa.min() < 0 or qa.max() > 1):
        raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
    if t.array.size == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    orig_shape = t.shape
    if dim is None:
        x, d = reshape(t, (-1,)), 0
    else:
        d = wrap_dim(op, dim, t.ndim)
        x = reshape(t, (1,)) if t.ndim == 0 else t
    # move dim last: sorted values s of shape batch + (n,)
    order = stable_argsort(x.array, d)
    perm = [i for i in range(x.ndim) if i != d] + [d]
    s = Gather.apply(x, index=index_along(order, d), basic=True)  # a permutation: no repeats
    if perm != list(range(x.ndim)):
        from .shape import permute

        s = permute(s, tuple(perm))
    batch, n = s.shape[:-1], s.shape[-1]
    qv = qa.reshape(-1)
    nan_rows = np.isnan(s.array).any(axis=-1)  # a NaN anywhere: the quantile is NaN (it sorts last)
    if type(nan_rows) is not np.ndarray:  # the ranks are worked out on the host (GetItem moves the indices)
        nan_rows = move(nan_rows, CPU)
    if ignore_nan:  # the NaNs sort last: rank among the first `count`; an all-NaN slice reads its last (NaN)
        nans = np.isnan(s.array).sum(axis=-1)
        nans = nans if type(nans) is np.ndarray else move(nans, CPU)
        rank = qv.reshape((-1,) + (1,) * len(batch)) * (n - nans - 1)
        rank = np.where(nans == n, n - 1, rank) * np.ones((1,) + batch)
    else:
        rank = qv.reshape((-1,) + (1,) * len(batch)) * (n - 1)  # (Q, *batch) after broadcasting
        rank = np.where(nan_rows, n - 1, rank) * np.ones((1,) + batch)
    lo = np.floor(rank).astype(np.int64)
    hi = np.ceil(rank).astype(np.int64)
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = np.round(rank).astype(np.int64)  # half to even, as torch.round
    grids = tuple(np.indices(batch, sparse=True))
    lo_v = GetItem.apply(s, index=grids + (lo,), basic=False)
    if interpolation in ("lower", "higher", "nearest"):
        out = lo_v
    else:
        hi_v = GetItem.apply(s, index=grids + (hi,), basic=False)
        w = (rank - lo) if interpolation == "linear" else np.where(hi > lo, 0.5, 0.0)
        out = lo_v + (hi_v - lo_v) * _const(on_device(w.astype(t.array.dtype), s.array))
    # out: (Q, *batch); restore the reduced dim for keepdim, drop Q for a scalar q
    if keepdim:
        if dim is None:
            kept = (1,) * len(orig_shape)
        else:
            kept = tuple(1 if i == d else n_ for i, n_ in enumerate(orig_shape)) if orig_shape else ()
        out = reshape(out, (qv.size,) + kept)
    if qa.ndim == 0:
        out = reshape(out, out.shape[1:])
    return out


def unique(input: Any, sorted: bool = True, return_inverse: bool = False,  # noqa: A002 - PyTorch's names
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct values (sorted; whole slices along `dim` if given), and optionally each element's
    position among them (inverse) and how often each occurs (counts). No gradient, as PyTorch."""
    t = as_tensor(input)
    a = t.array
    if dim is None:
        vals, inv, counts = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(a.shape)
    else:
        d = wrap_dim("unique", dim, t.ndim)
        if a.ndim == 0:
            raise IndexError("unique(): dim given for a 0-d tensor")
        if a.shape[d] == 0:
            none = np.zeros_like(a, shape=(0,), dtype=np.int64)
            vals, inv, counts = a, none, none
        else:
            vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True, axis=d)
            inv = inv.reshape(-1)
    out = [_const(vals)]
    if return_inverse:
        out.append(_const(inv.astype(np.int64)))
    if return_counts:
        out.append(_const(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input: Any, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """Collapse each run of equal consecutive values (slices along `dim`) into one; inverse and counts optional."""
    t = as_tensor(input)
    a = t.array
    if dim is None:
        flat = a.reshape(-1)
        new = np.ones_like(flat, dtype=bool)
        new[1:] = flat[1:] != flat[:-1]
        vals = flat[new]
    else:
        d = wrap_dim("unique_consecutive", dim, t.ndim)
        m = np.moveaxis(a, d, 0).reshape(a.shape[d], -1)
        new = np.ones_like(m, shape=(m.shape[0],), dtype=bool)
        new[1:] = (m[1:] != m[:-1]).any(axis=1)
        vals = np.compress(new, a, axis=d)
    inv = np.cumsum(new) - 1
    out = [_const(vals)]
    if return_inverse:
        out.append(_const(inv.reshape(a.shape if dim is None else (-1,)).astype(np.int64)))
    if return_counts:
        starts = np.flatnonzero(new)
        out.append(_const(np.diff(np.append(starts, new.size)).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input: Any, weights: Any = None, minlength: int = 0) -> Tensor:
    """How many times each value 0..max occurs in a 1-d non-negative integer tensor (summed weights if given)."""
    t = as_tensor(input)
    a = t.array
    if a.ndim != 1 or a.dtype.kind not in "iub" or (a.size and a.min() < 0):
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs (got shape {tuple(a.shape)}, "
                           f"dtype {a.dtype})")
    if minlength < 0:
        raise RuntimeError(f"bincount(): minlength should be >= 0, got {minlength}")
    if weights is None:
        return _const(np.bincount(a, minlength=minlength).astype(np.int64))
    w = as_tensor(weights).array
    if w.shape != a.shape:
        raise RuntimeError(f"bincount(): weights {tuple(w.shape)} should have the same length as input "
                           f"{tuple(a.shape)}")
    dt = w.dtype if w.dtype.kind == "f" else np.dtype(np.float64)
    return _const(np.bincount(a, weights=w.astype(np.float64), minlength=minlength).astype(dt))


def histc(input: Any, bins: int = 100, min: Any = 0, max: Any = 0) -> Tensor:  # noqa: A002
    """A histogram of `bins` equal bins over [min, max] (the data's range when both are 0); outside: ignored."""
    t = as_tensor(input)
    a = t.array
    if a.dtype.kind != "f":
        raise RuntimeError(f"histc(): expected a floating point input, got {a.dtype}")
    if bins <= 0:
        raise RuntimeError(f"histc(): bins must be > 0, got {bins}")
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError(f"histc(): max must be larger than min (min={lo}, max={hi})")
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"histc(): range of [{lo}, {hi}] is not finite")
    x = a.reshape(-1).astype(np.float64)
    x = x[(x >= lo) & (x <= hi)]
    pos = ((x - lo) * bins / (hi - lo)).astype(np.int64)
    pos = np.minimum(pos, bins - 1)  # x == max goes in the last bin
    return _const(np.bincount(pos, minlength=bins).astype(a.dtype))


def count_nonzero(input: Any, dim: Any = None) -> Tensor:
    """How many elements are not zero (along dim, an int or a tuple)."""
    t = as_tensor(input)
    axes = normalize_axes("count_nonzero", dim, None, t.ndim)
    count = np.count_nonzero(t.array, axis=axes)
    return _const(count.astype(np.int64) if is_device_array(count) else np.asarray(count, dtype=np.int64))


def _host_values(op: str, x: Any) -> np.ndarray:
    """A tensor's, array's or number's values as a host NumPy array (for the index-valued ops below)."""
    a = x.array if isinstance(x, Tensor) else x
    return move(a, CPU) if is_device_array(a) else np.asarray(a)


def _operands(*xs: Any) -> tuple[Any, ...]:
    """The arrays of tensors, arrays or numbers for the index-valued ops below, on one device: a device's when
    either is there (the other, a number or a host array, is moved over), else the host's."""
    arrays = [x.array if isinstance(x, Tensor) else x for x in xs]
    dev = next((a for a in arrays if is_device_array(a)), None)
    if dev is None:
        return tuple(_host_values("", a) for a in arrays)
    where = backend_of(dev)
    return tuple(a if is_device_array(a) else where.from_host(np.asarray(a), where.index_of(dev)) for a in arrays)


def _nan_less(xp: Any, a: Any, b: Any) -> Any:
    """a < b with NaN after every number (NumPy's sort order, which np.searchsorted follows)."""
    return (a < b) | (xp.isnan(b) & ~xp.isnan(a)) if a.dtype.kind == "f" or b.dtype.kind == "f" else a < b


def _search_rows(seq: Any, vals: Any, right: bool) -> Any:
    """np.searchsorted along the last dim, row by row, on the arrays' device: a binary search of ⌈log₂(n+1)⌉
    elementwise passes for all the values at once (CuPy's searchsorted takes one 1-D sequence)."""
    xp = backend_of(seq).xp
    n = seq.shape[-1]
    count = int(np.prod(seq.shape[:-1], dtype=np.int64))
    rows = seq.reshape(count, n)  # one row, or one per row of vals (their leading dims match)
    v = vals.reshape(1, vals.size) if seq.ndim == 1 else vals.reshape(count, vals.shape[-1])
    lo = xp.zeros(v.shape, dtype=np.int64)
    hi = xp.full(v.shape, n, dtype=np.int64)
    for _ in range(int(n).bit_length()):
        mid = (lo + hi) // 2
        at = xp.take_along_axis(rows, xp.minimum(mid, n - 1), -1)
        go = ~_nan_less(xp, v, at) if right else _nan_less(xp, at, v)  # the place is after mid
        go = go & (lo < hi)
        lo, hi = xp.where(go, mid + 1, lo), xp.where(go | (lo >= hi), hi, mid)
    return lo.reshape(vals.shape)


def searchsorted(sorted_sequence: Any, input: Any, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Any = None) -> Tensor:
    """For each value, the index where it would go in sorted_sequence's last dim to keep it sorted: the
    first such place, or with right=True (side='right') the last. An N-d sorted_sequence searches each of
    its rows for the values in the matching row of input; `sorter` sorts an unsorted sequence's rows."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    seq, vals = _operands(sorted_sequence, input)
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have at least 1 dimension, but got 0")
    if seq.ndim > 1 and (vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]):
        if vals.ndim == 0:
            raise RuntimeError("torch.searchsorted(): input value can be a scalar only when boundaries tensor "
                               f"dimension is 1, but we got boundaries tensor dim({seq.ndim}) and input value's "
                               f"dim(0) numel(1)")
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(seq.shape)} and input value tensor {list(vals.shape)}")
    if sorter is not None:
        order = _operands(sorter, seq)[0] if is_device_array(seq) else _host_values("searchsorted", sorter)
        if order.shape != seq.shape or order.dtype.kind not in "iu":
            raise RuntimeError(f"torch.searchsorted(): sorter must be an int64 tensor of the boundaries' shape "
                               f"{list(seq.shape)}, got {order.dtype} {list(order.shape)}")
        if order.size and (order.min() < 0 or order.max() >= seq.shape[-1]):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
        seq = np.take_along_axis(seq, order.astype(np.int64), -1)
    if is_device_array(seq):  # on the device, no trip to the host
        return _const(_search_rows(seq, vals, right).astype(np.int32 if out_int32 else np.int64))
    how = "right" if right else "left"
    if seq.ndim == 1:
        out = np.searchsorted(seq, vals, side=how)
    else:
        count = int(np.prod(seq.shape[:-1], dtype=np.int64))  # not -1: a row may be empty
        rows_s, rows_v = seq.reshape(count, seq.shape[-1]), vals.reshape(count, vals.shape[-1])
        out = np.stack([np.searchsorted(s, v, side=how) for s, v in zip(rows_s, rows_v)]).reshape(vals.shape)
    out = np.asarray(out, dtype=np.int32 if out_int32 else np.int64)
    like = input if isinstance(input, Tensor) else sorted_sequence
    return _const(move(out, like.device) if isinstance(like, Tensor) and like.device != CPU else out)


def bucketize(input: Any, boundaries: Any, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """For each value, the index of its bucket among the 1-D sorted boundaries: searchsorted(boundaries,
    input) (right=True: the values equal to a boundary go to the bucket after it)."""
    b = boundaries.array if isinstance(boundaries, Tensor) else boundaries
    b = b if is_device_array(b) else np.asarray(b)
    if b.ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """A bool tensor of elements' shape: whether each element is among test_elements (either may be a number)."""
    e, t = _operands(elements, test_elements)
    if e.dtype.kind not in "biuf" or t.dtype.kind not in "biuf":
        raise TypeError(f"isin(): expected numbers, got {e.dtype} elements and {t.dtype} test_elements")
    if is_device_array(e):  # cupy.isin on a GPU
        return _const(backend_of(e).xp.isin(e, t, assume_unique=assume_unique, invert=invert))
    out = np.isin(e, t, assume_unique=assume_unique, invert=invert)
    like = elements if isinstance(elements, Tensor) else test_elements
    return _const(move(out, like.device) if isinstance(like, Tensor) and like.device != CPU else out)


def unravel_index(indices: Any, shape: Any) -> tuple[Tensor, ...]:
    """The coordinates in a tensor of `shape` of each flat (row-major) index, one int64 tensor per dim.
    As PyTorch, an index is taken modulo the number of elements (-1 is the last element)."""
    a = indices.array if isinstance(indices, Tensor) else indices
    idx = a if is_device_array(a) else _host_values("unravel_index", a)  # the coordinates made on its device
    if idx.dtype.kind not in "iu" or idx.dtype == np.bool_:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {idx.dtype}")
    dims = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if any(s < 0 for s in dims):
        raise ValueError(f"'shape' cannot have negative values, but got {dims}")
    rest, coords = idx.astype(np.int64), []
    for n in reversed(dims):
        if n == 0:
            if idx.size:
                raise IndexError(f"unravel_index: cannot index into a shape {dims} with no elements")
            coords.append(np.zeros_like(rest))
            continue
        coords.append(rest % n)
        rest = rest // n
    return tuple(_const(c) for c in reversed(coords))


HistogramResult = namedtuple("histogram", ["hist", "bin_edges"])
HistogramddResult = namedtuple("histogramdd", ["hist", "bin_edges"])


def _torch_linspace(start: float, end: float, steps: int, dtype: np.dtype) -> np.ndarray:
    """PyTorch's linspace in `dtype`: the first half counted up from start, the second down from end (so both
    ends are exact), with the step computed in dtype, as torch.linspace does."""
    a, b = np.asarray(start, dtype), np.asarray(end, dtype)
    if steps == 1:
        return a.reshape(1)
    step = (b - a) / np.asarray(steps - 1, dtype)
    i = np.arange(steps)
    up = a + step * i.astype(dtype)
    down = b - step * (steps - 1 - i).astype(dtype)
    return np.where(i < steps // 2, up, down).astype(dtype)


def _histogramdd(op: str, points: Tensor, bins: Any, range: Any, weight: Any, density: bool) -> tuple[Any, ...]:  # noqa: A002
    """The histogram of the rows of `points` (N, D): bins an int, D ints, or D 1-D tensors of edges.

    As PyTorch: with a number of bins, the edges split [min, max] (the data's, per dim, unless range gives them;
    an empty range widened by 0.5 each way) evenly; an element counts in the bin whose left edge is the last one
    not above it, the last bin including its right edge, and elements outside the edges (or nan) are left out.
    density divides by the total and by each bin's width.
    """
    x = _host_values(op, points)
    if x.dtype.kind != "f" or x.dtype == np.float16:
        from ..dtypes import TYPE_NAMES, of

        raise NotImplementedError(f"\"histogramdd\" not implemented for '{TYPE_NAMES[of(x.dtype)][:-6]}': {op} "
                                  "needs a float32 or float64 input (convert with .float() or .double())")
    dims = x.shape[1]
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        bins = [int(bins)] * dims
    bins = list(bins)
    if len(bins) != dims:
        raise RuntimeError(f"{op}: The size of bins must be equal to the innermost dimension of the input "
                           f"(got {len(bins)} bins for {dims}-dimensional points)")
    edges = []
    if all(isinstance(b, Tensor) for b in bins):
        if range is not None:
            raise TypeError(f"{op}: range can only be given with a number of bins, not with bin edges")
        for d, b in enumerate(bins):
            e = _host_values(op, b)
            if e.ndim != 1:
                raise RuntimeError(f"{op}: bins tensor should have one dimension, but got {e.ndim} dimensions in "
                                   f"the bins tensor for dimension {d}")
            if e.size == 0:
                raise RuntimeError(f"{op}: bins tensor should have at least 1 element, but got 0 elements in the "
                                   f"bins tensor for dimension {d}")
            if e.dtype != x.dtype:
                raise RuntimeError(f"{op}: input tensor and bins tensors should have the same dtype, but got input "
                                   f"with dtype {x.dtype} and bins for dimension {d} with dtype {e.dtype}")
            if e.size == 1:
                raise RuntimeError(f"{op}: bins must be > 0, but got 0 for dimension {d}")
            if np.any(e[1:] < e[:-1]):
                raise RuntimeError(f"{op}: the bin edges for dimension {d} must be non-decreasing, got "
                                   f"{e.tolist()} (PyTorch's result for unsorted edges is undefined)")
            edges.append(e)
    elif all(isinstance(b, (int, np.integer)) and not isinstance(b, bool) for b in bins):
        for d, b in enumerate(bins):
            if b <= 0:
                raise RuntimeError(f"{op}: bins must be > 0, but got {b} for dimension {d}")
        if range is not None and len(range) != 2 * dims:
            raise RuntimeError(f"{op}: for a {dims}-dimensional histogram range should have {2 * dims} elements, "
                               f"but got {len(range)}")
        for d, b in enumerate(bins):
            if range is not None:
                lo, hi = float(range[2 * d]), float(range[2 * d + 1])
            elif x.shape[0]:
                lo, hi = float(x[:, d].min()), float(x[:, d].max())
            else:
                lo, hi = 0.0, 1.0
            if not (np.isfinite(lo) and np.isfinite(hi)):
                raise RuntimeError(f"{op}: dimension {d}'s range [{lo:g}, {hi:g}] is not finite")
            if lo > hi:
                raise RuntimeError(f"{op}: min should not exceed max, but got min {lo:g} max {hi:g} for dimension {d}")
            if lo == hi:  # as NumPy: an empty range is widened, so no bin has zero width
                lo, hi = lo - 0.5, hi + 0.5
            edges.append(_torch_linspace(lo, hi, b + 1, x.dtype))
    else:
        raise TypeError(f"{op}: bins must be an int, a sequence of ints or a sequence of 1-D tensors, got "
                        f"{[type(b).__name__ for b in bins]}")
    w = None
    if weight is not None:
        w = _host_values(op, weight)
        if w.dtype != x.dtype:
            raise RuntimeError(f"{op}: if weight tensor is provided, input tensor and weight tensor should have the "
                               f"same dtype, but got input({x.dtype}), and weight({w.dtype})")
    return x, edges, w


def _where(arr: np.ndarray, t: Tensor) -> Any:
    """A host result on t's device (histograms are counted on the host)."""
    return arr if t.is_cpu else move(arr, t.device)


def _bin_counts(x: np.ndarray, edges: list[np.ndarray], w: np.ndarray | None, density: bool) -> np.ndarray:
    """hist for the rows of x (see _histogramdd), in x's dtype."""
    shape = tuple(e.size - 1 for e in edges)
    keep = np.ones(x.shape[0], dtype=bool)
    pos = []
    for d, e in enumerate(edges):
        col = x[:, d]
        keep &= (col >= e[0]) & (col <= e[-1])  # nan fails both
        p = np.searchsorted(e, col, side="right") - 1
        pos.append(np.clip(np.where(p == e.size - 1, p - 1, p), 0, None))
    flat = np.ravel_multi_index(tuple(p[keep] for p in pos), shape) if shape else np.zeros(0, np.int64)
    weights = None if w is None else w[keep].astype(np.float64)
    hist = np.bincount(flat, weights=weights, minlength=int(np.prod(shape))).astype(x.dtype).reshape(shape)
    if density:
        with np.errstate(divide="ignore", invalid="ignore"):
            hist = hist / hist.sum(dtype=x.dtype)
            for d, e in enumerate(edges):
                hist = hist / np.diff(e).reshape((1,) * d + (-1,) + (1,) * (len(edges) - d - 1))
    return hist.astype(x.dtype)


def histogram(input: Any, bins: Any = 100, *, range: Any = None, weight: Any = None,  # noqa: A002
              density: bool = False) -> HistogramResult:
    """(hist, bin_edges): how many of input's elements (or how much of their weight) fall in each bin.

    bins is a number of equal bins over range (the data's min and max by default) or a 1-D tensor of edges;
    the last bin includes its right edge, elements outside are left out (not clamped, unlike histc). weight,
    with input's dtype and element count, is added instead of 1; density makes the histogram integrate to 1.
    """
    t = as_tensor(input)
    if isinstance(bins, Tensor):
        bins = [bins]
    elif isinstance(bins, bool) or not isinstance(bins, (int, np.integer)):
        raise TypeError(f"histogram(): bins must be an int or a 1-D tensor of bin edges, not {type(bins).__name__}")
    x, edges, w = _histogramdd("histogram", reshape(t, (-1, 1)), bins, range, weight, density)
    if w is not None:
        if w.size != x.shape[0]:
            raise RuntimeError(f"histogram: weight should have as many elements as input, but got input of shape "
                               f"{list(t.shape)} and weight of shape {list(w.shape)}")
        w = w.reshape(-1)
    hist = _bin_counts(x, edges, w, density)
    return HistogramResult(_const(_where(hist, t)), _const(_where(edges[0], t)))


def histogramdd(input: Any, bins: Any, range: Any = None, weight: Any = None,  # noqa: A002
                density: bool = False) -> HistogramddResult:
    """(hist, bin_edges): the D-dimensional histogram of input's points, its innermost dim (size D) holding
    each point's coordinates. bins: an int for every dim, D ints, or D 1-D tensors of edges; range: (min, max)
    for each dim in turn, 2·D numbers; weight: one per point (input's shape without its last dim)."""
    t = as_tensor(input)
    if t.ndim < 2:
        raise RuntimeError(f"histogramdd: input tensor should have at least 2 dimensions, got shape {list(t.shape)} "
                           "(the innermost dim holds each point's coordinates)")
    if isinstance(bins, Tensor):
        raise TypeError("histogramdd(): bins must be an int, a sequence of ints or a sequence of 1-D tensors (one "
                        "per dim), not a Tensor")
    points = reshape(t, (-1, t.shape[-1]))
    x, edges, w = _histogramdd("histogramdd", points, bins, range, weight, density)
    if w is not None:
        if tuple(w.shape) != tuple(t.shape[:-1]):
            raise RuntimeError(f"histogramdd: if weight tensor is provided it should have the same shape as the input "
                               f"tensor excluding its innermost dimension, but got input with shape {list(t.shape)} "
                               f"and weight with shape {list(w.shape)}")
        w = w.reshape(-1)
    hist = _bin_counts(x, edges, w, density)
    return HistogramddResult(_const(_where(hist, t)), tuple(_const(_where(e, t)) for e in edges))
