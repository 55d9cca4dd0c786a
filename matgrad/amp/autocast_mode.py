"""`matgrad.autocast`: PyTorch's mixed-precision regions, as a context manager or a decorator.

    with matgrad.autocast("cuda"):                           # float16 by default on CUDA
        loss = loss_fn(model(x), y)
    with matgrad.autocast("cpu", dtype=matgrad.float16):     # CPU needs the dtype: see below
        ...

Inside an enabled region, the ops on torch's lists cast their floating inputs (not float64 ones)
on that device type: linear, matmul/mm/bmm, addmm/baddbmm/addbmm, the convolutions and
scaled_dot_product_attention to the autocast dtype; the losses (cross_entropy, nll_loss, mse_loss,
l1/smooth_l1/huber, kl_div, binary_cross_entropy_with_logits) to float32; and, under CUDA autocast
only, softmax, log_softmax, layer_norm and group_norm to float32 (torch's CPU list leaves those
alone). Every other op runs in its inputs' types, with the usual promotion. The casts are
recorded, so gradients reach float32 parameters in float32. The state is per thread, as torch's.

Differences from torch 2.13: torch's CPU default dtype is bfloat16, which matgrad does not have,
so `autocast("cpu")` without a dtype (outside an enabled CPU region) raises a RuntimeError asking
for `dtype=matgrad.float16`, and `get_autocast_dtype("cpu")` is None until one is set. There is
no weight cache (`cache_enabled` is kept and reported, the casts are made at each call). torch's
CUDA float32 list also names pointwise ops and reductions (exp, log, pow, sum, prod, cumsum,
norm, ...): matgrad does not cast those, they run in their inputs' type.
"""
from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

import numpy as np

from .. import _autocast
from ..devices import cuda_available
from ..dtypes import dtype as _dtype

__all__ = ["autocast", "is_autocast_available", "is_autocast_enabled", "get_autocast_dtype",
           "set_autocast_enabled", "set_autocast_dtype"]

_DEVICE_TYPES = ("cpu", "cuda")


def _device_type(device_type: Any, what: str) -> str:
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(f"{what}: expected a device type of 'cpu' or 'cuda', but got {device_type!r}")
    return device_type


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast can run on device_type ('cpu' and 'cuda')."""
    return device_type in _DEVICE_TYPES


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for device_type in this thread (CUDA's, as torch, without an argument)."""
    dev = "cuda" if device_type is None else _device_type(device_type, "is_autocast_enabled")
    return _autocast.state.enabled[dev]


def get_autocast_dtype(device_type: str) -> Any:
    """The dtype autocast casts to on device_type (float16 for CUDA; None for CPU until one is set)."""
    return _autocast.state.dtype[_device_type(device_type, "get_autocast_dtype")]


def set_autocast_enabled(device_type: str, enabled: bool) -> None:
    """Turn autocast on or off for device_type in this thread (what autocast's __enter__ does)."""
    dev = _device_type(device_type, "set_autocast_enabled")
    was = _autocast.state.enabled[dev]
    _autocast.state.enabled[dev] = bool(enabled)
    _autocast.region_closed(was)
    _autocast.region_opened(bool(enabled))


def set_autocast_dtype(device_type: str, dtype: Any) -> None:
    """Set the dtype autocast casts to on device_type in this thread."""
    _autocast.state.dtype[_device_type(device_type, "set_autocast_dtype")] = None if dtype is None else _dtype(dtype)


def is_autocast_cache_enabled() -> bool:
    """Whether autocast's weight cache is on (kept for torch's API; matgrad has no cache)."""
    return _autocast.state.cache_enabled


class autocast:  # noqa: N801 - PyTorch's name
    """A region (or decorated function) in which torch's listed ops run in mixed precision on device_type."""

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in _DEVICE_TYPES:
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}' "
                               "(matgrad's are 'cpu' and 'cuda')")
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else _dtype(dtype)
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        if enabled:
            if self.fast_dtype is None:
                raise RuntimeError("matgrad.autocast('cpu'): torch's CPU default dtype is bfloat16, which matgrad "
                                   "does not have; pass dtype=matgrad.float16, as in "
                                   "matgrad.autocast('cpu', dtype=matgrad.float16)")
            if self.device == "cuda":
                if not cuda_available():
                    warnings.warn("CUDA is not available. Disabling autocast.", stacklevel=2)
                    enabled = False
            elif self.fast_dtype != np.float16:
                warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                              "CPU Autocast only supports dtypes of matgrad.float16 currently (matgrad has "
                              "no bfloat16).", stacklevel=2)
                enabled = False
        self._enabled = bool(enabled)

    def __enter__(self) -> autocast:
        st = _autocast.state
        self.prev_cache_enabled = st.cache_enabled
        self.prev = st.enabled[self.device]
        self.prev_fastdtype = st.dtype[self.device]
        set_autocast_enabled(self.device, self._enabled)
        st.dtype[self.device] = self.fast_dtype
        st.nesting += 1
        st.cache_enabled = self._cache_enabled
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> bool:
        st = _autocast.state
        st.nesting -= 1
        set_autocast_enabled(self.device, self.prev)
        st.dtype[self.device] = self.prev_fastdtype
        st.cache_enabled = self.prev_cache_enabled
        return False

    def __call__(self, func: Callable) -> Callable:
        if not callable(func):
            raise TypeError(f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                            "Did you mean to use autocast as a context manager? For example:\n"
                            "    with matgrad.autocast(device_type=...):\n"
                            "        output = model(input)")

        @functools.wraps(func)
        def decorate_autocast(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return decorate_autocast
