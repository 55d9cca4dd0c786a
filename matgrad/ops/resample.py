"""Resampling along axes: interpolate (nearest, linear/bilinear/trilinear, bicubic, area) and
the gather behind reflect / replicate / circular padding (matgrad/ops/pad.py).

Each of these maps is separable: along one axis at a time, output position i is a short
weighted sum of input positions, its *taps*

    y[.., i, ..] = Σₜ wₜ[i] · x[.., idxₜ[i], ..]           (nearest and pad: one tap of weight 1)

so the op is `AxisMap`: a `take` per tap along each axis, never a dense (out × in) matrix.
Its transpose `AxisMapT` adds each output value back to the input position it came from
(a sorted `np.add.reduceat`, not `np.add.at`). The two maps are each other's backward, so
gradients of gradients are the same two ops and create_graph works to any order.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..autograd.op import Op
from ..devices import device_of, move
from ..tensor import Tensor, as_tensor
from .conv import apply_in
from .reduction import EmptyInputError

#: One axis's map: (axis, n_in, taps), taps a tuple of (idx (n_out,) int64, weight (n_out,) or None).
AxisPlan = tuple[int, int, tuple[tuple[np.ndarray, Any], ...]]


def _wshape(w: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    shape = [1] * ndim
    shape[axis] = w.shape[0]
    return w.reshape(shape)


def _on(a: Any, like: Any) -> Any:
    """The host plan array `a` on `like`'s device (the plans are built once, on the host)."""
    return a if type(like) is np.ndarray or a is None else move(a, device_of(like))


def map_forward(x: np.ndarray, plans: Sequence[AxisPlan]) -> np.ndarray:
    """y = the taps of each plan applied along its axis, in order."""
    for axis, _, taps in plans:
        y = None
        for idx, w in taps:
            part = np.take(x, _on(idx, x), axis=axis)
            if w is not None:
                part *= _wshape(_on(w.astype(x.dtype, copy=False), x), axis, x.ndim)
            y = part if y is None else np.add(y, part, out=y)
        x = y
    return x


def _scatter_axis(y: np.ndarray, axis: int, n_in: int, idx: np.ndarray, out: np.ndarray) -> None:
    """out[.., idx[i], ..] += y[.., i, ..] along `axis` (repeats add up), by a sort and reduceat."""
    if not idx.size:
        return
    order = np.argsort(idx, kind="stable")  # idx is a host plan: the sort is planned there
    sidx = idx[order]
    starts = np.flatnonzero(np.r_[True, sidx[1:] != sidx[:-1]])
    sums = np.add.reduceat(np.take(y, _on(order, y), axis=axis), _on(starts, y), axis=axis)
    where = [slice(None)] * y.ndim
    where[axis] = _on(sidx[starts], y)
    out[tuple(where)] += sums


def map_transpose(y: np.ndarray, plans: Sequence[AxisPlan]) -> np.ndarray:
    """x = the transpose of map_forward: each output value added back to the taps it came from."""
    for axis, n_in, taps in reversed(plans):
        shape = list(y.shape)
        shape[axis] = n_in
        out = np.zeros_like(y, shape=shape)
        for idx, w in taps:
            part = y if w is None else y * _wshape(_on(w.astype(y.dtype, copy=False), y), axis, y.ndim)
            _scatter_axis(part, axis, n_in, idx, out)
        y = out
    return y


class AxisMap(Op):
    """y = Tₖ…T₁ x, each Tᵢ a sparse tap map along one axis.  dx = T₁ᵀ…Tₖᵀ dy (AxisMapT)."""

    def forward(self, x, *, plans, name="AxisMap"):
        self.plans, self.label = plans, name
        return map_forward(x, plans)

    def backward(self, dy):
        return apply_in(self.xp, AxisMapT, dy, plans=self.plans, name=self.label)

    @property
    def name(self) -> str:
        return getattr(self, "label", "AxisMap")


class AxisMapT(Op):
    """x = T₁ᵀ…Tₖᵀ y, AxisMap's transpose (its backward).  dy = Tₖ…T₁ dx: the map is linear."""

    def forward(self, y, *, plans, name="AxisMap"):
        self.plans, self.label = plans, name
        return map_transpose(y, plans)

    def backward(self, dx):
        return apply_in(self.xp, AxisMap, dx, plans=self.plans, name=self.label)

    @property
    def name(self) -> str:
        return getattr(self, "label", "AxisMap") + "Transpose"


def axis_map(x: Tensor, plans: Sequence[AxisPlan], name: str) -> Tensor:
    """Apply the plans to x differentiably (as the op `name`)."""
    return AxisMap.apply(x, plans=tuple(plans), name=name)


# --- interpolate ------------------------------------------------------------------------
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_LINEAR_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _source(n_in: int, n_out: int, scale: float | None, align_corners: bool, cubic: bool) -> np.ndarray:
    """Source coordinate of each output position, as PyTorch's area_pixel_compute_source_index."""
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        return dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    s = (1.0 / scale) if scale is not None and scale > 0 else n_in / n_out
    src = (dst + 0.5) * s - 0.5
    return src if cubic else np.maximum(src, 0.0)


def _nearest_taps(n_in: int, n_out: int, scale: float | None, exact: bool) -> tuple:
    # PyTorch computes these in float32: the same rounding picks the same pixel at exact halves
    s = np.float32((1.0 / scale) if scale is not None and scale > 0 else n_in / n_out)
    dst = np.arange(n_out, dtype=np.float32)
    src = np.floor((dst + np.float32(0.5)) * s) if exact else np.floor(dst * s)
    return ((np.minimum(src, n_in - 1).astype(np.int64), None),)


def _linear_taps(n_in: int, n_out: int, scale: float | None, align_corners: bool) -> tuple:
    src = _source(n_in, n_out, scale, align_corners, False)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    l1 = src - i0
    return ((i0, 1.0 - l1), (i1, l1))


def _cubic_taps(n_in: int, n_out: int, scale: float | None, align_corners: bool) -> tuple:
    a = -0.75  # PyTorch's cubic convolution coefficient
    src = _source(n_in, n_out, scale, align_corners, True)
    i0 = np.floor(src).astype(np.int64)
    t = src - i0

    def near(d):  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    ws = (far(t + 1), near(t), near(1 - t), far(2 - t))
    return tuple((np.clip(i0 - 1 + k, 0, n_in - 1), ws[k]) for k in range(4))


def interpolate(input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims (all after N, C), as torch.nn.functional.interpolate."""
    x = as_tensor(input)
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported; use one of {_MODES}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    k = x.ndim - 2
    if k < 1 or k > 3:
        raise NotImplementedError(f"interpolate: Only 3D, 4D and 5D input Tensors supported (N, C, ...), got shape "
                                  f"{tuple(x.shape)}")
    if mode in _LINEAR_DIMS and _LINEAR_DIMS[mode] != k:
        raise NotImplementedError(
            f"Got {x.ndim}D input, but {mode} mode needs {_LINEAR_DIMS[mode] + 2}D input"
        )
    linear = mode in _LINEAR_DIMS
    if align_corners is not None and not linear:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"
        )
    align = bool(align_corners)
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    if x.dtype.kind != "f":
        raise TypeError(f"interpolate: expected a floating input, got {x.dtype}")
    in_sizes = tuple(x.shape[2:])
    if size is not None:
        sizes = tuple(int(s) for s in size) if isinstance(size, (tuple, list)) else (int(size),) * k
        if len(sizes) != k:
            raise ValueError(
                f"Input and output must have the same number of spatial dimensions, but got input with "
                f"spatial dimensions of {list(in_sizes)} and output size of {list(sizes)}. Please provide input "
                "tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format."
            )
        scales: tuple[float | None, ...] = (None,) * k
    else:
        sf = tuple(float(s) for s in scale_factor) if isinstance(scale_factor, (tuple, list)) \
            else (float(scale_factor),) * k
        if len(sf) != k:
            raise ValueError(
                f"Input and scale_factor must have the same number of spatial dimensions, but got input with "
                f"spatial dimensions of {list(in_sizes)} and scale_factor of shape {list(sf)}."
            )
        sizes = tuple(int(math.floor(n * f)) for n, f in zip(in_sizes, sf))
        scales = (None,) * k if recompute_scale_factor else sf
    if min(sizes) <= 0 or min(in_sizes) <= 0:
        raise EmptyInputError(f"interpolate: input {in_sizes} and output {sizes} sizes should be greater than 0 "
                              "(the batch dim may be 0)")
    if mode == "area":
        from .pooling import adaptive_avg_pool2d

        if k != 2:
            raise NotImplementedError("interpolate: mode='area' is supported for 4-D input only")
        return adaptive_avg_pool2d(x, sizes)
    plans = []
    for i, (n_in, n_out, sc) in enumerate(zip(in_sizes, sizes, scales)):
        if mode in ("nearest", "nearest-exact"):
            taps = _nearest_taps(n_in, n_out, sc, mode == "nearest-exact")
        elif mode == "bicubic":
            taps = _cubic_taps(n_in, n_out, sc, align)
        else:
            taps = _linear_taps(n_in, n_out, sc, align)
        plans.append((2 + i, n_in, taps))
    name = {"nearest-exact": "UpsampleNearestExact", "nearest": "UpsampleNearest"}.get(mode, "Upsample" + mode.title())
    return axis_map(x, plans, f"{name}{k}d")
