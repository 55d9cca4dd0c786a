"""skip_init: build a module without running its parameter initialisation's contract."""
from __future__ import annotations

import inspect
from typing import Any


def skip_init(module_cls: type, *args: Any, **kwargs: Any) -> Any:
    """module_cls(*args, **kwargs) whose parameters' values are unspecified (initialise them yourself).

    As torch, the module must take a `device` argument. matgrad has no meta device, so the
    module's own initialisation still runs; only the contract (values not to be relied on) is torch's.
    """
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    return module_cls(*args, **kwargs)
