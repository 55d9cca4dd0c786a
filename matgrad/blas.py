"""In-place vector updates (y += a·x, y = a·x + b·y) and an accumulating gemm, through NumPy's own OpenBLAS.

NumPy has no fused multiply-add for arrays: `v *= m; v += g` reads and writes `v` twice,
and `p -= lr * v` makes a temporary as large as `p`. An optimizer step over a 1024×784
weight is then four passes over memory; BLAS's axpy/axpby do it in two (and spread them
over the BLAS threads). Used where it pays (large contiguous float arrays); anything else,
or a NumPy without OpenBLAS, takes the plain NumPy path, with the same result to rounding.

`gemm` (C = α·A·B + β·C) is the same idea for matrices: np.matmul has no `beta`, so summing
products into one C costs a temporary and an extra pass per product; BLAS adds in place, and
takes strided operands (any row stride), so shifted slices of one buffer need no copy.
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
    """{('axpy' | 'axpby' | 'gemm', dtype): the CBLAS function}, or None without a usable OpenBLAS."""
    found = _openblas()
    if found is None:
        return None
    lib, pattern = found
    prefix, suffix = pattern.split("{}")  # e.g. 'scipy_openblas_', '64_'
    int_t = ctypes.c_int64 if suffix == "64_" else ctypes.c_int
    cblas = prefix.replace("openblas_", "cblas_") if "openblas_" in prefix else "cblas_"
    kernels = {}
    for letter, dtype, real in (("s", np.float32, ctypes.c_float), ("d", np.float64, ctypes.c_double)):
        for name in ("axpy", "axpby", "gemm"):
            fn = getattr(lib, f"{cblas}{letter}{name}{suffix}", None)
            if fn is None:
                return None
            if name == "axpy":
                fn.argtypes = [int_t, real, ctypes.c_void_p, int_t, ctypes.c_void_p, int_t]
            elif name == "axpby":
                fn.argtypes = [int_t, real, ctypes.c_void_p, int_t, real, ctypes.c_void_p, int_t]
            else:  # order, transA, transB (C enums: int), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc
                fn.argtypes = [ctypes.c_int] * 3 + [int_t] * 3 + [real, ctypes.c_void_p, int_t, ctypes.c_void_p,
                                                                  int_t, real, ctypes.c_void_p, int_t]
            fn.restype = None
            kernels[(name, np.dtype(dtype))] = fn
    return kernels


@lru_cache(maxsize=1)
def corename() -> str:
    """The kernel NumPy's OpenBLAS runs on this CPU ('SkylakeX', 'Haswell', 'Zen', ...), lower case; '' if unknown.

    A DYNAMIC_ARCH build picks it when it loads; speed rules measured on one kernel ask for it.
    """
    found = _openblas()
    if found is None:
        return ""
    lib, pattern = found
    fn = getattr(lib, pattern.format("get_corename"), None)
    if fn is None:
        return ""
    fn.argtypes, fn.restype = [], ctypes.c_char_p
    name = fn()
    return name.decode(errors="replace").strip().lower() if name else ""


def _fast(x: np.ndarray, y: np.ndarray) -> Any:
    """Whether BLAS can take x and y as flat vectors: the kernel table, or None."""
    if y.size < MIN_SIZE or x.dtype != y.dtype or x.shape != y.shape or not y.flags.writeable:
        return None
    if not ((x.flags.c_contiguous and y.flags.c_contiguous) or (x.flags.f_contiguous and y.flags.f_contiguous)):
        return None
    if x is not y and np.may_share_memory(x, y):  # partly overlapping: NumPy buffers, BLAS would not
        return None
    return _kernels()


_char_at, _address = ctypes.c_char.from_buffer, ctypes.addressof


def _vectors(name: str, x: np.ndarray, y: np.ndarray) -> tuple[Any, int, int] | None:
    """(the BLAS function `name` for y's dtype, x's address, y's address) when BLAS can take x and y as flat
    vectors (the conditions of `_fast`), else None."""
    if y.size < MIN_SIZE or x.dtype != y.dtype or x.shape != y.shape:
        return None
    kernels = _kernels()
    fn = kernels and kernels.get((name, y.dtype))
    if fn is None:
        return None
    try:  # both C-contiguous and writeable (so y is): the addresses at C speed, where x.ctypes.data runs Python
        px, py = _address(_char_at(x)), _address(_char_at(y))
    except (TypeError, ValueError, BufferError):  # a read-only x, a Fortran-ordered pair ...: the full check
        if _fast(x, y) is None:
            return None
        return fn, x.ctypes.data, y.ctypes.data
    if x is not y and abs(px - py) < y.nbytes:  # two contiguous blocks of one size: overlapping, as in _fast
        return None
    return fn, px, py


def axpy(alpha: float, x: np.ndarray, y: np.ndarray) -> None:
    """y += alpha·x, in place."""
    found = _vectors("axpy", x, y)
    if found is None:
        y += alpha * x if alpha != 1 else x
        return
    fn, px, py = found
    fn(y.size, alpha, px, 1, py, 1)


def axpby(alpha: float, x: np.ndarray, beta: float, y: np.ndarray) -> None:
    """y = alpha·x + beta·y, in place."""
    found = _vectors("axpby", x, y)
    if found is None:
        y *= beta
        y += alpha * x if alpha != 1 else x
        return
    fn, px, py = found
    fn(y.size, alpha, px, 1, beta, py, 1)


def axpby_axpy(alpha: float, x: np.ndarray, beta: float, y: np.ndarray, gamma: float, z: np.ndarray) -> None:
    """y = alpha·x + beta·y, then z += gamma·y, in place: axpby then axpy, bit for bit (SGD's momentum step),
    with one size check where both take NumPy's path."""
    if y.size < MIN_SIZE and z.size < MIN_SIZE:
        y *= beta
        y += alpha * x if alpha != 1 else x
        z += gamma * y if gamma != 1 else y
        return
    axpby(alpha, x, beta, y)
    axpy(gamma, y, z)


_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112  # CBLAS enum values


def _operand(a: np.ndarray) -> tuple[int, int] | None:
    """(transpose flag, leading dimension) for BLAS to read matrix `a` in place, or None if it cannot."""
    item = a.itemsize
    s0, s1 = a.strides
    rows, cols = a.shape
    if (s1 == item or cols == 1) and s0 % item == 0 and s0 >= max(cols, 1) * item:
        return _NO_TRANS, s0 // item
    if (s0 == item or rows == 1) and s1 % item == 0 and s1 >= max(rows, 1) * item:
        return _TRANS, s1 // item
    return None


def gemm(alpha: float, a: np.ndarray, b: np.ndarray, beta: float, c: np.ndarray) -> None:
    """c = alpha·a@b + beta·c in place, for 2-D float arrays; a and b may be transposed or row-strided views."""
    m, n = c.shape
    k = a.shape[1]
    if a.shape[0] != m or b.shape != (k, n):
        raise ValueError(f"gemm: shapes {a.shape} @ {b.shape} do not give {c.shape}")
    fn = None
    if (type(c) is np.ndarray and type(a) is np.ndarray and type(b) is np.ndarray
            and a.dtype == b.dtype == c.dtype and c.flags.writeable and m and n and k):
        kernels = _kernels()
        fn = kernels and kernels.get(("gemm", c.dtype))
    ta = tb = tc = None
    if fn is not None:
        ta, tb, tc = _operand(a), _operand(b), _operand(c)
    if fn is None or ta is None or tb is None or tc is None or tc[0] != _NO_TRANS or (
            np.may_share_memory(a, c) or np.may_share_memory(b, c)):
        if beta == 0:
            c[...] = alpha * (a @ b) if alpha != 1 else a @ b
        else:
            if beta != 1:
                c *= beta
            c += alpha * (a @ b) if alpha != 1 else a @ b
        return
    fn(_ROW_MAJOR, ta[0], tb[0], m, n, k, alpha, a.ctypes.data, ta[1], b.ctypes.data, tb[1], beta,
       c.ctypes.data, tc[1])
