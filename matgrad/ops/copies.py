"""PyTorch's *_copy functions: each is a view function followed by a copy, so the result (each result, for
split_copy, split_with_sizes_copy and unbind_copy) shares no memory with the input and is contiguous.

They are made from one table, view function -> copy, with the view function's signature, which is PyTorch's
(torch.slice_copy(input, dim=0, start=None, end=None, step=1) ...). The copy is `Clone`, so the gradient is the
view's. Two differ from PyTorch on purpose: detach_copy gives a tensor that does not require grad (PyTorch's
claims requires_grad with a grad_fn whose backward raises), and view_copy(input, dtype) reinterprets the bytes
with no gradient, as PyTorch.
"""
from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ..dtypes import TYPE_NAMES
from ..dtypes import dtype as _mg_dtype
from ..tensor import Tensor, as_tensor, wrap_dim
from .indexing import getitem
from .join import split, unbind
from .linalg import diagonal
from .shape import Clone, expand, permute, reshape, squeeze, t, transpose, unsqueeze
from .strided import as_strided
from .views import select, split_with_sizes, unfold


def _alias(input: Any) -> Tensor:
    return as_tensor(input)


def _detach(input: Any) -> Tensor:
    return as_tensor(input).detach()


def _expand(input: Any, size: Any, *, implicit: bool = False) -> Tensor:
    return expand(input, tuple(size))


def _permute(input: Any, dims: Any) -> Tensor:
    return permute(input, tuple(dims))


def _slice(input: Any, dim: int = 0, start: Any = None, end: Any = None, step: int = 1) -> Tensor:
    x = as_tensor(input)
    if x.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    d = wrap_dim("slice", dim, x.ndim)
    if int(step) <= 0:
        raise RuntimeError(f"slice step must be positive, got {step}")
    bounds = [None if b is None else int(b) for b in (start, end)]
    return getitem(x, (slice(None),) * d + (slice(bounds[0], bounds[1], int(step)),))


def _split(input: Any, split_size: int, dim: int = 0) -> tuple[Tensor, ...]:
    x = as_tensor(input)
    if isinstance(split_size, bool) or not isinstance(split_size, (int, np.integer)):
        raise TypeError(f"split_copy(): argument 'split_size' (position 2) must be int, not "
                        f"{type(split_size).__name__}")
    d = wrap_dim("split", dim, x.ndim)
    n = x.shape[d] if x.ndim else 1
    if split_size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={split_size}")
    if split_size == 0:
        if n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        return (x,)
    return split(x, int(split_size), d)


def _unbind(input: Any, dim: int = 0) -> tuple[Tensor, ...]:
    x = as_tensor(input)
    if x.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return unbind(x, wrap_dim("unbind", dim, x.ndim))


def _is_dtype(x: Any) -> bool:
    return isinstance(x, (_mg_dtype, np.dtype)) or (isinstance(x, type) and issubclass(x, np.generic))


def _view(input: Any, size: Any) -> Tensor:
    x = as_tensor(input)
    if not _is_dtype(size):
        return reshape(x, tuple(size) if isinstance(size, (tuple, list)) else size)
    return _view_dtype(x, np.dtype(size))


def _scalar_name(dt: np.dtype) -> str:
    """PyTorch's name for a dtype in its messages: Float, Double, Long ..."""
    name = TYPE_NAMES.get(_mg_dtype(dt))
    return name[:-len("Tensor")] if name else dt.name


def _view_dtype(x: Tensor, dt: np.dtype) -> Tensor:
    """x's bytes read as dtype dt (no gradient): a different element size changes the last dim, as PyTorch."""
    a = x.array
    if dt.itemsize != a.itemsize:
        names = f"{_scalar_name(a.dtype)} as {_scalar_name(dt)}"
        if a.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 to view {names} (different element sizes)")
        if a.shape[-1] != 1 and x.stride(-1) != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 to view {names} (different element sizes), but got "
                               f"{x.stride(-1)}")
        ratio = dt.itemsize // a.itemsize
        if ratio and a.shape[-1] % ratio:
            raise RuntimeError(f"self.size(-1) must be divisible by {ratio} to view {names} (different element "
                               f"sizes), but got {a.shape[-1]}")
    out = a.copy()  # row-major, so NumPy's view changes only the last dim, as PyTorch's
    return Tensor._make(out.view(dt), None, False)


#: copy name: (the view function, whose signature is PyTorch's for the copy; the view's name in torch)
_TABLE = {
    "alias_copy": (_alias, "alias"),
    "as_strided_copy": (as_strided, "as_strided"),
    "detach_copy": (_detach, "detach"),
    "diagonal_copy": (diagonal, "diagonal"),
    "expand_copy": (_expand, "Tensor.expand"),
    "permute_copy": (_permute, "permute"),
    "select_copy": (select, "select"),
    "slice_copy": (_slice, "slice"),
    "split_copy": (_split, "split"),
    "split_with_sizes_copy": (split_with_sizes, "split_with_sizes"),
    "squeeze_copy": (squeeze, "squeeze"),
    "t_copy": (t, "t"),
    "transpose_copy": (transpose, "transpose"),
    "unbind_copy": (_unbind, "unbind"),
    "unfold_copy": (unfold, "Tensor.unfold"),
    "unsqueeze_copy": (unsqueeze, "unsqueeze"),
    "view_copy": (_view, "Tensor.view"),
}


def _copied(out: Any) -> Any:
    """A fresh row-major copy of a view's result (each one of a tuple); the gradient passes unchanged."""
    if isinstance(out, tuple):
        return tuple(_copied(o) for o in out)
    if not out.requires_grad:
        return Tensor._make(out.array.copy(), None, False)
    return Clone.apply(out)


def _copy_of(name: str, view: Any, what: str) -> Any:
    def copy(*args: Any, **kwargs: Any) -> Any:
        return _copied(view(*args, **kwargs))
    copy.__name__ = copy.__qualname__ = name
    copy.__module__ = __name__
    copy.__signature__ = inspect.signature(view)
    copy.__doc__ = (f"Performs the same operation as {what}, but all output tensors are freshly created instead "
                    "of aliasing the input.")
    return copy


globals().update({name: _copy_of(name, view, what) for name, (view, what) in _TABLE.items()})
__all__ = list(_TABLE)
