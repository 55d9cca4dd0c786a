"""affine_grid and grid_sample, as torch.nn.functional's: the pair behind spatial transformer networks.

    affine_grid(θ (N, 2, 3), (N, C, H, W)) -> grid (N, H, W, 2)       grid = [x, y, 1] · θᵀ
    grid_sample(x (N, C, H, W), grid (N, Hₒ, Wₒ, 2)) -> y (N, C, Hₒ, Wₒ)   (and 5-D: (N, C, D, H, W))

grid_sample is composed of differentiable ops, so its gradients (to the input and to the grid)
and their gradients come from theirs. Per spatial axis, the grid coordinate g ∈ [-1, 1] becomes a
pixel coordinate u (PyTorch's unnormalize), the padding mode maps u piecewise linearly into the
input (border: clip; reflection: reflect, then clip), and each output value is a weighted sum of
`gather`ed taps: 2ᵏ corners (bilinear), 1 (nearest), 4×4 (bicubic, 4-D only). Where PyTorch's
gradient is one-sided or zero (at the clip borders, at integer coordinates) this follows
PyTorch's kernels: the borders count as outside (gradient 0), floor picks the tap at an integer.
"""
from __future__ import annotations

import itertools
import warnings
from typing import Any, Sequence

import numpy as np

from ..devices import device_of, move
from ..tensor import Tensor, as_tensor
from .binary import where
from .matmul import matmul
from .scatter import gather
from .shape import reshape

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                  "grid_sample for details.")
_CUBIC_A = -0.75  # PyTorch's cubic convolution coefficient


def _const(a: Any, like: Tensor, dtype: Any = None) -> Tensor:
    """A constant (no gradient) of `dtype` (like's by default) on like's device; `a` on the host or there."""
    a = (a if hasattr(a, "__array_function__") else np.asarray(a)).astype(dtype or like.array.dtype, copy=False)
    if type(a) is np.ndarray and type(like.array) is not np.ndarray:
        a = move(a, device_of(like.array))
    return Tensor._make(a, None, False)


# --- affine_grid ------------------------------------------------------------------------------
def _linspace(n: int, align_corners: bool) -> np.ndarray:
    """PyTorch's linspace_from_neg_one: n points over [-1, 1], pulled in by (n-1)/n without align_corners."""
    if n <= 1:
        return np.zeros(max(n, 0))
    steps = np.linspace(-1.0, 1.0, n)
    return steps if align_corners else steps * ((n - 1) / n)


def affine_grid(theta: Any, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """The sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of the affine maps θ (N, 2, 3) (or (N, 3, 4))."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    t = as_tensor(theta)
    if t.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got {t.dtype}")
    size = [int(s) for s in size]
    k = len(size) - 2
    if k not in (2, 3):
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if t.ndim != 3 or t.shape[-2:] != (k, k + 1):
        raise ValueError(f"Expected a batch of {k}D affine matrices of shape Nx{k}x{k + 1} for size {size}. "
                         f"Got {tuple(t.shape)}.")
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", UserWarning, stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if t.shape[0] != size[0]:
        raise RuntimeError(f"affine_grid: theta holds {t.shape[0]} matrices, but size asks for a batch of "
                           f"{size[0]}; they must match")
    axes = [_linspace(n, align_corners) for n in spatial]  # (D,) H, W
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([m for m in reversed(mesh)] + [np.ones(spatial)], axis=-1)  # (.., [x, y, (z,) 1])
    base = _const(base.reshape(1, -1, k + 1), t)
    grid = matmul(base, t.transpose(1, 2))  # (N, Π spatial, k)
    return reshape(grid, (size[0], *spatial, k))


# --- grid_sample ------------------------------------------------------------------------------
def _unnormalize(g: Tensor, n: int, align_corners: bool) -> Tensor:
    """Grid coordinate in [-1, 1] -> pixel coordinate (PyTorch's grid_sampler_unnormalize)."""
    if align_corners:
        return ((g + 1) / 2) * (n - 1)
    return ((g + 1) * n - 1) / 2


def _reflect(u: Any, lo2: int, hi2: int) -> tuple[Any, Any]:
    """(u reflected into [lo2/2, hi2/2], its slope ±1), PyTorch's reflect_coordinates on arrays."""
    if lo2 == hi2:
        return u * 0, u * 0
    lo, span = lo2 / 2, (hi2 - lo2) / 2
    d = u - lo
    sign = np.where(d < 0, -1.0, 1.0).astype(u.dtype)
    a = np.abs(d)
    extra = np.fmod(a, span)
    odd = np.fmod(np.floor(a / span), 2) == 1
    return np.where(odd, span - extra + lo, extra + lo), np.where(odd, -sign, sign)


def _pad_coordinate(u: Any, n: int, padding_mode: str, align_corners: bool) -> tuple[Any, Any]:
    """(u mapped into the input by the padding mode, its slope du'/du) on arrays; zeros leaves u as it is."""
    slope = np.ones_like(u)
    if padding_mode == "zeros":
        return u, slope
    if padding_mode == "reflection":
        u, slope = _reflect(u, 0, 2 * (n - 1)) if align_corners else _reflect(u, -1, 2 * n - 1)
    inside = (u > 0) & (u < n - 1)  # the borders count as outside: gradient 0 there, as PyTorch
    return np.clip(u, 0, n - 1), np.where(inside, slope, 0).astype(u.dtype)


def _through(u: Tensor, value: Any, slope: Any) -> Tensor:
    """A tensor equal to `value` whose gradient to u is `slope` (both arrays beside u's)."""
    return _const(value, u) + (u - u.detach()) * _const(slope, u)


def _cubic_coefficients(t: Tensor) -> list[Tensor]:
    """The 4 cubic-convolution weights of taps floor(u)-1 .. floor(u)+2, t = u - floor(u)."""
    a = _CUBIC_A

    def near(d):  # |d| <= 1
        return ((d * (a + 2) - (a + 3)) * d) * d + 1

    def far(d):  # 1 < |d| < 2
        return ((d * a - 5 * a) * d + 8 * a) * d - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _check_grid_sample(x: Tensor, g: Tensor, mode: str, padding_mode: str) -> None:
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(
            f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    xs, gs = list(x.shape), list(g.shape)
    if x.ndim not in (4, 5) or g.ndim != x.ndim:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {xs} and grid with sizes {gs}")
    if gs[0] != xs[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {xs} and grid with sizes {gs}")
    if gs[-1] != x.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {x.ndim - 2} in last dimension, but got "
                           f"grid with sizes {gs}")
    for d in range(2, x.ndim):
        if xs[d] <= 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input has "
                               f"sizes {xs} with dimension {d} being empty")
    if x.dtype.kind != "f" or x.dtype != g.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to be floating point tensors of the same "
                           f"dtype, but got input {x.dtype} and grid {g.dtype}")
    if mode == "bicubic" and x.ndim != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")


def grid_sample(input: Any, grid: Any, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """y[n, c, *o] = x[n, c] sampled at grid[n, *o] (x, y[, z] in [-1, 1]); x (N, C, *S), grid (N, *O, k)."""
    x, g = as_tensor(input), as_tensor(grid)
    _check_grid_sample(x, g, mode, padding_mode)
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    n, c, sizes = x.shape[0], x.shape[1], tuple(x.shape[2:])
    k, out_shape = len(sizes), tuple(g.shape[1:-1])
    # per spatial axis (D,) H, W: the pixel coordinate u; grid's last axis holds them as (x, y[, z])
    us = [_unnormalize(g[..., k - 1 - d], sizes[d], align_corners) for d in range(k)]
    if mode == "bicubic":
        taps = _cubic_taps(us, sizes, padding_mode, align_corners)
    else:
        coords = us if padding_mode == "zeros" else \
            [_through(u, *_pad_coordinate(u.array, m, padding_mode, align_corners)) for u, m in zip(us, sizes)]
        taps = (_nearest_taps if mode == "nearest" else _linear_taps)(coords, sizes)
    flat = reshape(x, (n, c, int(np.prod(sizes))))  # not -1 (here and below): N may be 0
    strides = [int(np.prod(sizes[d + 1:])) for d in range(k)]
    out = None
    for idx, inside, weight in taps:  # idx: per axis an integer array (N, *O), clipped into the input
        pos = sum(i * s for i, s in zip(idx, strides)).reshape(n, 1, int(np.prod(out_shape)))
        pos = np.broadcast_to(pos, (n, c, pos.shape[-1]))
        vals = reshape(gather(flat, 2, pos), (n, c, *out_shape))
        if inside is not None:
            vals = where(_const(inside[:, None], x, bool), vals, 0.0)
        term = vals * weight.unsqueeze(1)
        out = term if out is None else out + term
    return out


def _in_range(i: Any, n: int) -> tuple[Any, Any]:
    """(i clipped into [0, n-1] as int64, whether it was inside) on arrays."""
    return np.clip(i, 0, n - 1).astype(np.int64), (i >= 0) & (i <= n - 1)


def _all(masks: list[Any]) -> Any:
    out = masks[0]
    for m in masks[1:]:
        out = out & m
    return out


def _linear_taps(coords: list[Tensor], sizes: tuple[int, ...]) -> list:
    """The 2ᵏ corners of each point: per axis index floor(u) with weight 1-t, floor(u)+1 with weight t."""
    lows = [np.floor(u.array) for u in coords]
    ts = [u - _const(lo, u) for u, lo in zip(coords, lows)]
    taps = []
    for corner in itertools.product((0, 1), repeat=len(coords)):
        pairs = [_in_range(lo + b, m) for lo, b, m in zip(lows, corner, sizes)]
        weight = None
        for b, t in zip(corner, ts):
            w = t if b else 1 - t
            weight = w if weight is None else weight * w
        taps.append(([p[0] for p in pairs], _all([p[1] for p in pairs]), weight))
    return taps


def _nearest_taps(coords: list[Tensor], sizes: tuple[int, ...]) -> list:
    """One tap, the nearest pixel (halves to even, as PyTorch's nearbyint); the grid gets gradient 0."""
    pairs = [_in_range(np.rint(u.array), m) for u, m in zip(coords, sizes)]
    weight = None
    for u in coords:  # 1, attached to the grid so that its gradient is 0 rather than none, as PyTorch
        w = (u - u.detach()) * 0.0 + 1.0
        weight = w if weight is None else weight * w
    return [([p[0] for p in pairs], _all([p[1] for p in pairs]), weight)]


def _cubic_taps(us: list[Tensor], sizes: tuple[int, ...], padding_mode: str, align_corners: bool) -> list:
    """4×4 taps around floor(u), each tap's index mapped by the padding mode (u itself is not)."""
    lows = [np.floor(u.array) for u in us]
    coefs = [_cubic_coefficients(u - _const(lo, u)) for u, lo in zip(us, lows)]
    taps = []
    for offs in itertools.product(range(4), repeat=len(us)):
        idx, masks, weight = [], [], None
        for d, j in enumerate(offs):
            i = lows[d] - 1 + j
            if padding_mode != "zeros":
                i = _pad_coordinate(i, sizes[d], padding_mode, align_corners)[0]
            ci, ok = _in_range(i, sizes[d])
            idx.append(ci)
            masks.append(ok)
            w = coefs[d][j]
            weight = w if weight is None else weight * w
        taps.append((idx, None if padding_mode != "zeros" else _all(masks), weight))
    return taps
