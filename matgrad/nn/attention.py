"""nn.MultiheadAttention with PyTorch's arguments, weight names and masks, composed from differentiable ops
(linear, matmul, softmax, dropout and F.scaled_dot_product_attention, which lives in ops/attention.py), so
gradients of every order come for free.

Mask conventions, as PyTorch's (they differ between the two on purpose):

* scaled_dot_product_attention: a bool attn_mask is True where a query MAY attend; a float mask is added.
* MultiheadAttention (and the Transformer layers): a bool attn_mask / key_padding_mask is True where a
  query may NOT attend (padding); a float mask is added.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import memory
from ..ops.attention import _dropout, _mask_tensor, scaled_dot_product_attention
from ..ops.linear import linear
from ..ops.softmax import softmax
from ..tensor import Tensor, as_tensor, get_default_dtype
from . import init
from .linear import Linear
from .module import Module
from .parameter import Parameter, _place


# --- MultiheadAttention ------------------------------------------------------------------------------
class NonDynamicallyQuantizableLinear(Linear):
    """Linear under PyTorch's name for MultiheadAttention.out_proj (so reprs match)."""


def _float_mask(op: str, name: str, mask: Any, dtype: np.dtype, want: tuple[int, ...]) -> Tensor:
    """A bool mask (True = not allowed) as a float constant (-inf / 0); a float mask as is. Shape checked."""
    m = _mask_tensor(op, name, mask, dtype)
    if tuple(m.shape) != tuple(want):
        raise ValueError(f"{op}: {name} should have shape {tuple(want)}, got {tuple(m.shape)}")
    if m.array.dtype == np.bool_:
        return Tensor(np.where(m.array, -np.inf, 0.0).astype(dtype))
    return m


class MultiheadAttention(Module):
    """Multi-head attention with PyTorch's parameters: ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E,)
    — or ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim) when kdim or
    vdim differ from embed_dim — and ``out_proj`` (E → E).

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) → (output, weights or None).
    Shapes: (L, N, E), or (N, L, E) with batch_first, or unbatched (L, E). Bool masks are True where
    attending is NOT allowed; float masks are added. key_padding_mask (N, S); attn_mask (L, S) or (N·H, L, S).

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
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are not supported")
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
        self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()
        _place(self, device)  # PyTorch's device=: made on the host (same draws), then moved

    def _reset_parameters(self) -> None:
        """PyTorch's: xavier_uniform_ for the input projections, zeros for in_proj_bias and out_proj.bias."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def forward(self, query: Any, key: Any, value: Any, key_padding_mask: Any = None, need_weights: bool = True,
                attn_mask: Any = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        op = "MultiheadAttention"
        q_in, k_in, v_in = as_tensor(query), as_tensor(key), as_tensor(value)
        self_attn = query is key and key is value
        E, H, Dh = self.embed_dim, self.num_heads, self.head_dim
        if q_in.ndim not in (2, 3):
            raise ValueError(f"{op}: expected query of shape (L, N, E), (N, L, E) with batch_first or (L, E), "
                             f"got {tuple(q_in.shape)}")
        if k_in.ndim != q_in.ndim or v_in.ndim != q_in.ndim:
            raise ValueError(f"{op}: query {tuple(q_in.shape)}, key {tuple(k_in.shape)} and value "
                             f"{tuple(v_in.shape)} must have the same number of dims")
        unbatched = q_in.ndim == 2
        if unbatched:
            q_in, k_in, v_in = q_in.unsqueeze(0), k_in.unsqueeze(0), v_in.unsqueeze(0)
        elif not self.batch_first:  # work batch-first: (N, L, E)
            q_in = q_in.transpose(0, 1)
            k_in = q_in if self_attn else k_in.transpose(0, 1)
            v_in = q_in if self_attn else v_in.transpose(0, 1)
        N, L = q_in.shape[0], q_in.shape[1]
        S = k_in.shape[1]
        for name, t, d in (("query", q_in, E), ("key", k_in, self.kdim), ("value", v_in, self.vdim)):
            if t.shape[-1] != d:
                raise ValueError(f"{op}: {name} must have {d} features (last dim), got shape {tuple(t.shape)}")
        if k_in.shape[:2] != v_in.shape[:2] or k_in.shape[0] != N:
            raise ValueError(f"{op}: key {tuple(key.shape)} and value {tuple(value.shape)} must match each other "
                             f"and the query {tuple(query.shape)} in batch and sequence dims")
        dt = q_in.array.dtype
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if self_attn:
                qkv = linear(q_in, w, b)
                q, k, v = qkv[..., :E], qkv[..., E:2 * E], qkv[..., 2 * E:]
            else:
                q, k, v = linear(q_in, w[:E], bq), linear(k_in, w[E:2 * E], bk), linear(v_in, w[2 * E:], bv)
        else:
            q = linear(q_in, self.q_proj_weight, bq)
            k = linear(k_in, self.k_proj_weight, bk)
            v = linear(v_in, self.v_proj_weight, bv)
        q = q.reshape(N, L, H, Dh).transpose(1, 2)
        k = k.reshape(N, S, H, Dh).transpose(1, 2)
        v = v.reshape(N, S, H, Dh).transpose(1, 2)
        mask = self._merged_mask(attn_mask, key_padding_mask, is_causal, N, L, S, dt, unbatched)
        p = self.dropout if self.training else 0.0
        if need_weights:
            scores = q.matmul(k.transpose(-2, -1)) * (1.0 / math.sqrt(Dh))
            if mask is not None:
                scores = scores + mask
                if np.isneginf(scores.array).all(axis=-1).any():
                    warnings.warn(f"{op}: a query row has every key masked; its output and weights are NaN "
                                  "(as PyTorch's with need_weights=True). need_weights=False gives 0 there.",
                                  RuntimeWarning, stacklevel=2)
            weights = softmax(scores, -1)
            if p > 0.0:
                weights = _dropout(weights, p)
            out = weights.matmul(v)
        else:
            weights = None
            out = scaled_dot_product_attention(q, k, v, mask, p)
        out = out.transpose(1, 2).reshape(N, L, E)
        out = linear(out, self.out_proj.weight, self.out_proj.bias)
        if weights is not None and average_attn_weights:
            weights = weights.mean(1)
        if unbatched:
            out = out.squeeze(0)
            weights = weights.squeeze(0) if weights is not None else None
        elif not self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def _merged_mask(self, attn_mask: Any, key_padding_mask: Any, is_causal: bool, N: int, L: int, S: int,
                     dt: np.dtype, unbatched: bool) -> Tensor | None:
        """attn_mask and key_padding_mask as one float mask broadcasting to (N, H, L, S), as PyTorch merges them."""
        op = "MultiheadAttention"
        H = self.num_heads
        if is_causal and attn_mask is None:
            raise RuntimeError(f"{op}: need attn_mask if specifying the is_causal hint")
        mask = None
        if attn_mask is not None:
            am = as_tensor(attn_mask)
            if am.ndim == 2:
                mask = _float_mask(op, "attn_mask", am, dt, (L, S))
            elif am.ndim == 3:
                mask = _float_mask(op, "attn_mask", am, dt, (N * H, L, S)).reshape(N, H, L, S)
            else:
                raise ValueError(f"{op}: attn_mask should have shape ({L}, {S}) or ({N * H}, {L}, {S}), "
                                 f"got {tuple(am.shape)}")
        if key_padding_mask is not None:
            want = (S,) if unbatched else (N, S)
            kp = _float_mask(op, "key_padding_mask", key_padding_mask, dt, want).reshape(N, 1, 1, S)
            mask = kp if mask is None else mask + kp
        return mask

    def extra_repr(self) -> str:
        return ""
