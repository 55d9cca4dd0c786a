"""Which device a run uses (`--device cpu|cuda|auto`), how it is named in logs, and host copies of its arrays."""
from __future__ import annotations

import importlib.util

from .. import devices

#: The choices `--device` takes (a particular GPU as "cuda:N" is accepted too).
CHOICES = ("auto", "cpu", "cuda")


class DeviceUnavailable(ValueError):
    """The device asked for cannot be used here; the message says why and what to do."""


def choose(name: str | None) -> tuple[devices.device, str]:
    """(the device for `--device name`, a note for the user or "").

    "auto" (and None) is CUDA when `matgrad.cuda.is_available()`, else the CPU; the note then says
    why a GPU that seems meant to be used (CuPy is installed) was not. "cpu", "cuda" and "cuda:N"
    are taken as asked, and a CUDA device that is not here is a DeviceUnavailable naming the reason.
    """
    name = "auto" if name is None else str(name).strip().lower()
    if name == "auto":
        if devices.cuda_available():
            return devices.device("cuda", 0), ""
        if not _cupy_installed():  # no GPU extra: the CPU is simply what there is, nothing to say
            return devices.CPU, ""
        return devices.CPU, f"running on the CPU: {devices.cuda_unavailable_reason()}"
    try:
        dev = devices.device(name)
    except (RuntimeError, TypeError):
        raise DeviceUnavailable(f"--device {name}: not a device; choose auto, cpu, cuda or cuda:N "
                                "(matgrad calls an NVIDIA GPU 'cuda')") from None
    if dev.type == "cpu":
        return devices.CPU, ""
    if not devices.cuda_available():
        raise DeviceUnavailable(f"--device {name}: no CUDA GPU can be used here: {devices.cuda_unavailable_reason()}. "
                                "Use --device cpu (or auto) to run on the CPU")
    try:
        devices.check_available(dev)
    except RuntimeError as e:
        raise DeviceUnavailable(f"--device {name}: {e}") from None
    return devices.device("cuda", 0 if dev.index is None else dev.index), ""


def _cupy_installed() -> bool:
    """Whether CuPy can be found (without importing it)."""
    return importlib.util.find_spec("cupy") is not None


def describe(dev: devices.device) -> str:
    """"cpu", or "cuda:0 (NVIDIA H200)": the device and, for a GPU, its name (for logs and metrics.json)."""
    if dev.type == "cpu":
        return "cpu"
    backend = devices.cuda_backend()
    try:
        name = backend.name(dev.index) if backend is not None else ""
    except Exception:  # noqa: BLE001 - a name is only for display: never fail a run over it
        name = ""
    return f"{dev} ({name})" if name else str(dev)


def synchronize(dev: devices.device) -> None:
    """Wait for the device's queued work (a GPU runs asynchronously), so that timings are true."""
    if dev.type == "cuda":
        backend = devices.cuda_backend()
        if backend is not None:
            backend.synchronize(dev.index)
