"""torch.backends.mkldnn (oneDNN): not used by matgrad; `enabled` is accepted and changes nothing."""
from __future__ import annotations

import contextlib
import sys
from typing import Any, Iterator

from ._flags import FlagModule

enabled = True
deterministic = False


def is_available() -> bool:
    """False: matgrad does not use oneDNN."""
    return False


@contextlib.contextmanager
def flags(enabled: bool = False, deterministic: bool = False) -> Iterator[None]:
    """Set `enabled` and `deterministic` for a block, then restore them (no effect on matgrad)."""
    module: Any = sys.modules[__name__]
    before = (module.enabled, module.deterministic)
    module.enabled, module.deterministic = enabled, deterministic
    try:
        yield
    finally:
        module.enabled, module.deterministic = before


class _MkldnnModule(FlagModule):
    _BOOL_FLAGS = {"enabled": "set_enabled_mkldnn", "deterministic": "set_deterministic_mkldnn"}


sys.modules[__name__].__class__ = _MkldnnModule
