"""Fractional max pooling (Graham, 2014): fractional_max_pool2d and fractional_max_pool3d.

Each (sample, channel) plane gets one random number u per spatial dimension; from it PyTorch's
kernel places the windows: with α = (in - k)/(out - 1), window i starts at ⌊(i + u)·α⌋ - ⌊u·α⌋
(computed in the input's dtype, as PyTorch), the last at in - k. The maximum of each window is then
gathered from the input (a differentiable gather: the gradient goes to the argmax, as max pooling).
Window positions are made on the host (they depend only on u and the shapes); values stay on x's device.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import random as _random
from ..devices import move, to_host
from ..tensor import Tensor, as_tensor
from .pooling import _gather_planes

#: The sample each spatial dimension takes, as PyTorch's kernels: 2-d (H, W) take u[1], u[0]; 3-d (T, H, W) u[0..2].
_SAMPLE = {2: (1, 0), 3: (0, 1, 2)}
_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _ints(op: str, name: str, v: Any, nd: int) -> tuple[int, ...]:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        v = (v,) * nd
    if not (isinstance(v, (tuple, list)) and len(v) == nd and all(isinstance(i, (int, np.integer)) for i in v)):
        raise RuntimeError(f"{op}: {name} must either be a single Int or tuple of {nd} Ints, got {v!r}")
    return tuple(int(i) for i in v)


def intervals(u: np.ndarray, size: int, out: int, k: int) -> np.ndarray:
    """Window starts (*u.shape, out) for samples u, as PyTorch's generate_intervals (in u's dtype)."""
    seq = np.empty(u.shape + (out,), np.int64)
    if out > 1:
        alpha = u.dtype.type(size - k) / u.dtype.type(out - 1)
        i = np.arange(out - 1).astype(u.dtype)
        # astype(int64) truncates toward zero, as the kernel's static_cast<int>
        seq[..., :-1] = ((i + u[..., None]) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)[..., None]
    if out > 0:
        seq[..., -1] = size - k
    return seq


def _candidates(samples: np.ndarray, shape: tuple[int, ...], out: tuple[int, ...], k: tuple[int, ...]) -> np.ndarray:
    """The flat in-plane index of every window element: (N, C, *out, k₁·k₂·…), windows in raster order."""
    nd = len(out)
    n, c = samples.shape[:2]
    plane_strides = [int(np.prod(shape[d + 1:], dtype=np.int64)) for d in range(nd)]
    flat = np.zeros((n, c) + out + k, np.int64)
    for d in range(nd):
        starts = intervals(samples[:, :, _SAMPLE[nd][d]], shape[d], out[d], k[d])  # (N, C, out_d)
        pos = starts[..., None] + np.arange(k[d])  # (N, C, out_d, k_d)
        view = [1] * (2 + 2 * nd)
        view[0], view[1], view[2 + d], view[2 + nd + d] = n, c, out[d], k[d]
        flat += pos.reshape(view) * plane_strides[d]
    return flat.reshape((n, c) + out + (-1,))


def _fractional_max_pool(nd: int, input: Any, kernel_size: Any, output_size: Any, output_ratio: Any,
                         return_indices: bool, _random_samples: Any) -> Any:
    op = f"fractional_max_pool{nd}d"
    x = as_tensor(input)
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(x.shape)}")
    if x.dtype.kind != "f":
        raise NotImplementedError(f"{op}: input must be floating, got {x.dtype}")
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x.unsqueeze(0)
    n, c, *shape = x.shape
    shape = tuple(shape)
    for d, v in enumerate(x.shape[1:]):
        if v == 0:
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch dimensions, but got"
                               f"{list(input.shape)} with dimension {d + (not unbatched)} being empty.")
    k = _ints(op, "kernel_size", kernel_size, nd)
    if min(k) < 1:
        raise RuntimeError(f"{op}: kernel_size must be positive, got {kernel_size!r}")
    if output_size is None:
        if output_ratio is None:
            raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
        ratio = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else (output_ratio,) * nd
        if len(ratio) != nd:
            raise ValueError(f"{op} requires output_ratio to either be a single float or a tuple of {nd} floats")
        out = tuple(int(s * r) for s, r in zip(shape, ratio))
    else:
        out = _ints(op, "output_size", output_size, nd)
    for name, o, kk, s in zip(_DIM_NAMES[nd], out, k, shape):
        if o + kk - 1 > s - (nd == 3):  # PyTorch's 3-d kernel asks for a strictly smaller span
            raise RuntimeError(f"{op}{'_out' if nd == 3 else ''}(): pool {name} {kk} too large relative to "
                               f"input {name} {s}")
        if o < 0:
            raise RuntimeError(f"{op}(): output_size must be non-negative, got {out}")
    if _random_samples is None:
        u = _random.default_generator().random((n, c, nd)).astype(x.dtype)
    else:
        s_arr = _random_samples.array if isinstance(_random_samples, Tensor) else np.asarray(_random_samples)
        if s_arr.ndim != 3:
            raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {s_arr.ndim}")
        if s_arr.shape[0] < n:
            raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
        if s_arr.shape[1] != c:
            raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
        if s_arr.shape[2] != nd:
            raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got {s_arr.shape[2]}.")
        if s_arr.dtype != x.dtype:
            raise RuntimeError("Expect _random_samples to have the same dtype as input")
        u = to_host(s_arr)[:n]
    flat = _candidates(u, shape, out, k)
    a = x.array
    if type(a) is not np.ndarray:  # the indices go where the data is
        flat = move(flat, x.device)
    vals = np.take_along_axis(a.reshape(n, c, -1), flat.reshape(n, c, -1), axis=2).reshape(flat.shape)
    arg = np.argmax(vals, axis=-1)  # the first maximum in raster order, as PyTorch ...
    nan = np.isnan(vals)
    if nan.any():  # ... but its kernel takes every nan it meets: the last one wins
        last = nan.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
        arg = np.where(nan.any(axis=-1), last, arg)
    idx = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
    y = _gather_planes(x, idx)
    if unbatched:
        y = y.squeeze(0)
        idx = idx[0]
    if return_indices:
        return y, Tensor._make(idx, None, False)
    return y


def fractional_max_pool2d(input: Any, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                          return_indices: bool = False, _random_samples: Any = None) -> Any:
    """Max over pseudo-random (kH, kW) windows of (N, C, H, W) or (C, H, W), as torch's fractional_max_pool2d.

    _random_samples (N, C, 2), in the input's dtype, places the windows (drawn from matgrad's generator if
    not given); with the same samples the result and indices equal PyTorch's. output_ratio may also be a
    single float (PyTorch's function wants a pair there).
    """
    return _fractional_max_pool(2, input, kernel_size, output_size, output_ratio, return_indices, _random_samples)


def fractional_max_pool3d(input: Any, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                          return_indices: bool = False, _random_samples: Any = None) -> Any:
    """Max over pseudo-random (kT, kH, kW) windows of (N, C, T, H, W) or (C, T, H, W), as PyTorch's.

    _random_samples is (N, C, 3); see fractional_max_pool2d.
    """
    return _fractional_max_pool(3, input, kernel_size, output_size, output_ratio, return_indices, _random_samples)


def fractional_max_pool2d_with_indices(input: Any, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Any = None) -> tuple[Tensor, Tensor]:
    """fractional_max_pool2d and the flat (H·W) index of each maximum; always both, as PyTorch's."""
    return _fractional_max_pool(2, input, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input: Any, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Any = None) -> tuple[Tensor, Tensor]:
    """fractional_max_pool3d and the flat (T·H·W) index of each maximum; always both, as PyTorch's."""
    return _fractional_max_pool(3, input, kernel_size, output_size, output_ratio, True, _random_samples)
