"""torch.nn.modules.conv's names, with its private bases for isinstance checks (`_ConvNd`, `_ConvTransposeNd`)."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, _ConvNd, _ConvTransposeNd
from ..conv3d import Conv3d, ConvTranspose3d
from ..lazy import (
    LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d, LazyModuleMixin,
    UninitializedParameter,
)
from ..lazy import _LazyConvMixin as _LazyConvXdMixin
from ..module import Module
from ..parameter import Parameter
