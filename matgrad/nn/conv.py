"""Convolution layers: Conv2d and ConvTranspose2d (the matrix product over patches, as a layer)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import memory
from ..ops.conv import conv2d, conv_transpose2d, pair
from ..ops.pad import pad as _pad_modes
from ..tensor import Tensor, get_default_dtype
from . import init
from .module import Module
from .parameter import Parameter, _place

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def check_padding_mode(cls_name: str, padding_mode: str, transposed: bool) -> None:
    """PyTorch's ValueErrors for padding_mode: one of PADDING_MODES, and only 'zeros' when transposed."""
    if transposed and padding_mode != "zeros":  # checked first, as torch's ConvTranspose*d
        raise ValueError(f'Only "zeros" padding mode is supported for {cls_name}, got padding_mode={padding_mode!r}')
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"{cls_name}: padding_mode must be one of {{'zeros', 'reflect', 'replicate', 'circular'}}, "
                         f"but got padding_mode={padding_mode!r}")


def check_padding_string(cls_name: str, padding: Any, stride: tuple[int, ...]) -> None:
    """PyTorch's ValueErrors for a string padding: 'same' or 'valid', and 'same' only at stride 1."""
    if not isinstance(padding, str):
        return
    if padding not in ("same", "valid"):
        raise ValueError(f"{cls_name}: Invalid padding string {padding!r}, should be one of {{'valid', 'same'}} "
                         "or an int / a tuple of ints")
    if padding == "same" and any(v != 1 for v in stride):
        raise ValueError(f"{cls_name}: padding='same' is not supported for strided convolutions "
                         f"(stride {stride}); use stride 1 or an explicit padding")


def reversed_padding_repeated_twice(padding: Any, kernel_size: tuple[int, ...],
                                    dilation: tuple[int, ...]) -> Any:
    """torch's _reversed_padding_repeated_twice: F.pad's widths, last dim first, for pad-then-convolve."""
    if not isinstance(padding, str):
        return tuple(p for p in reversed(padding) for _ in range(2))  # a tuple, as torch's _reverse_repeat_tuple
    out = [0, 0] * len(kernel_size)  # a list, as torch; 'same' puts the odd extra pixel after, as F.conv*d does
    if padding == "same":
        for i, (d, k) in enumerate(zip(reversed(dilation), reversed(kernel_size))):
            total = d * (k - 1)
            out[2 * i], out[2 * i + 1] = total // 2, total - total // 2
    return out


class _ConvNd(Module):
    """Base of every convolution layer (1-, 2-, 3-d, transposed, lazy), for isinstance checks as PyTorch's."""

    def _mode_padded(self, input: Any) -> Tensor:
        """input padded in a non-'zeros' padding_mode, for the convolution at padding 0 (torch's _conv_forward)."""
        return _pad_modes(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)


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
        check_padding_mode(type(self).__name__, padding_mode, transposed)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(name, "kernel_size", kernel_size)
        self.stride, self.dilation = pair(name, "stride", stride), pair(name, "dilation", dilation)
        if not transposed:
            check_padding_string(name, padding, self.stride)
        self.padding = padding if isinstance(padding, str) else pair(name, "padding", padding)
        self.output_padding = pair(name, "output_padding", output_padding)
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
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_Conv2dBase):
    """Y = W·cols(X) + b over (N, C_in, H, W) → (N, C_out, Hₒ, Wₒ); weight (C_out, C_in/groups, kH, kW).

    padding_mode 'zeros', or 'reflect', 'replicate', 'circular': F.pad first, then padding 0 (as torch).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__("Conv2d", in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, dtype, transposed=False)
        _place(self, device)  # PyTorch's device=: made on the host (same draws), then moved

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        """conv2d with this layer's arguments and the given weight and bias, as torch's."""
        if self.padding_mode != "zeros":
            return conv2d(self._mode_padded(input), weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv2d(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


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
        check_padding_mode(type(self).__name__, padding_mode, transposed=False)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = (single(name, "kernel_size", kernel_size),)
        self.stride, self.dilation = (single(name, "stride", stride),), (single(name, "dilation", dilation),)
        check_padding_string(name, padding, self.stride)
        self.padding: Any = padding if isinstance(padding, str) else (single(name, "padding", padding),)
        self.output_padding, self.transposed = (0,), False
        self.padding_mode = padding_mode
        self._reversed_padding_repeated_twice = reversed_padding_repeated_twice(self.padding, self.kernel_size,
                                                                                self.dilation)
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

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        """conv1d with this layer's arguments and the given weight and bias, as torch's."""
        from ..ops.conv import conv1d

        if self.padding_mode != "zeros":
            return conv1d(self._mode_padded(input), weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv1d(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)

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
        check_padding_mode(type(self).__name__, padding_mode, transposed=True)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = (single(name, "kernel_size", kernel_size),)
        self.stride, self.padding = (single(name, "stride", stride),), (single(name, "padding", padding),)
        self.dilation = (single(name, "dilation", dilation),)
        self.output_padding = (single(name, "output_padding", output_padding),)
        self.transposed, self.padding_mode = True, padding_mode
        self._reversed_padding_repeated_twice = reversed_padding_repeated_twice(self.padding, self.kernel_size,
                                                                                self.dilation)
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
