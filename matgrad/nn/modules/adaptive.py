"""torch.nn.modules.adaptive's names."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ...tensor import Tensor
from .. import functional as F
from ..adaptive import AdaptiveLogSoftmaxWithLoss, _ASMoutput
from ..container import ModuleList, Sequential
from ..linear import Linear
from ..module import Module
