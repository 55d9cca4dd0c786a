"""Where arrays live: freed memory kept for reuse (`keep_freed_memory`), long-lived arrays on huge pages.

NumPy allocates every array afresh. glibc's malloc maps a large block straight from the kernel
(above a threshold it moves between 128 KB and 32 MB) and unmaps it when it is freed, and it
trims the top of its heap back to the kernel too; so the next step's activations take a page
fault on every 4 KB page they touch. A CNN step of the
`cnn` recipe (batch 128) took 9,400 faults and 102 ms; with freed memory kept for reuse, no
faults and 82 ms. The price: the process keeps its peak memory instead of returning what is
freed between steps, which is what a training loop wants (PyTorch's GPU allocator caches the
same way). The process's first backward pass turns it on (`keep_for_training`, called by the
engine), unless the process chose first: `keep_freed_memory(limit)` called before, or
MATGRAD_KEEP_FREED_MEMORY=0 in the environment to leave glibc as it is.

Arrays that live for the whole training (a layer's weights, an optimizer's state) are placed on
2 MiB pages where Linux offers them (transparent huge pages): `empty`, `zeros_like`, `copy`.
An optimizer streams each of them once a step, and on 4 KB pages a 3.2 MB weight spans 784 pages
and as many TLB misses; on 2 MiB pages, two. Whether an array lands on huge pages otherwise depends
on what the heap held before (NumPy asks for them only from 4 MiB up, unaligned), so two runs of one
step could differ by up to 10% for no reason in the code. benchmarks/bench_huge_pages.py times the
seed MLP's step (784-1024-10, SGD with momentum) with the same arrays on 4 KB or on 2 MiB pages; on
an AMD EPYC (Zen 3, 2 cores, OpenBLAS Haswell kernels), medians of 21 rounds, two copies of each:
batch 32, 1 thread: momentum update 1019 and 983 µs against 855 and 828, step 0.945 and 0.943×;
2 threads: update 767 and 824 against 719 and 675, step 1.001 and 0.930×; batch 256, 1 thread (15
rounds): update 1409 and 1309 against 1164 and 1211, step 0.98 and 1.02× (the products dominate). The price: an
array of at least 2 MiB is its own mapping, aligned to 2 MiB, and its last huge page may reach
past its end by up to a third of its size (else that tail stays on 4 KB pages): the seed's 3.2 MB
weight takes 4 MiB (PyTorch offers huge pages for its tensors too, off by default, for this cost:
THP_MEM_ALLOC_ENABLE=1). Arrays smaller than 2 MiB, other systems, THP set to "never" and NumPy's
own switch turned off (`np._core.multiarray._set_madvise_hugepage(False)`) get NumPy's plain arrays.
"""
from __future__ import annotations

import ctypes
import math
import mmap
import os
import sys
from functools import lru_cache
from typing import Any

import numpy as np

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3


#: True until the process's first backward pass or its own choice (keep_freed_memory, the environment).
UNDECIDED = [True]
_ENV = "MATGRAD_KEEP_FREED_MEMORY"


def keep_for_training() -> None:
    """At the process's first backward pass (the engine calls it): keep_freed_memory(), unless the process
    decided first (called keep_freed_memory itself, or has MATGRAD_KEEP_FREED_MEMORY=0).

    A training step makes the same large arrays every step; glibc gives them back to the system as they
    are freed, and each step page-faults them in again. Kept, per step (benchmarks/bench_freed_memory.py,
    each setting in its own processes, 2-core AMD EPYC Zen 5): the lstm recipe's 0.57× the time (9,300
    faults and 23 ms in the kernel a step without), the vit recipe's 0.70×, the cnn's 0.72-0.90×.
    """
    UNDECIDED[0] = False
    if os.environ.get(_ENV, "").strip().lower() not in ("0", "false", "no", "off"):
        keep_freed_memory()


def keep_freed_memory(limit: int = 1 << 30) -> bool:
    """Have the C allocator reuse freed blocks up to `limit` bytes instead of returning them to
    the system; True if it took effect (Linux with glibc), False elsewhere (nothing changes).
    The first backward pass calls it unless the process did (see keep_for_training)."""
    if limit < 1:
        raise ValueError(f"keep_freed_memory: limit must be a positive number of bytes, got {limit}")
    UNDECIDED[0] = False
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # glibc's; musl and others have none
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    value = min(int(limit), 2**31 - 1)
    # blocks below the mmap threshold come from the heap and are reused; the heap is given back
    # to the system only when more than the trim threshold is free at its top
    return bool(mallopt(_M_MMAP_THRESHOLD, value)) and bool(mallopt(_M_TRIM_THRESHOLD, value))


HUGE_PAGE = 1 << 21  #: 2 MiB: x86-64's transparent huge page (and arm64's, with 4 KB base pages)


@lru_cache(maxsize=1)
def _huge_pages_offered() -> bool:
    """Whether madvise(MADV_HUGEPAGE) can give 2 MiB pages: Linux, THP not "never"."""
    if not hasattr(mmap, "MADV_HUGEPAGE"):
        return False
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[never]" not in f.read()
    except OSError:
        return False


def _numpy_advises() -> bool:
    """NumPy's own huge-page switch (on by default), so one setting turns both off."""
    core = getattr(np, "_core", None) or np.core
    get = getattr(core.multiarray, "_get_madvise_hugepage", None)
    return bool(get()) if get is not None else True


def empty(shape: Any, dtype: Any = np.float32) -> np.ndarray:
    """np.empty(shape, dtype) for an array that lives as long as the training: on 2 MiB pages when it
    is at least 2 MiB and the system offers them (see the module's doc), else NumPy's own."""
    dtype = np.dtype(dtype)
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < HUGE_PAGE or dtype.hasobject or not _huge_pages_offered() or not _numpy_advises():
        return np.empty(shape, dtype)
    advised = -(-nbytes // HUGE_PAGE) * HUGE_PAGE  # whole huge pages over the array, unless the last one
    if advised - nbytes > nbytes // 3:  # would reach past its end by over a third of its size: then the
        advised -= HUGE_PAGE  # tail past the last whole page stays on 4 KB pages
    try:  # private and anonymous: zero-filled, copied on write in a forked child
        block = mmap.mmap(-1, max(advised, nbytes) + HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    except (OSError, ValueError):  # no address space left, a sandbox without mmap: NumPy's allocator
        return np.empty(shape, dtype)
    raw = np.frombuffer(block, np.uint8)  # the array keeps the mapping alive; unmapped when the last view goes
    start = -raw.ctypes.data % HUGE_PAGE  # (a multiple of the 4 KB page: the mapping starts on one)
    try:
        block.madvise(mmap.MADV_HUGEPAGE, start, advised)
    except OSError:  # refused (a kernel without THP): small pages, still correct
        pass
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def zeros_like(a: Any) -> Any:
    """np.zeros_like(a), placed as `empty` places it (a fresh mapping is already zero); another device's
    array gets its own device's zeros."""
    if type(a) is not np.ndarray:
        return np.zeros_like(a)  # dispatches: CuPy's zeros for a CuPy array
    out = empty(a.shape, a.dtype)
    if out.base is None:  # NumPy's own (small or not offered): not zero yet
        out.fill(0)
    return out


def copy(a: Any, dtype: Any = None) -> Any:
    """np.array(a, dtype) (a fresh copy, C-ordered), placed as `empty` places it; another device's array
    is copied on its device."""
    if type(a) is not np.ndarray:
        return a.astype(dtype if dtype is not None else a.dtype, copy=True)
    out = empty(a.shape, dtype if dtype is not None else a.dtype)
    np.copyto(out, a, casting="unsafe")
    return out
