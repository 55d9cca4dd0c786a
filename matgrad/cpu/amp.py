"""`matgrad.cpu.amp`: torch.cpu.amp's deprecated spellings of autocast and GradScaler, warning as torch's do.

Each is `matgrad.amp`'s with device "cpu" fixed. torch's CPU autocast defaults to bfloat16, which matgrad
does not have: give dtype=matgrad.float16 (without it, an enabled region raises, as matgrad.autocast('cpu')).
"""
from __future__ import annotations

import warnings
from typing import Any

from ..amp import autocast_mode, grad_scaler

__all__ = ["autocast", "GradScaler"]


class autocast(autocast_mode.autocast):  # noqa: N801 - torch's name
    """matgrad.autocast("cpu", ...); deprecated, as torch.cpu.amp.autocast."""

    def __init__(self, enabled: bool = True, dtype: Any = None, cache_enabled: bool = True) -> None:
        warnings.warn("`matgrad.cpu.amp.autocast(args...)` is deprecated. "
                      "Please use `matgrad.amp.autocast('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(grad_scaler.GradScaler):
    """matgrad.amp.GradScaler("cpu", ...); deprecated, as torch.cpu.amp.GradScaler."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        warnings.warn("`matgrad.cpu.amp.GradScaler(args...)` is deprecated. "
                      "Please use `matgrad.amp.GradScaler('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", init_scale=init_scale, growth_factor=growth_factor, backoff_factor=backoff_factor,
                         growth_interval=growth_interval, enabled=enabled)
