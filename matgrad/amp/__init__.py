"""`matgrad.amp`: mixed precision as torch.amp: `autocast` regions and `GradScaler` loss scaling.

`matgrad.cuda.amp` (torch.cuda.amp's deprecated spellings) is this package's `cuda_amp`, registered
under that name so that `from matgrad.cuda.amp import GradScaler, autocast` works.
"""
from __future__ import annotations

import sys

from . import autocast_mode, cuda_amp, grad_scaler
from .autocast_mode import (
    autocast,
    get_autocast_dtype,
    is_autocast_available,
    is_autocast_cache_enabled,
    is_autocast_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)
from .custom import custom_bwd, custom_fwd
from .grad_scaler import GradScaler

# matgrad.cuda is a module, not a package: `import matgrad.cuda.amp` finds cuda_amp under this name
# (matgrad.cuda.amp as an attribute comes from matgrad.cuda's __getattr__)
sys.modules.setdefault("matgrad.cuda.amp", cuda_amp)

__all__ = ["autocast", "GradScaler", "is_autocast_available", "is_autocast_enabled", "get_autocast_dtype",
           "set_autocast_enabled", "set_autocast_dtype", "is_autocast_cache_enabled", "grad_scaler",
           "autocast_mode", "custom_fwd", "custom_bwd"]
