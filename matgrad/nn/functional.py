"""matgrad.nn.functional (import as F): layers and losses as plain functions, as torch's.

Losses follow PyTorch exactly, including `reduction`, class weights, `ignore_index` and
`label_smoothing`; the cross-entropy and BCE losses run as single fused ops
(matgrad/ops/loss.py), the others are composed from differentiable ops.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import random as _random
from ..creation import from_numpy
from ..ops import activation as _act
from ..ops import loss as _loss
from ..ops.binary import maximum, where
from ..ops.conv import conv2d, conv_transpose2d
from ..ops.embedding import embedding
from ..ops.join import pad as _pad
from ..ops.linear import linear
from ..ops.normalization import batch_norm, layer_norm
from ..ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ..ops.reduction import mean as _mean
from ..ops.reduction import norm
from ..ops.reduction import sum as _sum
from ..ops.softmax import log_softmax, softmax
from ..tensor import Tensor, as_tensor
from .dropout2d import dropout2d

__all__ = [
    "logsigmoid", "relu6", "hardtanh", "softsign", "normalize",
    "linear", "relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softplus", "silu",
    "softmax", "log_softmax", "dropout", "one_hot", "pad",
    "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "dropout2d",
    "batch_norm", "layer_norm", "embedding",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss",
]

sigmoid = _act.sigmoid
tanh = _act.tanh


# --- activations ---------------------------------------------------------------------------
def _maybe_inplace(name: str, input: Any, inplace: bool, fn: Any) -> Tensor:
    """PyTorch's `inplace=True`: the result is written into `input` itself, as Tensor's in-place methods do."""
    if inplace and isinstance(input, Tensor):
        return input._modify(name, fn)  # the one in-place mechanism (matgrad/tensor.py)
    return fn(input)


def relu(input: Any, inplace: bool = False) -> Tensor:
    """max(x, 0), elementwise."""
    return _maybe_inplace("relu", input, inplace, _act.relu)


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope·x otherwise."""
    return _maybe_inplace("leaky_relu", input, inplace, lambda x: _act.leaky_relu(x, negative_slope))


def elu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha·(eˣ - 1) otherwise."""
    return _maybe_inplace("elu", input, inplace, lambda x: _act.elu(x, alpha))


def gelu(input: Any, approximate: str = "none") -> Tensor:
    """x·Φ(x); approximate='tanh' for the tanh form."""
    return _act.gelu(input, approximate)


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """ln(1 + e^(βx))/β, linear above threshold/β."""
    return _act.softplus(input, beta, threshold)


def silu(input: Any, inplace: bool = False) -> Tensor:
    """x·σ(x) (swish)."""
    x = as_tensor(input)
    return x * _act.sigmoid(x)


# --- layers without parameters -------------------------------------------------------------
def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p); identity when not training.

    The mask is drawn from matgrad.random.default_generator(), so manual_seed reproduces it.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    x = as_tensor(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * np.zeros((), dtype=x.dtype)
    keep = _random.default_generator().random(x.shape) >= p
    mask = np.multiply(keep, 1.0 / (1.0 - p), dtype=x.dtype)
    return x * from_numpy(mask)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Integer class indices (*) → int64 one-hot (*, num_classes); num_classes=-1 means max + 1."""
    t = as_tensor(tensor).array
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects integer class indices, got dtype {t.dtype}")
    if t.size and t.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {int(t.min())}")
    if num_classes == -1:
        num_classes = int(t.max()) + 1 if t.size else 0
    if t.size and t.max() >= num_classes:
        raise ValueError(
            f"one_hot: class value {int(t.max())} is too large for num_classes={num_classes}"
        )
    out = np.zeros(t.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, t[..., None].astype(np.int64), 1, axis=-1)
    return from_numpy(out)


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad with a constant; `pad` lists (before, after) pairs starting from the last dim."""
    return _pad(input, pad, mode, 0.0 if value is None else value)


# --- losses ----------------------------------------------------------------------------------
def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(name: str, loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(name, reduction)
    if reduction == "mean":
        return _mean(loss)
    return _sum(loss) if reduction == "sum" else loss


def _pair(input: Any, target: Any) -> tuple[Tensor, Tensor]:
    x = as_tensor(input)
    if x.dtype.kind != "f":
        x = x.float()
    y = as_tensor(target, x)
    if y.dtype != x.dtype:
        y = y.to(x.dtype)
    return x, y


def _const(name: str, what: str, value: Any, dtype: np.dtype) -> np.ndarray | None:
    if value is None:
        return None
    if isinstance(value, Tensor) and value.requires_grad:
        raise NotImplementedError(f"{name}: gradients with respect to {what} are not supported; detach it")
    return np.asarray(value.array if isinstance(value, Tensor) else value, dtype=dtype)


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """(input - target)², reduced."""
    x, y = _pair(input, target)
    d = x - y
    return _reduce("mse_loss", d * d, reduction)


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """|input - target|, reduced."""
    x, y = _pair(input, target)
    return _reduce("l1_loss", abs(x - y), reduction)


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5·d²/beta where |d| < beta, else |d| - 0.5·beta (d = input - target); beta=0 is L1."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    x, y = _pair(input, target)
    d = x - y
    ad = abs(d)
    if beta == 0:
        return _reduce("smooth_l1_loss", ad, reduction)
    loss = where(ad.array < beta, d * d * (0.5 / beta), ad - 0.5 * beta)
    return _reduce("smooth_l1_loss", loss, reduction)


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5·d² where |d| < delta, else delta·(|d| - 0.5·delta)."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    x, y = _pair(input, target)
    d = x - y
    ad = abs(d)
    loss = where(ad.array < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    return _reduce("huber_loss", loss, reduction)


def _fits(name: str, what: str, w: np.ndarray | None, shape: tuple[int, ...]) -> None:
    if w is None:
        return
    try:
        ok = np.broadcast_shapes(w.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name}: {what} of shape {w.shape} does not broadcast to the input's shape {shape}")


def _same_shape(name: str, x: Tensor, y: Tensor) -> None:
    if x.shape != y.shape:
        raise ValueError(
            f"{name}: target size {y.shape} differs from input size {x.shape}; "
            "they must be the same (e.g. one-hot labels for a (N, C) input)"
        )


def binary_cross_entropy(input: Any, target: Any, weight: Any = None, reduction: str = "mean") -> Tensor:
    """-w·(y·ln p + (1-y)·ln(1-p)) on probabilities p, each log clamped at -100 as PyTorch.

    A saturated sigmoid (p exactly 0 or 1) gives a finite loss and finite gradients.
    """
    _check_reduction("binary_cross_entropy", reduction)
    p, y = _pair(input, target)
    _same_shape("binary_cross_entropy", p, y)
    yd = y.array
    if yd.size and (np.minimum.reduce(yd, axis=None) < 0 or np.maximum.reduce(yd, axis=None) > 1):
        raise ValueError("binary_cross_entropy: all elements of target should be between 0 and 1")
    w = None
    if weight is not None:
        w = _const("binary_cross_entropy", "weight", weight, p.dtype)
        _fits("binary_cross_entropy", "weight", w, p.shape)
    out = _loss.BinaryCrossEntropy.apply(p, y, weight=w, reduction=reduction, denom=p.array.size)
    # An input outside [0, 1] (or nan) makes the loss nan; only then look at the input itself.
    bad = out.array != out.array if out.array.ndim == 0 else np.isnan(out.array).any()
    if bad and not ((p.array >= 0) & (p.array <= 1)).all():
        raise ValueError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 (probabilities); "
            "pass logits to binary_cross_entropy_with_logits instead"
        )
    return out


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None, reduction: str = "mean",
                                     pos_weight: Any = None) -> Tensor:
    """BCE of σ(input), computed from the logits in one stable op (any logit, even ±1000).

    pos_weight (broadcast along the last, class dimension) weights the positive term.
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    x, y = _pair(input, target)
    _same_shape("binary_cross_entropy_with_logits", x, y)
    w = _const("binary_cross_entropy_with_logits", "weight", weight, x.dtype)
    pw = _const("binary_cross_entropy_with_logits", "pos_weight", pos_weight, x.dtype)
    _fits("binary_cross_entropy_with_logits", "weight", w, x.shape)
    _fits("binary_cross_entropy_with_logits", "pos_weight", pw, x.shape)
    return _loss.BCEWithLogits.apply(x, y, weight=w, pos_weight=pw, reduction=reduction, denom=x.array.size)


def _class_coef(name: str, x: Tensor, target: Any, weight: Any, ignore_index: int,
                label_smoothing: float, probs_ok: bool) -> tuple[np.ndarray, float, int]:
    """The per-class coefficients A (shape of x) and the 'mean' divisor, as PyTorch computes them."""
    if x.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a 0-d tensor")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    axis = 0 if x.ndim == 1 else 1
    n_cls = x.shape[axis]
    wshape = [1] * x.ndim
    wshape[axis] = n_cls
    w = _const(name, "weight", weight, x.dtype)
    if w is not None and w.shape != (n_cls,):
        raise ValueError(f"{name}: weight must have shape ({n_cls},), one per class, got {w.shape}")
    t = target.array if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind == "f" and t.shape == x.shape and probs_ok:  # class probabilities
        if isinstance(target, Tensor) and target.requires_grad:
            raise NotImplementedError(f"{name}: gradients with respect to target are not supported")
        q = t.astype(x.dtype, copy=False)
        if label_smoothing > 0:
            q = q * (1 - label_smoothing) + label_smoothing / n_cls
        coef = q * w.reshape(wshape) if w is not None else np.array(q, dtype=x.dtype)
        return coef, x.array.size / n_cls, axis
    expect = x.shape[:axis] + x.shape[axis + 1:]
    if t.dtype.kind not in "iu" or t.shape != expect:
        raise ValueError(
            f"{name}: for input of shape {x.shape} (classes on dim {axis}) the target must be "
            f"integer class indices of shape {expect}"
            + (" or float class probabilities of the input's shape" if probs_ok else "")
            + f", got {t.dtype} of shape {t.shape}"
        )
    valid = t != ignore_index
    tt = np.where(valid, t, 0).astype(np.int64)
    bad = (tt < 0) | (tt >= n_cls)
    if bad.any():
        raise IndexError(
            f"{name}: target {int(tt[bad].flat[0])} is out of bounds for {n_cls} classes "
            f"(targets must be in 0..{n_cls - 1}, or ignore_index={ignore_index})"
        )
    w_t = (w[tt] if w is not None else np.ones(tt.shape, x.dtype)) * valid
    denom = float(np.sum(w_t, dtype=np.float64))
    coef = np.zeros(x.shape, dtype=x.dtype)
    np.put_along_axis(coef, np.expand_dims(tt, axis), np.expand_dims(w_t * (1 - label_smoothing), axis), axis)
    if label_smoothing > 0:
        per_class = w.reshape(wshape) if w is not None else np.ones(wshape, x.dtype)
        spread = per_class * (label_smoothing / n_cls)
        coef += spread * np.expand_dims(valid, axis)
    return coef, denom, axis


def cross_entropy(input: Any, target: Any, weight: Any = None, size_average: Any = None,
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """log_softmax + negative log-likelihood over dim 1 (dim 0 for a (C,) input), in one op.

    target: class indices of shape (N,) or (N, d1, ...), or class probabilities of the
    input's shape. 'mean' divides by the summed weights of the non-ignored targets
    (their count without weights) or, for probabilities, by the number of samples.
    """
    _check_legacy("cross_entropy", size_average, reduce)
    _check_reduction("cross_entropy", reduction)
    x = as_tensor(input)
    if x.dtype.kind != "f":
        x = x.float()
    coef, denom, axis = _class_coef("cross_entropy", x, target, weight, ignore_index, label_smoothing, True)
    return _loss.CrossEntropy.apply(x, coef=coef, axis=axis, reduction=reduction, denom=denom)


def nll_loss(input: Any, target: Any, weight: Any = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """-input[n, target[n]] · weight[target[n]] on log-probabilities, reduced as cross_entropy."""
    _check_legacy("nll_loss", size_average, reduce)
    _check_reduction("nll_loss", reduction)
    x = as_tensor(input)
    if x.dtype.kind != "f":
        x = x.float()
    coef, denom, axis = _class_coef("nll_loss", x, target, weight, ignore_index, 0.0, False)
    return _loss.NLL.apply(x, coef=coef, axis=axis, reduction=reduction, denom=denom)


def _check_legacy(name: str, size_average: Any, reduce: Any) -> None:
    if size_average is not None or reduce is not None:
        raise TypeError(f"{name}: size_average and reduce are deprecated; use reduction='mean'|'sum'|'none'")


def logsigmoid(input: Any) -> Tensor:
    """ln σ(x) = -softplus(-x), stable for any x."""
    return -_act.softplus(-as_tensor(input))


def relu6(input: Any, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    return _maybe_inplace("relu6", input, inplace, lambda x: _act.clamp(x, 0.0, 6.0))


def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x limited to [min_val, max_val]."""
    return _maybe_inplace("hardtanh", input, inplace, lambda x: _act.clamp(x, min_val, max_val))


def softsign(input: Any) -> Tensor:
    """x / (1 + |x|)."""
    x = as_tensor(input)
    return x / (x.abs() + 1)


def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(‖x‖_p, eps) along `dim`, as torch.nn.functional.normalize."""
    x = as_tensor(input)
    return x / maximum(norm(x, p, dim, keepdim=True), eps)
