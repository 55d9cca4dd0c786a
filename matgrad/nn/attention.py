"""nn.MultiheadAttention with PyTorch's arguments, weight names and masks; its forward is
F.multi_head_attention_forward (nn/mha_functional.py), composed from differentiable ops, so gradients of
every order come for free.

Mask conventions, as PyTorch's (they differ between the two on purpose):

* scaled_dot_product_attention: a bool attn_mask is True where a query MAY attend; a float mask is added.
* MultiheadAttention (and the Transformer layers): a bool attn_mask / key_padding_mask is True where a
  query may NOT attend (padding); a float mask is added.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import memory
from ..tensor import Tensor, as_tensor, get_default_dtype
from . import init
from .linear import Linear
from .mha_functional import multi_head_attention_forward
from .module import Module
from .parameter import Parameter, _place


def _each_once(fn: Any, q: Any, k: Any, v: Any) -> tuple[Any, Any, Any]:
    """fn of query, key and value, once per distinct object, so `query is key is value` (self-attention,
    one fused projection) and `key is value` stay true."""
    q2 = fn(q)
    k2 = q2 if k is q else fn(k)
    v2 = k2 if v is k else q2 if v is q else fn(v)
    return q2, k2, v2


# --- MultiheadAttention ------------------------------------------------------------------------------
class NonDynamicallyQuantizableLinear(Linear):
    """Linear under PyTorch's name for MultiheadAttention.out_proj (so reprs match)."""


class MultiheadAttention(Module):
    """Multi-head attention with PyTorch's parameters: ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E,)
    — or ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim) when kdim or
    vdim differ from embed_dim — ``out_proj`` (E → E), and with add_bias_kv ``bias_k``, ``bias_v`` (1, 1, E).

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) → (output, weights or None), computed by
    F.multi_head_attention_forward. Shapes: (L, N, E), or (N, L, E) with batch_first, or unbatched (L, E).
    Bool masks are True where attending is NOT allowed; float masks are added. key_padding_mask (N, S);
    attn_mask (L, S) or (N·H, L, S).

    With need_weights=False the scores go through F.scaled_dot_product_attention, so a fully masked query
    row gives 0 (PyTorch's behaviour). With need_weights=True, as PyTorch's, such a row is NaN (and warns).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) and num_heads ({num_heads}) must be "
                             "positive")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(memory.empty((embed_dim, embed_dim), dt))
            self.k_proj_weight = Parameter(memory.empty((embed_dim, self.kdim), dt))
            self.v_proj_weight = Parameter(memory.empty((embed_dim, self.vdim), dt))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(memory.empty((3 * embed_dim, embed_dim), dt))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty((3 * embed_dim,), dtype=dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = Parameter(memory.empty((1, 1, embed_dim), dt))
            self.bias_v = Parameter(memory.empty((1, 1, embed_dim), dt))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()
        _place(self, device)  # PyTorch's device=: made on the host (same draws), then moved

    def _reset_parameters(self) -> None:
        """PyTorch's: xavier_uniform_ for the input projections, zeros for in_proj_bias and out_proj.bias,
        xavier_normal_ for bias_k and bias_v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Any, key: Any, value: Any, key_padding_mask: Any = None, need_weights: bool = True,
                attn_mask: Any = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        query, key, value = _each_once(as_tensor, query, key, value)
        batched = query.ndim == 3
        if self.batch_first and batched:  # the functional is sequence first
            query, key, value = _each_once(lambda t: t.transpose(0, 1), query, key, value)
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and batched:
            out = out.transpose(0, 1)
        return out, weights

    def extra_repr(self) -> str:
        return ""
