"""In-place vector updates (y += a·x, y = a·x + b·y) in one pass, through NumPy's own OpenBLAS.

NumPy has no fused multiply-add for arrays: `v *= m; v += g` reads and writes `v` twice,
and `p -= lr * v` makes a temporary as large as `p`. An optimizer step over a 1024×784
weight is then four passes over memory; BLAS's axpy/axpby do it in two (and spread them
over the BLAS threads). Used where it pays (large contiguous float arrays); anything else,
or a NumPy without OpenBLAS, takes the plain NumPy path, with the same result to rounding.
"""
from __future__ import annotations

import ctypes
from functools import lru_cache
from typing import Any

import numpy as np

from .threads import _openblas

#: Below this many elements the NumPy path is as fast (a ctypes call costs about 2 µs).
MIN_SIZE = 16384


@lru_cache(maxsize=1)
def _kernels() -> dict[tuple[str, Any], Any] | None:
    """{('axpy' | 'axpby', dtype): the CBLAS function}, or None without a usable OpenBLAS."""
    found = _openblas()
    if found is None:
        return None
    lib, pattern = found
    prefix, suffix = pattern.split("{}")  # e.g. 'scipy_openblas_', '64_'
    int_t = ctypes.c_int64 if suffix == "64_" else ctypes.c_int
    cblas = prefix.replace("openblas_", "cblas_") if "openblas_" in prefix else "cblas_"
    kernels = {}
    for letter, dtype, real in (("s", np.float32, ctypes.c_float), ("d", np.float64, ctypes.c_double)):
        for name in ("axpy", "axpby"):
            fn = getattr(lib, f"{cblas}{letter}{name}{suffix}", None)
            if fn is None:
                return None
            if name == "axpy":
                fn.argtypes = [int_t, real, ctypes.c_void_p, int_t, ctypes.c_void_p, int_t]
            else:
                fn.argtypes = [int_t, real, ctypes.c_void_p, int_t, real, ctypes.c_void_p, int_t]
            fn.restype = None
            kernels[(name, np.dtype(dtype))] = fn
    return kernels


def _fast(x: np.ndarray, y: np.ndarray) -> Any:
    """Whether BLAS can take x and y as flat vectors: the kernel table, or None."""
    if y.size < MIN_SIZE or x.dtype != y.dtype or x.shape != y.shape or not y.flags.writeable:
        return None
    if not ((x.flags.c_contiguous and y.flags.c_contiguous) or (x.flags.f_contiguous and y.flags.f_contiguous)):
        return None
    if x is not y and np.may_share_memory(x, y):  # partly overlapping: NumPy buffers, BLAS would not
        return None
    return _kernels()


def axpy(alpha: float, x: np.ndarray, y: np.ndarray) -> None:
    """y += alpha·x, in place."""
    kernels = _fast(x, y)
    fn = kernels and kernels.get(("axpy", y.dtype))
    if fn is None:
        y += alpha * x if alpha != 1 else x
        return
    fn(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)


def axpby(alpha: float, x: np.ndarray, beta: float, y: np.ndarray) -> None:
    """y = alpha·x + beta·y, in place."""
    kernels = _fast(x, y)
    fn = kernels and kernels.get(("axpby", y.dtype))
    if fn is None:
        y *= beta
        y += alpha * x if alpha != 1 else x
        return
    fn(y.size, alpha, x.ctypes.data, 1, beta, y.ctypes.data, 1)
