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


#: OpenBLAS's own default: its idle threads spin for 2**28 cycles (about 0.1 s) before they sleep.
BLAS_SPIN_DEFAULT = 28


def set_blas_thread_timeout(k: int) -> bool:
    """Have OpenBLAS's idle threads sleep after spinning 2**k cycles (OPENBLAS_THREAD_TIMEOUT, 4 to 30, at run time).

    After a matrix product OpenBLAS's threads spin for 2**28 cycles by default, holding the cores that
    matgrad.parallel's threads need for the elementwise work between products (a conv net's BatchNorm,
    ReLU and pooling). OpenBLAS reads the variable only when its threads start, so this sets it, has
    OpenBLAS read its environment again and stops its threads; the next product starts them with the
    new timeout (their count stays). Call it while no product is running (at start-up). Returns False,
    changing nothing, where NumPy's BLAS is not an OpenBLAS that offers this.
    Measured by benchmarks/bench_blas_timeout.py on the 2-core AMD EPYC VM (OpenBLAS 0.3.31, 2026-11-30),
    against the default, two threads, paired ratios over runs: the cnn recipe's step 0.81-0.91x the time
    with k=20 and 0.88-0.96x with k=16; the seed MLP's at batch 32 0.96-1.05x with k=20 but 1.11x with
    k=16 (its products follow each other closely and then wake sleeping threads). A process's first CPU
    convolution uses k=20 (conv_blas_timeout).
    """
    if not 4 <= int(k) <= 30:
        raise ValueError(f"set_blas_thread_timeout: k must be between 4 and 30 (OpenBLAS's range), got {k}")
    found = _openblas()
    if found is None:
        return False
    lib = found[0]
    read_env = getattr(lib, "openblas_read_env", None)
    shutdown = getattr(lib, "blas_thread_shutdown_", None)
    timeout = getattr(lib, "openblas_thread_timeout", None)
    if read_env is None or shutdown is None or timeout is None:
        return False
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(int(k))  # putenv: what OpenBLAS's getenv reads
    read_env()
    shutdown()
    return get_blas_thread_timeout() == int(k)


#: The timeout a conv net's OpenBLAS threads get, 2**20 idle cycles (~0.35 ms): conv_blas_timeout.
CONV_BLAS_TIMEOUT = 20
_conv_timeout_done = False  # conv_blas_timeout has decided, for this process


def conv_blas_timeout() -> bool:
    """Once per process, as the first convolution runs on the CPU: OpenBLAS's idle threads sleep after
    2**CONV_BLAS_TIMEOUT cycles instead of spinning 2**28. Whether they do so now.

    Between a conv net's products, matgrad.parallel's threads run BatchNorm, ReLU and pooling, and OpenBLAS's
    threads would hold the cores for ~0.1 s after each product. benchmarks/bench_blas_timeout.py, two threads,
    paired ratios timeout/default: the cnn recipe's step 0.834 on a 2-core Intel Xeon (SkylakeX kernel,
    2026-12-01), 0.81-0.91 on a 2-core AMD EPYC (Zen 4) and 0.97 (one run) on a Zen 5 VM set to OpenBLAS's
    Haswell kernel (bench_conv.py --against, four runs there: 0.73-1.23, even); steps without convolutions were even
    or slower with it (MLP 0.99-1.01, lstm 1.03, vit 1.05), so only a convolution asks for it. `matgrad train`
    asks before its first step. Left as it is: with one BLAS thread, when OPENBLAS_THREAD_TIMEOUT is set (the
    user's choice is kept; set it to 28 for OpenBLAS's default), off the main thread, or while other Python
    threads run (one of them could be inside a product, which stopping OpenBLAS's threads would break): call
    set_blas_thread_timeout yourself there.
    """
    global _conv_timeout_done
    if _conv_timeout_done:
        return get_blas_thread_timeout() == CONV_BLAS_TIMEOUT
    _conv_timeout_done = True
    if "OPENBLAS_THREAD_TIMEOUT" in os.environ or get_num_threads() < 2 or not _alone():
        return False
    return set_blas_thread_timeout(CONV_BLAS_TIMEOUT)


def _alone() -> bool:
    """Whether this is the main thread and every other Python thread is one that never runs a product:
    matgrad.parallel's (idle while the main thread is in an op) or tqdm's monitor (it only wakes to check bars)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return False
    return all(t is threading.main_thread() or t.name.startswith("matgrad-parallel-") or type(t).__name__ == "TMonitor"
               for t in threading.enumerate())


def restart_blas_threads() -> bool:
    """Stop OpenBLAS's threads and start them again from this thread, so they take its floating-point mode
    (matgrad.denormal); their count stays. False, changing nothing, where NumPy's BLAS offers no such calls.
    Call it while no product is running."""
    found = _openblas()
    if found is None:
        return False
    shutdown = getattr(found[0], "blas_thread_shutdown_", None)
    init = getattr(found[0], "blas_thread_init", None)
    if shutdown is None or init is None:
        return False
    shutdown()
    init()
    return True


def get_blas_thread_timeout() -> int | None:
    """The k of OpenBLAS's 2**k spinning cycles, as its threads use it; None where it cannot be read."""
    found = _openblas()
    timeout = getattr(found[0], "openblas_thread_timeout", None) if found is not None else None
    if timeout is None:
        return None
    timeout.restype = ctypes.c_int
    k = int(timeout())
    return BLAS_SPIN_DEFAULT if k <= 0 else min(max(k, 4), 30)  # unset: OpenBLAS's default; it clamps to 4..30
