"""torch.nn.modules.fold's names."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ...tensor import Tensor
from .. import functional as F
from ..module import Module
from ..upsampling import Fold, Unfold
