"""3-D pooling layers (ops/pooling3d.py): MaxPool3d, AvgPool3d, AdaptiveAvgPool3d, AdaptiveMaxPool3d,
MaxUnpool3d, LPPool3d."""
from __future__ import annotations

from typing import Any

from ..ops import pooling3d as P
from ..ops.conv3d import triple
from ..tensor import Tensor
from .pooling import (
    _AdaptiveAvgPoolNd,
    _AdaptiveMaxPoolNd,
    _AvgPoolNd,
    _FractionalMaxPoolNd,
    _LPPoolNd,
    _MaxPoolNd,
    _MaxUnpoolNd,
)


class MaxPool3d(_MaxPoolNd):
    """Maximum over each kernel_size window of (N, C, D, H, W) (stride defaults to kernel_size)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor) -> Any:
        return P.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool3d(_AvgPoolNd):
    """Mean over each kernel_size window of (N, C, D, H, W) (stride defaults to kernel_size)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return P.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Mean over output_size (d, h, w) near-equal regions, whatever the input's size (1 = global average)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return P.adaptive_avg_pool3d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Maximum over output_size (d, h, w) near-equal regions; gradient to the argmax."""

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor) -> Any:
        return P.adaptive_max_pool3d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class MaxUnpool3d(_MaxUnpoolNd):
    """max_pool3d's partial inverse: values back at their flat (D·H·W) indices, zeros elsewhere."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size = triple("MaxUnpool3d", "kernel_size", kernel_size)
        self.stride = triple("MaxUnpool3d", "stride", stride if stride is not None else kernel_size)
        self.padding = triple("MaxUnpool3d", "padding", padding)

    def forward(self, input: Tensor, indices: Any, output_size: Any = None) -> Tensor:
        return P.max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class LPPool3d(_LPPoolNd):
    """Power-average pooling: (Σ over each window of x^p)^(1/p) on (N, C, D, H, W) or (C, D, H, W)."""

    _fn = "lp_pool3d"


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Max over pseudo-random (kT, kH, kW) windows giving output_size (or input size · output_ratio)."""

    _nd = 3
    _fn = "fractional_max_pool3d"
