"""torch.version: matgrad's version and what it was built with.

    __version__   matgrad's version (the same as matgrad.__version__)
    cuda          the CUDA runtime's version ('12.2') when CuPy can use a GPU, else None (as a CPU build of torch)
    hip, rocm, xpu  None: matgrad has no AMD or Intel GPU backend
    git_version   'unknown' (matgrad records no commit)
    debug         False

`cuda` is worked out when first read, so importing matgrad never imports CuPy for it.
"""
from __future__ import annotations

import sys
from typing import Any

from .devices import cuda_available

__version__ = "0.1.0"
hip = None
rocm = None
xpu = None
git_version = "unknown"
debug = False


def _cuda_version() -> str | None:
    """'major.minor' of the CUDA runtime CuPy uses, or None without a usable GPU (or another backend)."""
    if not cuda_available():
        return None
    cupy = sys.modules.get("cupy")  # the backend has loaded it if CUDA is available through CuPy
    try:
        v = int(cupy.cuda.runtime.runtimeGetVersion())
    except Exception:  # noqa: BLE001 - not CuPy (a test device), or a runtime that will not say
        return None
    return f"{v // 1000}.{v % 1000 // 10}"


def __getattr__(name: str) -> Any:
    if name == "cuda":
        return _cuda_version()
    raise AttributeError(f"module 'matgrad.version' has no attribute {name!r}")


__all__ = ["__version__", "cuda", "hip", "rocm", "xpu", "git_version", "debug"]  # noqa: F822 - cuda: __getattr__
