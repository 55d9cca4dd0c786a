"""Linear (fully connected) layer and Identity."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import memory
from ..ops.linear import linear
from ..tensor import Tensor, get_default_dtype
from . import init
from .module import Module
from .parameter import Parameter, _place


class Identity(Module):
    """Returns its input unchanged (a placeholder); any arguments are ignored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Linear(Module):
    """y = x @ Wᵀ + b.  x (*, in_features) → y (*, out_features).

    weight (out_features, in_features) and bias (out_features,) start as PyTorch's:
    kaiming_uniform_(a=√5), i.e. U(±1/√in_features), and bias U(±1/√in_features).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if in_features < 0 or out_features < 0:
            raise ValueError(f"Linear: sizes must be non-negative, got ({in_features}, {out_features})")
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(memory.empty((out_features, in_features), dt))
        if bias:
            self.bias = Parameter(np.empty((out_features,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        _place(self, device)  # PyTorch's device=: made on the host (same draws), then moved

    def reset_parameters(self) -> None:
        """Draw fresh weights with PyTorch's default scheme."""
        init.default_reset_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        bias = self.bias is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={bias}"


class Bilinear(Module):
    """y = x1ᵀ·A·x2 + b: x1 (*, in1), x2 (*, in2) → (*, out); weight (out, in1, in2), bias (out,).

    Both start U(±1/√in1_features), as PyTorch.
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = Parameter(memory.empty((out_features, in1_features, in2_features), dt))
        if bias:
            self.bias = Parameter(np.empty((out_features,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        _place(self, device)  # PyTorch's device=: made on the host (same draws), then moved

    def reset_parameters(self) -> None:
        """U(±1/√in1_features) for weight and bias."""
        bound = 1.0 / np.sqrt(self.weight.shape[1]) if self.weight.shape[1] else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        from .functional import bilinear

        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
