"""torch.backends' counterpart: the flags scripts commonly set, accepted so they run unchanged.

matgrad computes with NumPy on the CPU (and CuPy on CUDA), so none of these settings changes a result:
cudnn.benchmark / deterministic / enabled / allow_tf32, cuda.matmul.allow_tf32 and the attention switches
are remembered and read back, nothing more. What they report is true of matgrad: mps, cudnn, mkldnn and
openmp are not available; cpu.get_cpu_capability() is the SIMD level NumPy's kernels use here; mkl says
whether NumPy's BLAS is MKL.

Also here, and at the top level as in torch: use_deterministic_algorithms (matgrad's CPU ops give the same
result on every run, so there is nothing to switch; the setting is remembered), and
set/get_float32_matmul_precision (float32 products are always full float32).
"""
from __future__ import annotations

import builtins
import warnings

from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp
from ._flags import state

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
           "set_deterministic_debug_mode", "get_deterministic_debug_mode", "set_float32_matmul_precision",
           "get_float32_matmul_precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Ask for deterministic algorithms only: remembered, as matgrad's CPU ops are deterministic already
    (the same inputs give the same bits on every run; the order of a sum can depend on the CPU's SIMD width)."""
    for name, value in (("mode", mode), ("warn_only", warn_only)):
        if not isinstance(value, builtins.bool):
            position = " (position 1)" if name == "mode" else ""
            raise TypeError(f"_set_deterministic_algorithms(): argument '{name}'{position} must be bool, "
                            f"not {type(value).__name__}")
    state["deterministic"] = mode
    state["deterministic_warn_only"] = warn_only if mode else False


def are_deterministic_algorithms_enabled() -> bool:
    """What use_deterministic_algorithms last set (False at first)."""
    return state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether use_deterministic_algorithms was last called with warn_only=True (and mode=True)."""
    return state["deterministic_warn_only"]


def set_deterministic_debug_mode(debug_mode: int | str) -> None:
    """0/"default", 1/"warn" or 2/"error": use_deterministic_algorithms off, on with warn_only, or on."""
    if not isinstance(debug_mode, (builtins.int, str)):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if isinstance(debug_mode, str):
        modes = {"default": 0, "warn": 1, "error": 2}
        if debug_mode not in modes:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got "
                               f"{debug_mode}")
        debug_mode = modes[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    """0, 1 or 2, as set_deterministic_debug_mode takes them."""
    if not state["deterministic"]:
        return 0
    return 1 if state["deterministic_warn_only"] else 2


def set_float32_matmul_precision(precision: str) -> None:
    """"highest", "high" or "medium": remembered (and read back by cuda.matmul.allow_tf32, as in torch);
    matgrad's float32 matrix products are full float32 whichever is set. Another value warns and is ignored."""
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    state["float32_matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    """What set_float32_matmul_precision last set ("highest" at first)."""
    return state["float32_matmul_precision"]
