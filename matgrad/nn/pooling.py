"""Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d."""
from __future__ import annotations

from typing import Any

from ..ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ..tensor import Tensor
from .module import Module


# PyTorch's private bases, which code checks with isinstance (e.g. `isinstance(m, _MaxPoolNd)`); empty here,
# as each layer keeps its own arguments
class _MaxPoolNd(Module):
    """Base of MaxPool1d/2d/3d."""


class _AvgPoolNd(Module):
    """Base of AvgPool1d/2d/3d."""


class _AdaptiveAvgPoolNd(Module):
    """Base of AdaptiveAvgPool1d/2d/3d."""


class _AdaptiveMaxPoolNd(Module):
    """Base of AdaptiveMaxPool1d/2d/3d."""


class _MaxUnpoolNd(Module):
    """Base of MaxUnpool1d/2d/3d."""


class MaxPool2d(_MaxPoolNd):
    """Maximum over each kernel_size window (stride defaults to kernel_size); gradient to the argmax."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride or kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(_AvgPoolNd):
    """Mean over each kernel_size window (stride defaults to kernel_size)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Mean over output_size near-equal regions, whatever the input's size (1 = global average)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


# --- breadth (issue 14) -------------------------------------------------------------------------
class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Maximum over output_size near-equal regions, whatever the input's size; gradient to the argmax."""

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor) -> Any:
        from ..ops.pooling import adaptive_max_pool2d

        return adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class MaxUnpool2d(_MaxUnpoolNd):
    """max_pool2d's partial inverse: values back at their indices, zeros elsewhere."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        from ..ops.conv import pair

        super().__init__()
        self.kernel_size = pair("MaxUnpool2d", "kernel_size", kernel_size)
        self.stride = pair("MaxUnpool2d", "stride", stride if stride is not None else kernel_size)
        self.padding = pair("MaxUnpool2d", "padding", padding)

    def forward(self, input: Tensor, indices: Any, output_size: Any = None) -> Tensor:
        from ..ops.pooling import max_unpool2d

        return max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


# --- issue 20: 1-D pooling --------------------------------------------------------------------
class MaxPool1d(_MaxPoolNd):
    """Maximum over each kernel_size window of (N, C, L) (stride defaults to kernel_size)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor) -> Any:
        from ..ops.pooling import max_pool1d

        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(_AvgPoolNd):
    """Mean over each kernel_size window of (N, C, L) (stride defaults to kernel_size)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        from ..ops.conv import single

        super().__init__()
        self.kernel_size = (single("AvgPool1d", "kernel_size", kernel_size),)
        self.stride = (single("AvgPool1d", "stride", stride if stride is not None else kernel_size),)
        self.padding = (single("AvgPool1d", "padding", padding),)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        from ..ops.pooling import avg_pool1d

        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Mean over output_size near-equal regions of (N, C, L), whatever L (1 = global average)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        from ..ops.pooling import adaptive_avg_pool1d

        return adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Maximum over output_size near-equal regions of (N, C, L); gradient to the argmax."""

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor) -> Any:
        from ..ops.pooling import adaptive_max_pool1d

        return adaptive_max_pool1d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


# --- breadth 2 --------------------------------------------------------------------------------
class MaxUnpool1d(_MaxUnpoolNd):
    """max_pool1d's partial inverse: values back at their indices along L, zeros elsewhere."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        from ..ops.conv import single

        super().__init__()
        self.kernel_size = (single("MaxUnpool1d", "kernel_size", kernel_size),)
        self.stride = (single("MaxUnpool1d", "stride", stride if stride is not None else kernel_size),)
        self.padding = (single("MaxUnpool1d", "padding", padding),)

    def forward(self, input: Tensor, indices: Any, output_size: Any = None) -> Tensor:
        from ..ops.pooling import max_unpool1d

        return max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _LPPoolNd(Module):
    """Power-average pooling's settings, as PyTorch's _LPPoolNd; `_fn` names the functional that runs it."""

    _fn = "lp_pool1d"

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        from . import functional as F

        return getattr(F, self._fn)(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pooling: (Σ over each window of x^p)^(1/p) on (N, C, L) or (C, L)."""

    _fn = "lp_pool1d"


class LPPool2d(_LPPoolNd):
    """Power-average pooling: (Σ over each window of x^p)^(1/p) on (N, C, H, W) or (C, H, W)."""

    _fn = "lp_pool2d"


class _FractionalMaxPoolNd(Module):
    """Fractional max pooling's settings and checks, as PyTorch's modules; `_nd` and `_fn` say which."""

    _nd = 2
    _fn = "fractional_max_pool2d"

    def __init__(self, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                 return_indices: bool = False, _random_samples: Any = None) -> None:
        super().__init__()
        nd, name = self._nd, type(self).__name__

        def tup(v: Any) -> Any:
            return tuple(v) if isinstance(v, (tuple, list)) else (v,) * nd

        self.kernel_size = tup(kernel_size)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = tup(output_size) if output_size is not None else None
        self.output_ratio = tup(output_ratio) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor) -> Any:
        from ..ops import fractional_pool

        return getattr(fractional_pool, self._fn)(input, self.kernel_size, self.output_size, self.output_ratio,
                                                  self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Max over pseudo-random (kH, kW) windows giving output_size (or input size · output_ratio)."""
