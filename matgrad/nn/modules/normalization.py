"""torch.nn.modules.normalization's names (CrossMapLRN2d, the Lua-torch layer, is not here: use LocalResponseNorm)."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ...tensor import Size, Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..normalization import GroupNorm, LayerNorm, LocalResponseNorm, RMSNorm
from ..parameter import Parameter
