"""torch.backends.cuda's switches, accepted and remembered; they change nothing in matgrad.

`matmul.allow_tf32` mirrors torch.get/set_float32_matmul_precision as in PyTorch, but NumPy and CuPy
multiply float32 in full float32 whatever it says. The scaled-dot-product-attention switches
(`enable_flash_sdp` ...) are remembered only: matgrad has one attention implementation, the math one.
`is_built()` says whether CuPy, matgrad's way to CUDA, can be imported.
"""
from __future__ import annotations

import importlib.util
from typing import Any

from ._flags import check_bool, state


class cuBLASModule:  # noqa: N801 - PyTorch's name
    """torch.backends.cuda.matmul: allow_tf32 and the reduced-precision reduction switches."""

    _names = ("allow_tf32", "allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction",
              "allow_fp16_accumulation", "fp32_precision")

    def __init__(self) -> None:
        object.__setattr__(self, "_values", {"allow_fp16_reduced_precision_reduction": True,
                                             "allow_bf16_reduced_precision_reduction": True,
                                             "allow_fp16_accumulation": False, "fp32_precision": "none"})

    def __getattr__(self, name: str) -> Any:
        if name == "allow_tf32":
            return state["float32_matmul_precision"] != "highest"
        if name in self._values:
            return self._values[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "allow_tf32":
            check_bool(value, "set_allow_tf32_cublas")
            state["float32_matmul_precision"] = "high" if value else "highest"
        elif name in ("allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction"):
            if not isinstance(value, (bool, tuple, list)):
                raise TypeError(f"{name} expects a bool or a tuple/list of bools, but got {type(value)}")
            self._values[name] = value
        elif name in self._values:
            self._values[name] = value
        else:
            raise AttributeError(f"Unknown attribute {name}")


matmul = cuBLASModule()

_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def is_built() -> bool:
    """Whether CuPy (matgrad's CUDA backend) is installed; `matgrad.cuda.is_available()` says if it runs."""
    return importlib.util.find_spec("cupy") is not None


def _set_sdp(kind: str, enabled: Any, setter: str) -> None:
    _sdp[kind] = check_bool(enabled, setter)


def flash_sdp_enabled() -> bool:
    """Whether flash attention is allowed (remembered only)."""
    return _sdp["flash"]


def enable_flash_sdp(enabled: bool) -> None:
    """Allow or forbid flash attention (remembered only: matgrad computes attention one way)."""
    _set_sdp("flash", enabled, "set_sdp_use_flash")


def mem_efficient_sdp_enabled() -> bool:
    """Whether memory-efficient attention is allowed (remembered only)."""
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    """Allow or forbid memory-efficient attention (remembered only)."""
    _set_sdp("mem_efficient", enabled, "set_sdp_use_mem_efficient")


def math_sdp_enabled() -> bool:
    """Whether the math attention is allowed (remembered only: matgrad always uses it)."""
    return _sdp["math"]


def enable_math_sdp(enabled: bool) -> None:
    """Allow or forbid the math attention (remembered only)."""
    _set_sdp("math", enabled, "set_sdp_use_math")


def cudnn_sdp_enabled() -> bool:
    """Whether cuDNN attention is allowed (remembered only)."""
    return _sdp["cudnn"]


def enable_cudnn_sdp(enabled: bool) -> None:
    """Allow or forbid cuDNN attention (remembered only)."""
    _set_sdp("cudnn", enabled, "set_sdp_use_cudnn")
