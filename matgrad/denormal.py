"""Subnormal floats flushed to zero on the CPU: set_flush_denormal, as torch.set_flush_denormal.

Why it matters. A subnormal float (float32 below 1.18e-38 in magnitude) takes the CPU a microcode
assist on Intel: an add or multiply on one runs ~10-100× slower. Training makes them: SGD's momentum
v ← 0.9·v + g decays toward zero wherever g stays 0 (MNIST's rarely lit pixels), and passes through
subnormal values for ~150 steps on its way. On a 2-core Intel Xeon (AVX-512, NumPy 2.4.6, OpenBLAS
0.3.31 SkylakeX) the seed MLP's second epoch at batch 32 took 4.86 s, 2.2 s of it in the momentum
update's BLAS axpby/axpy on such values, and 2.67 s with subnormals flushed (PyTorch: 4.38 s and
2.91 s); an axpby of 800,000 subnormal floats takes 13× the time of normal ones
(benchmarks/README.md, 2026-12-01).

How, with NumPy alone. The mode is a bit of the thread's floating-point control register: on x86-64
MXCSR's FTZ (bit 15: a subnormal result becomes 0) and DAZ (bit 6: a subnormal operand reads as 0),
on AArch64 FPCR's FZ (bit 24: both). glibc's fegetenv/fesetenv, called through ctypes, read and load
that register: no compiled code of ours. Each thread has its own register and a new thread starts
with its creator's, so after setting it here matgrad's own worker threads (matgrad.parallel) and
OpenBLAS's are started again from this thread, which passes the mode on to them. Elsewhere (another
C library, another OS or CPU) nothing changes and False is returned, as PyTorch returns False where
it cannot.

What changes: every float32 and float64 operation on these threads, NumPy's and Python's own float
arithmetic included, treats subnormals as zero (as PyTorch's mode does). Results differ from the
default only where a subnormal would have appeared. Call it before training, not while other threads
are running matrix products. The `matgrad` command turns it on while it runs (matgrad/cli/main.py).
"""
from __future__ import annotations

import ctypes
import platform
import sys
from functools import lru_cache
from typing import Any

_X86_FTZ_DAZ = (1 << 15) | (1 << 6)  # MXCSR's flush-to-zero and denormals-are-zero bits
_X86_MXCSR_AT = 28  # glibc's x86-64 fenv_t: the 28-byte x87 environment, then MXCSR (a 32-bit word)
_ARM_FZ = 1 << 24  # FPCR's flush-to-zero bit
_ARM_FPCR_AT = 0  # glibc's AArch64 fenv_t: FPCR, then FPSR
_ENV_BYTES = 64  # room for any fenv_t glibc defines on these CPUs (32 and 8 bytes)


@lru_cache(maxsize=1)
def _control() -> tuple[Any, Any, int, int] | None:
    """(fegetenv, fesetenv, the control word's byte offset in fenv_t, its flush bits), or None where unknown."""
    if not sys.platform.startswith("linux"):
        return None
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        at, bits = _X86_MXCSR_AT, _X86_FTZ_DAZ
    elif machine in ("aarch64", "arm64"):
        at, bits = _ARM_FPCR_AT, _ARM_FZ
    else:
        return None
    try:
        libc = ctypes.CDLL(None)
        get, put = libc.fegetenv, libc.fesetenv
        if not hasattr(libc, "gnu_get_libc_version"):  # glibc's layout of fenv_t only
            return None
    except (OSError, AttributeError):
        return None
    get.argtypes = put.argtypes = [ctypes.c_void_p]
    get.restype = put.restype = ctypes.c_int
    return get, put, at, bits


def _read() -> tuple[Any, int] | None:
    """This thread's environment and its control word, or None."""
    found = _control()
    if found is None:
        return None
    get, _, at, _ = found
    env = ctypes.create_string_buffer(_ENV_BYTES)
    if get(env) != 0:
        return None
    return env, ctypes.c_uint32.from_buffer(env, at).value


def _write_this_thread(on: bool) -> bool:
    """Set or clear the flush bits in this thread's control register; whether it took."""
    state = _read()
    if state is None:
        return False
    env, word = state
    _, put, at, bits = _control()  # type: ignore[misc]
    ctypes.c_uint32.from_buffer(env, at).value = (word | bits) if on else (word & ~bits)
    if put(env) != 0:
        return False
    now = _read()
    return now is not None and bool(now[1] & bits) == on


def get_flush_denormal() -> bool:
    """Whether subnormals are flushed to zero on this thread."""
    state = _read()
    return state is not None and bool(state[1] & _control()[3])  # type: ignore[index]


def set_flush_denormal(mode: bool) -> bool:
    """Flush subnormal floats to zero (True) or compute them (False, the default) on the CPU, as
    torch.set_flush_denormal: on this thread, matgrad's worker threads and OpenBLAS's. True if the mode
    could be set here (glibc on x86-64 or AArch64), else False and nothing changes."""
    if not isinstance(mode, bool):  # PyTorch's check and error
        raise RuntimeError(f"flush_denormal expects a bool, but got {type(mode).__name__}")
    on = mode
    if _control() is None or not _write_this_thread(on):
        return False
    from . import parallel, threads

    parallel.restart()  # its threads start again from this one, with its mode
    threads.restart_blas_threads()  # and OpenBLAS's
    return True
