"""pad in PyTorch's four modes: constant (ops/join.py's Pad) and reflect, replicate, circular.

The non-constant modes are a gather along each padded axis: output position i (counted
from -before) reads input position

    reflect    |i| mirrored at both ends without repeating the edge  (before, after < size)
    replicate  i clipped to [0, size - 1]
    circular   i mod size (after any cropping)                       (before, after <= size)

so they run as resample.AxisMap with one tap of weight 1 per axis: y = x.take(idx, axis)
and dx = the scatter-add of dy back to idx (repeated indices add up). Negative pads crop.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..tensor import Tensor, as_tensor
from .join import pad as _constant_pad
from .resample import axis_map

MODES = ("constant", "reflect", "replicate", "circular")

_SUPPORTED = (
    "Supported combinations for non-constant padding:\n"
    "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
)


def _index(mode: str, n: int, lo: int, hi: int) -> np.ndarray:
    i = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":  # a negative pad crops first; the rest wraps within what is left
        c0 = -min(lo, 0)
        m = n + min(lo, 0) + min(hi, 0)
        if m <= 0:
            return np.zeros(0, dtype=np.int64)
        return c0 + np.mod(np.arange(-max(lo, 0), m + max(hi, 0)), m)
    i = np.abs(i)  # reflect: mirror at 0, then at n - 1
    return np.where(i > n - 1, 2 * (n - 1) - i, i)


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """torch.nn.functional.pad: `pad` lists (before, after) pairs starting from the last dim."""
    if mode == "constant":
        return _constant_pad(input, pad, "constant", 0.0 if value is None else value)
    if mode not in MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    x = as_tensor(input)
    pad = [int(p) for p in pad]
    k = len(pad) // 2
    if len(pad) % 2 or k not in (1, 2, 3) or x.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {x.ndim}D input tensor.\n{_SUPPORTED}"
        )
    shape = list(x.shape)
    if any(s == 0 for s in shape[1:]) or (x.ndim == k + 1 and shape[0] == 0):
        raise RuntimeError(
            f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other "
            f"non-zero dimensions for input, but got: {shape}"
        )
    plans = []
    for i in range(k):
        axis = x.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        n = shape[axis]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(
                "Padding size should be less than the corresponding input dimension, but got: "
                f"padding ({lo}, {hi}) at dimension {axis} of input {shape}"
            )
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if n + lo + hi < 0:
            raise RuntimeError(
                f"The input size {n}, plus negative padding {lo} and {hi} resulted in a negative output size, "
                f"which is invalid. Check dimension {axis} of your input."
            )
        if lo or hi:
            plans.append((axis, n, ((_index(mode, n, lo, hi), None),)))
    if not plans:
        return x.clone()
    names = {"reflect": "ReflectionPad", "replicate": "ReplicationPad", "circular": "CircularPad"}
    return axis_map(x, plans, f"{names[mode]}{k}d")
