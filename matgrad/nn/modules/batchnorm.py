"""torch.nn.modules.batchnorm's names, with `_NormBase`, `_BatchNorm` and `_LazyNormBase` for isinstance checks.

As in PyTorch, `_BatchNorm` covers BatchNorm1d/2d/3d, SyncBatchNorm and the lazy ones, and not InstanceNorm.
"""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..lazy import (
    LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyModuleMixin, UninitializedBuffer, UninitializedParameter,
    _LazyNormBase,
)
from ..module import Module
from ..normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm, _NormBase
from ..parameter import Parameter
from ..sync_batchnorm import SyncBatchNorm
