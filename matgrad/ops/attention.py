"""F.scaled_dot_product_attention, composed from differentiable ops (matmul, softmax, masked_fill), so
gradients of every order come for free. Here a bool attn_mask is True where a query MAY attend (PyTorch's
convention for this function; nn.MultiheadAttention's is the opposite)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _autocast
from .. import random as _random
from ..devices import backend_of, move
from ..tensor import Tensor, as_tensor
from .binary import masked_fill
from .softmax import softmax


def _dropout(x: Tensor, p: float) -> Tensor:
    """F.dropout(x, p, training=True): the mask from matgrad.random's default generator."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p has to be between 0 and 1, got {p}")
    keep = _random.default_generator().random(x.shape) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    mask = np.multiply(keep, scale, dtype=x.array.dtype)  # drawn on the host, as the factories do
    return x * Tensor(mask if type(x.array) is np.ndarray else move(mask, x.device))


def _mask_tensor(op: str, name: str, mask: Any, dtype: np.dtype) -> Tensor:
    """A bool mask as is, a float mask in the query's dtype; anything else is an error naming `name`."""
    m = as_tensor(mask)
    kind = m.dtype.kind if hasattr(m.dtype, "kind") else np.dtype(m.array.dtype).kind
    if m.array.dtype == np.bool_:
        return m
    if kind == "f":
        if m.array.dtype != dtype:
            raise TypeError(
                f"{op}: {name} must be bool or the query's dtype ({dtype}), got {m.array.dtype} "
                f"(shape {tuple(m.shape)})"
            )
        return m
    raise TypeError(f"{op}: {name} must be a bool or floating tensor, got {m.array.dtype} (shape {tuple(m.shape)})")


def _check_broadcast(op: str, name: str, mask_shape: tuple[int, ...], want: tuple[int, ...]) -> None:
    try:
        ok = np.broadcast_shapes(tuple(mask_shape), tuple(want)) == tuple(want)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{op}: {name} of shape {tuple(mask_shape)} does not broadcast to the attention scores' "
            f"shape {tuple(want)} (…, L, S)"
        )


def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q·Kᵀ·scale + mask)·V over (…, L, E), (…, S, E), (…, S, Ev) → (…, L, Ev), as PyTorch's.

    * ``attn_mask``: bool, True where a query may attend (False → -inf), or float, added to the scores;
      it must broadcast to (…, L, S).
    * ``is_causal``: query i attends to keys 0..i (top-left aligned, as PyTorch); not with attn_mask.
    * ``dropout_p``: dropout on the attention weights — always applied when > 0, as PyTorch's function
      (modules pass 0.0 in eval mode).
    * ``scale``: defaults to 1/√E.
    * ``enable_gqa``: key/value with fewer heads (dim -3) are repeated to the query's heads.

    Fully masked rows: where every key of a query row is masked (all scores -inf), PyTorch 2.5+
    (checked on 2.13) returns 0 for that row of the output, and its gradients are 0 — no NaN.
    matgrad does the same: the row's weights are set to 0, so nothing flows back through them.
    (nn.MultiheadAttention with need_weights=True computes the weights itself and, like PyTorch's,
    returns NaN there; it warns when that happens.)
    """
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        query, key, value, attn_mask = _autocast.cast(_autocast.LOWER, query, key, value, attn_mask)
    op = "scaled_dot_product_attention"
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(f"{op}: query {tuple(q.shape)}, key {tuple(k.shape)} and value {tuple(v.shape)} "
                         "must have at least 2 dims (…, L, E)")
    if q.array.dtype.kind != "f" or not (q.array.dtype == k.array.dtype == v.array.dtype):
        raise RuntimeError(f"{op}: query ({q.array.dtype}), key ({k.array.dtype}) and value ({v.array.dtype}) "
                        "must share one floating dtype")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"{op}: query {tuple(q.shape)} and key {tuple(k.shape)} need the same E, and key and "
                         f"value {tuple(v.shape)} the same S")
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        hq, hk = q.shape[-3], k.shape[-3]
        if hq % hk or hk != v.shape[-3]:
            raise ValueError(f"{op}: enable_gqa needs query heads ({hq}) divisible by key/value heads ({hk})")
        r = hq // hk

        def rep(t: Tensor) -> Tensor:
            t = t.unsqueeze(-3)
            shape = tuple(t.shape)
            t = t.expand(*shape[:-3], r, *shape[-2:])
            return t.reshape(*shape[:-4], hq, *shape[-2:])

        k, v = rep(k), rep(v)
    L, S = q.shape[-2], k.shape[-2]
    sc = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = q.matmul(k.transpose(-2, -1)) * sc
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: give attn_mask or is_causal=True, not both")
        xa = backend_of(scores.array).xp  # the mask is made where the scores are
        causal = xa.triu(xa.ones((L, S), dtype=bool), 1)
        scores = masked_fill(scores, causal, float("-inf"))
    elif attn_mask is not None:
        m = _mask_tensor(op, "attn_mask", attn_mask, q.array.dtype)
        _check_broadcast(op, "attn_mask", tuple(m.shape), tuple(scores.shape))
        if m.array.dtype == np.bool_:
            scores = masked_fill(scores, ~m.array, float("-inf"))
        else:
            scores = scores + m
    attn = _safe_softmax(scores)
    if dropout_p > 0.0:
        attn = _dropout(attn, dropout_p)
    return attn.matmul(v)


def _safe_softmax(scores: Tensor) -> Tensor:
    """softmax over the last dim; rows that are all -inf give 0 (and pass no gradient), as PyTorch's SDPA."""
    masked = scores.array == -np.inf
    if not masked.any():  # one pass over all scores; NumPy's all() along a short last axis goes row by row
        return softmax(scores, -1)
    full = masked.all(axis=-1, keepdims=True)
    if not full.any():
        return softmax(scores, -1)
    attn = softmax(masked_fill(scores, full, 0.0), -1)
    return masked_fill(attn, full, 0.0)
