"""`matgrad.cuda`: PyTorch's `torch.cuda` functions, over the CUDA backend when there is one.

The usual portable line works unchanged:

    device = matgrad.device("cuda" if matgrad.cuda.is_available() else "cpu")

With a GPU backend (CuPy and an NVIDIA GPU, `pip install "matgrad[cuda]"`): `is_available()` is
True, `device_count()` the number of GPUs, `current_device()` / `set_device()` the GPU that
"cuda" without an index means, `synchronize()` waits for it, `get_device_name()`,
`get_device_capability()` and `get_device_properties()` describe it, the seeding functions seed
its generators (matgrad's own random draws happen on the host, from matgrad.manual_seed), and
the memory counters read CuPy's memory pool (`memory_allocated`: bytes in use by arrays,
`memory_reserved`: bytes the pool holds; the peaks are the largest values these functions
and `synchronize` have seen since `reset_peak_memory_stats`, as CuPy keeps no peak of its own).

Without one, as a PyTorch without CUDA: `is_available()` is False, `device_count()` 0, the
seeding functions, `empty_cache()` and `reset_peak_memory_stats()` do nothing, the memory
counters read 0, and everything that needs a GPU (`current_device`, `set_device`,
`synchronize`, `get_device_name`, ...) raises a RuntimeError saying no CUDA device is
available and how to install the GPU extra. Availability comes from
`matgrad.devices.cuda_available()`, the one place a GPU backend plugs in. This module imports
nothing above `matgrad.devices`.
"""
from __future__ import annotations

import operator
import weakref
from types import SimpleNamespace
from typing import Any

import numpy as np

from .devices import check_available, cuda_available, cuda_backend, cuda_device_count, device, no_cuda_message


class OutOfMemoryError(RuntimeError):
    """torch.cuda.OutOfMemoryError (also matgrad.OutOfMemoryError): a device ran out of memory. matgrad does not
    translate CuPy's own out-of-memory error (cupy.cuda.memory.OutOfMemoryError, a MemoryError) into this one."""


#: The GPU "cuda" means when a backend keeps no current device of its own (the test device).
_current = [0]
#: Peak memory counters: backend -> device index -> [allocated, reserved] (a new backend starts afresh).
_peaks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def is_available() -> bool:
    """Whether an NVIDIA GPU can be used."""
    return cuda_available()


def device_count() -> int:
    """How many NVIDIA GPUs can be used (0 without a GPU backend)."""
    return cuda_device_count() if cuda_available() else 0


def is_initialized() -> bool:
    """Whether the CUDA state has been set up: a GPU backend is loaded and has a GPU."""
    return cuda_available()


def _backend(what: str, dev: Any = None) -> tuple[Any, int]:
    """(the CUDA backend, the device index `dev` means), or the no-CUDA RuntimeError for `what`."""
    target = device("cuda") if dev is None else _as_cuda(dev, what)
    if not cuda_available():
        raise RuntimeError(f"matgrad.cuda.{what}: " + no_cuda_message(target))
    check_available(target)
    return cuda_backend(), current_device() if target.index is None else target.index


def _as_cuda(dev: Any, what: str) -> device:
    if isinstance(dev, (int, np.integer)) and not isinstance(dev, (bool, np.bool_)):
        return device("cuda", int(dev)) if dev >= 0 else device("cuda")
    d = dev if isinstance(dev, device) else device(dev)
    if d.type != "cuda":
        raise ValueError(f"matgrad.cuda.{what}: expected a cuda device, but got {str(d)!r}")
    return d


def init() -> None:
    """Set up CUDA (loads the backend); raises where there is no GPU."""
    _backend("init()")


def current_device() -> int:
    """The index of the selected GPU (what "cuda" without an index means)."""
    if not cuda_available():
        raise RuntimeError("matgrad.cuda.current_device(): " + no_cuda_message(device("cuda")))
    b = cuda_backend()
    get = getattr(b, "current_device", None)
    return int(get()) if get is not None else _current[0]


def set_device(device: Any) -> None:
    """Select the GPU that "cuda" without an index means (PyTorch's torch.cuda.set_device)."""
    b, index = _backend("set_device()", device)
    use = getattr(b, "set_device", None)
    if use is not None:
        use(index)
    _current[0] = index


def synchronize(device: Any = None) -> None:
    """Wait until the GPU has finished the work queued on it."""
    b, index = _backend("synchronize()", device)
    b.synchronize(index)
    _note_memory(b, index)


def get_device_name(device: Any = None) -> str:
    """The GPU's name, e.g. 'NVIDIA H100 80GB HBM3'."""
    b, index = _backend("get_device_name()", device)
    return str(b.name(index))


def get_device_capability(device: Any = None) -> tuple[int, int]:
    """The GPU's compute capability (major, minor); (0, 0) where the backend does not report one."""
    props = get_device_properties(device) if cuda_available() else _backend("get_device_capability()", device)
    return props.major, props.minor


def get_device_properties(device: Any = None) -> Any:
    """The GPU's properties: name, major, minor, total_memory (bytes), multi_processor_count."""
    b, index = _backend("get_device_properties()", device)
    raw = getattr(b, "properties", None)
    got = raw(index) if raw is not None else {}
    return SimpleNamespace(name=str(got.get("name", b.name(index))), major=int(got.get("major", 0)),
                           minor=int(got.get("minor", 0)), total_memory=int(got.get("total_memory", 0)),
                           multi_processor_count=int(got.get("multi_processor_count", 0)))


def _check_seed(seed: Any, name: str) -> int:
    try:
        return operator.index(seed) if not isinstance(seed, float) else int(seed)
    except TypeError:
        raise TypeError(f"matgrad.cuda.{name}: the seed must be an int, got {type(seed).__name__} {seed!r}") from None


def manual_seed(seed: int) -> None:
    """Seed the GPUs' generators (CuPy's); nothing to do without a GPU (PyTorch ignores it too)."""
    s = _check_seed(seed, "manual_seed")
    if cuda_available():
        cuda_backend().seed(s % 2**64)


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's generator; nothing to do without a GPU (PyTorch ignores it too)."""
    s = _check_seed(seed, "manual_seed_all")
    if cuda_available():
        cuda_backend().seed(s % 2**64)


def seed() -> None:
    """Seed the GPUs' generators from the operating system's entropy; nothing to do without a GPU."""
    if cuda_available():
        cuda_backend().seed(int(np.random.SeedSequence().generate_state(1, np.uint32)[0]))


def seed_all() -> None:
    """Seed every GPU's generator from the operating system's entropy; nothing to do without a GPU."""
    seed()


def empty_cache() -> None:
    """Give the memory CuPy's pool holds but no array uses back to the GPU; nothing to do without one."""
    if cuda_available():
        free = getattr(cuda_backend(), "empty_cache", None)
        if free is not None:
            free()


def _memory(device: Any) -> tuple[int, int, int, list[int]]:
    """(index, bytes allocated, bytes reserved, [peak allocated, peak reserved]); zeros where not counted."""
    if not cuda_available():
        return 0, 0, 0, [0, 0]
    b, index = _backend("memory_allocated()", device)
    used, held = _note_memory(b, index)
    return index, used, held, _peaks[b][index]


def _note_memory(b: Any, index: int) -> tuple[int, int]:
    counters = getattr(b, "memory", None)
    used, held = counters(index) if counters is not None else (0, 0)
    peak = _peaks.setdefault(b, {}).setdefault(index, [0, 0])
    peak[0], peak[1] = max(peak[0], used), max(peak[1], held)
    return used, held


def memory_allocated(device: Any = None) -> int:
    """Bytes of GPU memory held by arrays (0 without a GPU)."""
    return _memory(device)[1]


def max_memory_allocated(device: Any = None) -> int:
    """The most bytes held by arrays seen since reset_peak_memory_stats (0 without a GPU)."""
    return _memory(device)[3][0]


def memory_reserved(device: Any = None) -> int:
    """Bytes of GPU memory reserved by the memory pool (0 without a GPU)."""
    return _memory(device)[2]


def max_memory_reserved(device: Any = None) -> int:
    """The most bytes reserved by the pool seen since reset_peak_memory_stats (0 without a GPU)."""
    return _memory(device)[3][1]


def reset_peak_memory_stats(device: Any = None) -> None:
    """Start the peak counters again from the present values; nothing to reset without a GPU."""
    if cuda_available():
        b, index = _backend("reset_peak_memory_stats()", device)
        _peaks.get(b, {}).pop(index, None)
        _note_memory(b, index)


def __getattr__(name: str) -> Any:
    """`matgrad.cuda.amp`: torch.cuda.amp's deprecated GradScaler and autocast, from matgrad.amp on first use."""
    if name == "amp":
        from .amp import cuda_amp  # matgrad.amp sits above this module, so it is reached only when asked for

        return cuda_amp
    raise AttributeError(f"module 'matgrad.cuda' has no attribute {name!r}")


__all__ = ["is_available", "device_count", "is_initialized", "init", "current_device", "set_device",
           "synchronize", "get_device_name", "get_device_capability", "get_device_properties", "manual_seed",
           "manual_seed_all", "seed", "seed_all", "empty_cache", "memory_allocated", "max_memory_allocated",
           "memory_reserved", "max_memory_reserved", "reset_peak_memory_stats", "OutOfMemoryError"]
