"""LinearCrossEntropyLoss, the module of F.linear_cross_entropy (a classifier head and its loss), and its options.

PyTorch offers linear_cross_entropy so that a chunked kernel can skip materialising the (N, C) logits of a
large vocabulary head; matgrad always runs the reference composition (linear, then cross_entropy; the
function is in functional.py, next to cross_entropy), so gradients of every order are those of its parts,
and LinearCrossEntropyOptions is accepted and checked but changes nothing (see its docstring).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ..dtypes import dtype as _dtype
from ..tensor import Tensor
from . import functional as F
from .linear import Linear
from .loss import _WeightedLoss

_ACC_POLICIES = ("auto", "accurate", "balanced", "compact")
_ACC_DTYPES = (np.float16, np.float32, np.float64)


def _is_float_dtype(d: Any) -> bool:
    try:
        return np.dtype(d.dtype if isinstance(d, _dtype) else d) in _ACC_DTYPES
    except TypeError:  # not a dtype at all (e.g. "bfloat16", which NumPy lacks)
        return False


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """PyTorch's options for the chunked linear_cross_entropy, validated as torch validates them.

    In matgrad they have no effect: every call runs the reference path (the full logits, then
    cross_entropy), so chunk sizes, accumulation policy and dtype change neither the result nor the
    memory use, and backward may always be repeated with retain_graph=True.

    allow_retain_graph: torch's chunked path consumes its gradient buffers unless True.
    batch_chunk_size: rows per chunk (None: one chunk), a positive int.
    chunking_method: 'auto', None, 'aspect_ratio' or 'aspect_ratio:N' (N ≥ 1).
    acc_policy: 'auto', 'accurate', 'balanced' or 'compact'.
    acc_dtype: None or float16/float32/float64 (torch also takes bfloat16, which matgrad does not have).
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: Any = None

    def __post_init__(self) -> None:
        if self.acc_policy not in _ACC_POLICIES:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}; use one of {_ACC_POLICIES}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, sep, factor = str(self.chunking_method).partition(":")
            factor = factor if sep else "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}; use 'auto', None, "
                                 "'aspect_ratio' or 'aspect_ratio:N' with an integer N >= 1")
        size = self.batch_chunk_size
        if not (size is None or (isinstance(size, int) and not isinstance(size, bool) and size > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {size!r}")
        if self.acc_dtype is not None and not _is_float_dtype(self.acc_dtype):
            raise ValueError(f"acc_dtype must be one of None, matgrad.float16, matgrad.float32, matgrad.float64, "
                             f"got {self.acc_dtype!r} (matgrad has no bfloat16). Pass acc_dtype=None to let the "
                             "op pick automatically.")


class LinearCrossEntropyLoss(_WeightedLoss):
    """Cross entropy of a learnable linear map of the input: a classifier head and its loss in one module.

    Parameters: linear.weight (C·prod(out_features), in_features) and, with bias=True, linear.bias
    (C·prod(out_features),), stored flat and initialised as nn.Linear's (as torch stores them);
    forward reshapes them to (C, *out_features, in_features). weight (C,): class weights, a buffer.
    """

    def __init__(self, in_features: int, num_classes: int, *, out_features: tuple[int, ...] = (), bias: bool = False,
                 device: Any = None, dtype: Any = None, reduction: str = "mean", weight: Any = None,
                 ignore_index: int | None = None, label_smoothing: float = 0.0,
                 options: LinearCrossEntropyOptions | None = None) -> None:
        if weight is not None:
            w_shape = tuple(np.shape(weight.array if isinstance(weight, Tensor) else weight))
            if w_shape != (num_classes,):
                raise RuntimeError(f"expected weight shape to be {(num_classes,)}, got {w_shape}")
        if label_smoothing < 0 or label_smoothing > 1.0:
            raise RuntimeError(f"expected label_smoothing to be in range [0, 1], got {label_smoothing}")
        if options is not None and not isinstance(options, LinearCrossEntropyOptions):
            raise TypeError(f"LinearCrossEntropyLoss: options must be None or a LinearCrossEntropyOptions, "
                            f"got {type(options).__name__}")
        super().__init__(weight, reduction=reduction)
        self.num_classes, self.out_features = num_classes, tuple(out_features)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing
        self.linear = Linear(in_features, math.prod(self.out_features, start=num_classes), bias=bias, device=device,
                             dtype=dtype)
        self.options = options

    def forward(self, input: Any, target: Any) -> Tensor:
        w = self.linear.weight.reshape(self.num_classes, *self.out_features, self.linear.in_features)
        b = None if self.linear.bias is None else self.linear.bias.reshape(self.num_classes, *self.out_features)
        return F.linear_cross_entropy(input, w, target, linear_bias=b, weight=self.weight, reduction=self.reduction,
                                      ignore_index=self.ignore_index, label_smoothing=self.label_smoothing,
                                      options=self.options)

    def extra_repr(self) -> str:
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
                f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, options={self.options}")
