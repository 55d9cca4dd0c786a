"""Parameter: a Tensor that a Module registers as learnable (requires_grad=True by default)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, get_default_dtype


class Parameter(Tensor):
    """A leaf Tensor that a Module lists in `parameters()`; shares the given data's memory."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True):
        if data is None:
            arr = np.empty((0,), dtype=get_default_dtype())
        elif isinstance(data, Tensor):
            arr = data.array
        else:
            arr = np.asarray(data)
            if arr.dtype == np.float64 and not isinstance(data, np.ndarray):
                arr = arr.astype(get_default_dtype())  # Python floats: float32, as tensor()
        super().__init__(arr, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (Parameter, (self.array, self.requires_grad))
