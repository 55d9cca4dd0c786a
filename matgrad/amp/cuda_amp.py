"""`matgrad.cuda.amp`: torch.cuda.amp's deprecated spellings of GradScaler and autocast, warning as torch's do.

`from matgrad.cuda.amp import GradScaler, autocast` works (this module is registered under that name);
each class is `matgrad.amp`'s with device "cuda" fixed, and making one gives torch's FutureWarning.
"""
from __future__ import annotations

import warnings
from typing import Any

from . import autocast_mode, custom, grad_scaler
from .grad_scaler import OptState  # noqa: F401  (torch.cuda.amp.grad_scaler keeps it importable)

__all__ = ["GradScaler", "autocast", "custom_fwd", "custom_bwd"]


class GradScaler(grad_scaler.GradScaler):
    """matgrad.amp.GradScaler("cuda", ...); deprecated, as torch.cuda.amp.GradScaler."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        warnings.warn("`matgrad.cuda.amp.GradScaler(args...)` is deprecated. "
                      "Please use `matgrad.amp.GradScaler('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor, backoff_factor=backoff_factor,
                         growth_interval=growth_interval, enabled=enabled)


class autocast(autocast_mode.autocast):  # noqa: N801 - PyTorch's name
    """matgrad.autocast("cuda", ...); deprecated, as torch.cuda.amp.autocast."""

    def __init__(self, enabled: bool = True, dtype: Any = None, cache_enabled: bool = True) -> None:
        warnings.warn("`matgrad.cuda.amp.autocast(args...)` is deprecated. "
                      "Please use `matgrad.amp.autocast('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        from ..dtypes import float16

        super().__init__("cuda", enabled=enabled, dtype=float16 if dtype is None else dtype,
                         cache_enabled=cache_enabled)


def custom_fwd(fwd: Any = None, *, cast_inputs: Any = None) -> Any:
    """matgrad.amp.custom_fwd(..., device_type="cuda"); deprecated, as torch.cuda.amp.custom_fwd."""
    warnings.warn("`matgrad.cuda.amp.custom_fwd(args...)` is deprecated. "
                  "Please use `matgrad.amp.custom_fwd(args..., device_type='cuda')` instead.", FutureWarning,
                  stacklevel=2)
    return custom.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd: Any) -> Any:
    """matgrad.amp.custom_bwd(..., device_type="cuda"); deprecated, as torch.cuda.amp.custom_bwd."""
    warnings.warn("`matgrad.cuda.amp.custom_bwd(args...)` is deprecated. "
                  "Please use `matgrad.amp.custom_bwd(args..., device_type='cuda')` instead.", FutureWarning,
                  stacklevel=2)
    return custom.custom_bwd(bwd, device_type="cuda")
