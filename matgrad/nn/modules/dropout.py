"""torch.nn.modules.dropout's names, with `_DropoutNd`, the base of every dropout layer."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ...tensor import Tensor
from .. import functional as F
from ..dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout, _DropoutNd
from ..module import Module
