"""torch.nn.modules.module's names: `from torch.nn.modules.module import Module` ports as is."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ...autograd.hooks import RemovableHandle
from ...devices import device
from ...tensor import Tensor
from ..module import Module, _IncompatibleKeys
from ..parameter import Buffer, Parameter
