"""matgrad.signal: torch.signal's counterpart (its one submodule, `windows`)."""
from __future__ import annotations

from . import windows

__all__ = ["windows"]
