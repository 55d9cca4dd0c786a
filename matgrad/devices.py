"""Devices: where a tensor lives. PyTorch's `torch.device`, for a library that runs on the CPU.

    device("cpu"), device("cuda"), device("cuda:0"), device("cuda", 1), device(other_device)

`.type` is "cpu" or "cuda", `.index` an int or None ("cpu" and "cuda" without an index).
`str(d)` is "cuda:0", `repr(d)` is "device(type='cuda', index=0)". As in PyTorch, a device
equals only another device with the same type and index (`device("cpu") == "cpu"` is False,
and `device("cuda") != device("cuda:0")`), is hashable and cannot be changed.

`cuda_available()` asks `matgrad.backend` for the CUDA backend (CuPy, imported only then).
Where there is none, asking for CUDA (`.to("cuda")`, `device="cuda"` in a factory,
`map_location="cuda"`) raises a RuntimeError that says why (CuPy missing, or no driver / GPU)
and how to get the GPU extra, through `check_available` / `resolve`. This module imports only
`matgrad.backend` from matgrad.
"""
from __future__ import annotations

import operator
import re
from typing import Any

import numpy as np

from . import backend as _backend

#: The device types matgrad knows.
TYPES = ("cpu", "cuda")
#: PyTorch's other device types: recognised, so that the error can say matgrad lacks them.
_TORCH_ONLY_TYPES = ("ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
                     "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_DEVICE_STRING = re.compile(r"([a-z_]+)(?::(0|[1-9][0-9]*))?\Z")
_VALID_FORMS = "'cpu', 'cuda', 'cuda:N' (N = 0, 1, ...), device('cuda', N), or an int N for cuda:N"
_GPU_EXTRA = 'pip install "matgrad[cuda]"'


class device:
    """Where a tensor lives: `device("cpu")`, `device("cuda:0")`, `device("cuda", 0)` (PyTorch's API)."""

    __slots__ = ("_type", "_index")

    def __init__(self, type: Any = None, index: Any = None) -> None:
        if type is None:
            raise TypeError(f"device() needs a device type or string: {_VALID_FORMS}")
        if isinstance(type, device):
            if index is not None:
                raise TypeError(f"device({type!r}, {index!r}): a device already has its index; pass "
                                f"device('{type.type}', {index!r}) to choose another")
            kind, idx = type.type, type.index
        elif isinstance(type, str):
            kind, idx = _parse(type)
            if index is not None:
                if idx is not None:
                    raise RuntimeError(f"device({type!r}, {index!r}): the string already names index {idx}; "
                                       f"pass either '{kind}:N' or ('{kind}', N), not both")
                idx = _check_index(index, type)
        elif isinstance(type, (int, np.integer)) and not isinstance(type, (bool, np.bool_)):
            if index is not None:
                raise TypeError(f"device({type!r}, {index!r}): an int already means cuda:{type}; pass one argument")
            idx = _check_index(type, type)
            if not cuda_available():  # as PyTorch: a bare int means the accelerator, and there is none
                raise RuntimeError(f"device({type}) means cuda:{type}, but " + _no_cuda(f"cuda:{type}"))
            kind = "cuda"
        else:
            raise TypeError(f"device() expects a string, a device or an int, got {_typename(type)} {type!r}; "
                            f"valid forms: {_VALID_FORMS}")
        object.__setattr__(self, "_type", kind)
        object.__setattr__(self, "_index", idx)

    @property
    def type(self) -> str:
        """'cpu' or 'cuda'."""
        return self._type

    @property
    def index(self) -> int | None:
        """The device's number, or None when not given ('cpu', 'cuda': the current one)."""
        return self._index

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"attribute {name!r} of 'matgrad.device' objects is not writable; "
                             "make a new one: matgrad.device(...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"attribute {name!r} of 'matgrad.device' objects cannot be deleted")

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, device):
            return NotImplemented  # then False, as PyTorch: device("cpu") == "cpu" is False
        return self._type == other._type and self._index == other._index

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash(("matgrad.device", self._type, self._index))

    def __reduce__(self) -> tuple[Any, ...]:
        return (device, (self._type,) if self._index is None else (self._type, self._index))

    def __copy__(self) -> device:
        return self

    def __deepcopy__(self, memo: Any) -> device:
        return self

    def __enter__(self) -> device:
        """`with matgrad.device("cuda"):` makes factories put new tensors there, as in PyTorch."""
        check_available(self)
        _DEFAULT.append(CPU if self._type == "cpu" else self)
        return self

    def __exit__(self, *exc: Any) -> None:
        if len(_DEFAULT) > 1:
            _DEFAULT.pop()


def _typename(x: Any) -> str:
    return type(x).__name__


def _parse(text: str) -> tuple[str, int | None]:
    """('cuda', 0) from 'cuda:0'; a RuntimeError naming the string and the valid forms otherwise."""
    if not text:
        raise RuntimeError(f"device string must not be empty; valid forms: {_VALID_FORMS}")
    m = _DEVICE_STRING.match(text)
    kind = m.group(1) if m else text.partition(":")[0]
    if kind in TYPES:
        if m is None:
            raise RuntimeError(f"invalid device string {text!r}: expected '{kind}' or '{kind}:N' with N a "
                               f"non-negative integer without leading zeros (e.g. '{kind}:0'); valid forms: "
                               f"{_VALID_FORMS}")
        return kind, None if m.group(2) is None else int(m.group(2))
    if kind in _TORCH_ONLY_TYPES:
        raise RuntimeError(f"device {text!r}: PyTorch's '{kind}' device type is not supported by matgrad, which "
                           f"runs on 'cpu' (and on 'cuda' with the GPU extra: {_GPU_EXTRA}); valid forms: "
                           f"{_VALID_FORMS}")
    hint = f" (did you mean '{kind.lower()}'?)" if kind.lower() in TYPES else ""
    hint = hint or (" (matgrad calls an NVIDIA GPU 'cuda')" if kind.lower() in ("gpu", "nvidia", "cupy") else "")
    raise RuntimeError(f"unknown device {text!r}{hint}: expected one of {_VALID_FORMS}")


def _check_index(index: Any, where: Any) -> int:
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"device index must be an int, got {_typename(index)} {index!r} (in device({where!r}))")
    index = operator.index(index)
    if index < 0:
        raise RuntimeError(f"device index must not be negative, got {index}; use 0 for the first device")
    return index


#: The CPU, the device every tensor reports.
CPU = device("cpu")
#: The device factories use when given none: the last entry (`set_default_device`, `with device(...)`).
_DEFAULT: list[device] = [CPU]


def get_default_device() -> device:
    """Where factories (zeros, randn, tensor ...) put tensors when no device is given: the CPU unless changed."""
    return _DEFAULT[-1]


def set_default_device(dev: Any) -> None:
    """Make factories put new tensors on `dev` (PyTorch's torch.set_default_device); None means the CPU."""
    _DEFAULT[0] = resolve(dev)


# --- the seam a GPU backend fills in ------------------------------------------------------------

#: The CUDA backend once looked for: [backend or None, why there is none, looked yet].
_cuda: list[Any] = [None, "", False]


def cuda_backend() -> _backend.ArrayBackend | None:
    """The CUDA backend (CuPy), loaded on first use; None where there is none (see cuda_unavailable_reason)."""
    if not _cuda[2]:
        from .cupy_backend import load  # CuPy is imported only when CUDA is asked for

        _cuda[0], _cuda[1] = load()
        _cuda[2] = True
    return _cuda[0]


def cuda_unavailable_reason() -> str:
    """Why cuda_backend() is None, in words ("" when there is one)."""
    cuda_backend()
    return _cuda[1]


def set_cuda_backend(backend: _backend.ArrayBackend | None, reason: str = "") -> tuple[Any, ...]:
    """Install `backend` as the CUDA device (the tests' CuPy-like device); returns what was there, for
    restore_cuda_backend."""
    before = tuple(_cuda)
    _cuda[:] = [backend, reason if backend is None else "", True]
    return before


def restore_cuda_backend(before: tuple[Any, ...]) -> None:
    """Put back what set_cuda_backend replaced."""
    _cuda[:] = list(before)


def backend_of(array: Any) -> _backend.ArrayBackend:
    """The backend whose array this is: the CPU for NumPy arrays and scalars, else the CUDA backend."""
    t = type(array)
    if t is np.ndarray:
        return _backend.CPU
    cuda = _cuda[0]
    if cuda is not None and t is cuda.array_type:
        return cuda
    if isinstance(array, (np.ndarray, np.generic, int, float, bool)):
        return _backend.CPU
    if not _cuda[2] and t.__module__.split(".")[0] == "cupy":  # a CuPy array before anything asked for CUDA
        cuda = cuda_backend()
        if cuda is not None and t is cuda.array_type:
            return cuda
    raise TypeError(f"matgrad cannot hold a {t.__module__}.{t.__name__}: expected a NumPy array"
                    + (" or a CuPy array on a usable GPU" if _cuda[0] is None else f" or a {cuda.array_type}"))


def cuda_available() -> bool:
    """Whether a CUDA GPU can be used: CuPy is installed and found a GPU and its driver."""
    return cuda_backend() is not None


def cuda_device_count() -> int:
    """How many CUDA GPUs can be used (0 while `cuda_available()` is False)."""
    cuda = cuda_backend()
    return 0 if cuda is None else cuda.device_count


# --- checks for .to(), factories, map_location ------------------------------------------------------

def _no_cuda(what: str) -> str:
    why = cuda_unavailable_reason() or f"to use an NVIDIA GPU install the GPU extra: {_GPU_EXTRA} (CuPy)"
    return (f"no CUDA device is available, so {what!r} cannot be used: {why}. To run anywhere, pick the "
            "device at run time: device = matgrad.device(\"cuda\" if matgrad.cuda.is_available() else \"cpu\")")


def no_cuda_message(dev: Any) -> str:
    """The explanation every refused CUDA request carries (for callers composing their own error)."""
    return _no_cuda(str(dev))


def check_available(dev: device, hint: str = "") -> None:
    """Raise RuntimeError if `dev` cannot be used here (any CUDA device, for now); `hint` is appended."""
    if dev.type == "cuda":
        extra = f" {hint}" if hint else ""
        if not cuda_available():
            raise RuntimeError(_no_cuda(str(dev)) + extra)
        count = cuda_device_count()
        if dev.index is not None and dev.index >= count:
            raise RuntimeError(f"CUDA device {dev.index} was asked for ({str(dev)!r}), but there "
                               f"{'is only 1 device' if count == 1 else f'are {count} devices'} "
                               f"(indices 0 to {count - 1}){extra}")


def resolve(dev: Any) -> device:
    """The device a tensor lands on when `dev` is asked for (None: the default, the CPU).

    Accepts None, a string, a device or an int (cuda:N), raising as `device()` does for a bad one
    and as `check_available` for one that is not here. Every CPU form ('cpu', 'cpu:0') gives
    `device('cpu')`, which is what a tensor reports, as in PyTorch.
    """
    if dev is None:
        return CPU
    d = dev if isinstance(dev, device) else device(dev)
    check_available(d)
    if d.type == "cpu":
        return CPU
    return d


def cuda_device(dev: Any = None) -> device:
    """The CUDA device `.cuda(dev)` means: None -> 'cuda', N -> 'cuda:N', a string or device of type cuda.

    Not checked for availability (`resolve` / `check_available` do that); a CPU device is a
    ValueError, as PyTorch's "Expected a cuda device".
    """
    if dev is None:
        return device("cuda")
    if isinstance(dev, (int, np.integer)) and not isinstance(dev, (bool, np.bool_)):
        return device("cuda", _check_index(dev, dev))
    d = dev if isinstance(dev, device) else device(dev)
    if d.type != "cuda":
        raise ValueError(f"expected a cuda device, but got {str(d)!r}; .cuda() takes None, an int N, 'cuda:N' "
                         "or a cuda device (use .cpu() or .to('cpu') for the CPU)")
    return d


def is_device_like(x: Any) -> bool:
    """Whether `x` names a device rather than a dtype: a device, an int, or a string that is not a dtype."""
    if isinstance(x, device):
        return True
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        return True
    if isinstance(x, str):
        try:
            _parse(x)
            return True
        except RuntimeError:
            pass
        try:
            np.dtype(x)
            return False
        except Exception:  # noqa: BLE001 - NumPy raises TypeError, and others for odd strings
            return True  # neither: device() will say what is wrong with it
    return False


_TO_KEYWORDS = ("device", "dtype", "non_blocking", "copy", "memory_format")


def parse_to_args(args: tuple[Any, ...], kwargs: dict[str, Any], where: str = "Tensor.to"
                  ) -> tuple[device | None, Any, bool, bool]:
    """(device, dtype, non_blocking, copy) from PyTorch's `.to(...)` forms; the device checked, None if absent.

        to(dtype, non_blocking=False, copy=False)
        to(device=None, dtype=None, non_blocking=False, copy=False)
        to(other_tensor, non_blocking=False, copy=False)     # other's device and dtype

    The dtype comes back as given (the caller converts it). A string is a device when it parses
    as one ('cpu', 'cuda:0'), a dtype when NumPy knows it ('float32'), and an error naming both
    otherwise. `memory_format` is passed on (Tensor.to lays the copy out as it asks: matgrad/memory_format.py).
    """
    unknown = sorted(set(kwargs) - set(_TO_KEYWORDS))
    if unknown:
        raise TypeError(f"{where}() got unexpected keyword argument(s) {unknown}; it takes "
                        "(device, dtype, non_blocking, copy, memory_format)")
    dev, dtype = kwargs.get("device"), kwargs.get("dtype")
    flags = [kwargs.get("non_blocking"), kwargs.get("copy")]
    rest = list(args)
    if rest and not isinstance(rest[0], (bool, np.bool_)):
        first = rest.pop(0)
        if _is_tensor_like(first):
            if dev is not None or dtype is not None:
                raise TypeError(f"{where}(other, ...): the device and dtype come from the other tensor; "
                                "do not pass device= or dtype= as well")
            dev, dtype = getattr(first, "device", None) or CPU, first.dtype
        elif is_device_like(first):
            if dev is not None:
                raise TypeError(f"{where}(): the device was given twice ({first!r} and device={dev!r})")
            dev = first
            if rest and not isinstance(rest[0], (bool, np.bool_)) and rest[0] is not None:
                if dtype is not None:
                    raise TypeError(f"{where}(): the dtype was given twice ({rest[0]!r} and dtype={dtype!r})")
                dtype = rest.pop(0)
        else:
            if dtype is not None:
                raise TypeError(f"{where}(): the dtype was given twice ({first!r} and dtype={dtype!r})")
            dtype = first
    for i, value in enumerate(rest):
        if i >= 2 or not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{where}(): unexpected positional argument {value!r}; the forms are "
                            "to(dtype), to(device, dtype), to(other_tensor), each optionally followed by "
                            "non_blocking and copy (bools)")
        if flags[i] is not None:
            raise TypeError(f"{where}(): {_TO_KEYWORDS[2 + i]} was given twice")
        flags[i] = value
    if isinstance(dtype, str) and is_device_like(dtype):
        raise TypeError(f"{where}(): dtype={dtype!r} is a device, not a dtype; pass it as device={dtype!r}")
    resolved = None if dev is None else resolve(dev)
    return resolved, dtype, bool(flags[0]), bool(flags[1])


def _is_tensor_like(x: Any) -> bool:
    """A tensor or an array: has a dtype and a shape, and is neither a dtype nor a type."""
    return (not isinstance(x, (str, bytes, type, np.dtype, device, np.generic))
            and type(x).__module__ != "matgrad.dtypes"  # matgrad.float32 passes NumPy's dtype.shape through
            and hasattr(x, "dtype") and hasattr(x, "shape"))


def on_a_device(array: Any) -> bool:
    """Whether `array` is a device backend's array (CuPy's); False for NumPy's and for anything unknown."""
    try:
        return backend_of(array).kind != "cpu"
    except TypeError:  # another library's array (dask, ...): NumPy converts it, as before
        return False


def to_host(array: Any) -> np.ndarray:
    """`array` as a NumPy array: itself on the CPU, a host copy of a device's."""
    return array if type(array) is np.ndarray else backend_of(array).to_host(array)


def device_of(array: Any) -> device:
    """The device an array is on: device('cpu') for NumPy's, device('cuda', i) for the CUDA backend's."""
    b = backend_of(array)
    return CPU if b.kind == "cpu" else device(b.kind, b.index_of(array))


def move(array: Any, dev: device) -> Any:
    """`array` on `dev` (itself when it is there already): through the host between devices."""
    src = backend_of(array)
    if dev.type == "cpu":
        return array if src.kind == "cpu" else src.to_host(array)
    cuda = cuda_backend()
    if cuda is None:
        check_available(dev)
    if src is cuda and (dev.index is None or src.index_of(array) == dev.index):
        return array
    host = array if src.kind == "cpu" else src.to_host(array)
    return cuda.from_host(host, dev.index)


__all__ = ["device", "CPU", "TYPES", "cuda_available", "cuda_device_count", "check_available", "resolve", "cuda_device",
           "is_device_like", "parse_to_args", "no_cuda_message", "backend_of", "device_of", "move", "cuda_backend",
           "set_cuda_backend", "restore_cuda_backend", "to_host", "on_a_device"]
