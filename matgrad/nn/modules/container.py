"""torch.nn.modules.container's names (not the deprecated Container: subclass Module instead)."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ..container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from ..module import Module
from ..parameter import Parameter
