"""torch.nn.modules.padding's names, with the private bases (`_ConstantPadNd`, `_ReflectionPadNd`, ...)."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ...tensor import Tensor
from .. import functional as F
from ..module import Module
from ..padding import (
    CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d, ReflectionPad1d,
    ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
    ZeroPad3d, _CircularPadNd, _ConstantPadNd, _ReflectionPadNd, _ReplicationPadNd,
)
