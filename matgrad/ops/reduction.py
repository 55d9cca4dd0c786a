"""Reductions: sum, mean, max, min, amax, amin, argmax, argmin, var, std, logsumexp.

Each takes PyTorch's `dim`/`keepdim` or NumPy's `axis`/`keepdims` alike. A reduction's
backward puts the reduced gradient back along the reduced axes: sum copies it to every
element ("a copy sums" run backwards), max routes it to the element that won.
"""
from __future__ import annotations

import builtins as _py
from collections import namedtuple
from typing import Any

import numpy as np

from ..autograd.op import Op
from ..kernels import ignoring
from ..tensor import Tensor, as_tensor, get_default_dtype, wrap_dim

MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


class EmptyDimError(IndexError, RuntimeError, ValueError):
    """A reduction with no identity (max, argmax, kthvalue, ...) over a dim of size 0."""
    # PyTorch raises IndexError; matgrad raised ValueError (max) and RuntimeError (aminmax, kthvalue) before


class EmptyInputError(RuntimeError, ValueError):
    """A size of 0 where the op has no answer (max() with no dim, pooling or resizing an empty plane)."""
    # PyTorch raises RuntimeError; matgrad raised ValueError before


def check_not_empty(op: str, shape: tuple[int, ...], axes: tuple[int, ...] | None, error: type = EmptyInputError
                    ) -> None:
    """Raise PyTorch's error for a reduction with no identity over no elements (`error` when no dim is given)."""
    if axes is None:
        if _py.any(n == 0 for n in shape):
            raise error(f"{op}(): Expected reduction dim to be specified for input.numel() == 0: the input of shape "
                        f"{shape} is empty and {op} has no identity; specify the reduction dim with the 'dim' argument")
        return
    for a in axes:
        if shape[a] == 0:
            raise EmptyDimError(f"{op}(): Expected reduction dim {a} to have non-zero size: the input of shape "
                                f"{shape} is empty along it and {op} has no identity")


def normalize_axes(op: str, dim: Any, axis: Any, ndim: int) -> tuple[int, ...] | None:
    """`dim` or `axis` as a sorted tuple of non-negative axes, None for "all"."""
    if dim is None:
        dim = axis
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if not dims:  # PyTorch reads an empty dim list as "every dimension"
        return None
    out = [wrap_dim(op, d, ndim) for d in dims]
    if len(set(out)) != len(out):
        twice = next(d for d in out if out.count(d) > 1)
        raise RuntimeError(f"{op}: dim {dims} names the same dimension twice (dim {twice} appears multiple times "
                           "in the list of dims)")
    return tuple(sorted(out)) if ndim else None


def _keep(keepdim: bool | None, keepdims: bool | None) -> bool:
    return bool(keepdim if keepdim is not None else keepdims)


def _expand(xp: Any, dy: Any, axes: tuple[int, ...] | None, keepdims: bool, ndim: int) -> Any:
    """Give the reduced gradient back its reduced axes (as size 1), ready to broadcast."""
    if keepdims or ndim == 0:
        return dy
    if axes is None:
        return xp.reshape(dy, (1,) * ndim)
    return xp.expand_dims(dy, axes)


def _array(a: Any) -> Any:
    """`a` as an array: NumPy gives a scalar for a 0-d result (a device gives an array, kept as it is)."""
    return np.asarray(a) if isinstance(a, np.generic) else a


def max_or_neg_inf(x: Any, axis: Any) -> Any:
    """np.max(x, axis, keepdims=True), -inf where there is nothing to reduce (an empty x)."""
    if type(x) is np.ndarray:
        return np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    if x.size:  # CuPy's max takes no initial=
        return np.max(x, axis=axis, keepdims=True)
    axes = range(x.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
    shape = tuple(1 if i in {a % x.ndim for a in axes} else n for i, n in enumerate(x.shape))
    return np.full_like(x, -np.inf, shape=shape)


def _count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    return int(np.prod(shape if axes is None else [shape[a] for a in axes], dtype=np.int64))


class Sum(Op):
    """y = Σ x over axes.  dy/dx = 1: every element gets the gradient of the sum."""

    def forward(self, x, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims
        return np.sum(x, axis=axes, keepdims=keepdims)

    def backward(self, dy):
        x = self.input_arrays[0]
        return self.xp.broadcast_to(_expand(self.xp, dy, self.axes, self.keepdims, x.ndim), x.shape)


class Mean(Op):
    """y = Σ x / n over axes.  dy/dx = 1/n."""

    def forward(self, x, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims
        self.n = _count(x.shape, axes)
        return np.mean(x, axis=axes, keepdims=keepdims)

    def backward(self, dy):
        x = self.input_arrays[0]
        g = _expand(self.xp, dy, self.axes, self.keepdims, x.ndim) * (1.0 / self.n if self.n else np.nan)
        return self.xp.broadcast_to(g, x.shape)


class AMax(Op):
    """y = max x over axes.  dy/dx = 1 at the maximum (shared evenly among ties): max routes.

    As PyTorch: amax/amin multiply, (dy / count)·[x == y], so a nan in a slice (count 0) or an inf
    dy gives its slice nan; the whole tensor's max()/min() (`select`) put dy / count into the maxima
    (the nans, where the max is nan) and 0 elsewhere, whatever dy is.
    """

    save_output = True
    reduce = staticmethod(np.max)

    def forward(self, x, axes, keepdims, select=False):
        self.axes, self.keepdims, self.select = axes, keepdims, select
        return self.reduce(x, axis=axes, keepdims=keepdims)

    @ignoring(divide="ignore", invalid="ignore")  # a nan slice: dy/0·0 = nan, as PyTorch's (no warning there)
    def backward(self, dy):
        x = self.input_arrays[0]
        y = self.out if self.keepdims else _array(_expand(np, self.out, self.axes, False, x.ndim))
        hit = np.isnan(x) if self.select and np.isnan(y).any() else x == y
        # dy / count, as PyTorch divides (dy·(1/count) differs in the last bit for 3 ties)
        count = np.sum(hit, axis=self.axes, keepdims=True).astype(x.dtype)
        g = _expand(self.xp, dy, self.axes, self.keepdims, x.ndim) / count
        return self.xp.where(hit, g, 0) if self.select else g * hit.astype(x.dtype)


class AMin(AMax):
    """y = min x over axes.  dy/dx = 1 at the minimum (shared evenly among ties)."""

    reduce = staticmethod(np.min)


class SelectAlong(Op):
    """y = x[..., idx, ...] along one axis (max/min with dim).  dy/dx = 1 at idx, else 0."""

    def forward(self, x, index, axis, keepdims):
        self.index, self.axis, self.keepdims = index, axis, keepdims
        out = np.take_along_axis(x, index, axis=axis)
        return out if keepdims else np.squeeze(out, axis)

    def backward(self, dy):
        x = self.input_arrays[0]
        dy = _expand(self.xp, dy, (self.axis,), self.keepdims, x.ndim)
        if self.xp.plain:  # scatter dy straight into place
            dx = np.zeros_like(x, dtype=dy.dtype)
            np.put_along_axis(dx, self.index, dy, axis=self.axis)
            return dx
        hit = np.zeros_like(x, dtype=bool)
        np.put_along_axis(hit, self.index, True, axis=self.axis)
        return self.xp.where(hit, dy, 0)  # selected, as the scatter above: an inf dy gives 0 elsewhere


class Var(Op):
    """y = Σ (x - x̄)² / (n - c) over axes.  dy/dx = 2 (x - x̄) / (n - c)."""

    def forward(self, x, axes, keepdims, correction):
        self.axes, self.keepdims = axes, keepdims
        self.denom = _py.max(_count(x.shape, axes) - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.var(x, axis=axes, keepdims=keepdims, ddof=correction)

    def backward(self, dy):
        xp = self.xp
        (x,) = self.inputs
        centred = x - xp.mean(x, axis=self.axes, keepdims=True)
        g = _expand(xp, dy, self.axes, self.keepdims, x.ndim)
        return g * centred * (2.0 / self.denom if self.denom else np.inf)


class LogSumExp(Op):
    """y = ln Σ eˣ over axes, computed as m + ln Σ e^(x-m).  dy/dx = e^(x - y) (the softmax)."""

    save_output = True

    def forward(self, x, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims
        m = max_or_neg_inf(x, axes)  # empty gives -inf
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):
            out = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
        return out if keepdims else np.squeeze(out, axes)

    def backward(self, dy):
        xp = self.xp
        (x,) = self.inputs
        y = _expand(xp, self.output, self.axes, self.keepdims, x.ndim)
        return _expand(xp, dy, self.axes, self.keepdims, x.ndim) * xp.exp(x - y)


class Prod(Op):
    """y = Π x over axes.  dy/dxᵢ = Π_{j≠i} xⱼ (= y / xᵢ where xᵢ ≠ 0)."""

    save_output = True

    def forward(self, x, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims
        return np.prod(x, axis=axes, keepdims=keepdims)

    def backward(self, dy):
        xp = self.xp
        x_arr = self.input_arrays[0]
        g = _expand(xp, dy, self.axes, self.keepdims, x_arr.ndim)
        if np.all(x_arr != 0):
            (x,) = self.inputs
            return g * _expand(xp, self.output, self.axes, self.keepdims, x_arr.ndim) / x
        # A zero somewhere: y / x is 0/0, so multiply the others out (not differentiable again).
        return g * _prod_of_others(x_arr, self.axes)


def _prod_of_others(x: np.ndarray, axes: tuple[int, ...] | None) -> np.ndarray:
    """Π_{j≠i} xⱼ over `axes` for every i, without dividing (exact when some xᵢ = 0)."""
    if x.ndim == 0:
        return np.ones_like(x)
    red = tuple(range(x.ndim)) if axes is None else axes
    keep = [a for a in range(x.ndim) if a not in red]
    moved = np.transpose(x, keep + list(red))
    flat = moved.reshape(moved.shape[: len(keep)] + (-1,))
    ones = np.ones_like(flat, shape=flat.shape[:-1] + (1,))
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = (left * right).reshape(moved.shape)
    order = keep + list(red)
    return np.transpose(others, [order.index(a) for a in range(x.ndim)])  # the inverse permutation


class Std(Var):
    """y = √var(x).  dy/dx = (x - x̄) / ((n - c) · y), 0 where y = 0 (as PyTorch, not nan)."""

    save_output = True

    @ignoring(invalid="ignore")
    def forward(self, x, axes, keepdims, correction):
        return np.sqrt(super().forward(x, axes, keepdims, correction))

    def backward(self, dy):
        with np.errstate(divide="ignore", invalid="ignore"):
            dvar = dy / (2 * self.output)
        flat = self.out == 0
        if np.any(flat):
            dvar = self.xp.where(flat, 0, dvar)
        return super().backward(dvar)


def _float(t: Tensor) -> Tensor:
    if t.array.dtype.kind != "f":
        return Tensor._make(t.array.astype(get_default_dtype()), None, False)
    return t


def sum(input: Any, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None, dtype: Any = None) -> Tensor:
    """Sum over `dim` (all elements if None)."""
    t = as_tensor(input)
    if dtype is not None:
        t = t.to(dtype)
    elif t.array.dtype.kind in "biu" and t.array.dtype != np.int64:
        t = Tensor._make(t.array.astype(np.int64), None, False)  # integer sums are int64, as PyTorch
    return Sum.apply(t, axes=normalize_axes("sum", dim, axis, t.ndim), keepdims=_keep(keepdim, keepdims))


def mean(input: Any, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,
         keepdims: bool | None = None, dtype: Any = None) -> Tensor:
    """Mean over `dim` (all elements if None); `dtype` converts the input first, as PyTorch."""
    t = _float(as_tensor(input) if dtype is None else as_tensor(input).to(dtype))
    return Mean.apply(t, axes=normalize_axes("mean", dim, axis, t.ndim), keepdims=_keep(keepdim, keepdims))


def _extreme(op: str, fn: type[AMax], arg: Any, input: Any, dim: Any, keepdim: Any,
             axis: Any, keepdims: Any, result: type) -> Any:
    t = as_tensor(input)
    d = dim if dim is not None else axis
    axes = normalize_axes(op, d, None, t.ndim)
    check_not_empty(op, t.shape, axes)
    keep = _keep(keepdim, keepdims)
    if d is None or not isinstance(d, (int, np.integer)):
        # torch.max(x) (no dim) returns one value; a tuple of dims behaves as amax
        return fn.apply(t, axes=normalize_axes(op, d, None, t.ndim), keepdims=keep, select=d is None)
    (ax,) = normalize_axes(op, d, None, t.ndim) or (0,)
    if t.ndim == 0:
        return result(t, Tensor._make(np.zeros_like(t.array, dtype=np.int64), None, False))
    idx = np.expand_dims(arg(t.array, axis=ax), ax)
    values = SelectAlong.apply(t, index=idx, axis=ax, keepdims=keep)
    indices = Tensor._make(idx if keep else np.squeeze(idx, ax), None, False)
    return result(values, indices)


def max(input: Any, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None) -> Any:
    """Largest element; with an int `dim`, the (values, indices) pair, as PyTorch."""
    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        from .binary import maximum

        return maximum(input, dim)
    return _extreme("max", AMax, np.argmax, input, dim, keepdim, axis, keepdims, MaxResult)


def min(input: Any, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None) -> Any:
    """Smallest element; with an int `dim`, the (values, indices) pair, as PyTorch."""
    if isinstance(dim, Tensor):
        from .binary import minimum

        return minimum(input, dim)
    return _extreme("min", AMin, np.argmin, input, dim, keepdim, axis, keepdims, MinResult)


def amax(input: Any, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,
         keepdims: bool | None = None) -> Tensor:
    """Largest element over `dim` (gradient shared among ties)."""
    t = as_tensor(input)
    check_not_empty("amax", t.shape, normalize_axes("amax", dim, axis, t.ndim))
    return AMax.apply(t, axes=normalize_axes("amax", dim, axis, t.ndim), keepdims=_keep(keepdim, keepdims))


def amin(input: Any, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,
         keepdims: bool | None = None) -> Tensor:
    """Smallest element over `dim` (gradient shared among ties)."""
    t = as_tensor(input)
    check_not_empty("amin", t.shape, normalize_axes("amin", dim, axis, t.ndim))
    return AMin.apply(t, axes=normalize_axes("amin", dim, axis, t.ndim), keepdims=_keep(keepdim, keepdims))


def _arg(op: str, fn: Any, input: Any, dim: Any, keepdim: bool) -> Tensor:
    t = as_tensor(input)
    if t.ndim:  # (a 0-d tensor has one element)
        check_not_empty(op, t.shape, normalize_axes(op, dim, None, t.ndim), EmptyDimError)
    if dim is None:
        out = _array(fn(t.array))
        if keepdim:
            out = out.reshape((1,) * t.ndim)
    else:
        (ax,) = normalize_axes(op, dim, None, t.ndim) or (0,)
        out = fn(t.array, axis=ax, keepdims=keepdim) if t.ndim else np.zeros_like(t.array, dtype=np.int64)
    return Tensor._make(out.astype(np.int64, copy=False), None, False)


def argmax(input: Any, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,
           keepdims: bool | None = None) -> Tensor:
    """Index of the largest element (of the flattened tensor if dim is None)."""
    return _arg("argmax", np.argmax, input, dim if dim is not None else axis, _keep(keepdim, keepdims))


def argmin(input: Any, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,
           keepdims: bool | None = None) -> Tensor:
    """Index of the smallest element (of the flattened tensor if dim is None)."""
    return _arg("argmin", np.argmin, input, dim if dim is not None else axis, _keep(keepdim, keepdims))


def _correction(unbiased: Any, correction: Any) -> float:
    if correction is not None:
        return correction
    if isinstance(unbiased, bool) or unbiased is None:
        return 0 if unbiased is False else 1
    raise TypeError(f"unbiased must be True or False, got {unbiased!r}")


def var(input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool | None = None, *,
        correction: Any = None, axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """Variance over `dim`, unbiased (n - 1) by default; `correction=0` or `unbiased=False` for n."""
    if isinstance(unbiased, (int, tuple, list)) and not isinstance(unbiased, bool) and dim is None:
        dim, unbiased = unbiased, None  # var(x, 1): the second positional argument is dim
    t = _float(as_tensor(input))
    return Var.apply(
        t, axes=normalize_axes("var", dim, axis, t.ndim), keepdims=_keep(keepdim, keepdims),
        correction=_correction(unbiased, correction),
    )


def std(input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool | None = None, *,
        correction: Any = None, axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """Standard deviation: the square root of `var` with the same arguments."""
    if isinstance(unbiased, (int, tuple, list)) and not isinstance(unbiased, bool) and dim is None:
        dim, unbiased = unbiased, None
    t = _float(as_tensor(input))
    return Std.apply(
        t, axes=normalize_axes("std", dim, axis, t.ndim), keepdims=_keep(keepdim, keepdims),
        correction=_correction(unbiased, correction),
    )


def logsumexp(input: Any, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,
              keepdims: bool | None = None) -> Tensor:
    """ln Σ eˣ over `dim`, stable for inputs in the hundreds."""
    t = _float(as_tensor(input))
    return LogSumExp.apply(t, axes=normalize_axes("logsumexp", dim, axis, t.ndim),
                           keepdims=_keep(keepdim, keepdims))


def prod(input: Any, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,
         keepdims: bool | None = None) -> Tensor:
    """Product over `dim` (all elements if None); integers stay int64, as PyTorch."""
    dim, keepdim = (dim if dim is not None else axis), _keep(keepdim, keepdims)
    t = as_tensor(input)
    if t.array.dtype.kind in "biu":
        t = Tensor._make(t.array.astype(np.int64), None, False)
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod: dim must be an int or None, got {dim!r}")
    return Prod.apply(t, axes=normalize_axes("prod", dim, None, t.ndim), keepdims=keepdim)


def all(input: Any, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None) -> Tensor:
    """True where every element (over dim) is non-zero."""
    t = as_tensor(input)
    out = np.all(t.array, axis=normalize_axes("all", dim, axis, t.ndim), keepdims=_keep(keepdim, keepdims))
    return Tensor._make(out, None, False)


def any(input: Any, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None) -> Tensor:
    """True where any element (over dim) is non-zero."""
    t = as_tensor(input)
    out = np.any(t.array, axis=normalize_axes("any", dim, axis, t.ndim), keepdims=_keep(keepdim, keepdims))
    return Tensor._make(out, None, False)


class Norm2(Op):
    """y = ‖x‖₂ = √Σx² over axes.  dy/dx = x / y (0 where y = 0, as PyTorch)."""

    save_output = True

    def forward(self, x, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims
        return np.sqrt(np.sum(x * x, axis=axes, keepdims=keepdims))

    def backward(self, dy):
        xp = self.xp
        (x,) = self.inputs
        y = _expand(xp, self.output, self.axes, self.keepdims, x.ndim)
        zero = _array(_expand(np, self.out, self.axes, self.keepdims, x.ndim)) == 0
        safe = xp.where(zero, 1, y) if zero.any() else y
        return _expand(xp, dy, self.axes, self.keepdims, x.ndim) * (x / safe)


def norm(input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """The p-norm over `dim` (all elements if None): 2 / 'fro' (default), 1, inf, -inf or any p > 0."""
    from .unary import abs as _abs

    t = _float(as_tensor(input))
    axes = normalize_axes("norm", dim, None, t.ndim)
    if p in (2, 2.0, "fro"):
        return Norm2.apply(t, axes=axes, keepdims=keepdim)
    if p in (np.inf, float("inf")):
        return amax(_abs(t), dim=axes, keepdim=keepdim)
    if p in (-np.inf, float("-inf")):
        return amin(_abs(t), dim=axes, keepdim=keepdim)
    if p in (1, 1.0):
        return sum(_abs(t), dim=axes, keepdim=keepdim)
    if isinstance(p, str):  # an order PyTorch does not know either: its RuntimeError
        raise RuntimeError(f"norm: p must be 'fro', inf, -inf or a positive number, got {p!r}")
    if p <= 0:  # PyTorch computes these; matgrad does not (yet)
        raise ValueError(f"norm: p must be 'fro', inf, -inf or a positive number, got {p!r}")
    return sum(_abs(t) ** p, dim=axes, keepdim=keepdim) ** (1.0 / p)


def var_mean(input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool | None = None, *,
             correction: Any = None, axis: Any = None, keepdims: bool | None = None) -> tuple[Tensor, Tensor]:
    """(var, mean) over `dim`, with var's arguments (unbiased by default)."""
    if isinstance(unbiased, (int, tuple, list)) and not isinstance(unbiased, bool) and dim is None:
        dim, unbiased = unbiased, None
    v = var(input, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
    return v, mean(_float(as_tensor(input)), dim, keepdim, axis=axis, keepdims=keepdims)


def std_mean(input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool | None = None, *,
             correction: Any = None, axis: Any = None, keepdims: bool | None = None) -> tuple[Tensor, Tensor]:
    """(std, mean) over `dim`, with std's arguments (unbiased by default)."""
    if isinstance(unbiased, (int, tuple, list)) and not isinstance(unbiased, bool) and dim is None:
        dim, unbiased = unbiased, None
    s = std(input, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
    return s, mean(_float(as_tensor(input)), dim, keepdim, axis=axis, keepdims=keepdims)



class NanSum(Op):
    """y = Σ x over axes, nan counted as 0.  dy/dx = 1 where x is not nan, 0 at the nans."""

    def forward(self, x, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims
        self.real = ~np.isnan(x)
        return np.nansum(x, axis=axes, keepdims=keepdims)

    def backward(self, dy):
        x = self.input_arrays[0]
        with np.errstate(invalid="ignore"):  # an inf gradient (nanmean of all nan) times 0 is nan, as PyTorch
            return _expand(self.xp, dy, self.axes, self.keepdims, x.ndim) * self.real.astype(x.dtype)


def nansum(input: Any, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,
           keepdims: bool | None = None, dtype: Any = None) -> Tensor:
    """Sum over `dim` treating nan as 0 (its gradient is 0 at the nans); integers sum as int64."""
    t = as_tensor(input)
    if dtype is not None:
        t = t.to(dtype)
    if t.array.dtype.kind not in "fc":
        return sum(t, dim, keepdim, axis=axis, keepdims=keepdims)
    return NanSum.apply(t, axes=normalize_axes("nansum", dim, axis, t.ndim), keepdims=_keep(keepdim, keepdims))


def nanmean(input: Any, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,
            keepdims: bool | None = None, dtype: Any = None) -> Tensor:
    """Mean over `dim` of the elements that are not nan (nan where all are)."""
    t = as_tensor(input)
    if dtype is not None:
        t = t.to(dtype)
    if t.array.dtype.kind not in "fc":
        raise TypeError(f"nanmean: expected input to have floating point dtype, got {t.array.dtype}, as PyTorch")
    axes, keep = normalize_axes("nanmean", dim, axis, t.ndim), _keep(keepdim, keepdims)
    count = np.sum(~np.isnan(t.array), axis=axes, keepdims=keep)
    with np.errstate(divide="ignore"):
        inv = _array(np.divide(1, count, dtype=t.array.dtype))  # inf where all are nan: 0 · inf = nan
    with np.errstate(invalid="ignore"):
        return NanSum.apply(t, axes=axes, keepdims=keep) * Tensor._make(inv, None, False)


AminmaxResult = namedtuple("aminmax", ["min", "max"])


def aminmax(input: Any, *, dim: int | None = None, keepdim: bool = False) -> AminmaxResult:
    """(min, max) over one dim (of all elements if None), each with amin's and amax's gradient."""
    t = as_tensor(input)
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"aminmax: dim must be an int or None, got {dim!r}")
    axes = normalize_axes("aminmax", dim, None, t.ndim)
    if t.array.size == 0 and axes is None:
        raise RuntimeError(f"aminmax(): cannot compute aminmax over an empty dimension (input shape {t.shape}) "
                           "as the operation has no identity")
    check_not_empty("aminmax", t.shape, axes)
    keep = bool(keepdim)
    return AminmaxResult(AMin.apply(t, axes=axes, keepdims=keep), AMax.apply(t, axes=axes, keepdims=keep))
