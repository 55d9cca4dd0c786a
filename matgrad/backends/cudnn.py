"""torch.backends.cudnn's flags, accepted and remembered; they change nothing in matgrad.

matgrad's convolutions are im2col + matrix products on NumPy (or CuPy) arrays: there is no cuDNN to
tune (`benchmark`), no nondeterministic kernel to avoid (`deterministic`: matgrad's CPU results are
the same on every run) and no TF32 (`allow_tf32`). So `is_available()` is False and `version()` None.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Any, Iterator

from ._flags import FlagModule

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True
benchmark_limit = None
fp32_precision = "none"
depthwise_kernel = "auto"


def is_available() -> bool:
    """False: matgrad does not use cuDNN."""
    return False


def is_acceptable(tensor: Any) -> bool:
    """False: no tensor goes to cuDNN in matgrad."""
    return False


def version() -> None:
    """None: no cuDNN is loaded."""
    return None


def set_flags(_enabled: Any = None, _benchmark: Any = None, _benchmark_limit: Any = None,
              _deterministic: Any = None, _allow_tf32: Any = None, _fp32_precision: Any = "none",
              _depthwise_kernel: Any = None) -> tuple[Any, ...]:
    """Set the flags given (None leaves one as it is); returns the previous values, as torch's."""
    module = sys.modules[__name__]
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32", "fp32_precision",
             "depthwise_kernel")
    before = tuple(getattr(module, name) for name in names)
    for name, value in zip(names, (_enabled, _benchmark, _benchmark_limit, _deterministic, _allow_tf32,
                                   _fp32_precision, _depthwise_kernel)):
        if value is not None and not (name == "benchmark_limit" and benchmark_limit is None):
            setattr(module, name, value)
    return before


@contextlib.contextmanager
def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int = 10, deterministic: bool = False,
          allow_tf32: bool = True, fp32_precision: str = "none", depthwise_kernel: str = "auto") -> Iterator[None]:
    """Set the flags for a block, then restore them (torch's defaults as the arguments' defaults)."""
    before = set_flags(enabled, benchmark, benchmark_limit, deterministic, allow_tf32, fp32_precision,
                       depthwise_kernel)
    try:
        yield
    finally:
        set_flags(*before)


class _CudnnModule(FlagModule):
    _BOOL_FLAGS = {"enabled": "set_enabled_cudnn", "benchmark": "set_benchmark_cudnn",
                   "deterministic": "set_deterministic_cudnn", "allow_tf32": "set_allow_tf32_cublas"}


sys.modules[__name__].__class__ = _CudnnModule
