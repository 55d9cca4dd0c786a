"""Element types under PyTorch's names: `matgrad.float32` (also `matgrad.float`), printed as in torch.

A `dtype` is NumPy's dtype in a thin wrapper, so it prints as `matgrad.float32` and has
PyTorch's `is_floating_point` and `itemsize`, while everything NumPy does with a dtype takes it
as it is: `np.zeros(3, matgrad.float32)`, `a.astype(t.dtype)`, `np.dtype(t.dtype)`, and it
equals (and hashes as) the NumPy dtype, `np.float32` and `"float32"` alike.

`matgrad.float`, `int`, `bool` shadow Python's builtins only as attributes of the matgrad module,
as `torch.float` does; inside matgrad's own code the builtins are untouched.
"""
from __future__ import annotations

from typing import Any

import numpy as np


class dtype:  # noqa: N801 - PyTorch's name
    """A tensor's element type: NumPy's dtype, printed as PyTorch prints its own (`matgrad.float32`)."""

    __slots__ = ("dtype",)
    _interned: dict[np.dtype, dtype] = {}

    def __new__(cls, spec: Any) -> dtype:
        np_dtype = np.dtype(spec.dtype if isinstance(spec, dtype) else spec)
        found = cls._interned.get(np_dtype)
        if found is None:
            found = super().__new__(cls)
            object.__setattr__(found, "dtype", np_dtype)  # the NumPy dtype: what NumPy reads
            cls._interned[np_dtype] = found
        return found

    def __eq__(self, other: Any) -> bool:
        if other is None or isinstance(other, (int, float)):  # np.dtype(None) would mean float64
            return False
        try:
            return self.dtype == np.dtype(other)
        except TypeError:
            return False

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __repr__(self) -> str:
        return f"matgrad.{self.dtype.name}"

    __str__ = __repr__

    def __reduce__(self) -> tuple[Any, ...]:
        return (dtype, (self.dtype.str,))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("matgrad dtypes cannot be changed")

    def __getattr__(self, name: str) -> Any:  # kind, char, type, name ...: NumPy's
        return getattr(object.__getattribute__(self, "dtype"), name)

    @property
    def is_floating_point(self) -> bool:
        """Whether this is a float type."""
        return self.dtype.kind == "f"

    @property
    def is_signed(self) -> bool:
        """Whether negative numbers fit."""
        return self.dtype.kind in "fi"

    @property
    def is_complex(self) -> bool:
        """Whether this is a complex type (matgrad has none)."""
        return self.dtype.kind == "c"

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize


def of(np_dtype: Any) -> dtype:
    """The matgrad dtype for a NumPy one (interned: one object per type)."""
    found = dtype._interned.get(np_dtype)
    return found if found is not None else dtype(np_dtype)


float16 = half = dtype("float16")
float32 = dtype("float32")
float64 = double = dtype("float64")
int8, int16, int32 = dtype("int8"), dtype("int16"), dtype("int32")
short = int16
int64 = long = dtype("int64")
uint8 = dtype("uint8")
bool_ = dtype("bool")

#: PyTorch's names that are also Python builtins: exported as matgrad.float, matgrad.int, matgrad.bool.
TORCH_NAMES = {"float": float32, "int": int32, "bool": bool_}

#: PyTorch's legacy type strings (`Tensor.type()`), by dtype.
TYPE_NAMES = {
    float16: "HalfTensor", float32: "FloatTensor", float64: "DoubleTensor", int8: "CharTensor",
    int16: "ShortTensor", int32: "IntTensor", int64: "LongTensor", uint8: "ByteTensor", bool_: "BoolTensor",
}

__all__ = ["dtype", "float16", "half", "float32", "float64", "double", "int8", "int16", "short", "int32",
           "int64", "long", "uint8", "bool_"]
