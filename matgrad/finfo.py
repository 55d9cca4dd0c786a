"""torch.finfo and torch.iinfo: the numeric limits of a float or an integer dtype.

    matgrad.finfo(matgrad.float16).eps      # 0.0009765625, as torch.finfo(torch.float16).eps
    matgrad.finfo().tiny                    # of the default dtype (float32 unless changed)
    matgrad.iinfo(matgrad.int32).max        # 2147483647

The fields are torch's, as Python numbers: finfo has bits, eps, max, min, tiny, smallest_normal,
resolution and dtype (the name, a str such as 'float32'); iinfo has bits, max, min and dtype.
The type may be a matgrad dtype, a NumPy dtype or scalar type (matgrad's dtypes are NumPy's), or
Python's float (float64), int (int64), bool or complex (complex128, whose parts are float64), as
torch maps them. A float type given to iinfo, or an integer one to finfo, is a TypeError, as in torch.
"""
from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from . import dtypes as _dtypes
from .tensor import get_default_dtype

_DEFAULT = object()  # finfo() with no argument: the default dtype (an explicit None is an error, as in torch)
#: Python's scalar types as torch maps them to dtypes.
_PYTHON_TYPES = {builtins.float: np.dtype(np.float64), builtins.int: np.dtype(np.int64),
                 builtins.bool: np.dtype(np.bool_), builtins.complex: np.dtype(np.complex128)}


def _as_dtype(type: Any, who: str) -> np.dtype:  # noqa: A002 - torch's argument name
    """The NumPy dtype `type` names, or torch's TypeError for what is not a dtype."""
    if isinstance(type, _dtypes.dtype):
        return type.dtype
    if isinstance(type, np.dtype):
        return type
    if isinstance(type, builtins.type):
        if type in _PYTHON_TYPES:
            return _PYTHON_TYPES[type]
        if issubclass(type, np.generic):
            return np.dtype(type)
    name = type.__name__ if isinstance(type, builtins.type) else builtins.type(type).__name__
    raise TypeError(f"{who}(): argument 'type' (position 1) must be matgrad.dtype, not {name} "
                    f"(pass a dtype such as matgrad.float32)")


def _name(dt: np.dtype) -> str:
    return repr(_dtypes.of(dt))


class finfo:  # noqa: N801 - torch's name
    """The limits of a floating point dtype (torch.finfo): bits, eps, max, min, tiny, smallest_normal,
    resolution, dtype."""

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    def __init__(self, type: Any = _DEFAULT) -> None:  # noqa: A002 - torch's argument name
        dt = get_default_dtype().dtype if type is _DEFAULT else _as_dtype(type, "finfo")
        if dt.kind not in "fc":
            raise TypeError(f"matgrad.finfo() requires a floating point input type, got {_name(dt)}. "
                            "Use matgrad.iinfo to handle integer and bool types")
        info = np.finfo(dt)  # a complex type's limits are those of its real and imaginary parts, as in torch
        fields = {
            "bits": info.bits, "eps": builtins.float(info.eps), "max": builtins.float(info.max),
            "min": builtins.float(info.min), "tiny": builtins.float(info.smallest_normal),
            "smallest_normal": builtins.float(info.smallest_normal),
            # torch's 10 ** -digits10, in double precision (NumPy's resolution is rounded to the type itself)
            "resolution": 10.0 ** -info.precision, "dtype": info.dtype.name,
        }
        for key, value in fields.items():
            object.__setattr__(self, key, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"attribute {name!r} of 'matgrad.finfo' objects is not writable")

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, finfo):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # as torch.finfo: equal by value, not hashable

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")

    __str__ = __repr__


class iinfo:  # noqa: N801 - torch's name
    """The limits of an integer dtype (torch.iinfo): bits, max, min, dtype."""

    __slots__ = ("bits", "max", "min", "dtype")

    def __init__(self, type: Any) -> None:  # noqa: A002 - torch's argument name
        dt = _as_dtype(type, "iinfo")
        if dt.kind == "b":
            raise TypeError("matgrad.bool is not supported by matgrad.iinfo (a bool holds only False and True)")
        if dt.kind not in "iu":
            raise TypeError(f"matgrad.iinfo() requires an integer input type, got {_name(dt)}. "
                            "Use matgrad.finfo to handle floating point types")
        info = np.iinfo(dt)
        for key, value in {"bits": info.bits, "max": builtins.int(info.max), "min": builtins.int(info.min),
                           "dtype": dt.name}.items():
            object.__setattr__(self, key, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"attribute {name!r} of 'matgrad.iinfo' objects is not writable")

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, iinfo):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # as torch.iinfo

    def __repr__(self) -> str:
        # torch prints the limits as doubles in C++'s default format, which Python's :g reproduces
        return f"iinfo(min={builtins.float(self.min):g}, max={builtins.float(self.max):g}, dtype={self.dtype})"

    __str__ = __repr__


__all__ = ["finfo", "iinfo"]
