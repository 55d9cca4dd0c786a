"""`matgrad.cuda`: PyTorch's `torch.cuda` functions, for a build with no GPU backend.

The usual portable line works unchanged:

    device = matgrad.device("cuda" if matgrad.cuda.is_available() else "cpu")

As in a PyTorch without CUDA: `is_available()` is False, `device_count()` 0, the seeding
functions, `empty_cache()` and `reset_peak_memory_stats()` do nothing, the memory counters
read 0, and everything that needs a GPU (`current_device`, `set_device`, `synchronize`,
`get_device_name`, ...) raises a RuntimeError saying no CUDA device is available and how to
install the GPU extra. Availability comes from `matgrad.devices.cuda_available()`, the one
place a GPU backend plugs in. This module imports nothing above `matgrad.devices`.
"""
from __future__ import annotations

import operator
from typing import Any

from .devices import check_available, cuda_available, cuda_device_count, device, no_cuda_message


def is_available() -> bool:
    """Whether an NVIDIA GPU can be used (False: matgrad runs on the CPU here)."""
    return cuda_available()


def device_count() -> int:
    """How many NVIDIA GPUs can be used (0 here)."""
    return cuda_device_count() if cuda_available() else 0


def is_initialized() -> bool:
    """Whether the CUDA state has been set up (never, without a GPU)."""
    return False


def _need_cuda(what: str, dev: Any = None) -> None:
    """Raise the no-CUDA RuntimeError for `what` (a GPU backend replaces these functions)."""
    target = device("cuda") if dev is None else _as_cuda(dev, what)
    if not cuda_available():
        raise RuntimeError(f"matgrad.cuda.{what}: " + no_cuda_message(target))
    check_available(target)
    raise RuntimeError(f"matgrad.cuda.{what} is not implemented yet: the GPU backend has not been installed")


def _as_cuda(dev: Any, what: str) -> device:
    if isinstance(dev, int) and not isinstance(dev, bool):
        return device("cuda", dev) if dev >= 0 else device("cuda")
    d = dev if isinstance(dev, device) else device(dev)
    if d.type != "cuda":
        raise ValueError(f"matgrad.cuda.{what}: expected a cuda device, but got {str(d)!r}")
    return d


def init() -> None:
    """Set up CUDA; raises, as there is no GPU."""
    _need_cuda("init()")


def current_device() -> int:
    """The index of the selected GPU; raises, as there is none."""
    _need_cuda("current_device()")
    raise AssertionError("unreachable")


def set_device(device: Any) -> None:
    """Select a GPU; raises, as there is none."""
    _need_cuda("set_device()", device)


def synchronize(device: Any = None) -> None:
    """Wait for the GPU's queued work; raises, as there is no GPU."""
    _need_cuda("synchronize()", device)


def get_device_name(device: Any = None) -> str:
    """The GPU's name; raises, as there is no GPU."""
    _need_cuda("get_device_name()", device)
    raise AssertionError("unreachable")


def get_device_capability(device: Any = None) -> tuple[int, int]:
    """The GPU's compute capability; raises, as there is no GPU."""
    _need_cuda("get_device_capability()", device)
    raise AssertionError("unreachable")


def get_device_properties(device: Any = None) -> Any:
    """The GPU's properties; raises, as there is no GPU."""
    _need_cuda("get_device_properties()", device)


def _check_seed(seed: Any, name: str) -> int:
    try:
        return operator.index(seed) if not isinstance(seed, float) else int(seed)
    except TypeError:
        raise TypeError(f"matgrad.cuda.{name}: the seed must be an int, got {type(seed).__name__} {seed!r}") from None


def manual_seed(seed: int) -> None:
    """Seed the current GPU's generator: nothing to do without a GPU (PyTorch ignores it too)."""
    _check_seed(seed, "manual_seed")


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's generator: nothing to do without a GPU (PyTorch ignores it too)."""
    _check_seed(seed, "manual_seed_all")


def seed() -> None:
    """Seed the current GPU's generator randomly: nothing to do without a GPU."""


def seed_all() -> None:
    """Seed every GPU's generator randomly: nothing to do without a GPU."""


def empty_cache() -> None:
    """Release cached GPU memory: nothing to release without a GPU."""


def memory_allocated(device: Any = None) -> int:
    """Bytes of GPU memory held by tensors: 0 without a GPU."""
    return 0


def max_memory_allocated(device: Any = None) -> int:
    """Peak bytes of GPU memory held by tensors: 0 without a GPU."""
    return 0


def memory_reserved(device: Any = None) -> int:
    """Bytes of GPU memory reserved by the allocator: 0 without a GPU."""
    return 0


def max_memory_reserved(device: Any = None) -> int:
    """Peak bytes of GPU memory reserved by the allocator: 0 without a GPU."""
    return 0


def reset_peak_memory_stats(device: Any = None) -> None:
    """Reset the peak memory counters: nothing to reset without a GPU."""


__all__ = ["is_available", "device_count", "is_initialized", "init", "current_device", "set_device",
           "synchronize", "get_device_name", "get_device_capability", "get_device_properties", "manual_seed",
           "manual_seed_all", "seed", "seed_all", "empty_cache", "memory_allocated", "max_memory_allocated",
           "memory_reserved", "max_memory_reserved", "reset_peak_memory_stats"]
