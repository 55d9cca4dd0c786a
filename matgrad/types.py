"""torch.types: the type aliases torch's signatures use, for annotations in ported code.

    def f(x: matgrad.Tensor, size: matgrad.types._size, device: matgrad.types.Device = None) -> ...

matgrad has no symbolic shapes, so IntLikeType, FloatLikeType and BoolLikeType are plain int, float, bool.
"""
from __future__ import annotations

import os
from typing import IO, Sequence

from .devices import device as _device
from .dtypes import dtype as _dtype  # noqa: F401 - torch.types._dtype
from .tensor import Size, Tensor, layout

_bool = bool
_bytes = bytes
_complex = complex
_float = float
_int = int
_str = str
_layout = layout

Number = int | float | bool
_Number = (int, float, bool)
Device = _device | str | int | None
_size = Size | list[int] | tuple[int, ...]
IntLikeType = int
FloatLikeType = float
BoolLikeType = bool
FileLike = str | os.PathLike | IO[bytes]
_TensorOrTensors = Tensor | Sequence[Tensor]
_TensorOrOptionalTensors = Tensor | Sequence[Tensor | None]

__all__ = ["Number", "Device", "FileLike", "Size", "Tensor", "IntLikeType", "FloatLikeType", "BoolLikeType"]
