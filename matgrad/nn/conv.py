"""Convolution layers: Conv2d and ConvTranspose2d (the matrix product over patches, as a layer)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import memory
from ..ops.conv import conv2d, conv_transpose2d, pair
from ..tensor import Tensor, get_default_dtype
from . import init
from .module import Module
from .parameter import Parameter, _place


class _ConvNd(Module):
    """Base of every convolution layer (1-, 2-, 3-d, transposed, lazy), for isinstance checks as PyTorch's."""


class _ConvTransposeNd(_ConvNd):
    """Base of every transposed convolution layer, for isinstance checks as PyTorch's."""


class _Conv2dBase(_ConvNd):
    """Shared parts of the 2-d layers: arguments, PyTorch's default init, repr."""

    def __init__(self, name: str, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, groups: int, bias: bool, padding_mode: str, dtype: Any,
                 transposed: bool, output_padding: Any = 0) -> None:
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                f"divisible by groups ({groups})"
            )
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):  # PyTorch's ValueError
            raise ValueError(f"{name}: padding_mode must be one of {{'zeros', 'reflect', 'replicate', 'circular'}}, "
                             f"but got padding_mode={padding_mode!r}")
        if padding_mode != "zeros" and transposed:
            raise ValueError(f'Only "zeros" padding mode is supported for {name}, got {padding_mode!r}')
        if padding_mode != "zeros":
            raise NotImplementedError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(name, "kernel_size", kernel_size)
        self.stride, self.dilation = pair(name, "stride", stride), pair(name, "dilation", dilation)
        self.padding = padding if isinstance(padding, str) else pair(name, "padding", padding)
        self.output_padding = pair(name, "output_padding", output_padding)
        self.padding_mode = padding_mode
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(memory.empty(shape, dt))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=√5) = U(±1/√fan_in), bias U(±1/√fan_in)."""
        init.default_reset_(self.weight, self.bias)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_Conv2dBase):
    """Y = W·cols(X) + b over (N, C_in, H, W) → (N, C_out, Hₒ, Wₒ); weight (C_out, C_in/groups, kH, kW)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__("Conv2d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, dtype, transposed=False)
        _place(self, device)  # PyTorch's device=: made on the host (same draws), then moved

    def forward(self, input: Tensor) -> Tensor:
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(_Conv2dBase, _ConvTransposeNd):
    """conv2d's input gradient as a layer (upsampling); weight (C_in, C_out/groups, kH, kW)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__("ConvTranspose2d", in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype, transposed=True, output_padding=output_padding)
        _place(self, device)  # PyTorch's device=: made on the host (same draws), then moved

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        op = self.output_padding
        if output_size is not None:  # pick the output_padding that gives this size, as PyTorch
            size = tuple(output_size)[-2:]
            op = tuple(
                size[i] - ((input.shape[-2 + i] - 1) * self.stride[i] - 2 * self.padding[i]
                           + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
                for i in range(2)
            )
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                                self.dilation)


# --- issue 20 ---------------------------------------------------------------------------------
class Conv1d(_ConvNd):
    """Y = W·cols(X) + b over (N, C_in, L) → (N, C_out, Lₒ); weight (C_out, C_in/groups, k).

    Runs as conv2d on an (N, C, 1, L) view; padding_mode 'zeros', 'reflect', 'replicate' or 'circular'.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        from ..ops.conv import single

        super().__init__()
        name = "Conv1d"
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                f"divisible by groups ({groups})"
            )
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = (single(name, "kernel_size", kernel_size),)
        self.stride, self.dilation = (single(name, "stride", stride),), (single(name, "dilation", dilation),)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, 'valid' or 'same', got {padding!r}")
            if padding == "same" and self.stride != (1,):
                raise ValueError(f"{name}: padding='same' needs stride 1, got stride {self.stride}")
            self.padding: Any = padding
        else:
            self.padding = (single(name, "padding", padding),)
        self.output_padding, self.transposed = (0,), False
        self.padding_mode = padding_mode
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        self.weight = Parameter(memory.empty((out_channels, in_channels // groups) + self.kernel_size, dt))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        _place(self, device)  # PyTorch's device=: made on the host (same draws), then moved

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=√5) = U(±1/√fan_in), bias U(±1/√fan_in)."""
        init.default_reset_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        from ..ops.conv import conv1d

        if self.padding_mode != "zeros":
            from ..ops.pad import pad as pad_modes

            if isinstance(self.padding, str):
                total = 0 if self.padding == "valid" else self.dilation[0] * (self.kernel_size[0] - 1)
                lr = (total // 2, total - total // 2)
            else:
                lr = (self.padding[0], self.padding[0])
            return conv1d(pad_modes(input, lr, mode=self.padding_mode), self.weight, self.bias, self.stride, 0,
                          self.dilation, self.groups)
        return conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,):
            s += f", padding={self.padding}"
        if self.dilation != (1,):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class ConvTranspose1d(_ConvTransposeNd):
    """conv1d's input gradient as a layer over (N, C_in, L) → (N, C_out, Lₒ); weight (C_in, C_out/groups, k).

    Runs as conv_transpose2d on an (N, C, 1, L) view; padding_mode 'zeros' only, as PyTorch.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        from ..ops.conv import single

        super().__init__()
        name = "ConvTranspose1d"
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                f"divisible by groups ({groups})"
            )
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}, got {padding_mode!r}')
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = (single(name, "kernel_size", kernel_size),)
        self.stride, self.padding = (single(name, "stride", stride),), (single(name, "padding", padding),)
        self.dilation = (single(name, "dilation", dilation),)
        self.output_padding = (single(name, "output_padding", output_padding),)
        self.transposed, self.padding_mode = True, padding_mode
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        self.weight = Parameter(memory.empty((in_channels, out_channels // groups) + self.kernel_size, dt))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        _place(self, device)  # PyTorch's device=: made on the host (same draws), then moved

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=√5) = U(±1/√fan_in), bias U(±1/√fan_in)."""
        init.default_reset_(self.weight, self.bias)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        from ..ops.conv import conv_transpose1d

        op = self.output_padding[0]
        if output_size is not None:  # pick the output_padding that gives this length, as PyTorch
            size = int(tuple(output_size)[-1])
            op = size - ((input.shape[-1] - 1) * self.stride[0] - 2 * self.padding[0]
                         + self.dilation[0] * (self.kernel_size[0] - 1) + 1)
        return conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                                self.dilation)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,):
            s += f", padding={self.padding}"
        if self.dilation != (1,):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
