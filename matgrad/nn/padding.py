"""Padding layers: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad in 1-D, 2-D and 3-D.

`padding` is an int (every side) or PyTorch's (left, right[, top, bottom[, front, back]]) tuple.
"""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module


def _ntuple(name: str, padding: Any, n: int) -> tuple[int, ...]:
    if isinstance(padding, (int,)) or hasattr(padding, "__index__"):
        return (int(padding),) * (2 * n)
    p = tuple(int(v) for v in padding)
    if len(p) != 2 * n:
        raise ValueError(f"{name}: padding must be an int or a {2 * n}-tuple, got {padding!r}")
    return p


class _Pad(Module):
    _mode = "constant"
    _n = 2

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _ntuple(type(self).__name__, padding, self._n)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_Pad):
    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with a constant."""

    _n = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with a constant."""

    _n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with a constant."""

    _n = 3


class _ZeroPad(_ConstantPadNd):  # put first among the bases: ZeroPadNd is a ConstantPadNd, as in PyTorch
    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pad the last dim with zeros."""

    _n = 1


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pad the last 2 dims with zeros."""

    _n = 2


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Pad the last 3 dims with zeros."""

    _n = 3


class _ReflectionPadNd(_Pad):
    _mode = "reflect"


class _ReplicationPadNd(_Pad):
    _mode = "replicate"


class _CircularPadNd(_Pad):
    _mode = "circular"


class ReflectionPad1d(_ReflectionPadNd):
    """Pad the last dim with its mirror image (edge not repeated)."""

    _mode, _n = "reflect", 1


class ReflectionPad2d(_ReflectionPadNd):
    """Pad the last 2 dims with their mirror image (edge not repeated)."""

    _mode, _n = "reflect", 2


class ReflectionPad3d(_ReflectionPadNd):
    """Pad the last 3 dims with their mirror image (edge not repeated)."""

    _mode, _n = "reflect", 3


class ReplicationPad1d(_ReplicationPadNd):
    """Pad the last dim by repeating its edge values."""

    _mode, _n = "replicate", 1


class ReplicationPad2d(_ReplicationPadNd):
    """Pad the last 2 dims by repeating their edge values."""

    _mode, _n = "replicate", 2


class ReplicationPad3d(_ReplicationPadNd):
    """Pad the last 3 dims by repeating their edge values."""

    _mode, _n = "replicate", 3


class CircularPad1d(_CircularPadNd):
    """Pad the last dim by wrapping around."""

    _mode, _n = "circular", 1


class CircularPad2d(_CircularPadNd):
    """Pad the last 2 dims by wrapping around."""

    _mode, _n = "circular", 2


class CircularPad3d(_CircularPadNd):
    """Pad the last 3 dims by wrapping around."""

    _mode, _n = "circular", 3
