"""`matgrad.accelerator`: torch.accelerator, the device-agnostic view of the GPU, over matgrad.cuda.

matgrad's one accelerator is CUDA through CuPy. Where it can be used, is_available() is True,
current_accelerator() is device('cuda') and the rest is matgrad.cuda's (device_count, current_device,
set_device, synchronize). Without one, as a torch without an accelerator: is_available() is False,
current_accelerator() None, device_count() 0, and the functions that need a device raise torch's
RuntimeError.

    device = matgrad.accelerator.current_accelerator() or matgrad.device("cpu")
"""
from __future__ import annotations

from typing import Any

from . import cuda
from .devices import device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "set_device_index",
           "synchronize"]

_NONE_AVAILABLE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    """Whether an accelerator (a GPU CuPy can use) is there."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> device | None:
    """device('cuda') when a GPU can be used, else None (matgrad reports no accelerator it cannot use,
    so check_available changes nothing)."""
    return device("cuda") if cuda.is_available() else None


def device_count() -> int:
    """How many accelerator devices can be used (0 without one)."""
    return cuda.device_count() if cuda.is_available() else 0


def _check() -> None:
    if not cuda.is_available():
        raise RuntimeError(_NONE_AVAILABLE)


def current_device_index() -> int:
    """The index of the selected accelerator device."""
    _check()
    return cuda.current_device()


def set_device_index(device: Any) -> None:
    """Select the accelerator device (an index, or a 'cuda' device); a negative index does nothing, as in torch."""
    _check()
    if isinstance(device, int) and device < 0:
        return
    cuda.set_device(device)


def synchronize(device: Any = None) -> None:
    """Wait until the accelerator has finished its queued work (the current device unless given)."""
    _check()
    cuda.synchronize(device)
