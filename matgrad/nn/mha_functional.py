"""F.multi_head_attention_forward: PyTorch's functional form of nn.MultiheadAttention (whose forward calls it),
sequence first, composed from differentiable ops (linear, matmul, softmax, dropout, cat, pad and
F.scaled_dot_product_attention), so gradients of every order come for free.

Its own file, not nn/attention.py, so that nn/functional.py can import it: nn/attention.py needs nn/linear.py,
which imports nn/functional.py (import cycles are checked by tests/test_imports.py).
MultiheadAttention's masks: a bool attn_mask / key_padding_mask is True where a query may NOT attend; a float
mask is added (scaled_dot_product_attention's bool mask is the opposite: True = may attend).
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..ops.attention import _dropout, _mask_tensor, scaled_dot_product_attention
from ..ops.join import cat
from ..ops.join import pad as _pad
from ..ops.linear import linear
from ..ops.softmax import softmax
from ..tensor import Tensor, as_tensor

_OP = "multi_head_attention_forward"


def _float_mask(name: str, mask: Any, dtype: np.dtype, want: tuple[int, ...], error: type = ValueError) -> Tensor:
    """A bool mask (True = not allowed) as a float constant (-inf / 0); a float mask as is. Shape checked."""
    m = _mask_tensor(_OP, name, mask, dtype)
    if tuple(m.shape) != tuple(want):
        raise error(f"{_OP}: {name} should have shape {tuple(want)}, got {tuple(m.shape)}")
    if m.array.dtype == np.bool_:
        return Tensor(np.where(m.array, -np.inf, 0.0).astype(dtype))
    return m


def _in_projection(q_in: Tensor, k_in: Tensor, v_in: Tensor, self_attn: bool, kv_same: bool, E: int,
                   in_proj_weight: Any, in_proj_bias: Any, use_separate_proj_weight: bool, q_proj_weight: Any,
                   k_proj_weight: Any, v_proj_weight: Any) -> tuple[Tensor, Tensor, Tensor]:
    """q, k, v = the inputs through their projections: one packed (3E, E) weight, or three separate ones."""
    b = None if in_proj_bias is None else as_tensor(in_proj_bias)
    if b is not None and tuple(b.shape) != (3 * E,):
        raise ValueError(f"{_OP}: in_proj_bias must have shape {(3 * E,)}, got {tuple(b.shape)}")
    bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise ValueError(f"{_OP}: use_separate_proj_weight is False but in_proj_weight is None")
        w = as_tensor(in_proj_weight)
        if tuple(w.shape) != (3 * E, E):
            raise ValueError(f"{_OP}: in_proj_weight must have shape {(3 * E, E)}, got {tuple(w.shape)}")
        for name, t in (("key", k_in), ("value", v_in)):
            if t.shape[-1] != E:
                raise ValueError(f"{_OP}: {name} must have {E} features (last dim) to share in_proj_weight, got "
                                 f"shape {tuple(t.shape)}; for other sizes pass use_separate_proj_weight=True "
                                 "with q_proj_weight, k_proj_weight and v_proj_weight")
        if self_attn:  # one matmul for the three (PyTorch's packed path)
            qkv = linear(q_in, w, b)
            return qkv[..., :E], qkv[..., E:2 * E], qkv[..., 2 * E:]
        if kv_same:
            kv = linear(k_in, w[E:], None if b is None else b[E:])
            return linear(q_in, w[:E], bq), kv[..., :E], kv[..., E:]
        return linear(q_in, w[:E], bq), linear(k_in, w[E:2 * E], bk), linear(v_in, w[2 * E:], bv)
    out = []
    for name, t, wt in (("query", q_in, q_proj_weight), ("key", k_in, k_proj_weight), ("value", v_in, v_proj_weight)):
        if wt is None:
            raise ValueError(f"{_OP}: use_separate_proj_weight is True but {name[0]}_proj_weight is None")
        wt = as_tensor(wt)
        if wt.ndim != 2 or wt.shape[0] != E or (name == "query" and wt.shape[1] != E):
            want = "(E, E)" if name == "query" else f"(E, {name[0]}dim)"
            raise ValueError(f"{_OP}: {name[0]}_proj_weight must have shape {want} with E = {E}, "
                             f"got {tuple(wt.shape)}")
        if t.shape[-1] != wt.shape[1]:
            raise ValueError(f"{_OP}: {name} must have {wt.shape[1]} features (last dim) for {name[0]}_proj_weight "
                             f"of shape {tuple(wt.shape)}, got shape {tuple(t.shape)}")
        out.append(linear(t, wt, {"query": bq, "key": bk, "value": bv}[name]))
    return out[0], out[1], out[2]


def _static(name: str, s: Any, N: int, H: int, Dh: int) -> Tensor:
    """static_k / static_v (N·H, S, head_dim) as (N, H, S, head_dim)."""
    t = as_tensor(s)
    if t.ndim != 3 or t.shape[0] != N * H or t.shape[2] != Dh:
        raise ValueError(f"{_OP}: {name} must have shape (N·num_heads, S, head_dim) = ({N * H}, S, {Dh}), "
                         f"got {tuple(t.shape)}")
    return t.reshape(N, H, t.shape[1], Dh)


def multi_head_attention_forward(query: Any, key: Any, value: Any, embed_dim_to_check: int, num_heads: int,
                                 in_proj_weight: Any, in_proj_bias: Any, bias_k: Any, bias_v: Any,
                                 add_zero_attn: bool, dropout_p: float, out_proj_weight: Any, out_proj_bias: Any,
                                 training: bool = True, key_padding_mask: Any = None, need_weights: bool = True,
                                 attn_mask: Any = None, use_separate_proj_weight: bool = False,
                                 q_proj_weight: Any = None, k_proj_weight: Any = None, v_proj_weight: Any = None,
                                 static_k: Any = None, static_v: Any = None, average_attn_weights: bool = True,
                                 is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention, sequence first, as torch.nn.functional.multi_head_attention_forward.

    query (L, N, E), key (S, N, Ek), value (S, N, Ev), or unbatched (L, E), (S, Ek), (S, Ev).
    Projections: in_proj_weight (3E, E) (then Ek = Ev = E), or with use_separate_proj_weight q_proj_weight
    (E, E), k_proj_weight (E, Ek), v_proj_weight (E, Ev); in_proj_bias (3E,) for both. bias_k, bias_v (1, 1, E)
    append one key and value to every sequence; add_zero_attn appends a zero key and value (per head); static_k,
    static_v (N·num_heads, S, E/num_heads) replace the projected keys and values. Masks: bool True = may NOT
    attend, float = added; key_padding_mask (N, S) or (S,), attn_mask (L, S) or (N·num_heads, L, S).
    is_causal is PyTorch's hint: with need_weights=False and no key_padding_mask, attn_mask is taken to be
    the causal mask and not read. Dropout (dropout_p) on the weights only when training.
    Returns (output (L, N, E) or (L, E), weights or None): weights (N, L, S) averaged over heads, or
    (N, num_heads, L, S) with average_attn_weights=False (unbatched: without N). With need_weights=True a
    query row with every key masked is NaN (as PyTorch's; it warns); with need_weights=False it is 0.
    """
    op = _OP
    self_attn, kv_same = query is key and key is value, key is value  # before as_tensor, as PyTorch's `is` tests
    q_in, k_in, v_in = as_tensor(query), as_tensor(key), as_tensor(value)
    if q_in.ndim not in (2, 3):
        raise ValueError(f"{op}: expected query of shape (L, N, E), or (L, E) unbatched, got {tuple(q_in.shape)}")
    if k_in.ndim != q_in.ndim or v_in.ndim != q_in.ndim:
        raise ValueError(f"{op}: query {tuple(q_in.shape)}, key {tuple(k_in.shape)} and value "
                         f"{tuple(v_in.shape)} must have the same number of dims")
    dt = q_in.array.dtype
    if dt.kind != "f" or k_in.array.dtype != dt or v_in.array.dtype != dt:
        raise TypeError(f"{op}: query ({q_in.array.dtype}), key ({k_in.array.dtype}) and value "
                        f"({v_in.array.dtype}) must share one floating dtype")
    batched = q_in.ndim == 3
    if not batched:  # a batch of one, squeezed again at the end
        q_in, k_in, v_in = q_in.unsqueeze(1), k_in.unsqueeze(1), v_in.unsqueeze(1)
    L, N, E = q_in.shape
    H = int(num_heads)
    if E != embed_dim_to_check:
        raise ValueError(f"{op}: query must have {embed_dim_to_check} features (embed_dim_to_check), got shape "
                         f"{tuple(q_in.shape)}")
    if H <= 0 or E % H:
        raise ValueError(f"{op}: embed_dim {E} must be divisible by num_heads {H}")
    Dh = E // H
    if k_in.shape[1] != N or tuple(k_in.shape[:2]) != tuple(v_in.shape[:2]):
        raise ValueError(f"{op}: key {tuple(key.shape)} and value {tuple(value.shape)} must match each other "
                         f"and the query {tuple(query.shape)} in batch and sequence dims")
    q, k, v = _in_projection(q_in, k_in, v_in, self_attn, kv_same, E, in_proj_weight, in_proj_bias,
                             use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight)
    if (bias_k is None) != (bias_v is None):
        raise ValueError(f"{op}: bias_k and bias_v must be given together (one is None)")
    if bias_k is not None:
        if static_k is not None or static_v is not None:
            raise ValueError(f"{op}: bias_k and bias_v cannot be added to static_k and static_v")
        for name, bias in (("bias_k", bias_k), ("bias_v", bias_v)):
            if as_tensor(bias).numel() != E:
                raise ValueError(f"{op}: {name} must have shape (1, 1, {E}), got {tuple(as_tensor(bias).shape)}")
        # one more key and value per sequence, the same for the whole batch
        k = cat([k, as_tensor(bias_k).reshape(1, 1, E).expand(1, N, E)], 0)
        v = cat([v, as_tensor(bias_v).reshape(1, 1, E).expand(1, N, E)], 0)

    def heads(t: Tensor) -> Tensor:  # (n, N, E) → (N, H, n, head_dim)
        return t.reshape(t.shape[0], N, H, Dh).permute(1, 2, 0, 3)

    q = heads(q)
    k = heads(k) if static_k is None else _static("static_k", static_k, N, H, Dh)
    v = heads(v) if static_v is None else _static("static_v", static_v, N, H, Dh)
    s_keys = k.shape[2] - (bias_k is not None)  # the keys the masks cover: the given ones, not the appended
    if v.shape[2] != k.shape[2]:
        raise ValueError(f"{op}: keys and values differ in number ({k.shape[2]} and {v.shape[2]}): static_k and "
                         "static_v must have as many as each other and as key")
    if add_zero_attn:  # one more key and value, zeros, after the projections (so per head)
        k, v = _pad(k, (0, 0, 0, 1)), _pad(v, (0, 0, 0, 1))
    extra = (bias_k is not None) + bool(add_zero_attn)  # keys no mask covers: never masked

    kpm = None
    if key_padding_mask is not None:
        want = (N, s_keys) if batched else (s_keys,)
        kpm = _float_mask("key_padding_mask", key_padding_mask, dt, want).reshape(N, 1, 1, s_keys)
    if is_causal and attn_mask is None:
        raise RuntimeError(f"{op}: need attn_mask if specifying the is_causal hint; "
                           "nn.Transformer.generate_square_subsequent_mask(L) makes one")
    causal = is_causal and kpm is None and not need_weights  # PyTorch's hint: SDPA's causal mask instead
    am = None
    if attn_mask is not None and not causal:
        a = as_tensor(attn_mask)
        if a.ndim == 2:
            am = _float_mask("attn_mask", a, dt, (L, s_keys), RuntimeError).reshape(1, 1, L, s_keys)
        elif a.ndim == 3:
            am = _float_mask("attn_mask", a, dt, (N * H, L, s_keys), RuntimeError).reshape(N, H, L, s_keys)
        else:
            raise RuntimeError(f"{op}: attn_mask should have shape (L, S) = {(L, s_keys)} or (N·num_heads, L, S) "
                               f"= {(N * H, L, s_keys)}, got {tuple(a.shape)}")
    if extra:
        am = None if am is None else _pad(am, (0, extra))
        kpm = None if kpm is None else _pad(kpm, (0, extra))
    mask = kpm if am is None else am if kpm is None else am + kpm  # broadcasts to (N, H, L, S)
    p = float(dropout_p) if training else 0.0

    if need_weights:
        scores = (q * math.sqrt(1.0 / Dh)).matmul(k.transpose(-2, -1))
        if mask is not None:
            scores = scores + mask
            if np.isneginf(scores.array).all(axis=-1).any():
                warnings.warn(f"{op}: a query row has every key masked; its output and weights are NaN "
                              "(as PyTorch's with need_weights=True). need_weights=False gives 0 there.",
                              RuntimeWarning, stacklevel=3)
        weights = softmax(scores, -1)
        if p > 0.0:
            weights = _dropout(weights, p)
        out = weights.matmul(v)
        if average_attn_weights:
            weights = weights.mean(1)
    else:
        weights = None
        out = scaled_dot_product_attention(q, k, v, mask, p, causal)
    out = linear(out.permute(2, 0, 1, 3).reshape(L, N, E), out_proj_weight, out_proj_bias)
    if not batched:
        out = out.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return out, weights
