"""Lazy modules, as PyTorch's: the input size is inferred at the first forward.

    m = nn.LazyLinear(10)       # weight, bias: UninitializedParameter placeholders
    m(x)                        # in_features = x.shape[-1]; m is now an nn.Linear

`LazyModuleMixin` registers a forward pre-hook that calls `initialize_parameters(*args)` once:
the placeholders `materialize` in place (same Parameter objects, so an optimizer made before
the first forward holds the real ones), the regular class's `reset_parameters` draws them, and
the module turns into `cls_to_become`. A state_dict loaded before the first forward gives the
placeholders their shapes from the checkpoint (`_lazy_load_hook`, a load_state_dict pre-hook).
Lazy norms keep running_mean/running_var as `UninitializedBuffer`s until then, as PyTorch's.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..devices import device_of, move, resolve
from ..tensor import Tensor, get_default_dtype
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .conv3d import Conv3d, ConvTranspose3d
from .linear import Linear
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    _BatchNorm,
    _InstanceNorm,
    _NormBase,
)
from .parameter import Buffer, Parameter


class UninitializedParameter(Parameter):
    """A Parameter with no shape yet; `materialize(shape)` turns it into a Parameter of that shape."""

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__(np.empty((0,), dtype=np.dtype(dtype) if dtype is not None else get_default_dtype()),
                         requires_grad)
        if device is not None:
            from ..devices import resolve

            self.array = move(self.array, resolve(device))

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """Give this parameter `shape` (uninitialized values) and make it a plain Parameter, in place."""
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
        dt = np.dtype(dtype) if dtype is not None else self.array.dtype
        arr = np.empty(shape, dtype=dt)
        dev = device if device is not None else device_of(self.array)
        self.array = arr if type(self.array) is np.ndarray and device is None else move(arr, dev)
        self.__class__ = self.cls_to_become

    @property
    def shape(self) -> Any:
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
            "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call "
            "`forward` to initialize the parameters before accessing their attributes.")

    def numel(self) -> int:
        raise ValueError(
            "Attempted to use an uninitialized parameter in numel. This error happens when you are using a "
            "`LazyModule` or explicitly manipulating `UninitializedParameter` objects. When using LazyModules "
            "call `forward` with a dummy batch to initialize the parameters before calling matgrad functions")

    def detach(self) -> UninitializedParameter:
        """Another placeholder (what state_dict holds for one, as PyTorch's)."""
        return UninitializedParameter(False, None, self.array.dtype)

    def __repr__(self) -> str:
        return "<UninitializedParameter>"

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (UninitializedParameter, (self.requires_grad, None, self.array.dtype))


class UninitializedBuffer(Buffer):
    """A buffer with no shape yet; `materialize(shape)` turns it into a Buffer of that shape, in place.

    PyTorch's becomes a plain Tensor still tagged as a buffer; this one becomes an `nn.Buffer`.
    """

    __slots__ = ()
    cls_to_become = Buffer

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None,
                 persistent: bool = True) -> None:
        arr = np.empty((0,), dtype=np.dtype(dtype) if dtype is not None else get_default_dtype())
        super().__init__(Tensor(arr, requires_grad=requires_grad), persistent=persistent)
        if device is not None:
            from ..devices import resolve

            self.array = move(self.array, resolve(device))

    materialize = UninitializedParameter.materialize
    shape = UninitializedParameter.shape

    def numel(self) -> int:
        raise ValueError(
            "Attempted to use an uninitialized buffer in numel. This error happens when you are using a "
            "`LazyModule` or explicitly manipulating `UninitializedBuffer` objects. When using LazyModules "
            "call `forward` with a dummy batch to initialize the parameters before calling matgrad functions")

    def detach(self) -> UninitializedBuffer:
        """Another placeholder (what state_dict holds for one, as PyTorch's)."""
        return UninitializedBuffer(False, None, self.array.dtype, self.persistent)

    def __repr__(self) -> str:
        return "<UninitializedBuffer>"

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (UninitializedBuffer, (self.requires_grad, None, self.array.dtype, self.persistent))


def is_lazy(param: Any) -> bool:
    """Whether `param` is a placeholder (parameter or buffer) still waiting for its shape."""
    return isinstance(param, (UninitializedParameter, UninitializedBuffer))


def _infer_parameters(module: Any, args: tuple[Any, ...]) -> None:
    """The forward pre-hook: initialize once, then become the regular class (PyTorch's _infer_parameters)."""
    module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._initialize_hook.remove()
    module._load_hook.remove()
    del module._initialize_hook, module._load_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


class LazyModuleMixin:
    """A module whose parameters get their shapes from the first input (put it first among the bases)."""

    cls_to_become: type | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)
        self._load_hook = self._register_load_state_dict_pre_hook(self._lazy_load_hook)

    def has_uninitialized_params(self) -> bool:
        """Whether any of this module's own parameters or buffers still waits for its shape."""
        return any(is_lazy(p) for p in (*self._parameters.values(), *self._buffers.values()))

    def initialize_parameters(self, *args: Any) -> None:
        """Materialize the placeholders from the first forward's input (each lazy class says how)."""
        raise NotImplementedError(f"{type(self).__name__} must define initialize_parameters")

    def _lazy_load_hook(self, state_dict: Any, prefix: str) -> None:
        """Before load_state_dict copies: give each placeholder the checkpoint's shape (if it has one)."""
        for name, p in (*self._parameters.items(), *self._buffers.items()):
            key = prefix + name
            if is_lazy(p) and key in state_dict and not is_lazy(state_dict[key]):
                value = state_dict[key]
                p.materialize(value.shape if hasattr(value, "shape") else np.shape(value))


def _reset_if_ready(module: Any, reset: Any) -> None:
    if not module.has_uninitialized_params() and module._lazy_size() != 0:
        reset(module)


# --- Linear -----------------------------------------------------------------------------------
class LazyLinear(LazyModuleMixin, Linear):
    """nn.Linear whose in_features is inferred from the first input's last dimension."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__(0, 0, False, device=device, dtype=dtype)
        dt = self.weight.array.dtype
        self.weight = UninitializedParameter(device=device, dtype=dt)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dt)

    def _lazy_size(self) -> int:
        return self.in_features

    def reset_parameters(self) -> None:
        _reset_if_ready(self, Linear.reset_parameters)

    def initialize_parameters(self, input: Any, *args: Any) -> None:
        if not isinstance(input, Tensor) or input.ndim < 1:
            raise ValueError(f"{type(self).__name__}: expected a tensor with at least 1 dimension, got "
                             f"{getattr(input, 'shape', type(input).__name__)}")
        n = int(input.shape[-1])
        if self.has_uninitialized_params():
            self.in_features = n
            self.weight.materialize((self.out_features, n))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()
        elif self.in_features == 0:  # shapes from a loaded state_dict
            if n != self.weight.array.shape[-1]:
                raise RuntimeError(f"The in_features inferred from input: {n} is not equal to in_features from "
                                   f"self.weight: {self.weight.array.shape[-1]}")
            self.in_features = n


# --- convolutions -----------------------------------------------------------------------------
class _LazyConvMixin(LazyModuleMixin):
    """in_channels from the first input: dim 1 of a batched input, dim 0 of an unbatched one."""

    def _init_lazy(self, out_channels: int, bias: bool, device: Any, dtype: Any) -> None:
        dt = self.weight.array.dtype
        self.out_channels = out_channels
        self.weight = UninitializedParameter(device=device, dtype=dt)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dt)

    def _lazy_size(self) -> int:
        return self.in_channels

    def reset_parameters(self) -> None:
        _reset_if_ready(self, self.cls_to_become.reset_parameters)

    def _in_channels(self, input: Any) -> int:
        k = len(self.kernel_size)
        if not isinstance(input, Tensor) or input.ndim not in (k + 1, k + 2):
            raise RuntimeError(f"Expected {k + 1}D (unbatched) or {k + 2}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: "
                               f"{list(getattr(input, 'shape', ()))}")
        return int(input.shape[1] if input.ndim == k + 2 else input.shape[0])

    def initialize_parameters(self, input: Any, *args: Any) -> None:
        c = self._in_channels(input)
        if not self.has_uninitialized_params():
            self.in_channels = self.in_channels or c  # shapes from a loaded state_dict
            return
        if c % self.groups:
            raise ValueError(f"in_channels must be divisible by groups (in_channels={c}, groups={self.groups})")
        self.in_channels = c
        g = self.groups
        transposed = issubclass(self.cls_to_become, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d))
        self.weight.materialize(((c, self.out_channels // g) if transposed
                                 else (self.out_channels, c // g)) + tuple(self.kernel_size))
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()


def _check_groups(name: str, out_channels: int, groups: int) -> None:
    if groups < 1 or out_channels % groups:
        raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")


class LazyConv1d(_LazyConvMixin, Conv1d):
    """nn.Conv1d whose in_channels is inferred from the first input."""

    cls_to_become = Conv1d

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        _check_groups("LazyConv1d", out_channels, groups)
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode,
                         device=device, dtype=dtype)
        self._init_lazy(out_channels, bias, device, dtype)


class LazyConv2d(_LazyConvMixin, Conv2d):
    """nn.Conv2d whose in_channels is inferred from the first input."""

    cls_to_become = Conv2d

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        _check_groups("LazyConv2d", out_channels, groups)
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode,
                         device=device, dtype=dtype)
        self._init_lazy(out_channels, bias, device, dtype)


class LazyConvTranspose1d(_LazyConvMixin, ConvTranspose1d):
    """nn.ConvTranspose1d whose in_channels is inferred from the first input."""

    cls_to_become = ConvTranspose1d

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        _check_groups("LazyConvTranspose1d", out_channels, groups)
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode,
                         device=device, dtype=dtype)
        self._init_lazy(out_channels, bias, device, dtype)


class LazyConvTranspose2d(_LazyConvMixin, ConvTranspose2d):
    """nn.ConvTranspose2d whose in_channels is inferred from the first input."""

    cls_to_become = ConvTranspose2d

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        _check_groups("LazyConvTranspose2d", out_channels, groups)
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode,
                         device=device, dtype=dtype)
        self._init_lazy(out_channels, bias, device, dtype)


class LazyConv3d(_LazyConvMixin, Conv3d):
    """nn.Conv3d whose in_channels is inferred from the first input."""

    cls_to_become = Conv3d

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        _check_groups("LazyConv3d", out_channels, groups)
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode,
                         device=device, dtype=dtype)
        self._init_lazy(out_channels, bias, device, dtype)


class LazyConvTranspose3d(_LazyConvMixin, ConvTranspose3d):
    """nn.ConvTranspose3d whose in_channels is inferred from the first input."""

    cls_to_become = ConvTranspose3d

    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        _check_groups("LazyConvTranspose3d", out_channels, groups)
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode,
                         device=device, dtype=dtype)
        self._init_lazy(out_channels, bias, device, dtype)


# --- normalization ----------------------------------------------------------------------------
class _LazyNormBase(LazyModuleMixin, _NormBase):
    """num_features from the first input's dim 1; weight, bias, running_mean and running_var wait till then.

    Where nothing is lazy (affine=False, track_running_stats=False) or a state_dict gave the shapes,
    PyTorch leaves num_features at 0; here it is set from the first input, as the channel check needs it.
    """

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        # affine and track_running_stats False here, so no tensors are made only to be replaced
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:  # PyTorch 2.13's keyword: affine without the shift
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            count = np.array(0, dtype=np.int64)
            self.num_batches_tracked = Tensor(count if device is None else move(count, resolve(device)))

    def _lazy_size(self) -> int:
        return self.num_features

    def reset_parameters(self) -> None:
        _reset_if_ready(self, self.cls_to_become.reset_parameters)

    def initialize_parameters(self, input: Any, *args: Any) -> None:
        if not isinstance(input, Tensor) or input.ndim < 2:
            raise ValueError(f"{type(self).__name__}: expected an input with at least 2 dimensions (channels at "
                             f"dim 1), got {list(getattr(input, 'shape', ()))}")
        c = int(input.shape[1])
        if not self.has_uninitialized_params():
            self.num_features = self.num_features or c  # nothing lazy, or shapes from a loaded state_dict
            return
        self.num_features = c
        for p in (self.weight, self.bias, self.running_mean, self.running_var):
            if p is not None:
                p.materialize((c,))
        self.reset_parameters()


class LazyBatchNorm1d(_LazyNormBase, _BatchNorm):  # not a BatchNorm1d until the first forward, as in PyTorch
    """nn.BatchNorm1d whose num_features is inferred from the first input's dim 1."""

    cls_to_become = BatchNorm1d
    _dims, _shape_text = BatchNorm1d._dims, BatchNorm1d._shape_text


class LazyBatchNorm2d(_LazyNormBase, _BatchNorm):  # not a BatchNorm2d until the first forward, as in PyTorch
    """nn.BatchNorm2d whose num_features is inferred from the first input's dim 1."""

    cls_to_become = BatchNorm2d
    _dims, _shape_text = BatchNorm2d._dims, BatchNorm2d._shape_text


class LazyBatchNorm3d(_LazyNormBase, _BatchNorm):  # not a BatchNorm3d until the first forward, as in PyTorch
    """nn.BatchNorm3d whose num_features is inferred from the first input's dim 1."""

    cls_to_become = BatchNorm3d
    _dims, _shape_text = BatchNorm3d._dims, BatchNorm3d._shape_text


class LazyInstanceNorm1d(_LazyNormBase, _InstanceNorm):  # not an InstanceNorm1d until the first forward, as in PyTorch
    """nn.InstanceNorm1d whose num_features is inferred from the first input's dim 1 (affine and
    track_running_stats default to True here, as PyTorch's lazy class)."""

    cls_to_become = InstanceNorm1d
    _spatial = InstanceNorm1d._spatial


class LazyInstanceNorm2d(_LazyNormBase, _InstanceNorm):  # not an InstanceNorm2d until the first forward, as in PyTorch
    """nn.InstanceNorm2d whose num_features is inferred from the first input's dim 1 (affine and
    track_running_stats default to True here, as PyTorch's lazy class)."""

    cls_to_become = InstanceNorm2d
    _spatial = InstanceNorm2d._spatial


class LazyInstanceNorm3d(_LazyNormBase, _InstanceNorm):  # not an InstanceNorm3d until the first forward, as in PyTorch
    """nn.InstanceNorm3d whose num_features is inferred from the first input's dim 1 (affine and
    track_running_stats default to True here, as PyTorch's lazy class)."""

    cls_to_become = InstanceNorm3d
    _spatial = InstanceNorm3d._spatial
