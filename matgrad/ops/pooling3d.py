"""3-D pooling as the 2-D ops over every depth plane, then a reduction over the depth taps:
max_pool3d (with indices), avg_pool3d, adaptive_avg_pool3d, adaptive_max_pool3d, max_unpool3d.

X (N, C, D, H, W) viewed as (N, C·D, H, W) is C·D image planes: the 2-D op pools each plane's
(H, W) windows, and output depth plane z then reduces the kD pooled planes z·s + t·d - p (max, or
sum before the divisor). Each is a composition of matgrad ops (the 2-D pooling op, pad, slices,
stack, max/sum), so gradients of every order and the device come from them, exactly. The 2-D
max picks each plane's first maximum in (h, w) order and the depth max the first tap holding the
largest: together the first maximum in PyTorch's (d, h, w) scan order, ties included (reducing the
depth first would pick the first in (h, w, d) order).

Measured (/tmp timing script, interleaved, 15 rounds, two runs, shared 2-core AMD EPYC, float32
(4, 16, 16, 16, 16), forward + backward, medians): max_pool3d(2) 6.0-6.8 ms (PyTorch 2.0-2.1 ms);
avg_pool3d(3, 1, 1) 10.4-10.8 ms planes first, 8.9-10.6 ms with the depth sums first (PyTorch 13.7-14.3
ms): too close to give up one order for both.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..devices import backend_of, move
from ..tensor import ShapeError, Tensor, as_tensor
from .conv import out_size
from .conv3d import Triple, triple


def _five(op: str, input: Any) -> tuple[Tensor, bool]:
    """(N, C, D, H, W) from a floating 5-D or unbatched 4-D input, or a clear error."""
    x = as_tensor(input)
    if x.ndim not in (4, 5):
        raise ShapeError(f"{op}: expected input of shape (N, C, D, H, W) or (C, D, H, W), got {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating input, got {x.dtype}; convert it with .float()")
    return (x.unsqueeze(0), True) if x.ndim == 4 else (x, False)


def _window(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
            ceil_mode: bool) -> tuple[Triple, Triple, Triple, Triple, Triple]:
    """Kernel, stride (default: the kernel), padding, dilation and output size, checked as PyTorch does."""
    from .pooling import pool_size

    k = triple(op, "kernel_size", kernel_size)
    s = k if stride is None or stride == () or stride == [] else triple(op, "stride", stride)
    p, d = triple(op, "padding", padding), triple(op, "dilation", dilation)
    if min(k + s + d) < 1:
        raise ShapeError(f"{op}: kernel_size {k}, stride {s} and dilation {d} must be positive")
    if any(p[i] > k[i] // 2 for i in range(3)) or min(p) < 0:
        raise ShapeError(f"{op}: padding {p} should be at most half the kernel size {k}")
    size = tuple(pool_size(x.shape[2 + i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(3))
    if min(size) < 1:
        raise ShapeError(f"{op}: input {tuple(x.shape[2:])} is smaller than the window {k} (padding {p}, "
                         f"dilation {d}); output would be {size}")
    return k, s, p, d, size  # type: ignore[return-value]


def _planes(x: Tensor) -> Tensor:
    """(N, C, D, H, W) as (N, C·D, H, W): every depth plane an image for the 2-D ops (a view)."""
    n, c, dd, h, w = x.shape
    return x.reshape(n, c * dd, h, w)


def _depth_taps(y: Tensor, k: int, s: int, p: int, d: int, do: int, value: float) -> Tensor:
    """(N, C, kD, Dₒ, Hₒ, Wₒ): for output plane z, the planes z·s + t·d - p of y (N, C, D, Hₒ, Wₒ), `value`
    beyond its ends (ceil_mode's last window may reach past the padding too)."""
    from .join import pad, stack
    from .pooling import ceil_extra

    extra = ceil_extra(y.shape[2], k, s, p, d, do)
    if p or extra:
        y = pad(y, (0, 0, 0, 0, p, p + extra), value=value)
    return stack([y[:, :, t * d:t * d + s * (do - 1) + 1:s] for t in range(k)], 2)


def _unbatch(y: Tensor, unbatched: bool) -> Tensor:
    return y.squeeze(0) if unbatched else y


def max_pool3d_with_indices(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """max_pool3d and the int64 flat (D·H·W) index of each maximum; always both, as PyTorch's function."""
    from .pooling import max_pool2d_with_indices
    from .reduction import max as _max

    op = "max_pool3d"
    x, unbatched = _five(op, input)
    k, s, p, d, (do, ho, wo) = _window(op, x, kernel_size, stride, padding, dilation, ceil_mode)
    n, c, depth, h, w = x.shape
    y2, i2 = max_pool2d_with_indices(_planes(x), k[1:], s[1:], p[1:], d[1:], ceil_mode)
    y2, i2 = y2.reshape(n, c, depth, ho, wo), i2.array.reshape(n, c, depth, ho, wo)
    y, tap = _max(_depth_taps(y2, k[0], s[0], p[0], d[0], do, -np.inf), 2)
    xa = backend_of(i2).xp
    z = xa.arange(do).reshape(-1, 1, 1) * s[0] - p[0] + tap.array * d[0]  # the winner's input plane
    z = xa.clip(z, 0, depth - 1)  # (a window of -infs only may pick the padding: PyTorch's index is then 0's)
    flat = z * (h * w) + xa.take_along_axis(i2, z, axis=2)
    return _unbatch(y, unbatched), _unbatch(Tensor._make(flat, None, False), unbatched)


def max_pool3d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Maximum over each window of (N, C, D, H, W) or (C, D, H, W), as torch.nn.functional.max_pool3d."""
    if return_indices:
        return max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    op = "max_pool3d"
    x, unbatched = _five(op, input)
    k, s, p, d, size = _window(op, x, kernel_size, stride, padding, dilation, ceil_mode)
    return _unbatch(_max_pool3d(x, kernel=k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode, size=size),
                    unbatched)


def _max_pool3d(x: Tensor, *, kernel: Triple, stride: Triple, padding: Triple, dilation: Triple, ceil_mode: bool,
                size: Triple) -> Tensor:
    """max_pool3d of a checked (N, C, D, H, W) input to `size`: one function of x, which matgrad.onnx.export
    records as one MaxPool node."""
    from .pooling import max_pool2d
    from .reduction import max as _max

    k, s, p, d, (do, ho, wo) = kernel, stride, padding, dilation, size
    n, c, depth = x.shape[:3]
    y2 = max_pool2d(_planes(x), k[1:], s[1:], p[1:], d[1:], ceil_mode).reshape(n, c, depth, ho, wo)
    if k[0] == 1:
        return y2[:, :, ::s[0]] if s[0] > 1 else y2
    return _max(_depth_taps(y2, k[0], s[0], p[0], d[0], do, -np.inf), 2)[0]


def avg_pool3d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over each window of (N, C, D, H, W) or (C, D, H, W), as torch.nn.functional.avg_pool3d."""
    op = "avg_pool3d"
    x, unbatched = _five(op, input)
    k, s, p, _, size = _window(op, x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise ShapeError(f"{op}: divisor_override must not be zero")
    return _unbatch(_avg_pool3d(x, kernel=k, stride=s, padding=p, ceil_mode=ceil_mode,
                                count_include_pad=count_include_pad, divisor_override=divisor_override, size=size),
                    unbatched)


def avg_divisor(shape: tuple, k: Triple, s: Triple, p: Triple, size: Triple, count_include_pad: bool,
                divisor_override: int | None) -> float | np.ndarray:
    """avg_pool3d's divisor as PyTorch's: divisor_override, kD·kH·kW where every window holds that many pixels,
    else each window's count (padding included or not) as a (Dₒ, Hₒ, Wₒ) array."""
    from .pooling import window_counts

    if divisor_override:
        return float(divisor_override)
    whole = all(out_size(shape[2 + i], k[i], s[i], p[i], 1) == o for i, o in enumerate(size))
    if whole and (count_include_pad or p == (0, 0, 0)):  # every window k pixels: no ceil_mode window off the edge
        return float(k[0] * k[1] * k[2])
    cd, ch, cw = (window_counts(shape[2 + i], k[i], s[i], p[i], o, count_include_pad) for i, o in enumerate(size))
    return cd.reshape(-1, 1, 1) * ch.reshape(-1, 1) * cw


def _avg_pool3d(x: Tensor, *, kernel: Triple, stride: Triple, padding: Triple, ceil_mode: bool,
                count_include_pad: bool, divisor_override: int | None, size: Triple) -> Tensor:
    """avg_pool3d of a checked (N, C, D, H, W) input to `size`: one function of x, which matgrad.onnx.export
    records as one AveragePool node."""
    from .pooling import avg_pool2d

    k, s, p, (do, ho, wo) = kernel, stride, padding, size
    n, c, depth = x.shape[:3]
    sums = avg_pool2d(_planes(x), k[1:], s[1:], p[1:], ceil_mode, divisor_override=1).reshape(n, c, depth, ho, wo)
    sums = _depth_taps(sums, k[0], s[0], p[0], 1, do, 0.0).sum(2)
    div = avg_divisor(tuple(x.shape), k, s, p, size, count_include_pad, divisor_override)
    if isinstance(div, float):
        return sums / div
    div = div.astype(x.dtype)
    if type(x.array) is not np.ndarray:  # the divisor goes where the data is
        div = move(div, x.device)
    return sums / Tensor._make(div, None, False)


def _output_size(op: str, output_size: Any, x: Tensor) -> Triple:
    size = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 3
    if len(size) != 3:
        raise ShapeError(f"{op}: output_size must be an int or a tuple of three (None keeps a dim), "
                         f"got {output_size!r}")
    out = tuple(x.shape[2 + i] if v is None else int(v) for i, v in enumerate(size))
    if min(out) < 1:
        raise ShapeError(f"{op}: output_size must be positive, got {output_size!r}")
    return out  # type: ignore[return-value]


def adaptive_avg_pool3d(input: Any, output_size: Any) -> Tensor:
    """Mean over output_size (d, h, w) near-equal regions, as torch.nn.functional.adaptive_avg_pool3d: the
    (H, W) means of every plane, then the means over depth (a region's mean is separable)."""
    from .pooling import adaptive_avg_pool2d

    op = "adaptive_avg_pool3d"
    x, unbatched = _five(op, input)
    od, oh, ow = _output_size(op, output_size, x)
    n, c, depth = x.shape[:3]
    y = adaptive_avg_pool2d(_planes(x), (oh, ow)).reshape(n, c, depth, oh * ow)
    y = adaptive_avg_pool2d(y, (od, None)).reshape(n, c, od, oh, ow)
    return _unbatch(y, unbatched)


def _bounds(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive regions: [floor(i·size/out), ceil((i+1)·size/out)) for each output i."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def adaptive_max_pool3d_with_indices(input: Any, output_size: Any, return_indices: bool = False
                                     ) -> tuple[Tensor, Tensor]:
    """adaptive_max_pool3d and the int64 flat (D·H·W) index of each maximum; always both, as PyTorch's."""
    from .pooling import _gather_planes, _nonempty

    op = "adaptive_max_pool3d"
    shape = tuple(as_tensor(input).shape)
    _nonempty(op, shape, shape[1:])
    x, unbatched = _five(op, input)
    od, oh, ow = _output_size(op, output_size, x)
    n, c, depth, h, w = x.shape
    a = x.array
    flat = np.empty_like(a, shape=(n, c, od, oh, ow), dtype=np.int64)
    for i, (d0, d1) in enumerate(_bounds(depth, od)):
        for j, (r0, r1) in enumerate(_bounds(h, oh)):
            for q, (c0, c1) in enumerate(_bounds(w, ow)):
                region = a[:, :, d0:d1, r0:r1, c0:c1].reshape(n, c, (d1 - d0) * (r1 - r0) * (c1 - c0))  # N may be 0
                am = np.argmax(region, axis=-1)  # the first maximum in (d, h, w) order (a nan counts as the max)
                rd, rest = np.divmod(am, (r1 - r0) * (c1 - c0))
                rh, rw = np.divmod(rest, c1 - c0)
                flat[:, :, i, j, q] = ((d0 + rd) * h + r0 + rh) * w + c0 + rw
    y = _gather_planes(x, flat)
    return _unbatch(y, unbatched), _unbatch(Tensor._make(flat, None, False), unbatched)


def adaptive_max_pool3d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Maximum over output_size (d, h, w) near-equal regions, as torch.nn.functional.adaptive_max_pool3d."""
    y, idx = adaptive_max_pool3d_with_indices(input, output_size)
    return (y, idx) if return_indices else y


def adaptive_max_pool2d_with_indices(input: Any, output_size: Any, return_indices: bool = False
                                     ) -> tuple[Tensor, Tensor]:
    """adaptive_max_pool2d and the flat (H·W) index of each maximum; always both, as PyTorch's."""
    from .pooling import adaptive_max_pool2d

    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool1d_with_indices(input: Any, output_size: Any, return_indices: bool = False
                                     ) -> tuple[Tensor, Tensor]:
    """adaptive_max_pool1d and the index (along L) of each maximum; always both, as PyTorch's."""
    from .pooling import adaptive_max_pool1d

    return adaptive_max_pool1d(input, output_size, True)


def max_unpool3d(input: Any, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """max_pool3d's partial inverse: each value put back at its flat (D·H·W) index in a zero volume."""
    from .pooling import MaxUnpool2d

    op = "max_unpool3d"
    x = as_tensor(input)
    ind = indices.array if isinstance(indices, Tensor) else np.asarray(indices)
    if type(ind) is not type(x.array):  # the indices go where the data is
        ind = move(ind, x.device)
    if ind.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer tensor, got {ind.dtype}")
    if tuple(ind.shape) != tuple(x.shape):
        raise ShapeError(f"{op}: Expected shape of indices to be same as that of the input tensor "
                         f"({tuple(x.shape)}) but got indices tensor with shape: {tuple(ind.shape)}")
    x, unbatched = _five(op, x)
    ind = ind.reshape(x.shape)
    k = triple(op, "kernel_size", kernel_size)
    s = k if stride is None or stride == () or stride == [] else triple(op, "stride", stride)
    p = triple(op, "padding", padding)
    n, c = x.shape[:2]
    if output_size is None:
        size = tuple((x.shape[2 + i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(3))
    else:
        size = tuple(int(v) for v in output_size)[-3:]
        if len(size) != 3:
            raise ShapeError(f"{op}: output_size must end with (D, H, W), got {output_size!r}")
    volume = size[0] * size[1] * size[2]
    if ind.size and (ind.min() < 0 or ind.max() >= volume):
        bad = int(ind.max() if ind.max() >= volume else ind.min())
        raise IndexError(f"{op}: Found an invalid max index: {bad} (output volumes are of size "
                         f"{size[0]}x{size[1]}x{size[2]})")
    base = (backend_of(ind).xp.arange(n * c, dtype=np.int64) * volume).reshape(n, c, 1, 1, 1)
    flat = (base + ind.astype(np.int64)).ravel()
    return _unbatch(MaxUnpool2d.apply(x, flat=flat, shape=(n, c) + size), unbatched)
