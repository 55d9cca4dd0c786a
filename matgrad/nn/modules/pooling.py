"""torch.nn.modules.pooling's names, with the private bases code checks with isinstance (`_MaxPoolNd`, ...)."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ...tensor import Tensor
from .. import functional as F
from ..module import Module
from ..pooling import (
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d,
    FractionalMaxPool2d, LPPool1d, LPPool2d, MaxPool1d, MaxPool2d, MaxUnpool1d, MaxUnpool2d, _AdaptiveAvgPoolNd,
    _AdaptiveMaxPoolNd, _AvgPoolNd, _LPPoolNd, _MaxPoolNd, _MaxUnpoolNd,
)
from ..pooling3d import (
    AdaptiveAvgPool3d, AdaptiveMaxPool3d, AvgPool3d, FractionalMaxPool3d, LPPool3d, MaxPool3d, MaxUnpool3d,
)
