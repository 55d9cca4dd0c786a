"""torch.nn.modules.flatten's names."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ...tensor import Tensor
from ..flatten import Flatten, Unflatten
from ..module import Module
