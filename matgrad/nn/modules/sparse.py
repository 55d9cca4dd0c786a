"""torch.nn.modules.sparse's names: Embedding and EmbeddingBag (dense gradients; matgrad has no sparse tensors)."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..embedding import Embedding, EmbeddingBag
from ..module import Module
from ..parameter import Parameter
