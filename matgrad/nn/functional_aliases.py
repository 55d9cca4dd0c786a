"""torch's top-level names for nn functions, with torch's signatures: torch.conv2d, torch.layer_norm(input,
normalized_shape, ...), torch.dropout(input, p, train), torch.embedding(weight, indices, ...), ...

Each maps torch's top-level argument order onto matgrad.nn.functional (where the two signatures agree, the
function is nn.functional's own, as in PyTorch). The losses take `reduction` as torch's int enum: 0 'none',
1 'mean', 2 'sum'. Left out, it is 0 ('none'): torch 2.13's Python binding reads the schema's default `Mean`
as 0 (its stub says 1), and matgrad does what torch does, so ported code gets the same numbers.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import random as _random
from ..devices import to_host
from ..ops.arithmetic import sub
from ..tensor import Tensor, as_tensor
from . import functional as F

__all__ = [
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "affine_grid_generator", "alpha_dropout", "alpha_dropout_",
    "avg_pool1d", "batch_norm", "bilinear", "binary_cross_entropy_with_logits", "celu", "celu_", "channel_shuffle",
    "constant_pad_nd", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "convolution", "cosine_embedding_loss", "cosine_similarity", "ctc_loss", "dropout", "dropout_", "embedding",
    "embedding_bag", "feature_alpha_dropout", "feature_alpha_dropout_", "feature_dropout", "feature_dropout_",
    "grid_sampler", "group_norm", "hinge_embedding_loss", "instance_norm", "kl_div", "layer_norm",
    "margin_ranking_loss", "max_pool1d", "max_pool1d_with_indices", "max_pool2d", "max_pool3d",
    "native_batch_norm", "native_channel_shuffle", "native_layer_norm", "pairwise_distance", "pdist",
    "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss", "rms_norm", "rrelu", "rrelu_", "rsub", "selu", "selu_",
    "threshold", "threshold_", "triplet_margin_loss",
]

# the same signature at the top level as in nn.functional (torch's are one function too)
adaptive_avg_pool1d = F.adaptive_avg_pool1d
bilinear = F.bilinear
channel_shuffle = native_channel_shuffle = F.channel_shuffle
conv1d, conv2d, conv3d = F.conv1d, F.conv2d, F.conv3d
conv_transpose1d, conv_transpose2d, conv_transpose3d = F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d
cosine_similarity = F.cosine_similarity
pairwise_distance = F.pairwise_distance
pdist = F.pdist
pixel_shuffle, pixel_unshuffle = F.pixel_shuffle, F.pixel_unshuffle


# --- argument conversions ----------------------------------------------------------------------------------
_REDUCTIONS = ("none", "mean", "sum")  # torch's at::Reduction: 0, 1, 2


def _reduction(name: str, reduction: Any) -> str:
    """torch's int reduction as nn.functional's string."""
    if isinstance(reduction, (bool, np.bool_)) or not isinstance(reduction, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'reduction' must be int (0 'none', 1 'mean', 2 'sum'), not "
                        f"{type(reduction).__name__}; nn.functional.{name} takes the string")
    if not 0 <= reduction <= 2:  # torch returns the unreduced loss for any other int: a silent surprise
        raise ValueError(f"{name}(): reduction must be 0 ('none'), 1 ('mean') or 2 ('sum'), got {reduction}")
    return _REDUCTIONS[reduction]


def _stride(stride: Any) -> Any:
    """torch's pooling stride: empty (its default) means the kernel size."""
    return None if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else stride


def _shape(name: str, normalized_shape: Any) -> tuple[int, ...]:
    """torch's `normalized_shape`: a sequence of ints (a bare int is a TypeError there)."""
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(f"{name}(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                        f"{type(normalized_shape).__name__}")
    return tuple(int(s) for s in normalized_shape)


def _check_p(p: float, input: Any = None, train: bool = False) -> None:
    """p in [0, 1] (checked in evaluation too, as torch); a training draw needs a floating input."""
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    if train and input is not None and as_tensor(input).array.dtype.kind != "f":
        raise RuntimeError(f"dropout: expected a floating input, got {as_tensor(input).dtype}; convert it first "
                           "(input.float())")


def _check_feature_dims(input: Any, train: bool) -> None:
    if train and as_tensor(input).ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")


# --- activations -------------------------------------------------------------------------------------------
def celu(input: Any, alpha: float = 1.0) -> Tensor:
    """max(0, x) + min(0, alpha·(e^(x/alpha) - 1))."""
    return F.celu(input, alpha)


celu_ = F.celu_


def selu(input: Any) -> Tensor:
    """scale·elu(x, alpha) with SELU's constants."""
    return F.selu(input)


selu_ = F.selu_


def threshold(input: Any, threshold: float, value: float) -> Tensor:
    """value where x <= threshold, else x."""
    return F.threshold(input, threshold, value)


threshold_ = F.threshold_


def _rrelu_from(rng: np.random.Generator, x: Any, lower: float, upper: float, training: bool) -> Tensor:
    """F.rrelu's draw, from a given generator's stream (torch's generator= argument)."""
    x = as_tensor(x)
    if not training:
        return F.leaky_relu(x, (lower + upper) / 2)
    slope = np.where(to_host(x.array) <= 0, lower + (upper - lower) * rng.random(x.shape), 1.0)
    return x * F._const_like(x, slope)


def rrelu(input: Any, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          generator: Any = None) -> Tensor:
    """x for x > 0, a·x with a ~ U(lower, upper) per element in training, (lower + upper)/2·x otherwise."""
    if generator is None:
        return F.rrelu(input, lower, upper, training)
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    return _rrelu_from(_random.numpy_generator(generator), input, lower, upper, training)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
           generator: Any = None) -> Tensor:
    """rrelu, in place."""
    if generator is None:
        return F.rrelu_(input, lower, upper, training)
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    rng = _random.numpy_generator(generator)
    return F._inplace("rrelu_", input, lambda x: _rrelu_from(rng, x, lower, upper, training))


def rsub(input: Any, other: Any, alpha: Any = 1) -> Tensor:
    """other - alpha·input."""
    x = as_tensor(input)
    kinds = {x.array.dtype.kind} | ({as_tensor(other).array.dtype.kind} if isinstance(other, Tensor) else set())
    if "b" in kinds:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
                           "to invert a mask, use the `~` or `logical_not()` operator instead.")
    if isinstance(alpha, (bool, np.bool_)):
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if x.array.dtype.kind in "iu" and isinstance(alpha, (float, np.floating)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    return sub(other, x, alpha=alpha)


# --- dropout -----------------------------------------------------------------------------------------------
def dropout(input: Any, p: float, train: bool) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) when train; else the input."""
    _check_p(p, input, train)
    return F.dropout(input, p, train)


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """dropout, in place."""
    _check_p(p, input, train)
    return F._inplace("dropout_", input, lambda x: F.dropout(x, p, True)) if train else input


def alpha_dropout(input: Any, p: float, train: bool) -> Tensor:
    """Dropout that keeps SELU's zero mean and unit variance (F.alpha_dropout)."""
    _check_p(p, input, train)
    return F.alpha_dropout(input, p, train)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """alpha_dropout, in place."""
    _check_p(p, input, train)
    return F._inplace("alpha_dropout_", input, lambda x: F.alpha_dropout(x, p, True)) if train else input


def feature_dropout(input: Any, p: float, train: bool) -> Tensor:
    """Zero whole (sample, channel) slices of (N, C, *) with probability p, scale the rest by 1/(1-p)."""
    _check_p(p, input, train)
    _check_feature_dims(input, train)
    return F._feature_dropout("feature_dropout", input, p, train, False, True)


def feature_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """feature_dropout, in place."""
    _check_p(p, input, train)
    _check_feature_dims(input, train)
    if not train:
        return input
    return F._inplace("feature_dropout_", input,
                      lambda x: F._feature_dropout("feature_dropout_", x, p, True, False, True))


def feature_alpha_dropout(input: Any, p: float, train: bool) -> Tensor:
    """alpha_dropout with one draw per (sample, channel) of (N, C, *)."""
    _check_p(p, input, train)
    _check_feature_dims(input, train)
    return F.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """feature_alpha_dropout, in place."""
    _check_p(p, input, train)
    _check_feature_dims(input, train)
    return F._inplace("feature_alpha_dropout_", input, lambda x: F.feature_alpha_dropout(x, p, True)) if train \
        else input


# --- convolution, padding, pooling, sampling ---------------------------------------------------------------
_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _int_list(arg: str, value: Any, d: int) -> Any:
    """torch.convolution's int lists: one value for every dim, or one per dim."""
    if not isinstance(value, (tuple, list)) or not all(isinstance(v, (int, np.integer)) for v in value):
        raise TypeError(f"convolution(): argument '{arg}' must be tuple of ints, not {type(value).__name__}")
    if len(value) == 1:
        return int(value[0])
    if len(value) != d:
        raise RuntimeError(f"expected {arg} to be a single integer value or a list of {d} values to match the "
                           f"convolution dimensions, but got {arg}={list(value)}")
    return tuple(int(v) for v in value)


def convolution(input: Any, weight: Any, bias: Any, stride: Sequence[int], padding: Sequence[int],
                dilation: Sequence[int], transposed: bool, output_padding: Sequence[int], groups: int) -> Tensor:
    """conv{1,2,3}d or conv_transpose{1,2,3}d, picked by weight's dims and `transposed` (batched input only)."""
    x, w = as_tensor(input), as_tensor(weight)
    if w.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    d = w.ndim - 2
    if d > 3:
        raise NotImplementedError(f"convolution: {d}-d convolution is not supported (1-, 2- and 3-d are)")
    if x.ndim != w.ndim:
        raise RuntimeError(f"Expected {w.ndim}-dimensional input for {w.ndim}-dimensional weight {list(w.shape)}, "
                           f"but got {x.ndim}-dimensional input of size {list(x.shape)} instead")
    s, p, dil = _int_list("stride", stride, d), _int_list("padding", padding, d), _int_list("dilation", dilation, d)
    if transposed:
        return _CONV_T[d](x, w, bias, s, p, _int_list("output_padding", output_padding, d), groups, dil)
    return _CONV[d](x, w, bias, s, p, dil, groups)


def constant_pad_nd(input: Any, pad: Sequence[int], value: float = 0) -> Tensor:
    """Pad with `value` by (before, after) pairs from the last dim (negative amounts crop)."""
    return F.pad(input, pad, "constant", value)


def max_pool1d(input: Any, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """The maximum of each window of (N, C, L) or (C, L); stride () means kernel_size."""
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input: Any, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False) -> tuple[Tensor, Tensor]:
    """max_pool1d and the flat index of each maximum along L."""
    return F.max_pool1d_with_indices(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input: Any, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """The maximum of each window of (N, C, H, W) or (C, H, W); stride () means kernel_size."""
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input: Any, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """The maximum of each window of (N, C, D, H, W) or (C, D, H, W); stride () means kernel_size."""
    return F.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def avg_pool1d(input: Any, kernel_size: Any, stride: Any = (), padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """The mean of each window of (N, C, L) or (C, L); stride () means kernel_size."""
    return F.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode, count_include_pad)


def adaptive_max_pool1d(input: Any, output_size: Any) -> tuple[Tensor, Tensor]:
    """(the maxima over output_size adaptive windows, their indices along L)."""
    return F.adaptive_max_pool1d(input, output_size, True)


def affine_grid_generator(theta: Any, size: Sequence[int], align_corners: bool) -> Tensor:
    """The sampling grid of the affine maps theta (N, 2, 3) or (N, 3, 4) for an output of `size`."""
    return F.affine_grid(theta, size, align_corners)


_INTERPOLATION = ("bilinear", "nearest", "bicubic")  # torch's GridSamplerInterpolation: 0, 1, 2
_PADDING = ("zeros", "border", "reflection")  # torch's GridSamplerPadding: 0, 1, 2


def grid_sampler(input: Any, grid: Any, interpolation_mode: int, padding_mode: int, align_corners: bool) -> Tensor:
    """grid_sample with torch's int modes: interpolation 0 bilinear, 1 nearest, 2 bicubic; padding 0 zeros,
    1 border, 2 reflection."""
    for arg, v, names in (("interpolation_mode", interpolation_mode, _INTERPOLATION),
                          ("padding_mode", padding_mode, _PADDING)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or not 0 <= v < 3:
            # torch reads memory it never wrote for an unknown int: an error here instead
            raise ValueError(f"grid_sampler(): {arg} must be 0 ({names[0]}), 1 ({names[1]}) or 2 ({names[2]}), "
                             f"got {v!r}")
    return F.grid_sample(input, grid, _INTERPOLATION[interpolation_mode], _PADDING[padding_mode], align_corners)


# --- embeddings --------------------------------------------------------------------------------------------
def embedding(weight: Any, indices: Any, padding_idx: int = -1, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """weight[indices]; the row padding_idx gets no gradient. Note the order: weight first. A negative
    padding_idx means none (torch's kernel), unlike nn.functional.embedding's, which counts from the end."""
    if isinstance(padding_idx, (bool, np.bool_)) or not isinstance(padding_idx, (int, np.integer)):
        raise TypeError(f"embedding(): argument 'padding_idx' (position 3) must be int, not "
                        f"{type(padding_idx).__name__}")
    n = as_tensor(weight).shape[0]
    pad = int(padding_idx) if 0 <= padding_idx < n else None  # one past the table: no index equals it
    return F.embedding(indices, weight, pad, None, 2.0, scale_grad_by_freq, sparse)


_BAG_MODES = ("sum", "mean", "max")  # torch's EmbeddingBagMode: 0, 1, 2


def embedding_bag(weight: Any, indices: Any, offsets: Any, scale_grad_by_freq: bool = False, mode: int = 0,
                  sparse: bool = False, per_sample_weights: Any = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(bags' sums / means / maxima, offset2bag, bag_size, max_indices) for 1-D indices cut at offsets; mode is
    0 sum, 1 mean, 2 max. The last three are torch's backward bookkeeping, without gradient, as its float64 CPU
    kernel gives them: offset2bag the bag of each index; bag_size each bag's count of non-padding indices (zeros
    for sum); max_indices the row of each maximum (max), bag_size again (mean), zeros (sum). (torch's float32
    kernel leaves offset2bag empty for sum without padding_idx, and its zero placeholders vary in length.)"""
    if isinstance(mode, (bool, np.bool_)) or not isinstance(mode, (int, np.integer)) or not 0 <= mode < 3:
        raise RuntimeError("`mode` must be sum, mean, or max.")
    if offsets is None:
        raise TypeError("embedding_bag(): argument 'offsets' (position 3) must be Tensor, not NoneType")
    if per_sample_weights is not None and mode != 0:
        raise RuntimeError("embedding_bag: per_sample_weights only supported with mode='sum'")
    w = as_tensor(weight)
    idx = to_host(indices.array if isinstance(indices, Tensor) else np.asarray(indices))
    off = to_host(offsets.array if isinstance(offsets, Tensor) else np.asarray(offsets))
    if idx.ndim != 1:
        raise ValueError(f"embedding_bag: expected 1-D indices cut into bags at offsets, got {idx.ndim}-D; for a "
                         "2-D batch of equal bags use nn.functional.embedding_bag(input, weight)")
    n = w.shape[0]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, -{n} through {n - 1}, but got "
                               f"{padding_idx}")
        padding_idx = int(padding_idx) % n
    out = F.embedding_bag(Tensor._make(idx, None, False), w, Tensor._make(off, None, False), mode=_BAG_MODES[mode],
                          per_sample_weights=per_sample_weights, include_last_offset=include_last_offset,
                          padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
    # torch's auxiliary outputs (its backward's bookkeeping), worked out on the host
    itype = np.result_type(idx.dtype, off.dtype)
    starts = off.astype(np.int64)[:-1] if include_last_offset else off.astype(np.int64)
    nb = starts.shape[0]
    bag = np.searchsorted(starts, np.arange(idx.shape[0]), side="right") - 1
    keep = bag >= 0  # without offsets (nb = 0) no index is in a bag
    if padding_idx is not None:
        keep &= idx != padding_idx
    size = np.bincount(bag[keep], minlength=nb)
    if mode == 0:
        size = max_indices = np.zeros(nb, dtype=np.int64)
    elif mode == 1:
        max_indices = size
    else:
        max_indices = np.zeros((nb, w.shape[1]), dtype=np.int64)
        rows = to_host(w.array)
        for b in range(nb):
            members = idx[keep & (bag == b)]
            if members.size:
                max_indices[b] = members[np.argmax(rows[members], axis=0)]  # the first maximum, as torch

    def aux(a: np.ndarray) -> Tensor:
        return Tensor._make(F._on_device_of(w, a.astype(itype)), None, False)

    return out, aux(bag), aux(size), aux(max_indices)


# --- normalization -----------------------------------------------------------------------------------------
def batch_norm(input: Any, weight: Any, bias: Any, running_mean: Any, running_var: Any, training: bool,
               momentum: float, eps: float, cudnn_enabled: bool) -> Tensor:
    """F.batch_norm in torch's top-level order (weight and bias before the running statistics)."""
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("running_mean must be defined in evaluation mode")
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input: Any, weight: Any, bias: Any, running_mean: Any, running_var: Any, use_input_stats: bool,
                  momentum: float, eps: float, cudnn_enabled: bool) -> Tensor:
    """F.instance_norm in torch's top-level order (weight and bias before the running statistics)."""
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def layer_norm(input: Any, normalized_shape: Sequence[int], weight: Any = None, bias: Any = None,
               eps: float = 1e-5, cudnn_enable: bool = True) -> Tensor:
    """Normalize over the trailing normalized_shape dims, then weight·y + bias."""
    return F.layer_norm(input, _shape("layer_norm", normalized_shape), weight, bias, eps)


def group_norm(input: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5,
               cudnn_enabled: bool = True) -> Tensor:
    """Normalize each sample over each of num_groups channel groups, then weight·y + bias per channel."""
    return F.group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input: Any, normalized_shape: Sequence[int], weight: Any = None, eps: float | None = None) -> Tensor:
    """x / √(mean(x²) + eps) · weight over the trailing normalized_shape dims."""
    return F.rms_norm(input, _shape("rms_norm", normalized_shape), weight, eps)


def _detached(a: Any, dtype: np.dtype) -> Tensor:
    return Tensor._make(a.astype(dtype, copy=False), None, False)


def _stats(a: Any, axes: tuple[int, ...], eps: float, keepdims: bool) -> tuple[Any, Any]:
    """(mean, 1/√(biased var + eps)) over axes; float16 accumulates in float32, as torch."""
    acc = a.astype(np.float32) if a.dtype == np.float16 else a
    return acc.mean(axis=axes, keepdims=keepdims), (acc.var(axis=axes, keepdims=keepdims) + eps) ** -0.5


def native_layer_norm(input: Any, normalized_shape: Sequence[int], weight: Any, bias: Any,
                      eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(layer_norm, mean, rstd): the statistics (*, 1, ...) of each normalized slice, without gradient (as torch)."""
    shape = _shape("native_layer_norm", normalized_shape)
    out = F.layer_norm(input, shape, weight, bias, eps)
    x = as_tensor(input)
    mean, rstd = _stats(x.array, tuple(range(x.ndim - len(shape), x.ndim)), eps, True)
    return out, _detached(mean, x.array.dtype), _detached(rstd, x.array.dtype)


def native_batch_norm(input: Any, weight: Any, bias: Any, running_mean: Any, running_var: Any, training: bool,
                      momentum: float, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(batch_norm, save_mean, save_invstd): in training the batch's per-channel mean and 1/√(var + eps), without
    gradient; in evaluation two empty tensors (as torch's CPU kernel)."""
    if not training and (running_mean is None or running_var is None):
        # torch crashes (segfault) here; an error instead
        raise RuntimeError("native_batch_norm: running_mean and running_var must be given in evaluation mode")
    out = F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    a = as_tensor(input).array
    if not training:
        empty = np.zeros_like(a, shape=(0,), dtype=np.float32 if a.dtype == np.float16 else a.dtype)
        return out, Tensor._make(empty, None, False), Tensor._make(empty.copy(), None, False)
    mean, invstd = _stats(a, (0,) + tuple(range(2, a.ndim)), eps, False)
    return out, _detached(mean, a.dtype), _detached(invstd, a.dtype)


# --- losses (reduction: 0 'none', 1 'mean', 2 'sum'; left out, 0 as in torch 2.13) ---------------------------
def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None, pos_weight: Any = None,
                                     reduction: int = 0) -> Tensor:
    """-w·(pos_weight·y·ln σ(x) + (1 - y)·ln(1 - σ(x)))."""
    red = _reduction("binary_cross_entropy_with_logits", reduction)
    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=red, pos_weight=pos_weight)


def cosine_embedding_loss(input1: Any, input2: Any, target: Any, margin: float = 0.0, reduction: int = 0) -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1."""
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction("cosine_embedding_loss", reduction))


def ctc_loss(log_probs: Any, targets: Any, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: int = 0, zero_infinity: bool = False) -> Tensor:
    """Connectionist temporal classification loss; 'mean' divides each by its target length, then averages."""
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, _reduction("ctc_loss", reduction),
                      zero_infinity)


def hinge_embedding_loss(input: Any, target: Any, margin: float = 1.0, reduction: int = 0) -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1."""
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction("hinge_embedding_loss", reduction))


def kl_div(input: Any, target: Any, reduction: int = 0, *, log_target: bool = False) -> Tensor:
    """target·(ln target - input) pointwise; 'mean' averages over every element (no batchmean here)."""
    return F.kl_div(input, target, reduction=_reduction("kl_div", reduction), log_target=log_target)


def margin_ranking_loss(input1: Any, input2: Any, target: Any, margin: float = 0.0, reduction: int = 0) -> Tensor:
    """max(0, -y·(x1 - x2) + margin)."""
    return F.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_reduction("margin_ranking_loss", reduction))


def poisson_nll_loss(input: Any, target: Any, log_input: bool, full: bool, eps: float, reduction: int) -> Tensor:
    """exp(x) - t·x (log_input) or x - t·ln(x + eps); full adds Stirling's term."""
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction("poisson_nll_loss", reduction))


def triplet_margin_loss(anchor: Any, positive: Any, negative: Any, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, reduction: int = 0) -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0), d the pairwise p-norm distance."""
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction("triplet_margin_loss", reduction))
