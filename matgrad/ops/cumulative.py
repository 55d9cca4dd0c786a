"""Cumulative ops along one dim: cumsum, cumprod, cummax, cummin, logcumsumexp.

A running total's backward is a running total the other way: element i reaches every
output from i on, so its gradient sums dy from i to the end (cumsum over the flipped dy).
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ..autograd.op import Op
from ..devices import backend_of
from ..tensor import ShapeError, Tensor, as_tensor, get_default_dtype, wrap_dim

CummaxResult = namedtuple("cummax", ["values", "indices"])
CumminResult = namedtuple("cummin", ["values", "indices"])


def _flip(x: Any, axis: int) -> Any:
    return x[(slice(None),) * axis + (slice(None, None, -1),)]


def _rev_cumsum(xp: Any, x: Any, axis: int) -> Any:
    """Σ_{j ≥ i} x_j along axis: the cumsum from the end."""
    return _flip(xp.cumsum(_flip(x, axis), axis), axis)


def _accumulate(ufunc: Any, x: Any, axis: int) -> Any:
    """ufunc.accumulate(x, axis) for an associative ufunc; off NumPy (CuPy accumulates only add and
    multiply) a log-step scan: after the step of width k, y_i combines x_{i-2k+1} .. x_i."""
    if type(x) is np.ndarray:
        return ufunc.accumulate(x, axis=axis)
    y, n, k = x.copy(), x.shape[axis], 1
    before = (slice(None),) * axis
    while k < n:
        y[before + (slice(k, None),)] = ufunc(y[before + (slice(k, None),)], y[before + (slice(None, n - k),)])
        k *= 2
    return y


def _grid(shape: tuple[int, ...], index: Any, axis: int) -> tuple[Any, ...]:
    """An advanced index that picks `index` along `axis` and everything else in place (on index's device)."""
    xa, nd = backend_of(index).xp, len(shape)
    grid = [xa.arange(n).reshape((1,) * i + (n,) + (1,) * (nd - 1 - i)) for i, n in enumerate(shape)]
    grid[axis] = index
    return tuple(grid)


class Cumsum(Op):
    """y_i = Σ_{j≤i} x_j along an axis.  dx_j = Σ_{i≥j} dy_i (a cumsum from the end)."""

    def forward(self, x, axis):
        self.axis = axis
        return np.cumsum(x, axis=axis)

    def backward(self, dy):
        return _rev_cumsum(self.xp, dy, self.axis)


class Cumprod(Op):
    """y_i = Π_{j≤i} x_j.  dx_j = Σ_{i≥j} dy_i · Π_{k≤i, k≠j} x_k (= revcumsum(dy·y)_j / x_j if x ≠ 0)."""

    save_output = True

    def forward(self, x, axis):
        self.axis = axis
        return np.cumprod(x, axis=axis)

    def backward(self, dy):
        xp, axis = self.xp, self.axis
        (x,) = self.inputs
        if np.all(self.input_arrays[0] != 0):
            return _rev_cumsum(xp, dy * self.output, axis) / x
        x_arr = self.input_arrays[0]
        if xp.plain:  # a zero: O(n), as PyTorch. Before the first zero y/x holds, after it dx is 0, and
            # at it dx_z = Σ_{j≥z} dy_j · Π_{k≤j, k≠z} x_k, a cumprod with that zero replaced by 1.
            seen = np.cumsum(x_arr == 0, axis=axis)
            before, first = seen == 0, (seen == 1) & (x_arr == 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                base = np.where(before, _rev_cumsum(np, dy * self.out, axis) / np.where(before, x_arr, 1), 0)
            at = np.sum(np.where(before, 0, dy * np.cumprod(np.where(first, 1, x_arr), axis=axis)),
                        axis=axis, keepdims=True)
            return np.where(first, at, base)
        # Under create_graph, exact to every order: A[i, k] = 1 if k == i else x_k, whose cumprod over k
        # is C[i, j] = Π_{k≤j, k≠i} x_k; then dx_i = Σ_{j≥i} dy_j C[i, j]. An (n × n) matrix per row.
        n = x.shape[axis]
        xl, dyl = xp.swapaxes(x, axis, -1), xp.swapaxes(dy, axis, -1)
        xa = backend_of(x_arr).xp  # the masks are made where the data is
        eye, upper = xa.eye(n, dtype=bool), xa.triu(xa.ones((n, n), dtype=bool))
        a = xp.where(eye, 1, xp.broadcast_to(xp.expand_dims(xl, -2), xl.shape[:-1] + (n, n)))
        c = xp.cumprod(a, -1)
        dx = xp.sum(xp.where(upper, c * xp.expand_dims(dyl, -2), 0), axis=-1)
        return xp.swapaxes(dx, axis, -1)


class CumExtreme(Op):
    """y_i = max_{j≤i} x_j (or min), with its index.  dx = dy added at the chosen index."""

    def forward(self, x, index, axis):
        self.index, self.axis = index, axis
        return np.take_along_axis(x, index, axis=axis)

    def backward(self, dy):
        shape = self.input_arrays[0].shape
        return self.xp.index_add(shape, _grid(shape, self.index, self.axis), dy, False)


class LogCumSumExp(Op):
    """y_i = ln Σ_{j≤i} e^{x_j}.  dx_j = Σ_{i≥j} dy_i · e^{x_j − y_i}."""

    save_output = True

    def forward(self, x, axis):
        self.axis = axis
        return _accumulate(np.logaddexp, x, axis)

    def backward(self, dy):
        xp, axis = self.xp, self.axis
        if xp.plain:  # in log space, splitting dy by sign: O(n), no overflow
            x, y = self.input_arrays[0], self.out
            shape, dtype = np.broadcast_shapes(dy.shape, x.shape), np.result_type(dy.dtype, x.dtype)
            out = np.zeros_like(x, shape=shape, dtype=dtype)
            for part, sign in ((np.maximum(dy, 0), 1), (np.maximum(-dy, 0), -1)):
                with np.errstate(divide="ignore", invalid="ignore"):
                    s = _flip(_accumulate(np.logaddexp, _flip(np.log(part) - y, axis), axis), axis)
                    out += sign * np.exp(s + x)
            return out
        # Under create_graph: the (n × n) matrix W[i, j] = e^{x_j − y_i} for j ≤ i, composed of ops.
        (x,) = self.inputs
        n = x.shape[axis]
        xl, yl, dyl = xp.swapaxes(x, axis, -1), xp.swapaxes(self.output, axis, -1), xp.swapaxes(dy, axis, -1)
        xa = backend_of(self.input_arrays[0]).xp  # the mask is made where the data is
        lower = xa.tril(xa.ones((n, n), dtype=bool))
        diff = xp.where(lower, xp.expand_dims(xl, -2) - xp.expand_dims(yl, -1), -np.inf)
        dx = xp.sum(xp.exp(diff) * xp.expand_dims(dyl, -1), axis=-2)
        return xp.swapaxes(dx, axis, -1)


def _prepare(op: str, input: Any, dim: Any, dtype: Any) -> tuple[Tensor, int, tuple[int, ...] | None]:
    t = as_tensor(input)
    if dtype is not None:
        t = t.to(dtype)
    elif t.array.dtype.kind in "biu" and t.array.dtype != np.int64:
        t = Tensor._make(t.array.astype(np.int64), None, False)  # integers accumulate in int64, as PyTorch
    axis = wrap_dim(op, dim, t.ndim)
    if t.ndim == 0:
        from .shape import reshape

        return reshape(t, (1,)), 0, ()
    return t, axis, None


def _finish(out: Tensor, zero_d: tuple[int, ...] | None) -> Tensor:
    if zero_d is None:
        return out
    from .shape import reshape

    return reshape(out, ())


def cumsum(input: Any, dim: Any = None, *, dtype: Any = None, axis: Any = None) -> Tensor:
    """Running sum along `dim`; integers and bools accumulate in int64, as PyTorch."""
    t, ax, zd = _prepare("cumsum", input, dim if dim is not None else axis, dtype)
    return _finish(Cumsum.apply(t, axis=ax), zd)


def cumprod(input: Any, dim: Any = None, *, dtype: Any = None, axis: Any = None) -> Tensor:
    """Running product along `dim` (its gradient is exact where the input has zeros)."""
    t, ax, zd = _prepare("cumprod", input, dim if dim is not None else axis, dtype)
    return _finish(Cumprod.apply(t, axis=ax), zd)


def _cum_extreme(op: str, input: Any, dim: Any, result: type, ufunc: Any, better: Any) -> Any:
    t = as_tensor(input)
    ax = wrap_dim(op, dim, t.ndim)
    if t.ndim == 0:
        return result(t * 1 if t.requires_grad else t, Tensor._make(np.zeros_like(t.array, np.int64), None, False))
    x = t.array
    if x.size == 0:
        idx = np.zeros_like(x, np.int64)
    else:
        run = _accumulate(ufunc, x, ax)
        # PyTorch takes the latest of equal values, and a nan whenever one comes.
        hit = better(x, run) | (np.isnan(x) if x.dtype.kind in "fc" else False)
        pos = backend_of(x).xp.arange(x.shape[ax]).reshape((-1,) + (1,) * (x.ndim - 1 - ax))
        idx = _accumulate(np.maximum, np.where(hit, pos, 0), ax).astype(np.int64)
    return result(CumExtreme.apply(t, index=idx, axis=ax), Tensor._make(idx, None, False))


def cummax(input: Any, dim: Any = None) -> Any:
    """Running maximum along `dim`: (values, indices); ties take the later index, as PyTorch."""
    return _cum_extreme("cummax", input, dim, CummaxResult, np.maximum, np.greater_equal)


def cummin(input: Any, dim: Any = None) -> Any:
    """Running minimum along `dim`: (values, indices); ties take the later index, as PyTorch."""
    return _cum_extreme("cummin", input, dim, CumminResult, np.minimum, np.less_equal)


def logcumsumexp(input: Any, dim: Any = None) -> Tensor:
    """ln of the running sum of eˣ along `dim`, stable for large inputs."""
    t = as_tensor(input)
    if t.array.dtype.kind not in "fc":
        t = Tensor._make(t.array.astype(get_default_dtype()), None, False)
    t, ax, zd = _prepare("logcumsumexp", t, dim, None)
    return _finish(LogCumSumExp.apply(t, axis=ax), zd)


# --- diff and the trapezoid rule: differences and sums of neighbours, composed ----------------------
def _along(t: Tensor, axis: int, start: Any, stop: Any) -> Tensor:
    from .indexing import getitem

    return getitem(t, (slice(None),) * axis + (slice(start, stop),))


def diff(input: Any, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None) -> Tensor:
    """The n-th forward difference along `dim`: out[i] = x[i+1] − x[i], n times (xor for bools);
    prepend/append are joined on first (same shape but along dim)."""
    from .arithmetic import sub
    from .join import cat

    t = as_tensor(input)
    if t.ndim == 0:
        raise RuntimeError(f"diff expects input to be at least one-dimensional, got shape {t.shape}")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"diff(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"diff: order must be non-negative but got {n}")
    ax = wrap_dim("diff", dim, t.ndim)
    parts = []
    for name, extra in (("prepend", prepend), (None, t), ("append", append)):
        if extra is None:
            continue
        e = as_tensor(extra, t)
        if name is not None:
            if e.ndim != t.ndim:
                raise RuntimeError(f"diff expects {name} to have the same number of dimensions as input "
                                 f"({t.ndim}), got shape {e.shape}")
            if any(e.shape[i] != t.shape[i] for i in range(t.ndim) if i != ax):
                raise RuntimeError(f"diff expects the shape of {name} {e.shape} to match the input's {t.shape} "
                                 f"except along the differencing dimension {ax}")
        parts.append(e)
    if len(parts) > 1:
        t = cat(parts, dim=ax)
    for _ in range(n):
        size = t.shape[ax]
        if size == 0:
            break
        hi, lo = _along(t, ax, 1, None), _along(t, ax, 0, size - 1)
        if t.array.dtype == np.bool_:
            t = Tensor._make(np.logical_xor(hi.array, lo.array), None, False)
        else:
            t = sub(hi, lo)
    return t


def _trapezoid_parts(op: str, y: Any, x: Any, dx: Any, dim: int) -> tuple[Tensor, int]:
    """The areas of the trapezoids along `dim`: (y[i+1] + y[i]) / 2 · Δx[i]."""
    from .arithmetic import _to_float, add, mul
    from .shape import reshape

    if x is not None and dx is not None:
        raise TypeError(f"{op}: give x or dx, not both")
    t = _to_float(as_tensor(y))
    if t.ndim == 0:
        raise IndexError(f"{op}: Dimension specified as {dim} but tensor has no dimensions")
    ax = wrap_dim(op, dim, t.ndim)
    size = t.shape[ax]
    mid = add(_along(t, ax, 1, None), _along(t, ax, 0, max(size - 1, 0)))
    if x is None:
        step = 1 if dx is None else dx
        return mul(mid, step / 2 if isinstance(step, (int, float)) else mul(step, 0.5)), ax
    xs = _to_float(as_tensor(x))
    if xs.ndim == 1:
        if xs.shape[0] != size:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point: x has {xs.shape[0]} "
                               f"points but y has {size} along dim {dim}")
        steps = reshape(diff(xs), (-1,) + (1,) * (t.ndim - 1 - ax))
    else:
        steps = diff(xs, dim=dim)
    try:
        return mul(mul(mid, steps), 0.5), ax
    except ValueError:
        raise ShapeError(f"{op}: x of shape {xs.shape} does not match y of shape {t.shape} along dim {dim}") from None


def trapezoid(y: Any, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """∫ y along `dim` by the trapezoid rule, at points x (1-D, or y's shape) or spaced dx (default 1)."""
    from .reduction import sum as _sum

    areas, ax = _trapezoid_parts("trapezoid", y, x, dx, dim)
    return _sum(areas, ax)


def trapz(y: Any, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """trapezoid under its older name."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Any, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The running trapezoid-rule integral along `dim` (one element shorter than y there)."""
    areas, ax = _trapezoid_parts("cumulative_trapezoid", y, x, dx, dim)
    return cumsum(areas, ax)
