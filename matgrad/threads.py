"""The thread count behind every matrix product and large elementwise op (matgrad.parallel): `set_num_threads`."""
from __future__ import annotations

import ctypes
import os
import re
from functools import lru_cache
from typing import Any

#: The count set_num_threads was last given ([] until then): matgrad.parallel's threads follow it.
chosen: list[int] = []


@lru_cache(maxsize=1)
def _openblas() -> tuple[Any, str] | None:
    """NumPy's OpenBLAS library and its symbol prefix, found among the loaded libraries."""
    import numpy  # noqa: F401 - loads the BLAS we look for

    try:
        maps = open("/proc/self/maps").read()
    except OSError:
        return None
    for path in sorted(set(re.findall(r"(/\S*openblas\S*\.(?:so|dylib)\S*)", maps))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas_", "openblas_", ""):
            for suffix in ("64_", ""):
                name = f"{prefix}set_num_threads{suffix}" if prefix else "openblas_set_num_threads"
                if hasattr(lib, name):
                    return lib, name.replace("set_num_threads", "{}")
    return None


def set_num_threads(n: int) -> None:
    """Use `n` threads for matrix products and large elementwise ops (as torch.set_num_threads)."""
    if int(n) < 1:
        raise ValueError(f"set_num_threads: expected a positive count, got {n}")
    found = _openblas()
    if found is None:
        raise RuntimeError(
            "set_num_threads: could not find NumPy's OpenBLAS to set its threads; set the "
            "environment variable OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS) before starting Python"
        )
    lib, pattern = found
    getattr(lib, pattern.format("set_num_threads"))(ctypes.c_int(int(n)))
    chosen[:] = [int(n)]


def get_num_threads() -> int:
    """How many threads matrix products use now."""
    found = _openblas()
    if found is not None:
        lib, pattern = found
        fn = getattr(lib, pattern.format("get_num_threads"), None)
        if fn is not None:
            fn.restype = ctypes.c_int
            return int(fn())
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return os.cpu_count() or 1
