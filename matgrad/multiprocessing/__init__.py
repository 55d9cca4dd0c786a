"""torch.multiprocessing: Python's multiprocessing with PyTorch's additions, for code that imports it.

    import matgrad.multiprocessing as mp
    mp.spawn(train, args=(world_size,), nprocs=world_size)     # train(rank, world_size) in each process

Everything of the standard library's `multiprocessing` is here under its own name (Process, Queue, Pool,
get_context, ...), plus `spawn` / `start_processes` (matgrad/multiprocessing/spawn.py) and the sharing-strategy
settings. Tensors sent to other processes (through a Queue, as `args` of spawn) are pickled as NumPy arrays
are: each process gets a copy. matgrad has no shared-memory tensors (`Tensor.share_memory_()` keeps a tensor
where it is), so the sharing strategy is recorded and checked, as in PyTorch, and changes nothing.
"""
from __future__ import annotations

import multiprocessing
import sys
from multiprocessing import *  # noqa: F403  (all of the standard library's names, as torch.multiprocessing)

from .spawn import (  # noqa: F401  (public, though out of __all__, as in PyTorch)
    ENV_VAR_PARALLEL_START,
    ProcessContext,
    ProcessException,
    ProcessExitedException,
    ProcessRaisedException,
    SpawnContext,
    spawn,
    start_processes,
)

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies",
           *multiprocessing.__all__]

if sys.platform in ("darwin", "win32"):  # PyTorch's per-platform sets
    _all_sharing_strategies = {"file_system"}
else:
    _all_sharing_strategies = {"file_descriptor", "file_system"}
_sharing_strategy = ["file_system" if sys.platform in ("darwin", "win32") else "file_descriptor"]


def set_sharing_strategy(new_strategy: str) -> None:
    """Set how CPU tensors would be shared: one of get_all_sharing_strategies() (recorded; tensors are copied)."""
    if new_strategy not in _all_sharing_strategies:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}, expected one of {_all_sharing_strategies}")
    _sharing_strategy[0] = new_strategy


def get_sharing_strategy() -> str:
    """The strategy set_sharing_strategy last set ('file_descriptor' by default on Linux, as PyTorch)."""
    return _sharing_strategy[0]


def get_all_sharing_strategies() -> set[str]:
    """The strategies this platform accepts: {'file_descriptor', 'file_system'} on Linux."""
    return set(_all_sharing_strategies)
