"""Variable: PyTorch's deprecated alias of Tensor, for old code that still wraps tensors in it."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..tensor import Tensor, get_default_dtype


class _VariableMeta(type):
    def __instancecheck__(cls, other: Any) -> bool:
        return isinstance(other, Tensor)  # every tensor is a Variable, as in PyTorch


class Variable(metaclass=_VariableMeta):
    """`Variable(t, requires_grad=False)`: a new leaf tensor sharing t's data (t.detach()), as PyTorch's.

    `isinstance(t, Variable)` holds for every tensor. `volatile` has no effect (it warns), as in PyTorch.
    """

    def __new__(cls, data: Any = None, requires_grad: bool = False, volatile: bool = False) -> Any:  # type: ignore[misc]
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                          stacklevel=2)
            if requires_grad:
                raise ValueError("Variable can't be volatile and require_grad at the same time!")
        if data is None:
            data = Tensor._make(np.empty(0, dtype=np.dtype(get_default_dtype())), None, False)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out
