"""3-D convolution layers: Conv3d and ConvTranspose3d (ops/conv3d.py: the 2-D convolution over the depth taps)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import memory
from ..ops.conv3d import conv3d, conv_transpose3d, triple
from ..tensor import Tensor, get_default_dtype
from . import init
from .conv import _ConvNd, _ConvTransposeNd, check_padding_mode, check_padding_string, reversed_padding_repeated_twice
from .parameter import Parameter, _place


class _Conv3dBase(_ConvNd):
    """Shared parts: arguments, weight and bias with PyTorch's default init, repr."""

    def __init__(self, name: str, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, groups: int, bias: bool, padding_mode: str, device: Any, dtype: Any,
                 transposed: bool, output_padding: Any = 0) -> None:
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                             f"divisible by groups ({groups})")
        check_padding_mode(type(self).__name__, padding_mode, transposed)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = triple(name, "kernel_size", kernel_size)
        self.stride, self.dilation = triple(name, "stride", stride), triple(name, "dilation", dilation)
        check_padding_string(name, padding, self.stride)
        self.padding: Any = padding if isinstance(padding, str) else triple(name, "padding", padding)
        self.output_padding = triple(name, "output_padding", output_padding)
        self.padding_mode, self.transposed = padding_mode, transposed
        self._reversed_padding_repeated_twice = reversed_padding_repeated_twice(self.padding, self.kernel_size,
                                                                                self.dilation)
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(memory.empty(shape, dt))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        _place(self, device)  # PyTorch's device=: made on the host (same draws), then moved

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=√5) = U(±1/√fan_in), bias U(±1/√fan_in)."""
        init.default_reset_(self.weight, self.bias)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv3d(_Conv3dBase):
    """Y = Σ over the kD·kH·kW taps of W·X + b: (N, C_in, D, H, W) → (N, C_out, Dₒ, Hₒ, Wₒ);
    weight (C_out, C_in/groups, kD, kH, kW); padding_mode 'zeros', 'reflect', 'replicate' or 'circular'."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__("Conv3d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, device, dtype, transposed=False)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        """conv3d with this layer's arguments and the given weight and bias, as torch's."""
        if self.padding_mode != "zeros":
            return conv3d(self._mode_padded(input), weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv3d(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class ConvTranspose3d(_Conv3dBase, _ConvTransposeNd):
    """conv3d's input gradient as a layer (upsampling volumes); weight (C_in, C_out/groups, kD, kH, kW)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        check_padding_mode(type(self).__name__, padding_mode, transposed=True)
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose3d: padding must be an int or a tuple of three, got {padding!r}")
        super().__init__("ConvTranspose3d", in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, transposed=True, output_padding=output_padding)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        op = self.output_padding
        if output_size is not None:  # pick the output_padding that gives this size, as PyTorch
            size = tuple(output_size)[-3:]
            op = tuple(
                int(size[i]) - ((input.shape[-3 + i] - 1) * self.stride[i] - 2 * self.padding[i]
                                + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
                for i in range(3)
            )
        return conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                                self.dilation)
