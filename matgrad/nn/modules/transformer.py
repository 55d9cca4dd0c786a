"""torch.nn.modules.transformer's names."""
# ruff: noqa: F401, I001  (a re-export file: every import is the public API)
from ...tensor import Tensor
from .. import functional as F
from ..attention import MultiheadAttention
from ..container import ModuleList
from ..dropout import Dropout
from ..init import xavier_uniform_
from ..linear import Linear
from ..module import Module
from ..normalization import LayerNorm
from ..transformer import (
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer,
)
