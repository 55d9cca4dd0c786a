"""matgrad.nn.functional (import as F): layers and losses as plain functions, as torch's.

Losses follow PyTorch exactly, including `reduction`, class weights, `ignore_index` and
`label_smoothing`; the cross-entropy and BCE losses run as single fused ops
(matgrad/ops/loss.py), the others are composed from differentiable ops.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from .. import _autocast
from .. import random as _random
from ..creation import from_numpy
from ..devices import move, to_host
from ..ops import activation as _act
from ..ops import loss as _loss
from ..ops.activation import hardshrink, prelu  # noqa: F401  (F.hardshrink, F.prelu: ops, as Tensor's methods)
from ..ops.binary import maximum, minimum, where
from ..ops.conv import conv2d, conv_transpose2d
from ..ops.embedding import embedding
from ..ops.join import pad as _pad
from ..ops.linear import linear
from ..ops.matmul import check_same_dtype
from ..ops.normalization import batch_norm, layer_norm
from ..ops.out import into
from ..ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ..ops.reduction import mean as _mean
from ..ops.reduction import norm
from ..ops.reduction import sum as _sum
from ..ops.softmax import log_softmax as _log_softmax
from ..ops.softmax import softmax as _softmax
from ..tensor import ShapeError, Tensor, as_tensor, wrap_dim
from .conv_tbc import conv_tbc
from .dropout2d import dropout2d
from .grouped_mm import grouped_mm

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
def softmax(input: Any, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """e^x / Σ e^x along `dim` (ops/softmax.py); dim=None takes PyTorch's legacy choice with its warning.

    _stacklevel: PyTorch's private depth for that warning (3: the caller of softmax), honoured the same way.
    """
    if dim is None:
        _implicit_dim("softmax", _stacklevel)
    return _softmax(input, dim, dtype)


def log_softmax(input: Any, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along `dim` (ops/softmax.py); dim=None as in softmax."""
    if dim is None:
        _implicit_dim("log_softmax", _stacklevel)
    return _log_softmax(input, dim, dtype)


def _implicit_dim(name: str, stacklevel: int) -> None:
    """PyTorch's warning for a softmax without dim (its _get_softmax_dim): the dim it takes is 0 for 0-, 1- and
    3-d inputs, else 1."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", UserWarning, stacklevel=stacklevel)


def _maybe_inplace(name: str, input: Any, inplace: bool, fn: Any) -> Tensor:
    """PyTorch's `inplace=True`: the result is written into `input` itself, as Tensor's in-place methods do."""
    if inplace and isinstance(input, Tensor):
        return input._modify(name, fn)  # the one in-place mechanism (matgrad/tensor.py)
    return fn(input)


def relu(input: Any, inplace: bool = False) -> Tensor:
    """max(x, 0), elementwise."""
    if not inplace:  # every step of every ReLU net: one call fewer
        return _act.relu(input)
    return _maybe_inplace("relu", input, inplace, _act.relu)


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope·x otherwise."""
    return _maybe_inplace("leaky_relu", input, inplace, lambda x: _act.leaky_relu(x, negative_slope))


def _floating_only(name: str, input: Any) -> None:
    """PyTorch's elu kernel (elu, selu, celu) takes floating tensors only: an integer or bool tensor is an error
    there, not promoted to float."""
    if isinstance(input, Tensor) and input.array.dtype.kind in "biu":
        raise NotImplementedError(f"{name}: not implemented for {input.array.dtype} tensors (PyTorch's \"elu_cpu\" "
                                  "takes floating point only); convert first, e.g. x.float()")


def elu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha·(eˣ - 1) otherwise."""
    _floating_only("elu", input)
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
        return x * _const_like(x, 0)
    keep = _random.default_generator().random(x.shape) >= p  # drawn on the host, as the factories do
    mask = np.multiply(keep, 1.0 / (1.0 - p), dtype=x.dtype)
    return x * _const_like(x, mask)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Integer class indices (*) → int64 one-hot (*, num_classes); num_classes=-1 means max + 1."""
    t = as_tensor(tensor).array
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot: is only applicable to index tensor of type LongTensor (integer class "
                           f"indices), got dtype {t.dtype}; convert with .long()")
    if t.size and t.min() < 0:
        raise RuntimeError(f"one_hot: Class values must be non-negative, got {int(t.min())}")
    if num_classes == -1:
        if not t.size:  # as PyTorch: max + 1 of nothing is no answer
            raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor; pass num_classes")
        num_classes = int(t.max()) + 1
    if t.size and t.max() >= num_classes:
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes: class value {int(t.max())} "
                           f"is too large for num_classes={num_classes}")
    out = np.zeros_like(t, shape=t.shape + (num_classes,), dtype=np.int64)  # on t's device
    np.put_along_axis(out, t[..., None].astype(np.int64), 1, axis=-1)
    return from_numpy(out) if type(out) is np.ndarray else Tensor._make(out, None, False)


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad in mode 'constant' (value), 'reflect', 'replicate' or 'circular'; `pad` lists (before, after)
    pairs starting from the last dim (matgrad/ops/pad.py)."""
    if mode != "constant":
        return _pad_modes(input, pad, mode, value)
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
    if x.array.dtype.kind != "f":
        x = x.float()
    y = as_tensor(target, x)
    if y.array.dtype != x.array.dtype:  # NumPy's dtypes: the wrapper's == costs a call per step
        y = y.to(x.dtype)
    return x, y


def _const(name: str, what: str, value: Any, like: Tensor) -> Any:
    """`value` (a weight) as an array of like's dtype, on like's device."""
    if value is None:
        return None
    if isinstance(value, Tensor) and value.requires_grad:
        raise NotImplementedError(f"{name}: gradients with respect to {what} are not supported; detach it")
    return _const_like(like, value.array if isinstance(value, Tensor) else value).array


def _legacy_reduction(size_average: Any, reduce: Any, reduction: str, stacklevel: int = 3) -> str:
    """The deprecated size_average and reduce mapped to a reduction, which they override, with PyTorch's
    warning (torch.nn._reduction.legacy_get_string): both true (None counts as true) 'mean', reduce alone 'sum',
    reduce=False 'none'. Without them, `reduction` as given."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                  UserWarning, stacklevel=stacklevel)
    return ret


def _weighted(name: str, loss: Tensor, x: Tensor, weight: Any, reduction: str, mean_by: str) -> Tensor:
    """PyTorch 2.13's elementwise weight on a regression loss: the input's size exactly, multiplied into the
    unreduced loss (broadcast with it); 'mean' divides by Σweight (mean_by='weight', mse and l1) or by the
    number of elements (mean_by='count', huber), as PyTorch's. Differentiable in the weight too."""
    w = weight if isinstance(weight, Tensor) else as_tensor(weight, x)
    if tuple(w.shape) != tuple(x.shape):
        raise ValueError(f"Weights and input must have the same size. ({name}: weight {tuple(w.shape)}, input "
                         f"{tuple(x.shape)})")
    if type(w.array) is np.ndarray and type(x.array) is not np.ndarray:  # host weights go where the input is
        w = w.to(x.device)
    out = loss * w
    if reduction == "none":
        return out
    if reduction == "sum":
        return _sum(out)
    if reduction == "mean":
        return _sum(out) / _sum(w) if mean_by == "weight" else _mean(out)
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def mse_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
             weight: Any = None) -> Tensor:
    """(input - target)², reduced; weight (the input's size) multiplies it first, 'mean' then being
    Σ w·(x - y)² / Σ w."""
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, target = _autocast.cast(_autocast.FP32, input, target)
    x, y = _pair(input, target)
    d = x - y
    if weight is not None:
        return _weighted("mse_loss", d * d, x, weight, reduction, "weight")
    return _reduce("mse_loss", d * d, reduction)


def l1_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
            weight: Any = None) -> Tensor:
    """|input - target|, reduced; weight (the input's size) multiplies it first, 'mean' then being
    Σ w·|x - y| / Σ w."""
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, target = _autocast.cast(_autocast.FP32, input, target)
    x, y = _pair(input, target)
    if weight is not None:
        return _weighted("l1_loss", abs(x - y), x, weight, reduction, "weight")
    return _reduce("l1_loss", abs(x - y), reduction)


def smooth_l1_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5·d²/beta where |d| < beta, else |d| - 0.5·beta (d = input - target); beta=0 is L1."""
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, target = _autocast.cast(_autocast.FP32, input, target)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: does not support negative values for beta, got {beta}")
    x, y = _pair(input, target)
    d = x - y
    ad = abs(d)
    if beta == 0:
        return _reduce("smooth_l1_loss", ad, reduction)
    loss = where(ad.array < beta, d * d * (0.5 / beta), ad - 0.5 * beta)
    return _reduce("smooth_l1_loss", loss, reduction)


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0, weight: Any = None) -> Tensor:
    """0.5·d² where |d| < delta, else delta·(|d| - 0.5·delta); weight (the input's size) multiplies it first,
    'mean' then averaging over the elements (not dividing by Σ w, unlike mse_loss and l1_loss: PyTorch's)."""
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, target = _autocast.cast(_autocast.FP32, input, target)
    if delta <= 0:
        raise RuntimeError(f"huber_loss: does not support non-positive values for delta, got {delta}")
    x, y = _pair(input, target)
    d = x - y
    ad = abs(d)
    loss = where(ad.array < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    if weight is not None:
        return _weighted("huber_loss", loss, x, weight, reduction, "count")
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


def _outside_unit(a: Any) -> bool:
    """Whether some element of device array `a` is below 0 or above 1 (a GPU has no minimum.reduce)."""
    return bool(a.min() < 0) or bool(a.max() > 1)


def binary_cross_entropy(input: Any, target: Any, weight: Any = None, size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """-w·(y·ln p + (1-y)·ln(1-p)) on probabilities p, each log clamped at -100 as PyTorch.

    A saturated sigmoid (p exactly 0 or 1) gives a finite loss and finite gradients.
    """
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, target, weight = _autocast.cast(_autocast.BCE, input, target, weight)
    _check_reduction("binary_cross_entropy", reduction)
    p, y = _pair(input, target)
    _same_shape("binary_cross_entropy", p, y)
    yd = y.array
    if type(yd) is np.ndarray:  # the ufuncs' reduce: cheaper than the methods' wrappers, on every step
        outside = yd.size and (np.minimum.reduce(yd, axis=None) < 0 or np.maximum.reduce(yd, axis=None) > 1)
    else:
        outside = yd.size and _outside_unit(yd)
    if outside:
        raise ValueError("binary_cross_entropy: all elements of target should be between 0 and 1")
    w = None
    if weight is not None:
        w = _const("binary_cross_entropy", "weight", weight, p)
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


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None, size_average: Any = None,
                                     reduce: Any = None, reduction: str = "mean", pos_weight: Any = None) -> Tensor:
    """BCE of σ(input), computed from the logits in one stable op (any logit, even ±1000).

    pos_weight (broadcast along the last, class dimension) weights the positive term.
    """
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, target, weight, pos_weight = _autocast.cast(_autocast.FP32, input, target, weight, pos_weight)
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    x, y = _pair(input, target)
    _same_shape("binary_cross_entropy_with_logits", x, y)
    w = _const("binary_cross_entropy_with_logits", "weight", weight, x)
    pw = _const("binary_cross_entropy_with_logits", "pos_weight", pos_weight, x)
    _fits("binary_cross_entropy_with_logits", "weight", w, x.shape)
    _fits("binary_cross_entropy_with_logits", "pos_weight", pw, x.shape)
    return _loss.BCEWithLogits.apply(x, y, weight=w, pos_weight=pw, reduction=reduction, denom=x.array.size)


def _class_target(name: str, x: Tensor, target: Any, weight: Any, label_smoothing: float,
                  probs_ok: bool) -> tuple[Tensor, Any, int]:
    """The target checked (a Tensor on x's device), the weight as an array, and the class axis.

    The loss op makes the per-class coefficients from the target itself (ops/loss.class_coef).
    """
    if x.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a 0-d tensor")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"{name}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    axis = 0 if x.ndim == 1 else 1
    n_cls = x.shape[axis]
    w = _const(name, "weight", weight, x)
    if w is not None and w.shape != (n_cls,):
        raise RuntimeError(f"{name}: weight must have shape ({n_cls},), one per class, got {w.shape}")
    t = target if isinstance(target, Tensor) else Tensor._make(np.asarray(target), None, False)
    if type(t.array) is np.ndarray and type(x.array) is not np.ndarray:  # a host target goes where the logits are
        t = Tensor._make(move(t.array, x.device), None, False)
    if t.dtype.kind == "f" and t.shape == x.shape and probs_ok:  # class probabilities
        if t.requires_grad:
            raise NotImplementedError(f"{name}: gradients with respect to target are not supported")
        return t, w, axis
    expect = x.shape[:axis] + x.shape[axis + 1:]
    if t.dtype.kind not in "iu" or t.shape != expect:
        raise ValueError(
            f"{name}: for input of shape {x.shape} (classes on dim {axis}) the target must be "
            f"integer class indices of shape {expect}"
            + (" or float class probabilities of the input's shape" if probs_ok else "")
            + f", got {t.dtype} of shape {t.shape}"
        )
    return t, w, axis


def cross_entropy(input: Any, target: Any, weight: Any = None, size_average: Any = None,
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """log_softmax + negative log-likelihood over dim 1 (dim 0 for a (C,) input), in one op.

    target: class indices of shape (N,) or (N, d1, ...), or class probabilities of the
    input's shape. 'mean' divides by the summed weights of the non-ignored targets
    (their count without weights) or, for probabilities, by the number of samples.
    """
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, target, weight = _autocast.cast(_autocast.FP32, input, target, weight)
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("cross_entropy", reduction)
    x = as_tensor(input)
    if x.dtype.kind != "f":
        x = x.float()
    t, w, axis = _class_target("cross_entropy", x, target, weight, label_smoothing, True)
    return _loss.CrossEntropy.apply(x, t, axis=axis, reduction=reduction, weight=w, ignore_index=ignore_index,
                                    label_smoothing=label_smoothing)


def nll_loss(input: Any, target: Any, weight: Any = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """-input[n, target[n]] · weight[target[n]] on log-probabilities, reduced as cross_entropy."""
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, weight = _autocast.cast(_autocast.FP32, input, weight)
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("nll_loss", reduction)
    x = as_tensor(input)
    if x.dtype.kind != "f":
        x = x.float()
    t, w, axis = _class_target("nll_loss", x, target, weight, 0.0, False)
    return _loss.NLL.apply(x, t, axis=axis, reduction=reduction, weight=w, ignore_index=ignore_index)


def linear_cross_entropy(input: Any, linear_weight: Any, target: Any, *, linear_bias: Any = None, weight: Any = None,
                         reduction: str = "mean", ignore_index: int | None = None, label_smoothing: float = 0.0,
                         options: Any = None) -> Tensor:
    """cross_entropy(linear(input, linear_weight, linear_bias), target, ...), composed, so gradients are theirs.

    input (in_features,) or (N, in_features); linear_weight (C, in_features) or, for a K-dimensional loss,
    (C, d_1, ..., d_K, in_features) with batched input: the logits are then (N, C, d_1, ..., d_K); linear_bias
    (C, d_1, ..., d_K). target: class indices, or float class probabilities of the logits' shape (ignore_index
    must then stay None; None means -100). options: a nn.LinearCrossEntropyOptions for torch's chunked kernel;
    matgrad always computes the full logits, so it is accepted and has no effect.
    """
    name = "linear_cross_entropy"
    # the options class lives in nn/linear_cross_entropy.py, which imports this file: checked by name
    if options is not None and type(options).__name__ != "LinearCrossEntropyOptions":
        raise TypeError(f"{name}: options must be None or a nn.LinearCrossEntropyOptions, got {type(options).__name__}")
    x, w = as_tensor(input), as_tensor(linear_weight)
    if not 1 <= x.ndim <= 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {x.ndim}")
    if w.ndim < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {w.ndim}")
    batch, in_features = tuple(x.shape[:-1]), x.shape[-1]
    if in_features != w.shape[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions (in_features), "
                           f"got {in_features} and {w.shape[-1]}, respectively")
    classes, out_features = w.shape[0], tuple(w.shape[1:-1])
    b = None if linear_bias is None else as_tensor(linear_bias)
    if b is not None and tuple(b.shape) != (classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(classes, *out_features)}, got {tuple(b.shape)}")
    if out_features and not batch:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape {tuple(w.shape)} requires batched "
                           f"input, (N, {in_features}), got unbatched input with shape {tuple(x.shape)}")
    logits_shape = (*batch, classes, *out_features)
    target_shape = tuple(np.shape(target.array if isinstance(target, Tensor) else target))
    if target_shape == logits_shape and ignore_index is not None:  # as torch: then it holds probabilities
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    if out_features:  # the K-dim weight as one (C·d_1·…·d_K, in) matrix: its rows come out in C-major order
        rows = classes * int(np.prod(out_features))
        w, b = w.reshape(rows, in_features), None if b is None else b.reshape(rows)
    return cross_entropy(linear(x, w, b).reshape(logits_shape), target, weight=weight, reduction=reduction,
                         ignore_index=-100 if ignore_index is None else ignore_index, label_smoothing=label_smoothing)


__all__ += ["linear_cross_entropy", "grouped_mm", "conv_tbc"]


def logsigmoid(input: Any) -> Tensor:
    """ln σ(x) = -softplus(-x), stable for any x."""
    return -_act.softplus(-as_tensor(input))


def relu6(input: Any, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6); gradient 0 at 0 and 6, as PyTorch's (hardtanh's)."""
    return _maybe_inplace("relu6", input, inplace, _act.relu6)


def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x limited to [min_val, max_val]; gradient 0 at the bounds, as PyTorch's (clamp passes it there)."""
    if min_val > max_val:  # PyTorch's ValueError (clamp would quietly give max_val everywhere)
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val={min_val} > "
                         f"max_val={max_val}; swap them")
    return _maybe_inplace("hardtanh", input, inplace, lambda x: _act.hardtanh(x, min_val, max_val))


def softsign(input: Any) -> Tensor:
    """x / (1 + |x|)."""
    x = as_tensor(input)
    return x / (x.abs() + 1)


def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None) -> Tensor:
    """x / max(‖x‖_p, eps) along `dim`, as torch.nn.functional.normalize; out=: written into that tensor
    (then not differentiable: an input that requires grad is refused while grad mode is on, as PyTorch)."""
    x = as_tensor(input)
    y = x / maximum(norm(x, p, dim, keepdim=True), eps)
    return y if out is None else into(out, y, "normalize")


# --- breadth (issue 14): activations --------------------------------------------------------
def _const_like(x: Tensor, a: Any) -> Tensor:
    """A constant (no gradient) of x's dtype on x's device; host values (numbers, draws) are moved there."""
    dtype = x.array.dtype
    if isinstance(a, Tensor):
        a = a.array
    if type(a) is np.ndarray or not hasattr(a, "__array_function__"):  # on the host
        a = np.asarray(a, dtype=dtype)
        return Tensor._make(a if type(x.array) is np.ndarray else move(a, x.device), None, False)
    return Tensor._make(a.astype(dtype, copy=False), None, False)


def threshold(input: Any, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """value where x <= threshold, else x (a nan x stays nan and gets the gradient, as PyTorch's)."""
    def fn(x: Any) -> Tensor:
        t = as_tensor(x)
        return where(t.array <= threshold, value, t)
    return _maybe_inplace("threshold", input, inplace, fn)


def hardsigmoid(input: Any, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    return _maybe_inplace("hardsigmoid", input, inplace, _act.hardsigmoid)


def hardswish(input: Any, inplace: bool = False) -> Tensor:
    """x·relu6(x + 3)/6."""
    return _maybe_inplace("hardswish", input, inplace, _act.hardswish)


def mish(input: Any, inplace: bool = False) -> Tensor:
    """x·tanh(softplus(x))."""
    return _maybe_inplace("mish", input, inplace, lambda x: as_tensor(x) * _act.tanh(_act.softplus(x)))


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(input: Any, inplace: bool = False) -> Tensor:
    """scale·elu(x, alpha) with SELU's fixed alpha and scale."""
    _floating_only("selu", input)
    return _maybe_inplace("selu", input, inplace, lambda x: _act.elu(x, _SELU_ALPHA) * _SELU_SCALE)


def celu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha·(e^(x/alpha) - 1)) = alpha·elu(x/alpha)."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    _floating_only("celu", input)
    return _maybe_inplace("celu", input, inplace, lambda x: _act.elu(as_tensor(x) / alpha, 1.0) * alpha)


def glu(input: Any, dim: int = -1) -> Tensor:
    """a·σ(b), where a and b are the two halves of input along dim."""
    from ..ops.join import chunk

    x = as_tensor(input)
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim("glu", dim, x.ndim)  # IndexError "Dimension out of range", as PyTorch
    if x.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {x.shape[d]}")
    a, b = chunk(x, 2, d)
    return a * _act.sigmoid(b)


def softmin(input: Any, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """softmax(-x) along dim."""
    if dim is None:
        _implicit_dim("softmin", _stacklevel)
    x = as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    return _softmax(-x, dim)


def alpha_dropout(input: Any, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's zero mean and unit variance: dropped units go to SELU's saturation value,
    then an affine map a·x + b restores the statistics (PyTorch's formula and generator draw)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = as_tensor(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * _const_like(x, 0)
    alpha = 1.7580993408473766
    keep = _random.default_generator().random(x.shape) >= p
    a = ((1 - p) * (1 + p * alpha * alpha)) ** -0.5
    b = (keep - 1.0) * (alpha * a) + alpha * a * p
    return x * _const_like(x, keep * a) + _const_like(x, b)


def gumbel_softmax(logits: Any, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """softmax((logits + g)/tau) with g ~ Gumbel(0, 1) from matgrad's generator (manual_seed reproduces it).

    hard=True returns the one-hot argmax in the forward and the soft sample's gradient (straight-through).
    """
    x = as_tensor(logits)
    e = _random.default_generator().exponential(1.0, x.shape)
    g = _const_like(x, -np.log(e))
    y_soft = _softmax((x + g) / tau, dim)
    if not hard:
        return y_soft
    idx = np.argmax(y_soft.array, axis=dim)
    y_hard = np.zeros_like(x.array)
    np.put_along_axis(y_hard, np.expand_dims(idx, dim), 1.0, axis=dim)
    return y_soft - y_soft.detach() + _const_like(x, y_hard)


# --- breadth: distances ---------------------------------------------------------------------------
def _clamped_norm(x: Tensor, dim: int, eps: float) -> Tensor:
    """‖x‖₂ along dim (kept), clamped below at eps in value only: the gradient is the norm's, as PyTorch."""
    n = norm(x, 2, dim, keepdim=True)
    lift = np.maximum(n.array, eps) - n.array
    return n + _const_like(n, lift) if lift.any() else n


def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Σ (x1/max(‖x1‖, eps))·(x2/max(‖x2‖, eps)) along dim, broadcasting x1 with x2."""
    a, b = _pair(x1, x2)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:  # NumPy's message names neither the op nor the fix; PyTorch's is a RuntimeError
        raise ShapeError(f"cosine_similarity: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast "
                         "together (compare them from the right: each pair of sizes must be equal or one of them 1)"
                         ) from None
    a, b = a.broadcast_to(shape), b.broadcast_to(shape)
    return _sum((a / _clamped_norm(a, dim, eps)) * (b / _clamped_norm(b, dim, eps)), dim)


def pairwise_distance(x1: Any, x2: Any, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """‖x1 - x2 + eps‖_p over the last dim."""
    a, b = _pair(x1, x2)
    nd = max(a.ndim, b.ndim)
    return norm(a - b + eps, p, -1 if nd else None, keepdim=keepdim and nd > 0)


# --- breadth: losses ---------------------------------------------------------------------------------
def kl_div(input: Any, target: Any, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """target·(ln target - input) pointwise (input holds log-probabilities); 'batchmean' divides the sum by N."""
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, target = _autocast.cast(_autocast.FP32, input, target)
    # size_average/reduce pick the reduction, but a reduction='batchmean' passed as well still divides by N
    # afterwards, as PyTorch's kl_div does
    legacy = _legacy_reduction(size_average, reduce, reduction)
    if legacy not in ("mean", "sum", "none", "batchmean"):
        raise ValueError(f"kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none', got {reduction!r}")
    x, t = _pair(input, target)
    if log_target:
        loss = t.exp() * (t - x)
    else:
        tpos = t.array > 0
        loss = t * where(tpos, t, 1.0).log() - t * x  # xlogy(t, t): 0 where t = 0
    out = _sum(loss) if legacy == "batchmean" else _reduce("kl_div", loss, legacy)
    return out / x.shape[0] if reduction == "batchmean" and x.ndim else out


def margin_ranking_loss(input1: Any, input2: Any, target: Any, margin: float = 0.0, size_average: Any = None,
                        reduce: Any = None, reduction: str = "mean") -> Tensor:
    """max(0, -y·(x1 - x2) + margin)."""
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    a, b = _pair(input1, input2)
    _, y = _pair(a, target)
    if not (a.ndim == b.ndim == y.ndim):
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {tuple(a.shape)}, input2: {tuple(b.shape)}, target: {tuple(y.shape)} "
        )
    return _reduce("margin_ranking_loss", _act.clamp(-y * (a - b) + margin, 0.0), reduction)


def cosine_embedding_loss(input1: Any, input2: Any, target: Any, margin: float = 0.0, size_average: Any = None,
                          reduce: Any = None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (PyTorch's 1e-12 guard)."""
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    a, b = _pair(input1, input2)
    y = as_tensor(target).array
    if a.ndim not in (1, 2) or a.shape != b.shape:
        raise RuntimeError(f"cosine_embedding_loss: 1D target tensor expects 2D input tensors, but found inputs "
                           f"with sizes {list(a.shape)} and {list(b.shape)}.")
    d = a.ndim - 1
    prod = _sum(a * b, d)
    m1, m2 = _sum(a * a, d) + 1e-12, _sum(b * b, d) + 1e-12
    cos = prod / (m1 * m2).sqrt()
    loss = where(y == 1, 1 - cos, 0.0) + where(y == -1, _act.clamp(cos - margin, 0.0), 0.0)
    return _reduce("cosine_embedding_loss", loss, reduction)


def triplet_margin_loss(anchor: Any, positive: Any, negative: Any, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) with d = pairwise_distance; swap uses min(d(a, n), d(p, n))."""
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    a, pos, neg = as_tensor(anchor), as_tensor(positive), as_tensor(negative)
    if not (a.ndim == pos.ndim == neg.ndim):
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {a.ndim}D, positive {pos.ndim}D, and negative {neg.ndim}D inputs"
        )
    d_ap = pairwise_distance(a, pos, p, eps)
    d_an = pairwise_distance(a, neg, p, eps)
    if swap:
        d_an = minimum(d_an, pairwise_distance(pos, neg, p, eps))
    return _reduce("triplet_margin_loss", _act.clamp(d_ap - d_an + margin, 0.0), reduction)


def poisson_nll_loss(input: Any, target: Any, log_input: bool = True, full: bool = False, size_average: Any = None,
                     eps: float = 1e-8, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """exp(x) - t·x (log_input) or x - t·ln(x + eps); full adds Stirling's t·ln t - t + ½ln(2πt) where t > 1."""
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    x, t = _pair(input, target)
    loss = x.exp() - t * x if log_input else x - t * (x + eps).log()
    if full:
        ta = t.array
        big = ta > 1
        safe = np.where(big, ta, 1.0)
        stirling = np.where(big, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe), 0.0)
        if isinstance(target, Tensor) and target.requires_grad:
            ts = where(big, t, 1.0)
            loss = loss + where(big, ts * ts.log() - ts + (ts * (2 * np.pi)).log() * 0.5, 0.0)
        else:
            loss = loss + _const_like(x, stirling)
    return _reduce("poisson_nll_loss", loss, reduction)


def gaussian_nll_loss(input: Any, target: Any, var: Any, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """½(ln max(var, eps) + (input - target)²/max(var, eps)) (+ ½ln 2π with full); var clamped in value only."""
    from ..ops.shape import unsqueeze

    x, t = _pair(input, target)
    v = as_tensor(var, x)
    if v.dtype != x.dtype:
        v = v.to(x.dtype)
    if tuple(v.shape) != tuple(x.shape):
        if tuple(x.shape[:-1]) == tuple(v.shape):
            v = unsqueeze(v, -1)
        elif not (tuple(x.shape[:-1]) == tuple(v.shape[:-1]) and v.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    _check_reduction("gaussian_nll_loss", reduction)
    if (v.array < 0).any():
        raise ValueError("var has negative entry/entries")
    lift = np.maximum(v.array, eps) - v.array
    if lift.any():
        v = v + _const_like(v, lift)
    loss = (v.log() + (x - t) ** 2 / v) * 0.5
    if full:
        loss = loss + 0.5 * float(np.log(2 * np.pi))
    return _reduce("gaussian_nll_loss", loss, reduction)


def multilabel_soft_margin_loss(input: Any, target: Any, weight: Any = None, size_average: Any = None,
                                reduce: Any = None, reduction: str = "mean") -> Tensor:
    """-(y·ln σ(x) + (1 - y)·ln σ(-x)), weighted, averaged over the classes (last dim), then reduced."""
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = _pair(input, target)
    loss = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if weight is not None:
        loss = loss * as_tensor(weight, x)
    cd = x.ndim - 1
    loss = _sum(loss, cd) / x.shape[cd] if x.ndim else loss
    return _reduce("multilabel_soft_margin_loss", loss, reduction)


# --- breadth: normalization ------------------------------------------------------------------------
def group_norm(input: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Tensor:
    """Normalize each sample over each of num_groups channel groups (with all spatial dims); then γ·y + β
    per channel."""
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, weight, bias = _autocast.cast(_autocast.FP32_CUDA, input, weight, bias)
    x = as_tensor(input)
    if x.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {x.ndim}")
    n, c = x.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(x.shape)} and num_groups={num_groups}"
        )
    g = x.reshape(n, num_groups, c // num_groups * int(np.prod(x.shape[2:])))  # not -1: N may be 0
    y = layer_norm(g, (g.shape[2],), eps=eps).reshape(*x.shape)
    pview = (c,) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * as_tensor(weight).reshape(*pview)
    if bias is not None:
        y = y + as_tensor(bias).reshape(*pview)
    return y


def instance_norm(input: Any, running_mean: Any = None, running_var: Any = None, weight: Any = None,
                  bias: Any = None, use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each (sample, channel) over its spatial dims; running statistics (if given) take the
    batch average of the instances' mean and unbiased variance, as PyTorch."""
    x = as_tensor(input)
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected an input (N, C, *spatial), got shape {tuple(x.shape)}")
    c = x.shape[1]
    pview = (c,) + (1,) * (x.ndim - 2)
    if not use_input_stats:
        return batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    spatial = tuple(x.shape[2:])
    m = int(np.prod(spatial))
    if m == 1:  # (no spatial element at all is an empty output, as PyTorch)
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {list(x.shape)}")
    y = layer_norm(x, spatial, eps=eps)
    if weight is not None:
        y = y * as_tensor(weight).reshape(*pview)
    if bias is not None:
        y = y + as_tensor(bias).reshape(*pview)
    axes = tuple(range(2, x.ndim))
    a = x.array
    if running_mean is not None:
        _ema_into(running_mean, a.mean(axis=axes).mean(axis=0), momentum)
    if running_var is not None:
        _ema_into(running_var, a.var(axis=axes, ddof=1).mean(axis=0), momentum)
    return y


def _ema_into(r: Any, stat: np.ndarray, momentum: float) -> None:
    data = r.array if isinstance(r, Tensor) else r
    data *= 1 - momentum
    data += momentum * stat.astype(data.dtype, copy=False)


# --- breadth: shuffles, bilinear, embedding_bag ----------------------------------------------------
def pixel_shuffle(input: Any, upscale_factor: int) -> Tensor:
    """(*, C·r², H, W) → (*, C, H·r, W·r): a reshape and a permute, as PyTorch."""
    x = as_tensor(input)
    r = int(upscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{x.ndim} dimension(s)")
    *lead, c, h, w = x.shape
    if r <= 0 or c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                           f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    k = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    y = y.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Any, downscale_factor: int) -> Tensor:
    """(*, C, H·r, W·r) → (*, C·r², H, W): pixel_shuffle's inverse."""
    x = as_tensor(input)
    r = int(downscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{x.ndim} dimension(s)")
    *lead, c, h, w = x.shape
    if r <= 0 or h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by downscale_factor, "
                           f"but got size {h}x{w} and downscale_factor={r}")
    k = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    y = y.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


def bilinear(input1: Any, input2: Any, weight: Any, bias: Any = None) -> Tensor:
    """y_k = x1ᵀ·W_k·x2 + b_k: x1 (*, in1), x2 (*, in2), W (out, in1, in2) → (*, out), as two matmuls."""
    a, b, w = as_tensor(input1), as_tensor(input2), as_tensor(weight)
    if w.ndim != 3 or a.shape[-1] != w.shape[1] or b.shape[-1] != w.shape[2] or a.shape[:-1] != b.shape[:-1]:
        raise RuntimeError(
            f"bilinear: expected input1 (*, {w.shape[1] if w.ndim == 3 else '?'}), input2 (*, "
            f"{w.shape[2] if w.ndim == 3 else '?'}) with the same leading dims and weight (out, in1, in2); got "
            f"{tuple(a.shape)}, {tuple(b.shape)} and {tuple(w.shape)}"
        )
    named = [("input1", a), ("input2", b), ("weight", w)] + ([("bias", as_tensor(bias))] if bias is not None else [])
    check_same_dtype("bilinear", *named)  # before the products, as PyTorch: elementwise steps would promote
    o, i1, i2 = w.shape
    t = a @ w.permute(1, 0, 2).reshape(i1, o * i2)  # (*, out·in2)
    y = _sum(t.reshape(*a.shape[:-1], o, i2) * b.unsqueeze(-2), -1)
    return y + as_tensor(bias) if bias is not None else y


def embedding_bag(input: Any, weight: Any, offsets: Any = None, max_norm: Any = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Any = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embeddings: a 2-D input is one bag per row; a 1-D input is cut into
    bags at `offsets`. Entries equal to padding_idx are left out; an empty bag gives zeros, no offsets no bags.

    include_last_offset: offsets has one more entry, the end of the last bag; as PyTorch's CPU kernel, the last
    bag runs to the end of input whatever that entry says (it may not exceed the input's length).
    scale_grad_by_freq: each weight row's gradient divided by how often its index occurs in input, as
    PyTorch documents it and F.embedding does. (PyTorch 2.13's CPU embedding_bag divides by the count of
    another index when the input is not sorted: EmbeddingBag.cpp uses counts[indices[i]], i the i-th distinct
    index, not counts[index]; matgrad follows the documented definition.)
    """
    from ..ops.indexing import index_add_zeros

    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if sparse:
        raise NotImplementedError("embedding_bag: sparse=True asks for a sparse gradient of weight, and matgrad "
                                  "has no sparse tensors; use sparse=False (the same gradient, dense)")
    w = as_tensor(weight)
    # the bags are worked out on the host (a loop over bags, searchsorted, bincount); only the index
    # arrays that meet the weights go to their device
    idx = to_host(input.array if isinstance(input, Tensor) else np.asarray(input))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding_bag: expected integer indices, got {idx.dtype}")
    psw = None if per_sample_weights is None else as_tensor(per_sample_weights)
    if psw is not None and tuple(psw.shape) != idx.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({tuple(psw.shape)}) is not None, then it must "
                         f"have the same shape as the input ({idx.shape})")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             "fixed length sequences.")
        nb, L = idx.shape
        starts = np.arange(nb, dtype=np.int64) * L
        flat = idx.reshape(-1)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        starts = to_host(offsets.array if isinstance(offsets, Tensor) else np.asarray(offsets)).astype(np.int64)
        if starts.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        flat = idx
        if include_last_offset and starts.shape[0] == 0:
            raise RuntimeError("embedding_bag: include_last_offset=True needs at least one offset (the end of the "
                               "last bag)")
        if starts.shape[0] and starts[0] != 0:
            raise RuntimeError(f"embedding_bag: offsets[0] has to be 0 (the first bag starts the input), got "
                               f"{starts[0]}")
        if starts.shape[0] and starts[-1] > flat.shape[0]:
            raise RuntimeError(f"embedding_bag: offsets[-1] can not be greater than input's length "
                               f"{flat.shape[0]}, got {starts[-1]}")
        if include_last_offset:  # the last bag ends with the input (see the docstring)
            starts = starts[:-1]
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    nb = starts.shape[0]
    if nb and ((np.diff(starts) < 0).any() or starts[-1] > flat.shape[0]):
        raise RuntimeError(f"embedding_bag: offsets must not decrease and must stay within the input's length "
                           f"{flat.shape[0]}, got {starts.tolist()}")
    if psw is not None:
        if mode != "sum":
            raise NotImplementedError(
                f"embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for "
                f"mode='sum' (got mode='{mode}'). Please open a feature request on the Pytorch GitHub."
            )
        psw = psw.reshape(-1)
    bag = np.searchsorted(starts, np.arange(flat.shape[0]), side="right") - 1  # each entry's bag
    pad = None if padding_idx is None else padding_idx % w.shape[0]
    keep = bag >= 0 if pad is None else (bag >= 0) & (flat != pad)  # no offsets: no bags, nothing kept
    rows = embedding(Tensor._make(_on_device_of(w, flat[keep]), None, False), w, None, max_norm, norm_type,
                     scale_grad_by_freq)
    bag_k = bag[keep]
    if psw is not None:
        rows = rows * psw[_on_device_of(w, np.flatnonzero(keep))].unsqueeze(-1)
    d = w.shape[1]
    if mode in ("sum", "mean") or not rows.shape[0]:  # (max of nothing: zeros, still connected to weight)
        out = index_add_zeros((nb, d), _on_device_of(w, bag_k), rows, False)
        if mode == "mean":
            count = np.bincount(bag_k, minlength=nb).astype(w.dtype)
            out = out / _const_like(w, np.maximum(count, 1).reshape(-1, 1))
        return out
    from ..ops.indexing import getitem

    # max: per bag and column the first maximal row, then a differentiable gather of those entries
    ra = to_host(rows.array)
    pick = np.zeros((nb, d), dtype=np.int64)
    empty = np.ones((nb, 1), dtype=bool)
    for i in range(nb):
        sel = np.flatnonzero(bag_k == i)
        if sel.size:
            pick[i] = sel[np.argmax(ra[sel], axis=0)]
            empty[i] = False
    index = (_on_device_of(w, pick), _on_device_of(w, np.broadcast_to(np.arange(d), (nb, d)).copy()))
    got = getitem(rows, index)
    return where(_on_device_of(w, empty), 0.0, got) if empty.any() else got


def _on_device_of(t: Tensor, a: np.ndarray) -> Any:
    """The host array `a` on t's device (itself on the CPU)."""
    return a if type(t.array) is np.ndarray else move(a, t.device)


# --- breadth: exports of the ops files (pad, resampling, folding, pooling with indices) ---------------
from ..ops.fold import fold, unfold  # noqa: E402
from ..ops.pad import pad as _pad_modes  # noqa: E402
from ..ops.pooling import adaptive_max_pool2d, max_unpool2d  # noqa: E402
from ..ops.resample import interpolate  # noqa: E402


def upsample(input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of interpolate, as PyTorch keeps it."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Any, size: Any = None, scale_factor: Any = None) -> Tensor:
    """interpolate(mode='nearest')."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Any, size: Any = None, scale_factor: Any = None) -> Tensor:
    """interpolate(mode='bilinear', align_corners=True), as PyTorch's deprecated function."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


__all__ += [
    "threshold", "hardsigmoid", "hardswish", "mish", "selu", "celu", "glu", "softmin", "prelu", "alpha_dropout",
    "gumbel_softmax", "cosine_similarity", "pairwise_distance", "kl_div", "margin_ranking_loss",
    "cosine_embedding_loss", "triplet_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
    "multilabel_soft_margin_loss", "group_norm", "instance_norm", "pixel_shuffle", "pixel_unshuffle", "bilinear",
    "embedding_bag", "fold", "unfold", "adaptive_max_pool2d", "max_unpool2d", "interpolate", "upsample",
    "upsample_nearest", "upsample_bilinear",
]


# --- issue 20: 1-d convolution and pooling, attention ----------------------------------------------
from ..ops.attention import scaled_dot_product_attention  # noqa: E402
from ..ops.conv import conv1d  # noqa: E402
from ..ops.pooling import adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d, max_pool1d  # noqa: E402
from .mha_functional import multi_head_attention_forward  # noqa: E402

__all__ += [
    "conv1d", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
    "scaled_dot_product_attention", "multi_head_attention_forward",
]


# --- breadth 2: RMSNorm, shrinks, RReLU, in-place variants, margin losses, channel ops, LP pooling -----------
from ..ops.conv import conv_transpose1d  # noqa: E402
from ..ops.pooling import max_pool1d_with_indices, max_unpool1d  # noqa: E402
from ..ops.pooling import max_pool2d_with_indices as _max_pool2d_with_indices  # noqa: E402


def max_pool2d_with_indices(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """max_pool2d and the int64 flat (H·W) index of each maximum: always both, whatever return_indices says
    (PyTorch's function takes it and ignores it too)."""
    return _max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)


def rms_norm(input: Any, normalized_shape: Any, weight: Any = None, eps: float | None = None) -> Tensor:
    """x / √(mean(x²) + eps) · weight, the mean over the trailing normalized_shape dims (torch's RMSNorm).

    eps=None is the machine epsilon of the computation: float32's for float16/32 inputs, float64's for
    float64, as PyTorch. Composed of differentiable ops, so gradients of every order are exact.
    """
    x = as_tensor(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    if x.dtype.kind != "f":
        raise TypeError(f"rms_norm: expected a floating input, got {x.dtype}")
    k = len(shape)
    if k == 0 or k > x.ndim or tuple(x.shape[x.ndim - k:]) != shape:
        raise RuntimeError(f"rms_norm: Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size {list(x.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"rms_norm: Expected weight to be of same shape as normalized_shape, but got weight "
                           f"of shape {list(weight.shape)} and normalized_shape = {list(shape)}")
    if eps is None:
        eps = float(np.finfo(np.float64 if x.array.dtype == np.float64 else np.float32).eps)
    dims = tuple(range(x.ndim - k, x.ndim))
    y = x * (_mean(x * x, dims, keepdim=True) + eps) ** -0.5
    return y if weight is None else y * as_tensor(weight, x)


def _host(x: Tensor) -> np.ndarray:
    return to_host(x.array)


def softshrink(input: Any, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between (lambd ≥ 0)."""
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found to be {lambd}.")
    x = as_tensor(input)
    a = x.array
    return where(a > lambd, x - lambd, where(a < -lambd, x + lambd, 0.0))


def tanhshrink(input: Any) -> Tensor:
    """x - tanh x."""
    x = as_tensor(input)
    return x - _act.tanh(x)


def _rrelu(x: Any, lower: float, upper: float, training: bool) -> Tensor:
    x = as_tensor(x)
    if not training:
        return _act.leaky_relu(x, (lower + upper) / 2)
    u = _random.default_generator().random(x.shape)  # one slope per element from matgrad's generator
    slope = np.where(_host(x) <= 0, lower + (upper - lower) * u, 1.0)
    return x * _const_like(x, slope)


def rrelu(input: Any, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: in training x·a for x ≤ 0 with a ~ U(lower, upper) drawn per element
    (matgrad's generator), else x; in eval leaky_relu with the mean slope (lower + upper)/2."""
    if lower > upper:
        raise RuntimeError(f"rrelu: Lower bound should be less than or equal to the upper bound, got lower={lower} "
                           f"and upper={upper}")
    return _maybe_inplace("rrelu", input, inplace, lambda x: _rrelu(x, lower, upper, training))


def _inplace(name: str, input: Any, fn: Any) -> Tensor:
    """torch's F.<name>: `input` itself changed and returned (version bumped), a Tensor only."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input._modify(name, fn)


def relu_(input: Tensor) -> Tensor:
    """relu, in place."""
    return _inplace("relu_", input, relu)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """elu, in place."""
    return _inplace("elu_", input, lambda x: elu(x, alpha))


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """leaky_relu, in place."""
    return _inplace("leaky_relu_", input, lambda x: leaky_relu(x, negative_slope))


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """hardtanh, in place."""
    return _inplace("hardtanh_", input, lambda x: _act.hardtanh(x, min_val, max_val))  # unchecked, as PyTorch's


def selu_(input: Tensor) -> Tensor:
    """selu, in place."""
    return _inplace("selu_", input, selu)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """celu, in place."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _inplace("celu_", input, lambda x: celu(x, alpha))


_threshold = threshold  # threshold_'s argument of the same name hides the function


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """threshold, in place."""
    return _inplace("threshold_", input, lambda x: _threshold(x, threshold, value))


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """rrelu, in place."""
    if lower > upper:
        raise RuntimeError(f"rrelu_: Lower bound should be less than or equal to the upper bound, got "
                           f"lower={lower} and upper={upper}")
    return _inplace("rrelu_", input, lambda x: _rrelu(x, lower, upper, training))


# --- margin losses ---
def soft_margin_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """ln(1 + e^(-y·x)) (two-class logistic loss, y = ±1), reduced over all elements."""
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("soft_margin_loss", reduction)
    x, y = _pair(input, target)
    if type(x.array) is not np.ndarray and type(y.array) is np.ndarray:  # a host target for a device input
        y = y.to(x.device)
    return _reduce("soft_margin_loss", _act.softplus(-(y * x)), reduction)


def hinge_embedding_loss(input: Any, target: Any, margin: float = 1.0, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1 (both terms where y is neither, as PyTorch)."""
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("hinge_embedding_loss", reduction)
    x, y = _pair(input, target)
    ya = y.array
    loss = where(ya != 1, _act.clamp(margin - x, 0.0), 0.0) + where(ya != -1, x, 0.0)
    return _reduce("hinge_embedding_loss", loss, reduction)


def _class_rows(name: str, input: Any) -> tuple[Tensor, Tensor, bool]:
    """The input as a floating Tensor, as (N, C) rows, and whether it came without a batch dim."""
    x = as_tensor(input)
    if x.dtype.kind != "f":
        x = x.float()
    if x.ndim > 2:
        raise RuntimeError(f"{name}: Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(x.shape)}")
    single = x.ndim < 2
    return x, (x.reshape(1, -1) if single else x), single


def _int_target(name: str, target: Any) -> np.ndarray:
    t = _host(target) if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{name}: expected target of integer class indices (int64), got {t.dtype}")
    return t.astype(np.int64)


def multi_margin_loss(input: Any, target: Any, p: int = 1, margin: float = 1.0, weight: Any = None,
                      size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Σ_{i ≠ y} max(0, margin - x[y] + x[i])^p · w[y] / C per sample (p = 1 or 2); input (N, C) or (C,)."""
    name = "multi_margin_loss"
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(name, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x, x2, single = _class_rows(name, input)
    n, c = x2.shape
    t = _int_target(name, target)
    if t.size != n or (t.ndim > 1) or (not single and t.ndim != 1):
        raise RuntimeError(f"{name}: target tensor should be 1-D with size equal to the number of input samples "
                           f"(batch size). Expected target size [{n}], but got {list(t.shape)}. Input has shape "
                           f"{list(x.shape)}.")
    t = t.reshape(-1)
    if t.size and (t.min() < 0 or t.max() >= c):
        raise RuntimeError(f"{name}: target out of range: class indices must be in [0, {c}), got "
                           f"{int(t.min() if t.min() < 0 else t.max())}")
    rows = np.arange(n)
    from ..ops.indexing import getitem

    xy = getitem(x2, (_on_device_of(x2, rows), _on_device_of(x2, t)))  # (N,): each sample's target score
    h = _act.clamp(margin - xy.unsqueeze(1) + x2, 0.0)
    if p == 2:
        h = h * h
    others = np.ones((n, c))
    others[rows, t] = 0.0
    coef = others
    if weight is not None:
        w = to_host(_const(name, "weight", weight, x2))
        if w.shape != (c,):
            raise RuntimeError(f"{name}: inconsistent weight size, expected {c} but got {list(w.shape)}")
        coef = others * w[t][:, None]
    loss = _sum(h * _const_like(x2, coef), 1) / c
    if single:
        loss = loss.reshape(())
    return _reduce(name, loss, reduction)


def multilabel_margin_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None,
                           reduction: str = "mean") -> Tensor:
    """Σ_j Σ_{i ∉ targets} max(0, 1 - (x[y_j] - x[i])) / C per sample, y_j the target classes before the
    first -1; input and target (N, C) or (C,)."""
    name = "multilabel_margin_loss"
    if size_average is not None or reduce is not None:  # the deprecated arguments: a call only when given
        reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(name, reduction)
    x, x2, single = _class_rows(name, input)
    n, c = x2.shape
    t = _int_target(name, target)
    if tuple(t.shape) != tuple(x.shape):
        raise RuntimeError(f"{name}: inconsistent target size: {list(t.shape)} for input of size: "
                           f"{list(x.shape)}")
    t = t.reshape(n, c)
    count = np.zeros((n, c, c))  # [n, j, i]: how often the pair (target j, non-target i) enters the sum
    for s in range(n):
        row = t[s]
        stop = np.flatnonzero(row == -1)
        ys = row[: stop[0] if stop.size else c]
        if ys.size and (ys.min() < 0 or ys.max() >= c):
            raise RuntimeError(f"{name}: argument #2 'target' is out of range: class indices must be in [0, {c}) "
                               f"or -1 to end the list, got {int(ys.min() if ys.min() < 0 else ys.max())}")
        is_target = np.zeros(c, dtype=bool)
        is_target[ys] = True
        np.add.at(count[s], ys, (~is_target).astype(np.float64))
    z = _act.clamp(1.0 - x2.unsqueeze(2) + x2.unsqueeze(1), 0.0)
    loss = _sum(z * _const_like(x2, count), (1, 2)) / c
    if single:
        loss = loss.reshape(())
    return _reduce(name, loss, reduction)


def triplet_margin_with_distance_loss(anchor: Any, positive: Any, negative: Any, *, distance_function: Any = None,
                                      margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) for any distance function d (pairwise_distance by default)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, pos, neg = as_tensor(anchor), as_tensor(positive), as_tensor(negative)
    if not (a.ndim == pos.ndim == neg.ndim):
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {a.ndim}D, positive {pos.ndim}D, and negative {neg.ndim}D inputs"
        )
    d = distance_function if distance_function is not None else pairwise_distance
    d_ap, d_an = d(a, pos), d(a, neg)
    if swap:
        d_an = minimum(d_an, d(pos, neg))
    return _reduce("triplet_margin_with_distance_loss", _act.clamp(margin + d_ap - d_an, 0.0), reduction)


# --- channel dropout, shuffles, distances, local response norm ---
def _feature_dropout(name: str, input: Any, p: float, training: bool, inplace: bool, batched: bool) -> Tensor:
    """Zero whole channels (dim 1, dim 0 unbatched) with probability p, scale the rest by 1/(1-p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return as_tensor(input)

    def drop(x: Any) -> Tensor:
        x = as_tensor(x)
        lead = 2 if batched else 1
        mask_shape = x.shape[:lead] + (1,) * (x.ndim - lead)
        if p == 1.0:
            mask = np.zeros(mask_shape)
        else:
            mask = (_random.default_generator().random(mask_shape) >= p) / (1.0 - p)
        return x * _const_like(x, mask)

    return _maybe_inplace(name, input, inplace, drop)


def dropout1d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each channel of (N, C, L) (or (C, L)) with probability p, scale the rest by 1/(1-p)."""
    nd = as_tensor(input).ndim
    if nd not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that dropout1d exists to provide "
            "channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional batch "
            "dimension (i.e. 2D or 3D inputs)."
        )
    return _feature_dropout("dropout1d", input, p, training, inplace, nd == 3)


def dropout3d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each channel of (N, C, D, H, W) (or (C, D, H, W)) with probability p, scale the rest by 1/(1-p)."""
    nd = as_tensor(input).ndim
    if nd not in (4, 5):
        import warnings

        warnings.warn(
            f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will result in an error in "
            "a future release. To retain the behavior and silence this warning, please use dropout instead. Note "
            "that dropout3d exists to provide channel-wise dropout on inputs with 3 spatial dimensions, a channel "
            "dimension, and an optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    return _feature_dropout("dropout3d", input, p, training, inplace, nd == 5)


def channel_shuffle(input: Any, groups: int) -> Tensor:
    """(N, C, *) → the channels regrouped: (N, g, C/g, *) transposed to (N, C/g, g, *), as ShuffleNet."""
    x = as_tensor(input)
    if x.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(x.shape)}")
    c = x.shape[1]
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    n, rest = x.shape[0], x.shape[2:]
    return x.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(*x.shape)


def pdist(input: Any, p: float = 2) -> Tensor:
    """The p-norm distances between the rows of an (N, M) input, i < j in row-major order: N(N-1)/2 of them."""
    x = as_tensor(input)
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    i, j = np.triu_indices(x.shape[0], 1)
    d = x[_on_device_of(x, i)] - x[_on_device_of(x, j)]
    same = ~d.array.any(axis=1)  # equal rows: distance 0 with gradient 0, as PyTorch (not the norm's 0/0)
    if not same.any():
        return norm(d, p, 1)
    return where(same, 0.0, norm(where(same[:, None], 1.0, d), p, 1))


def local_response_norm(input: Any, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """x / (k + alpha·mean of x² over `size` neighbouring channels)^beta (zero-padded, as PyTorch)."""
    x = as_tensor(input)
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: Expected 3D or higher dimensionality input (got {x.ndim} dimensions)")
    if x.numel() == 0:
        return x
    c = x.shape[1]
    sq = _pad(x * x, (0, 0) * (x.ndim - 2) + (size // 2, (size - 1) // 2), "constant", 0.0)
    total = sq[:, 0:c]
    for s in range(1, size):
        total = total + sq[:, s:s + c]
    return x / (total * (alpha / size) + k) ** beta


def _lp_finish(out: Tensor, scale: int, norm_type: float) -> Tensor:
    """(scale·out)^(1/p); a window whose sum is 0 gives 0 and gradient 0 (not 0·inf = nan), as PyTorch."""
    nz = out.array != 0
    if nz.all():
        return (out * scale) ** (1.0 / norm_type)
    return where(nz, where(nz, out * scale, 1.0) ** (1.0 / norm_type), 0.0)


def lp_pool1d(input: Any, norm_type: float, kernel_size: int, stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """(Σ over each window of x^p)^(1/p) on (N, C, L) or (C, L); p = inf is max_pool1d of |x|."""
    x = as_tensor(input)
    if norm_type == float("inf"):
        return max_pool1d(x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool1d(-x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool1d(x ** norm_type, kernel_size, stride, 0, ceil_mode)
    k = kernel_size[0] if isinstance(kernel_size, (tuple, list)) else kernel_size
    return _lp_finish(out, k, norm_type)


def lp_pool2d(input: Any, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """(Σ over each window of x^p)^(1/p) on (N, C, H, W) or (C, H, W); p = inf is max_pool2d of |x|."""
    from ..ops.conv import pair

    x = as_tensor(input)
    kh, kw = pair("lp_pool2d", "kernel_size", kernel_size)
    if norm_type == float("inf"):
        return max_pool2d(x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool2d(-x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool2d(x ** norm_type, kernel_size, stride, 0, ceil_mode)
    return _lp_finish(out, kh * kw, norm_type)


# --- 3-d convolution and pooling (ops/conv3d.py, ops/pooling3d.py) ------------------------------------------
from ..ops.conv3d import conv3d, conv_transpose3d  # noqa: E402
from ..ops.pooling3d import (  # noqa: E402
    adaptive_avg_pool3d,
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d,
    adaptive_max_pool3d_with_indices,
    avg_pool3d,
    max_pool3d,
    max_pool3d_with_indices,
    max_unpool3d,
)


def lp_pool3d(input: Any, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """(Σ over each window of x^p)^(1/p) on (N, C, D, H, W) or (C, D, H, W); p = inf is max_pool3d of |x|."""
    from ..ops.conv3d import triple

    x = as_tensor(input)
    kd, kh, kw = triple("lp_pool3d", "kernel_size", kernel_size)
    if norm_type == float("inf"):
        return max_pool3d(x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool3d(-x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool3d(x ** norm_type, kernel_size, stride, 0, ceil_mode)
    return _lp_finish(out, kd * kh * kw, norm_type)


__all__ += [
    "conv3d", "conv_transpose3d", "max_pool3d", "max_pool3d_with_indices", "max_unpool3d", "avg_pool3d",
    "adaptive_avg_pool3d", "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices",
    "adaptive_max_pool2d_with_indices", "adaptive_max_pool1d_with_indices", "lp_pool3d",
]


__all__ += [
    "rms_norm", "hardshrink", "softshrink", "tanhshrink", "rrelu", "relu_", "elu_", "leaky_relu_", "hardtanh_",
    "selu_", "celu_", "threshold_", "rrelu_", "soft_margin_loss", "hinge_embedding_loss", "multi_margin_loss",
    "multilabel_margin_loss", "triplet_margin_with_distance_loss", "dropout1d", "dropout3d", "channel_shuffle",
    "pdist", "local_response_norm", "lp_pool1d", "lp_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices",
    "max_unpool1d", "conv_transpose1d",
]


# --- spatial transformers and channel-wise alpha dropout ---------------------------------------------------
from ..ops.grid_sample import affine_grid, grid_sample  # noqa: E402


def feature_alpha_dropout(input: Any, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """alpha_dropout with one draw per channel (N, C, 1, ...): a dropped channel goes wholly to SELU's
    saturation value, then a·x + b restores zero mean and unit variance (PyTorch's formula)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = as_tensor(input)
    if not training or p == 0.0:
        return x
    if x.ndim < 2:
        raise RuntimeError(f"Feature dropout requires at least 2 dimensions in the input, got shape {tuple(x.shape)}")
    if p == 1.0:
        return _maybe_inplace("feature_alpha_dropout", x, inplace, lambda t: t * _const_like(t, 0))
    alpha = 1.7580993408473766
    keep = _random.default_generator().random(tuple(x.shape[:2]) + (1,) * (x.ndim - 2)) >= p
    a = ((1 - p) * (1 + p * alpha * alpha)) ** -0.5
    b = (keep - 1.0) * (alpha * a) + alpha * a * p
    return _maybe_inplace("feature_alpha_dropout", x, inplace,
                          lambda t: t * _const_like(t, keep * a) + _const_like(t, b))


__all__ += ["affine_grid", "grid_sample", "feature_alpha_dropout"]


# --- CTC loss and fractional max pooling (ops/ctc.py, ops/fractional_pool.py) -------------------------------
from ..ops import fractional_pool as _frac  # noqa: E402
from ..ops.ctc import ctc_loss  # noqa: E402

fractional_max_pool2d, fractional_max_pool3d = _frac.fractional_max_pool2d, _frac.fractional_max_pool3d
fractional_max_pool2d_with_indices = _frac.fractional_max_pool2d_with_indices
fractional_max_pool3d_with_indices = _frac.fractional_max_pool3d_with_indices

__all__ += ["ctc_loss", "fractional_max_pool2d", "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
            "fractional_max_pool3d_with_indices"]
