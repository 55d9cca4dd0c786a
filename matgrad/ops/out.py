"""PyTorch's `out=` keyword on the top-level functions: the result written into a tensor you give."""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor, bump_version


def into(out: Any, result: Tensor, op: str) -> Tensor:
    """Write `result` into `out` (resized to the result's shape if it differs, as PyTorch does); returns `out`."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): out= must be a Tensor, got {type(out).__name__}")
    if is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad; compute it without out= (y = ...)")
    if out.array.shape != result.array.shape:
        out.array = np.empty_like(out.array, shape=result.array.shape)  # on out's device
    if not np.can_cast(result.array.dtype, out.array.dtype, "same_kind"):
        raise RuntimeError(f"{op}(): result type {result.array.dtype} can't be cast to the desired output type "
                           f"{out.array.dtype}")
    np.copyto(out.array, result.array, casting="same_kind")
    bump_version(out)
    return out


def accepts_out(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """`fn` with PyTorch's keyword `out=`. Only the top-level names take it (Tensor's operators stay as fast)."""
    @functools.wraps(fn)
    def with_out(*args: Any, out: Any = None, **kwargs: Any) -> Tensor:
        result = fn(*args, **kwargs)
        return result if out is None else into(out, result, fn.__name__)

    return with_out
