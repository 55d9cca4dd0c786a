"""3-D convolution layers: Conv3d and ConvTranspose3d (ops/conv3d.py: the 2-D convolution over the depth taps)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import memory
from ..ops.conv3d import conv3d, conv_transpose3d, triple
from ..tensor import Tensor, get_default_dtype
from . import init
from .conv import _ConvNd, _ConvTransposeNd
from .parameter import Parameter, _place

_MODES = ("zeros", "reflect", "replicate", "circular")


class _Conv3dBase(_ConvNd):
    """Shared parts: arguments, weight and bias with PyTorch's default init, repr."""

    def __init__(self, name: str, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, groups: int, bias: bool, padding_mode: str, device: Any, dtype: Any,
                 transposed: bool, output_padding: Any = 0) -> None:
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                             f"divisible by groups ({groups})")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = triple(name, "kernel_size", kernel_size)
        self.stride, self.dilation = triple(name, "stride", stride), triple(name, "dilation", dilation)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, a tuple of three, 'valid' or 'same', "
                                 f"got {padding!r}")
            if padding == "same" and self.stride != (1, 1, 1):
                raise ValueError(f"{name}: padding='same' needs stride 1, got stride {self.stride}")
            self.padding: Any = padding
        else:
            self.padding = triple(name, "padding", padding)
        self.output_padding = triple(name, "output_padding", output_padding)
        self.padding_mode, self.transposed = padding_mode, transposed
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
        if padding_mode not in _MODES:
            raise ValueError(f"Conv3d: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"got {padding_mode!r}")
        super().__init__("Conv3d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, device, dtype, transposed=False)

    def forward(self, input: Tensor) -> Tensor:
        if self.padding_mode == "zeros":
            return conv3d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        from ..ops.pad import pad as pad_modes

        if isinstance(self.padding, str):  # 'same': the odd pixel after, as PyTorch
            totals = [0 if self.padding == "valid" else d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            widths = [(t // 2, t - t // 2) for t in totals]
        else:
            widths = [(p, p) for p in self.padding]
        flat = [v for lo_hi in reversed(widths) for v in lo_hi]  # (w_lo, w_hi, h_lo, h_hi, d_lo, d_hi)
        return conv3d(pad_modes(input, flat, mode=self.padding_mode), self.weight, self.bias, self.stride, 0,
                      self.dilation, self.groups)


class ConvTranspose3d(_Conv3dBase, _ConvTransposeNd):
    """conv3d's input gradient as a layer (upsampling volumes); weight (C_in, C_out/groups, kD, kH, kW)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for ConvTranspose3d, got {padding_mode!r}')
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
