"""`custom_fwd` / `custom_bwd`: torch.amp's decorators for the forward and backward of an autograd.Function.

    class MyMM(matgrad.autograd.Function):
        @staticmethod
        @matgrad.amp.custom_fwd(device_type="cpu", cast_inputs=matgrad.float32)
        def forward(ctx, a, b): ...
        @staticmethod
        @matgrad.amp.custom_bwd(device_type="cpu")
        def backward(ctx, grad): ...

As torch 2.13's: `custom_fwd` records on ctx the autocast dtype and whether autocast was on for
device_type. With `cast_inputs`, inside an enabled region it casts the floating tensors among the
arguments (not float64 ones, nor those on another device type; through lists, tuples and dicts) to
that dtype and runs forward with autocast off; outside one it changes nothing. `custom_bwd` runs
backward under the autocast state forward ran under. The first argument must be ctx (old-style
forward): the state is kept on it.
"""
from __future__ import annotations

import collections.abc
import functools
from typing import Any, Callable

import numpy as np

from ..dtypes import dtype as _dtype
from ..tensor import Tensor
from .autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled

__all__ = ["custom_fwd", "custom_bwd"]


def _check_device_type(device_type: Any) -> None:
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")


def _cast(value: Any, device_type: str, dtype: Any) -> Any:
    """value with its eligible tensors (floating, not float64, on device_type) converted to dtype, as torch's."""
    if isinstance(value, Tensor):  # first: a Tensor is iterable too
        kind = value.array.dtype
        eligible = kind.kind == "f" and value.device.type == device_type and kind != np.float64
        return value.to(dtype) if eligible else value
    if isinstance(value, (str, bytes, np.ndarray)):
        return value
    if isinstance(value, collections.abc.Mapping):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, collections.abc.Iterable):
        items = (_cast(v, device_type, dtype) for v in value)
        return type(value)(items) if isinstance(value, (list, tuple)) else items
    return value


def _record(args: tuple[Any, ...], **state: Any) -> None:
    """Keep the autocast state on ctx (args[0]) for custom_bwd."""
    if not args:
        raise TypeError("custom_fwd: the decorated forward was called without arguments; it must be "
                        "forward(ctx, *inputs) of an autograd.Function")
    for name, value in state.items():
        try:
            setattr(args[0], name, value)
        except AttributeError:
            raise TypeError(f"custom_fwd keeps the autocast state on forward's first argument, ctx, but that is a "
                            f"{type(args[0]).__name__}: decorate forward(ctx, *inputs) (the form without "
                            "setup_context)") from None


def custom_fwd(fwd: Callable | None = None, *, device_type: str, cast_inputs: Any = None) -> Callable:
    """Decorate an autograd.Function's forward for autocast (see the module's docstring); torch.amp.custom_fwd."""
    _check_device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    target = None if cast_inputs is None else _dtype(cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args: Any, **kwargs: Any) -> Any:
        enabled = is_autocast_enabled(device_type)
        _record(args, _dtype=get_autocast_dtype(device_type))
        if target is None:
            _record(args, _fwd_used_autocast=enabled)
            return fwd(*args, **kwargs)
        _record(args, _fwd_used_autocast=False)  # forward runs outside autocast: so will backward
        if not enabled:
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast(args, device_type, target), **_cast(kwargs, device_type, target))

    return decorate_fwd


def custom_bwd(bwd: Callable | None = None, *, device_type: str) -> Callable:
    """Decorate an autograd.Function's backward to run under its forward's autocast state; torch.amp.custom_bwd."""
    _check_device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args: Any, **kwargs: Any) -> Any:
        ctx = args[0] if args else None
        if not hasattr(ctx, "_fwd_used_autocast"):
            raise AttributeError("custom_bwd: ctx carries no autocast state; decorate the Function's forward with "
                               "custom_fwd as well (custom_bwd replays the state custom_fwd recorded)")
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
