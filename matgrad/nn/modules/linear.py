"""torch.nn.modules.linear's names."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..attention import NonDynamicallyQuantizableLinear
from ..lazy import LazyLinear, LazyModuleMixin, UninitializedParameter
from ..linear import Bilinear, Identity, Linear
from ..module import Module
from ..parameter import Parameter
