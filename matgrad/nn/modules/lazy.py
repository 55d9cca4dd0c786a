"""torch.nn.modules.lazy's names: LazyModuleMixin, the base of every lazy layer."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ..lazy import LazyModuleMixin, is_lazy
