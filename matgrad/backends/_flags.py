"""The settings behind matgrad.backends and the top-level determinism/precision switches, kept in one place."""
from __future__ import annotations

import types
from typing import Any

# torch.get_float32_matmul_precision(): NumPy (and CuPy, without CUPY_TF32) always multiply float32 in full
# float32, so this is only remembered; "high"/"medium" are where torch would allow TF32 or bf16 internally
state: dict[str, Any] = {
    "float32_matmul_precision": "highest",
    "deterministic": False,
    "deterministic_warn_only": False,
}


def check_bool(value: Any, setter: str) -> bool:
    """value, if it is a bool; else PyTorch's RuntimeError naming its C++ setter."""
    if not isinstance(value, bool):
        raise RuntimeError(f"{setter} expects a bool, but got {type(value).__name__}")
    return value


class FlagModule(types.ModuleType):
    """A module whose boolean flags refuse non-bools on assignment, as torch.backends' modules do."""

    _BOOL_FLAGS: dict[str, str] = {}  # flag name -> the setter PyTorch names in its error

    def __setattr__(self, name: str, value: Any) -> None:
        setter = type(self)._BOOL_FLAGS.get(name)
        if setter is not None:
            check_bool(value, setter)
        super().__setattr__(name, value)
