"""Parameter: a Tensor that a Module registers as learnable (requires_grad=True by default)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..devices import backend_of, get_default_device, resolve
from ..tensor import Tensor, get_default_dtype


class Parameter(Tensor):
    """A leaf Tensor that a Module lists in `parameters()`; shares the given data's memory."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True):
        if data is None:
            arr = np.empty((0,), dtype=get_default_dtype())
        elif isinstance(data, Tensor):
            arr = data.array
        elif type(data) is not np.ndarray and hasattr(data, "__array_function__") and backend_of(data).kind != "cpu":
            arr = data  # a device array (CuPy's) stays on its device
        else:
            arr = np.asarray(data)
            if arr.dtype == np.float64 and not isinstance(data, np.ndarray):
                arr = arr.astype(get_default_dtype())  # Python floats: float32, as tensor()
        super().__init__(arr, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (Parameter, (self.array, self.requires_grad))


class Buffer(Tensor):
    """A Tensor that a Module registers as a buffer when assigned as an attribute (PyTorch 2.13's nn.Buffer).

    Shares `data`'s memory and keeps its requires_grad; `persistent=False` keeps it out of state_dict.
    Unlike PyTorch's (a plain Tensor tagged as a buffer), it is a Tensor subclass: `isinstance(b, nn.Buffer)`
    holds as there, `type(b) is Tensor` does not.
    """

    __slots__ = ("persistent",)

    def __init__(self, data: Any = None, *, persistent: bool = True) -> None:
        if data is None:
            data = Tensor(np.empty((0,), dtype=get_default_dtype()))
        if not isinstance(data, Tensor):
            raise TypeError(f"nn.Buffer: expected a Tensor, got {type(data).__name__} (wrap it with tensor() first)")
        super().__init__(data.array, requires_grad=data.requires_grad)
        self.persistent = bool(persistent)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_make_buffer, (self.array, self.requires_grad, self.persistent))


def _make_buffer(array: Any, requires_grad: bool, persistent: bool) -> Buffer:
    return Buffer(Tensor(array, requires_grad=requires_grad), persistent=persistent)


def _place(module: Any, device: Any) -> None:
    """Move a just-built module to `device` (None: the default device), as PyTorch's `device=` argument."""
    # parameters are drawn on the host first, so a seed gives the same values on every device
    dev = resolve(device) if device is not None else get_default_device()
    if dev.type != "cpu":
        module.to(dev)
