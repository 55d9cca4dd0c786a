"""Normalization layers: BatchNorm1d, BatchNorm2d (running statistics as buffers) and LayerNorm."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.normalization import batch_norm, layer_norm
from ..tensor import Tensor, get_default_dtype
from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    """y = γ·(x - μ)/√(σ² + ε) + β per channel; batch statistics in training, running ones in eval."""

    _dims: tuple[int, ...] = ()
    _shape_text = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dt))
            self.bias = Parameter(np.zeros(num_features, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, variance 1, batch count 0."""
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self) -> None:
        """Running statistics reset; γ = 1, β = 0."""
        self.reset_running_stats()
        if self.affine:
            self.weight.array[...] = 1
            self.bias.array[...] = 0

    def forward(self, input: Tensor) -> Tensor:
        name = type(self).__name__
        if input.ndim not in self._dims:
            raise ValueError(f"{name}: expected {self._shape_text} input, got shape {tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected {self.num_features} channels (dim 1), "
                f"got input of shape {tuple(input.shape)}"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            if self.momentum is None:  # cumulative moving average, as PyTorch
                factor = 1.0 / float(self.num_batches_tracked.array)
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                          self.weight, self.bias, use_batch, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) input, per channel C."""

    _dims, _shape_text = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) input, per channel C."""

    _dims, _shape_text = (4,), "(N, C, H, W)"


class LayerNorm(Module):
    """y = γ·(x - μ)/√(σ² + ε) + β, statistics over each sample's trailing normalized_shape dims."""

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        if elementwise_affine:
            self.weight = Parameter(np.ones(shape, dtype=dt))
            self.bias = Parameter(np.zeros(shape, dtype=dt)) if bias else None
            if not bias:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
