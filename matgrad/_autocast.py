"""Autocast's state and its one cast helper, low enough for any op's entry point to import.

An op that autocast changes starts with one guarded line:

    if _autocast.on: input, weight, bias = _autocast.cast(_autocast.LOWER, input, weight, bias)

`on` is True only while some thread is inside an enabled `matgrad.autocast` region, so outside one
the cost is that single lookup. The state proper (enabled and dtype per device type) is per
thread, as torch's. `cast` gives back its arguments with the floating tensors on an
autocast-enabled device type converted by `Tensor.to`, which is differentiable: the gradient
reaches a float32 parameter in float32, as in torch. float64 tensors, integer tensors and
anything that is not a tensor pass through (torch's eligibility rule).

Policies (torch 2.13's op lists; CPU and CUDA differ):
    LOWER      to the autocast dtype on both (linear, matmul/mm/bmm, addmm/baddbmm/addbmm, einsum,
               linalg.vecdot, conv*, prelu, scaled_dot_product_attention; the RNN cells' products).
    LOWER_CUDA to the autocast dtype under CUDA autocast only (mv, addmv, addr; the RNN cells' states).
               dot and vdot are on neither list: they run in their inputs' dtype.
    FP32       to float32 on both (cross_entropy, nll_loss, mse_loss, l1_loss, smooth_l1_loss,
               huber_loss, kl_div, binary_cross_entropy_with_logits).
    FP32_CUDA  to float32 under CUDA autocast only; CPU autocast leaves them alone (softmax,
               log_softmax, layer_norm, group_norm).
    BCE        binary_cross_entropy: float32 under CPU autocast; under CUDA autocast a RuntimeError,
               as torch's (use binary_cross_entropy_with_logits).
"""
from __future__ import annotations

import threading
from typing import Any

from .dtypes import float16, float32
from .tensor import Tensor

#: True while any thread is in an enabled autocast region: the one check an op's entry point makes.
on = False

LOWER = "lower"
LOWER_CUDA = "lower_cuda"
FP32 = "fp32"
FP32_CUDA = "fp32_cuda"
BCE = "bce"  # binary_cross_entropy: float32 under CPU autocast, an error under CUDA autocast (torch's)

_BCE_UNSAFE = (
    "matgrad.nn.functional.binary_cross_entropy and matgrad.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using matgrad.nn.functional.binary_cross_entropy_with_logits\n"
    "or matgrad.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast.")

_lock = threading.Lock()
_active = 0  # enabled regions open, over all threads


class _State(threading.local):
    def __init__(self) -> None:
        self.enabled: dict[str, bool] = {"cpu": False, "cuda": False}
        # CPU's default in torch is bfloat16, which matgrad lacks: None makes autocast("cpu") ask for a dtype
        self.dtype: dict[str, Any] = {"cpu": None, "cuda": float16}
        self.cache_enabled = True
        self.nesting = 0


state = _State()


def region_opened(enabled: bool) -> None:
    """Count an autocast region in (call on entry); `on` follows whether any enabled one is open."""
    global on, _active
    if enabled:
        with _lock:
            _active += 1
            on = True


def region_closed(enabled: bool) -> None:
    """Count an autocast region out (call on exit, with the same `enabled`)."""
    global on, _active
    if enabled:
        with _lock:
            _active -= 1
            on = _active > 0


def cast(policy: str, *args: Any) -> tuple[Any, ...]:
    """args with each eligible floating tensor converted as `policy` says for its device type."""
    enabled, dtypes = state.enabled, state.dtype
    out = []
    for a in args:
        if isinstance(a, Tensor):
            kind = a.array.dtype
            dev = a.device.type
            if kind.kind == "f" and kind.itemsize != 8 and enabled.get(dev, False):
                if policy == LOWER or (policy == LOWER_CUDA and dev == "cuda"):
                    target = dtypes[dev]
                elif policy == LOWER_CUDA:
                    target = None
                elif policy == BCE and dev == "cuda":
                    raise RuntimeError(_BCE_UNSAFE)
                elif policy != FP32_CUDA or dev == "cuda":
                    target = float32
                else:
                    target = None
                if target is not None and kind != target.dtype:
                    a = a.to(target)
        out.append(a)
    return tuple(out)
