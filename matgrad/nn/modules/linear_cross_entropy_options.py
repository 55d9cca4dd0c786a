"""torch.nn.modules.linear_cross_entropy_options' name."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ..linear_cross_entropy import LinearCrossEntropyOptions
