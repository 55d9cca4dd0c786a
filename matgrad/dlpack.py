"""DLPack: tensors into and out of other array libraries (torch, CuPy, JAX, NumPy) without a copy.

    t = matgrad.from_dlpack(torch_tensor)    # shares torch_tensor's memory
    u = torch.from_dlpack(t)                 # and back, through Tensor.__dlpack__ / __dlpack_device__
    cap = matgrad.utils.dlpack.to_dlpack(t)  # the legacy capsule, for from_dlpack of any library

The arrays under matgrad's tensors do the work: NumPy's DLPack on the CPU, CuPy's on CUDA; which
library imports is decided by the producer's `__dlpack_device__`, as torch decides. torch's rules
are kept: a tensor that requires grad is not exported (BufferError, torch's message), a capsule is
consumed once, `device`/`copy` are refused with a capsule, and what a pre-1.0 capsule holds is
writable (NumPy alone would mark it read-only, as that DLPack cannot say). matgrad has no complex or bfloat16
dtype, so such data is refused with a TypeError naming it (convert it in its own library first).
Memory with negative strides (a reversed NumPy view) is refused too unless copy=True: torch cannot
take it and aborts the process on it.
"""
from __future__ import annotations

import ctypes
import enum
from typing import Any

import numpy as np

from . import devices as _devices
from .tensor import Tensor

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


class DLDeviceType(enum.IntEnum):
    """DLPack's device types, with torch.utils.dlpack.DLDeviceType's names and values."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


# host memory NumPy reads (np.from_dlpack takes these three), and CUDA memory CuPy reads
_HOST = {DLDeviceType.kDLCPU, DLDeviceType.kDLCUDAHost, DLDeviceType.kDLROCMHost}
_CUDA = {DLDeviceType.kDLCUDA, DLDeviceType.kDLCUDAManaged}

_REQUIRES_GRAD = "Can't export tensors that require gradient, use tensor.detach()"
_BAD_CAPSULE = ("from_dlpack received an invalid capsule. Note that DLTensor capsules can be consumed only once, "
                "so you might have already constructed a tensor from it once.")
_UNSUPPORTED = ("matgrad tensors hold bool, integer and float16/32/64 data; {what} is not supported: convert it "
                "in its own library before sharing it (e.g. torch: t.float(), or t.real / t.abs() for complex)")


# --- export -------------------------------------------------------------------------------------

def device_of(t: Tensor) -> tuple[DLDeviceType, int]:
    """Tensor.__dlpack_device__: what the array underneath reports, as (DLDeviceType, index) like torch."""
    ask = getattr(t.array, "__dlpack_device__", None)
    if ask is None:
        raise BufferError(f"a {t.device} tensor's {type(t.array).__name__} cannot be shared through DLPack")
    kind, index = ask()
    return DLDeviceType(int(kind)), int(index)


def export(t: Tensor, *, stream: Any = -1, max_version: Any = None, dl_device: Any = None, copy: Any = None,
           check_grad: bool = True) -> Any:
    """Tensor.__dlpack__ (check_grad=True, torch's refusal of a tensor that requires grad) and to_dlpack."""
    if check_grad and t.requires_grad:
        raise BufferError(_REQUIRES_GRAD)
    if stream is not None and type(stream) is not int:
        raise TypeError("stream must be ``int`` or ``none``")
    arr = t.array
    if any(s < 0 for s in arr.strides) and not copy:
        raise BufferError(f"this tensor's memory runs backwards (strides {t.stride()}), which DLPack consumers "
                          "such as torch cannot take; export a copy: t.contiguous() (or pass copy=True)")
    kwargs = {k: v for k, v in (("max_version", max_version), ("dl_device", dl_device), ("copy", copy))
              if v is not None}  # only what was asked, so a NumPy older than 2.1 takes the call
    if type(arr) is np.ndarray:
        if stream is not None and stream != -1:  # torch's check and message; -1 (no sync) is None on the CPU
            raise AssertionError("stream should be None on cpu.")
        return arr.__dlpack__(**kwargs)
    if not hasattr(arr, "__dlpack__"):
        raise BufferError(f"a {t.device} tensor's {type(arr).__name__} cannot be shared through DLPack")
    return arr.__dlpack__(stream=stream, **kwargs)  # CuPy synchronises with the consumer's stream


def to_dlpack(tensor: Tensor) -> Any:
    """A DLPack capsule of `tensor`'s memory (the legacy interface; torch's does not check requires_grad)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack: expected a matgrad Tensor, got {type(tensor).__name__}")
    return export(tensor, stream=None, check_grad=False)


# --- import -------------------------------------------------------------------------------------

class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32), ("dtype", _DLDataType),
                ("shape", ctypes.c_void_p), ("strides", ctypes.c_void_p), ("byte_offset", ctypes.c_uint64)]


class _DLManagedTensor(ctypes.Structure):  # a "dltensor" capsule's pointer
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p)]


class _DLManagedTensorVersioned(ctypes.Structure):  # a "dltensor_versioned" capsule's pointer (DLPack >= 1.0)
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p), ("flags", ctypes.c_uint64), ("dl_tensor", _DLTensor)]


_LAYOUTS = {b"dltensor": _DLManagedTensor, b"dltensor_versioned": _DLManagedTensorVersioned}
_capsule_name = ctypes.pythonapi.PyCapsule_GetName
_capsule_name.restype, _capsule_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype, _capsule_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]

# DLPack's type codes (kDLInt, kDLUInt, kDLFloat, kDLBfloat, kDLComplex, kDLBool) as words
_CODES = {0: "int", 1: "uint", 2: "float", 3: "opaque handle", 4: "bfloat", 5: "complex", 6: "bool"}


def _is_capsule(x: Any) -> bool:
    return type(x).__name__ == "PyCapsule" and type(x).__module__ == "builtins"


def _capsule_facts(capsule: Any) -> tuple[DLDeviceType | int, int, _DLDataType, bool]:
    """The device (type, index) and dtype a capsule's DLTensor declares, and whether the capsule is versioned
    (DLPack >= 1.0); torch's error for a used one."""
    name = _capsule_name(capsule)
    layout = _LAYOUTS.get(name)
    if layout is None:  # "used_dltensor...": consumed already
        raise RuntimeError(_BAD_CAPSULE)
    tensor = layout.from_address(_capsule_pointer(capsule, name)).dl_tensor
    kind = tensor.device.device_type
    return (DLDeviceType(kind) if kind in DLDeviceType._value2member_map_ else kind), tensor.device.device_id, \
        _DLDataType(tensor.dtype.code, tensor.dtype.bits, tensor.dtype.lanes), layout is _DLManagedTensorVersioned


class _Capsule:
    """A bare capsule dressed as a producer, for np.from_dlpack / cupy.from_dlpack (which want __dlpack__)."""

    def __init__(self, capsule: Any, device: tuple[Any, int]) -> None:
        self.capsule, self.device = capsule, device

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self.capsule

    def __dlpack_device__(self) -> tuple[Any, int]:
        return self.device


class _Writable:
    """A read-only array's memory offered as writable: NumPy marks whatever comes from a pre-1.0 capsule
    read-only, as that DLPack could not say; torch takes such memory as writable, and so does matgrad."""

    def __init__(self, arr: np.ndarray) -> None:
        self.keep = arr  # which holds the capsule: the memory lives as long as the new array
        self.__array_interface__ = dict(arr.__array_interface__, data=(arr.__array_interface__["data"][0], False))


def _import(src: Any, kind: Any, copy: Any) -> Any:
    """The array the library of that device type makes of src (NumPy for host memory, CuPy for CUDA)."""
    kw = {} if copy is None else {"copy": copy}
    if kind in _HOST:
        try:
            return np.from_dlpack(src, **kw)
        except TypeError:
            if not kw:
                raise
            arr = np.from_dlpack(src)  # a NumPy older than 2.1 has no copy=: host memory is never copied
            return arr.copy() if copy else arr
        except RuntimeError as e:
            if "dtype" in str(e):  # NumPy's "Unsupported dtype in DLTensor." (bfloat16 and other exotics)
                what = getattr(src, "dtype", "this DLPack dtype")  # torch's tensors say which: torch.bfloat16
                raise TypeError(_UNSUPPORTED.format(what=what)) from None
            raise
    if kind in _CUDA:
        if _devices.cuda_backend() is None:
            raise RuntimeError(_devices.no_cuda_message("cuda") + " (from_dlpack was given CUDA memory)")
        import cupy

        return cupy.from_dlpack(src, **kw)
    name = kind.name if isinstance(kind, DLDeviceType) else f"device type {kind}"
    raise BufferError(f"from_dlpack: matgrad has no device for DLPack's {name} memory (it has the CPU, and CUDA "
                      "through CuPy); copy the data to the CPU in its own library first")


def from_dlpack(ext_tensor: Any, *, device: Any = None, copy: bool | None = None) -> Tensor:
    """A Tensor sharing the memory of another library's tensor (anything with __dlpack__) or of a DLPack capsule.

    As torch.from_dlpack: `device` puts the result on that device (a copy when it is not the source's; with
    copy=False that is a ValueError), `copy=True` always copies, and a capsule takes neither.
    """
    if hasattr(ext_tensor, "__dlpack__"):
        kind, index = ext_tensor.__dlpack_device__()
        kind = DLDeviceType(int(kind)) if int(kind) in DLDeviceType._value2member_map_ else int(kind)
        src, versioned = ext_tensor, True
    elif _is_capsule(ext_tensor):
        if device is not None or copy is not None:
            raise AssertionError("device and copy kwargs not supported when ext_tensor is already a DLPack capsule.")
        kind, index, dtype, versioned = _capsule_facts(ext_tensor)
        if dtype.code in (4, 5) or dtype.lanes != 1:
            what = _CODES.get(dtype.code, f"type code {dtype.code}") + str(dtype.bits)
            raise TypeError(_UNSUPPORTED.format(what=what + (f"x{dtype.lanes}" if dtype.lanes != 1 else "")))
        src = _Capsule(ext_tensor, (kind, index))
    else:
        raise RuntimeError(f"from_dlpack: expected an object with __dlpack__ (another library's tensor or array) "
                           f"or a DLPack capsule, got {type(ext_tensor).__name__}")
    arr = _import(src, kind, copy)
    if arr.dtype.kind not in "biuf":
        raise TypeError(_UNSUPPORTED.format(what=str(arr.dtype)))
    if isinstance(src, _Capsule) and not versioned and type(arr) is np.ndarray and not arr.flags.writeable:
        arr = np.asarray(_Writable(arr))
    out = Tensor._make(arr, None, False)
    if device is None:
        return out
    target = _devices.resolve(device)
    here = out.device
    if target.type == here.type and (target.index is None or target.index == here.index):
        return out
    if copy is False:
        raise ValueError(f"cannot move DLPack tensor from device {here} to {target} without copying. "
                         "Set copy=None or copy=True.")
    return Tensor._make(_devices.move(arr, target), None, False)
