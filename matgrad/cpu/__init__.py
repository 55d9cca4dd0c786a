"""`matgrad.cpu`: torch.cpu, the CPU's counterparts of torch.cuda's functions, for device-agnostic code.

    device_module = getattr(matgrad, device.type)    # matgrad.cpu or matgrad.cuda
    device_module.synchronize()

There is one CPU device and its work is done when a call returns, so these do what torch's do:
is_available() and is_initialized() are True, device_count() is 1, current_device() is 'cpu',
synchronize() and set_device() do nothing, and Stream, Event, StreamContext and stream() are
no-op stand-ins for CUDA's. `matgrad.cpu.amp` holds torch.cpu.amp's deprecated autocast and GradScaler.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from . import amp

__all__ = ["is_available", "is_initialized", "synchronize", "current_device", "current_stream", "stream",
           "set_device", "device_count", "Stream", "StreamContext", "Event", "amp"]


def is_available() -> bool:
    """True: there is always a CPU."""
    return True


def is_initialized() -> bool:
    """True: the CPU needs no setting up."""
    return True


def synchronize(device: Any = None) -> None:
    """Nothing to wait for: CPU work is done when its call returns (`device` is ignored, as in torch)."""


def device_count() -> int:
    """1: the CPU counts as one device (not one per core)."""
    return 1


def set_device(device: Any) -> None:
    """Nothing to select: there is one CPU device."""


def current_device() -> str:
    """'cpu'."""
    return "cpu"


class Stream:
    """A no-op stand-in for a CUDA stream: CPU work runs in order as it is called."""

    def __init__(self, priority: int = -1) -> None:
        pass

    def wait_stream(self, stream: Any) -> None:
        pass

    def record_event(self) -> None:
        pass

    def wait_event(self, event: Any) -> None:
        pass


class Event:
    """A no-op stand-in for a CUDA event: always complete."""

    def query(self) -> bool:
        return True

    def record(self, stream: Any = None) -> None:
        pass

    def synchronize(self) -> None:
        pass

    def wait(self, stream: Any = None) -> None:
        pass


_default_stream = Stream()
_current_stream = [_default_stream]


def current_stream(device: Any = None) -> Stream:
    """The selected Stream (`device` is ignored)."""
    return _current_stream[0]


class StreamContext(AbstractContextManager):
    """Selects `stream` inside a `with` block (None: leaves the selection as it is)."""

    def __init__(self, stream: Stream | None) -> None:
        self.stream = stream
        self.prev_stream = _default_stream

    def __enter__(self) -> None:
        if self.stream is not None:
            self.prev_stream = _current_stream[0]
            _current_stream[0] = self.stream

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        if self.stream is not None:
            _current_stream[0] = self.prev_stream


def stream(stream: Stream | None) -> AbstractContextManager:
    """A StreamContext selecting `stream`."""
    return StreamContext(stream)
