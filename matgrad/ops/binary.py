"""Elementwise choice between two tensors: maximum, minimum, where.

Max routes: the gradient goes to whichever input was chosen (split evenly on a tie,
as PyTorch does), selected: the input not chosen gets 0 whatever the gradient (inf or nan too).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op
from ..devices import backend_of, device_of, move
from ..tensor import ShapeError, Tensor, as_tensor
from .arithmetic import _binary, promote


class Maximum(Op):
    """y = max(a, b).  dy/da = 1 where a > b, dy/db = 1 where b > a, ½ each on a tie (1 each where one is nan)."""

    def forward(self, a, b):
        return np.maximum(a, b)

    def backward(self, dy):
        a, b = self.input_arrays
        return _route(self, dy, a < b, a > b, a == b)


class Minimum(Op):
    """y = min(a, b).  dy/da = 1 where a < b, dy/db = 1 where b < a, ½ each on a tie (1 each where one is nan)."""

    def forward(self, a, b):
        return np.minimum(a, b)

    def backward(self, dy):
        a, b = self.input_arrays
        return _route(self, dy, a > b, a < b, a == b)


def _route(op: Op, dy: Any, a_lost: Any, b_lost: Any, tie: Any) -> tuple[Any, Any]:
    """PyTorch's: dy/2 to each on a tie, else dy to each input that did not lose, 0 to the loser, selected
    (an inf or nan dy gives the loser 0, not inf·0 = nan). Where a or b is nan neither lost: both get dy."""
    xp = op.xp
    if type(tie) is not np.ndarray or tie.any():  # ties are rare: skip the pass without one
        dy = xp.where(tie, dy * 0.5, dy)
    need = op.needs_input_grad
    return (xp.where(a_lost, 0, dy) if need[0] else None), (xp.where(b_lost, 0, dy) if need[1] else None)


class Where(Op):
    """y = a where cond else b.  dy/da = cond, dy/db = not cond."""

    def forward(self, a, b, cond):
        self.cond = cond
        return backend_of(cond).namespace.where(cond, a, b)  # the select of the data's device

    def backward(self, dy):
        xp, cond = self.xp, self.cond
        da = xp.where(cond, dy, 0) if self.needs_input_grad[0] else None
        db = xp.where(cond, 0, dy) if self.needs_input_grad[1] else None
        return da, db


def maximum(input: Any, other: Any) -> Tensor:
    """Elementwise larger of two tensors."""
    return _binary(Maximum, "maximum", input, other)


def minimum(input: Any, other: Any) -> Tensor:
    """Elementwise smaller of two tensors."""
    return _binary(Minimum, "minimum", input, other)


def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    """Elementwise `input` where condition holds, else `other`; where(cond) = cond.nonzero(as_tuple=True)."""
    if input is None and other is None:
        nz = np.nonzero(as_tensor(condition).array)
        return tuple(Tensor._make(i.astype(np.int64), None, False) for i in nz)
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither (for the indices where cond holds)")
    cond = _as_array(condition)
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    a = as_tensor(input, other if isinstance(other, Tensor) else None)
    b = as_tensor(other, a)
    if a.array.dtype != b.array.dtype:
        a, b = promote(a, b)
    a, b, cond = _on_one_device(a, b, cond, condition)
    try:
        np.broadcast_shapes(cond.shape, a.array.shape, b.array.shape)
    except ValueError:
        raise ShapeError(
            f"where: condition {cond.shape}, input {a.array.shape} and other {b.array.shape} "
            "cannot be broadcast together"
        ) from None
    out = Where.apply(a, b, cond=cond)
    return out


def _as_array(x: Any) -> Any:
    """A tensor's array; a device array as it is; anything else (lists, numbers, NumPy) as a NumPy array."""
    if isinstance(x, Tensor):
        return x.array
    if hasattr(x, "__array_function__") and not isinstance(x, (np.ndarray, np.generic)):
        return x  # a GPU array: np.asarray would copy it to the host, or refuse
    return np.asarray(x)


def _on_one_device(a: Tensor, b: Tensor, cond: Any, given: Any = None) -> tuple[Tensor, Tensor, Any]:
    """a, b and the condition array on one device: a CPU 0-d tensor (a number), or a condition that is no
    tensor, moves to the GPU the rest is on, as PyTorch lets them mix; anything else on two devices raises."""
    if type(a.array) is type(b.array) is type(cond):  # the common case: nothing to move
        return a, b, cond
    where = device_of(cond)
    gpu = next((d for d in (a.device, b.device, where) if d.type != "cpu"), None)
    a, b = (t.to(gpu) if t.device.type == "cpu" and t.ndim == 0 else t for t in (a, b))
    if where.type == "cpu" and (not isinstance(given, Tensor) or cond.ndim == 0):
        cond, where = move(cond, gpu), gpu
    if len({a.device, b.device, where}) > 1:
        first, second = sorted({str(a.device), str(b.device), str(where)})[:2]
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{second} and {first}! (where/masked_fill got the condition on {where} and the "
                           f"values on {a.device} and {b.device}; move them with .to(device) first)")
    return a, b, cond


def masked_fill(input: Any, mask: Any, value: Any) -> Tensor:
    """`value` where mask is True, input elsewhere (no gradient to the filled places)."""
    t = as_tensor(input)
    m = _as_array(mask)
    if type(m) is not type(t.array):  # a host mask goes where the data is
        m = _on_one_device(t, t, m, mask)[2]
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill: only supports boolean masks, but got mask with dtype {m.dtype}; make it "
                           "a bool tensor (mask > 0, mask.bool())")
    v = as_tensor(value, t)
    if v.ndim:
        raise RuntimeError(f"masked_fill: value must be a number or a 0-d tensor, got shape {v.shape}")
    if v.array.dtype != t.array.dtype:
        v = Tensor._make(v.array.astype(t.array.dtype), None, False) if not v.requires_grad else v.to(t.dtype)
    try:
        shape = np.broadcast_shapes(m.shape, t.shape)
    except ValueError:
        shape = None
    if shape != t.shape:
        raise ShapeError(f"masked_fill: mask of shape {m.shape} does not broadcast to the input's {t.shape}")
    return Where.apply(v, t, cond=m)


# --- fmax, fmin (nan-ignoring), heaviside ---------------------------------------------------------
class Fmax(Op):
    """y = max(a, b), ignoring a nan.  dy/da = 1 where a >= b or b is nan, else dy/db = 1 (ties go to a,
    as PyTorch's fmax)."""

    def forward(self, a, b):
        return np.fmax(a, b)

    def backward(self, dy):
        a, b = self.input_arrays
        first = (a >= b) | np.isnan(b)
        return _to_first(self.xp, dy, first)


class Fmin(Op):
    """y = min(a, b), ignoring a nan.  dy/da = 1 where a <= b or b is nan, else dy/db = 1."""

    def forward(self, a, b):
        return np.fmin(a, b)

    def backward(self, dy):
        a, b = self.input_arrays
        first = (a <= b) | np.isnan(b)
        return _to_first(self.xp, dy, first)


def _to_first(xp: Any, dy: Any, first: Any) -> tuple[Any, Any]:
    return xp.where(first, dy, 0), xp.where(first, 0, dy)


def fmax(input: Any, other: Any) -> Tensor:
    """Elementwise larger of two tensors; where one is nan, the other (nan only if both are)."""
    return _binary(Fmax, "fmax", input, other)


def fmin(input: Any, other: Any) -> Tensor:
    """Elementwise smaller of two tensors; where one is nan, the other (nan only if both are)."""
    return _binary(Fmin, "fmin", input, other)


class Heaviside(Op):
    """y = 0 for x < 0, values for x == 0, 1 for x > 0.  No derivative, as in PyTorch."""

    def forward(self, x, values):
        return np.where(x == 0, values, (x > 0).astype(x.dtype))

    def backward(self, dy):
        raise RuntimeError("derivative for aten::heaviside is not implemented")


def heaviside(input: Any, values: Any) -> Tensor:
    """The Heaviside step: 0 where input < 0, values where input == 0, 1 where input > 0 (nan gives 0)."""
    t = as_tensor(input)
    v = as_tensor(values, t)
    if t.array.dtype != v.array.dtype:
        raise TypeError(f"heaviside: input and values must have the same dtype, got {t.array.dtype} and "
                        f"{v.array.dtype}, as PyTorch (convert one with .to(...))")
    return _binary(Heaviside, "heaviside", t, v)


class Nextafter(Op):
    """y = the next float after a towards b.  dy/da = 1, dy/db = 0, as PyTorch's gradient."""

    def forward(self, a, b):
        return np.nextafter(a, b)

    def backward(self, dy):
        return dy, self.xp.zeros_like(dy)


def nextafter(input: Any, other: Any) -> Tensor:
    """The next floating-point value after input in the direction of other, elementwise."""
    t = as_tensor(input, other if isinstance(other, Tensor) else None)
    o = as_tensor(other, t)
    if t.array.dtype.kind != "f" or o.array.dtype.kind != "f":
        raise TypeError(f"nextafter: expects floating-point tensors, got {t.array.dtype} and {o.array.dtype}")
    return _binary(Nextafter, "nextafter", t, o)
