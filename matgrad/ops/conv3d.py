"""3-D convolution as the 2-D one over the depth taps: conv3d and conv_transpose3d.

Shapes (PyTorch's): X (N, C, D, H, W), W (O, C/g, kD, kH, kW), Y (N, O, Dₒ, Hₒ, Wₒ). Output depth
plane z sees the input planes z·s + t·d - p, t < kD, so

    Y[:, :, z] = Σ_t conv2d(X[:, :, z·s + t·d - p], W[:, :, t])

and with the kD taps stacked along the channels, (N·Dₒ, kD·C, H, W) against W as (O, kD·C/g, kH, kW)
(each group's channels kept together, ordered (tap, channel)), the sum is one conv2d: a composition of
matgrad ops (slices, stack, reshapes, conv2d), so gradients of every order and the device come from
Conv2d, exactly. conv_transpose3d is its transpose: one conv_transpose2d whose output channels hold the
kD taps, tap t's planes then spread to depth z·s + t·d (zeros between them at stride > 1), summed and
cropped by the padding.

Measured against the other composition, kD conv2d calls (one per tap) summed, with /tmp timing scripts
(interleaved, 15-21 rounds, three runs) on a shared 2-core AMD EPYC, NumPy 2.4, PyTorch 2.13 on 2
threads: float32, batch 4, 8→16 channels, 16³, kernel 3, padding 1, forward + backward, medians
27-30 ms stacked, 35-41 ms summed, PyTorch 19-22 ms; conv_transpose3d 16→8 channels likewise 28-34 ms
stacked, 32-42 ms summed, PyTorch 19-22 ms. The stacked copy of the input (kD-fold) is what im2col makes
anyway, and kD·C channels reach conv2d's stride-1 shifted-products path where C alone does not.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _autocast
from ..tensor import ArgumentError, ShapeError, Tensor, as_tensor
from .conv import _wrong_kind, conv2d, conv_transpose2d, out_size

Triple = tuple[int, int, int]


def triple(op: str, name: str, v: Any) -> Triple:
    """An int or three ints as (d, h, w), or a clear error naming the argument."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v), int(v), int(v)
    if isinstance(v, (tuple, list)) and len(v) == 3 and all(
            isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in v):
        return int(v[0]), int(v[1]), int(v[2])
    raise _wrong_kind(v)(f"{op}: {name} must be an int or a tuple of three ints, got {v!r}")


def _batched(op: str, x: Tensor, w: Tensor, what: str) -> tuple[Tensor, bool]:
    if x.ndim not in (4, 5):
        raise ShapeError(f"{op}: expected input of shape (N, {what}, D, H, W) or ({what}, D, H, W), got {x.shape}")
    if w.ndim != 5:
        raise ShapeError(f"{op}: expected a 5-D weight, got shape {w.shape}")
    if x.dtype != w.dtype or x.dtype.kind != "f":
        raise ArgumentError(f"{op}: input ({x.dtype}) and weight ({w.dtype}) must be the same floating dtype; "
                        "convert one with .to(...)")
    return (x.unsqueeze(0), True) if x.ndim == 4 else (x, False)


def _conv3d(x: Tensor, w: Tensor, b: Any, s: Triple, p: Triple, d: Triple, groups: int) -> Tensor:
    """Y = conv2d(the kD taps stacked along the channels, W as (O, kD·C/g, kH, kW)); x already depth-padded."""
    from .join import stack

    n, c, dp, h, wd = x.shape
    o, cg, kd, kh, kw = w.shape
    do = out_size(dp, kd, s[0], 0, d[0])
    xv = x.reshape(n, groups, cg, dp, h, wd)
    # tap t as (N, Dₒ, g, C/g, H, W) views, stacked into (N, Dₒ, g, kD, C/g, H, W) by one copy: each group's
    # channels stay together, ordered (tap, channel) as W's are below
    taps = [xv[:, :, :, t * d[0]:t * d[0] + s[0] * (do - 1) + 1:s[0]].permute(0, 3, 1, 2, 4, 5) for t in range(kd)]
    st = stack(taps, 3).reshape(n * do, kd * c, h, wd)
    w2 = w.permute(0, 2, 1, 3, 4).reshape(o, kd * cg, kh, kw)
    y = conv2d(st, w2, b, s[1:], p[1:], d[1:], groups)
    return y.reshape(n, do, o, *y.shape[2:]).permute(0, 2, 1, 3, 4)


def _same(k: Triple, d: Triple) -> tuple[Triple, Triple]:
    """padding='same' at stride 1: (before, extra after) per dim, the odd pixel at the end (as PyTorch)."""
    total = [d[i] * (k[i] - 1) for i in range(3)]
    lo = tuple(t // 2 for t in total)
    return lo, tuple(t - 2 * q for t, q in zip(total, lo))  # type: ignore[return-value]


def conv3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-D cross-correlation, as torch.nn.functional.conv3d: input (N, C_in, D, H, W) or (C_in, D, H, W),
    weight (C_out, C_in/groups, kD, kH, kW); padding an int, three ints, 'valid' or 'same'."""
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, weight, bias = _autocast.cast(_autocast.LOWER, input, weight, bias)
    op = "conv3d"
    x, w = as_tensor(input), as_tensor(weight)
    x, unbatched = _batched(op, x, w, "C_in")
    s, d = triple(op, "stride", stride), triple(op, "dilation", dilation)
    k = tuple(w.shape[2:])
    extra = (0, 0, 0)
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ShapeError(f"{op}: padding must be an int, a tuple of three, 'valid' or 'same', got {padding!r}")
        if padding == "same" and s != (1, 1, 1):
            raise ShapeError(f"{op}: padding='same' needs stride 1, got stride {s}")
        p, extra = _same(k, d) if padding == "same" else ((0, 0, 0), (0, 0, 0))
    else:
        p = triple(op, "padding", padding)
    n, c = x.shape[:2]
    if groups < 1 or c % groups or w.shape[0] % groups:
        raise ShapeError(
            f"{op}: groups={groups} must divide both input channels ({c}) and output channels ({w.shape[0]})")
    if w.shape[1] * groups != c:
        raise ShapeError(f"{op}: weight {w.shape} expects {w.shape[1] * groups} input channels "
                         f"(weight.shape[1]·groups), but the input {x.shape} has {c}")
    if min(s + d) < 1 or min(p) < 0:
        raise ShapeError(f"{op}: stride {s} and dilation {d} must be positive and padding {p} not negative")
    size = tuple(out_size(x.shape[2 + i] + extra[i], k[i], s[i], p[i], d[i]) for i in range(3))
    if min(size) < 1:
        raise ShapeError(f"{op}: input {x.shape[2:]} padded by {p} is smaller than the kernel {k} at dilation "
                         f"{d}; output would be {size}")
    b = None
    if bias is not None:
        b = as_tensor(bias)
        if b.shape != (w.shape[0],):
            raise ShapeError(f"{op}: bias must have shape ({w.shape[0]},), got {b.shape}")
    y = _padded_conv3d(x, w, b, stride=s, padding=p, extra=extra, dilation=d, groups=groups)
    return y.squeeze(0) if unbatched else y


def _padded_conv3d(x: Tensor, w: Tensor, b: Tensor | None = None, *, stride: Triple, padding: Triple,
                   extra: Triple, dilation: Triple, groups: int) -> Tensor:
    """conv3d of checked arguments, x padded by `padding` each side and `extra` more at the end (padding='same''s
    odd pixel): one function of x, w and b, which matgrad.onnx.export records as one Conv node."""
    from .join import pad

    p = padding
    if p[0] or extra != (0, 0, 0):
        x = pad(x, (0, extra[2], 0, extra[1], p[0], p[0] + extra[0]))
    return _conv3d(x, w, b, stride, (0,) + p[1:], dilation, groups)


def conv_transpose3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """Transposed 3-D convolution (conv3d's input gradient), as torch.nn.functional.conv_transpose3d:
    input (N, C_in, D, H, W) or (C_in, D, H, W), weight (C_in, C_out/groups, kD, kH, kW); output size
    (D-1)·s - 2p + d·(k-1) + output_padding + 1 per dim."""
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, weight, bias = _autocast.cast(_autocast.LOWER, input, weight, bias)
    from .join import pad

    op = "conv_transpose3d"
    y, w = as_tensor(input), as_tensor(weight)
    y, unbatched = _batched(op, y, w, "C_in")
    s, p = triple(op, "stride", stride), triple(op, "padding", padding)
    d, o = triple(op, "dilation", dilation), triple(op, "output_padding", output_padding)
    n, c, di = y.shape[:3]
    if groups < 1 or w.shape[0] % groups or c != w.shape[0]:
        raise ShapeError(f"{op}: weight {w.shape} expects {w.shape[0]} input channels divisible by "
                         f"groups={groups}, but the input {y.shape} has {c}")
    if min(s + d) < 1 or min(p) < 0:
        raise ShapeError(f"{op}: stride {s} and dilation {d} must be positive and padding {p} not negative")
    if any(o[i] >= max(s[i], d[i]) or o[i] < 0 for i in range(3)):
        raise ShapeError(f"{op}: output_padding {o} must be smaller than stride {s} or dilation {d}")
    k = tuple(w.shape[2:])
    size = tuple((y.shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + o[i] + 1 for i in range(3))
    if min(size) < 1:
        raise ShapeError(f"{op}: padding {p} leaves no output from input {y.shape[2:]} (size {size})")
    cout = w.shape[1] * groups
    b = None
    if bias is not None:
        b = as_tensor(bias)
        if b.shape != (cout,):
            raise ShapeError(f"{op}: bias must have shape ({cout},), got {b.shape}")
    full = size[0] + 2 * p[0]  # the depth before the padding is cropped
    span = (di - 1) * s[0] + 1  # one tap's planes, s apart
    yr = y.permute(0, 2, 1, 3, 4).reshape(n * di, c, *y.shape[3:])
    # one conv_transpose2d whose output channels are each group's (tap, channel): W as (C_in, kD·C_out/g, kH, kW)
    w2 = w.permute(0, 2, 1, 3, 4).reshape(c, k[0] * w.shape[1], *k[1:])
    z = conv_transpose2d(yr, w2, None, s[1:], p[1:], o[1:], groups, d[1:])
    z = z.reshape(n, di, groups, k[0], w.shape[1], *z.shape[2:])
    x = None
    for t in range(k[0]):
        part = z[:, :, :, t].reshape(n, di, 1, cout, *z.shape[5:])
        if s[0] > 1:  # zeros between the planes: (N, D, s, ...) -> (N, D·s, ...), cut after the last plane
            part = pad(part, (0, 0, 0, 0, 0, 0, 0, s[0] - 1))
        part = part.reshape(n, di * s[0], cout, *part.shape[4:])[:, :span]
        part = pad(part, (0, 0, 0, 0, 0, 0, t * d[0], full - t * d[0] - span))
        x = part if x is None else x + part
    x = x[:, p[0]:p[0] + size[0]].permute(0, 2, 1, 3, 4)
    if b is not None:  # after the spreading: the planes between the taps' get it too
        x = x + b.reshape(cout, 1, 1, 1)
    return x.squeeze(0) if unbatched else x
