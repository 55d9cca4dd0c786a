"""conv_tbc: 1-D convolution over (time, batch, channel) sequences, as torch.conv_tbc (fairseq's layout)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..devices import move, to_host
from ..ops.conv import conv1d
from ..tensor import Tensor, as_tensor


def _checked_pad(pad: Any) -> int:
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)):
        raise TypeError(f"conv_tbc(): argument 'pad' must be int, not {type(pad).__name__}")
    return int(pad)


def _integer_conv_tbc(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int, olen: int) -> np.ndarray:
    """out[t] = b + Σ_k x[t + k − pad] @ w[k], rows outside x counting as 0 (integers: no gradient)."""
    out = np.empty((olen,) + x.shape[1:2] + w.shape[2:], dtype=x.dtype)
    out[...] = b
    for k in range(w.shape[0]):
        lo, hi = max(0, pad - k), min(olen, x.shape[0] + pad - k)  # the output rows whose input row exists
        if hi > lo:
            out[lo:hi] += x[lo + k - pad:hi + k - pad] @ w[k]
    return out


def conv_tbc(input: Any, weight: Any, bias: Any, pad: int = 0) -> Tensor:
    """input (T, B, C_in), weight (kernel, C_in, C_out), bias (C_out,) → (T + 2·pad − kernel + 1, B, C_out).

    out[t, n] = bias + Σ_k input[t + k − pad, n] @ weight[k]: conv1d on the (B, C_in, T) view with the
    weight as (C_out, C_in, kernel), so gradients are conv1d's. A negative pad crops −pad steps at both ends.
    """
    x, w = as_tensor(input), as_tensor(weight)
    if bias is None or not isinstance(bias, (Tensor, np.ndarray)):
        raise TypeError(f"conv_tbc(): argument 'bias' must be Tensor, not {type(bias).__name__} "
                        "(for no bias pass zeros of shape (out_channels,))")
    b, pad = as_tensor(bias), _checked_pad(pad)
    if x.ndim != 3:
        raise RuntimeError(f"conv_tbc: input must have 3 dims: time, batch, in_channel; got shape {tuple(x.shape)}")
    if w.ndim != 3:
        raise RuntimeError("conv_tbc: weight tensor must have 3 dims: kernel_width, in_channels, out_channels; "
                           f"got shape {tuple(w.shape)}")
    if b.ndim != 1:
        raise RuntimeError(f"conv_tbc: bias must be 1-D, got shape {tuple(b.shape)}")
    if x.shape[2] != w.shape[1]:
        raise RuntimeError(f"conv_tbc: input dim 2 (input channels, {x.shape[2]}) is not == dim 1 in the weight "
                           f"tensor ({w.shape[1]})")
    if b.shape[0] != w.shape[2]:
        raise RuntimeError(f"conv_tbc: bias size ({b.shape[0]}) must equal dim 2 in the weight tensor "
                           f"(output channels, {w.shape[2]})")
    if not x.dtype == w.dtype == b.dtype:
        raise RuntimeError(f"conv_tbc: input, weight and bias must have the same dtype, got {x.dtype}, {w.dtype} "
                           f"and {b.dtype}")
    kernel = w.shape[0]
    olen = x.shape[0] - kernel + 1 + 2 * pad
    if olen < 0:
        raise RuntimeError(f"conv_tbc: the output would have negative length {olen} (time {x.shape[0]} + 2·pad "
                           f"{pad} − kernel {kernel} + 1); use a shorter kernel or more padding")
    if x.dtype.kind in "iu":
        out = _integer_conv_tbc(to_host(x.array), to_host(w.array), to_host(b.array), pad, olen)
        return Tensor._make(out if type(x.array) is np.ndarray else move(out, x.device), None, False)
    if x.dtype.kind != "f":
        raise NotImplementedError(f"conv_tbc: not implemented for {x.dtype}; convert to a float or integer dtype")
    if kernel == 0 or olen == 0:  # no taps (every step is the bias) or no step (conv1d needs at least one)
        return b.reshape(1, 1, -1).expand(olen, x.shape[1], b.shape[0])
    if pad < 0:  # cropping: the steps a negative pad removes never reach the output
        x, pad = x[-pad:x.shape[0] + pad], 0
    y = conv1d(x.permute(1, 2, 0), w.permute(2, 1, 0), b, padding=pad)
    return y.permute(2, 0, 1)
