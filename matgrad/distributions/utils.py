"""What the distributions share: parameter broadcasting, probs <-> logits, draws from matgrad's generator."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import tensor as _tensor
from ..devices import move, to_host
from ..ops import activation as _act
from ..ops import binary as _binary
from ..ops import softmax as _softmax
from ..ops import unary as _unary
from ..ops.views import broadcast_tensors
from ..random import numpy_generator
from ..tensor import Size, Tensor, get_default_dtype

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]


class lazy_property:
    """A property computed once, on first use, then kept in the instance (torch's lazy_property):
    Bernoulli(probs=p).logits is derived from p only when read."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return self
        value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """The values as tensors of one broadcast shape; numbers take the first tensor's dtype (or the default)."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)):
            raise ValueError(f"Input arguments must all be instances of numbers.Number or matgrad.Tensor, "
                             f"got {type(v).__name__}")
    dtype = like.dtype if like is not None else get_default_dtype()
    device = like.device if like is not None else None
    ts = [v if isinstance(v, Tensor) else _tensor(v, dtype=dtype, device=device) for v in values]
    return tuple(broadcast_tensors(*ts))


def finfo(dtype: Any) -> Any:
    """NumPy's finfo of a matgrad dtype."""
    return np.finfo(np.dtype(getattr(dtype, "dtype", dtype)))


def clamp_probs(probs: Tensor) -> Tensor:
    """probs kept in [eps, 1 - eps], so their logs stay finite."""
    eps = float(finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """log p (categorical) or log p - log(1 - p) (binary), of the clamped probabilities."""
    ps = clamp_probs(probs)
    if is_binary:
        return _unary.log(ps) - _unary.log1p(-ps)
    return _unary.log(ps)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """sigmoid(logits) (binary) or softmax over the last dim."""
    if is_binary:
        return _act.sigmoid(logits)
    return _softmax.softmax(logits, -1)


def softplus_exact(x: Tensor) -> Tensor:
    """ln(1 + eˣ) without the linear cut-off (BCE-with-logits needs the exact value)."""
    return _act.softplus(x, 1.0, float("inf"))


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """value summed over its `dim` rightmost dims."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    return _binary.where(cond, a, b)


def size(shape: Any) -> Size:
    """A sample_shape or batch_shape as a Size (an int is one dim)."""
    if isinstance(shape, (int, np.integer)):
        return Size((int(shape),))
    return Size(tuple(int(s) for s in shape))


def draw(kind: str, shape: tuple[int, ...], like: Tensor, **kw: Any) -> Tensor:
    """A draw from matgrad's generator (manual_seed reproduces it), of like's dtype and device, no gradient.

    kind: normal, uniform (low=, high=), exponential, gamma (concentration=), poisson (lam=), binomial (n=, p=);
    the parameters are arrays broadcastable to `shape`."""
    rng = numpy_generator()
    if kind == "normal":
        arr = rng.standard_normal(shape)
    elif kind == "uniform":
        arr = rng.uniform(kw.get("low", 0.0), kw.get("high", 1.0), shape)
    elif kind == "exponential":
        arr = rng.standard_exponential(shape)
    elif kind == "gamma":
        arr = rng.standard_gamma(to_host(kw["concentration"]), shape)
    elif kind == "poisson":
        arr = rng.poisson(to_host(kw["lam"]), shape)
    elif kind == "binomial":
        arr = rng.binomial(to_host(kw["n"]).astype(np.int64), to_host(kw["p"]), shape)
    else:  # pragma: no cover - internal
        raise ValueError(kind)
    arr = np.asarray(arr, dtype=like.array.dtype)
    if like.device.type != "cpu":
        arr = move(arr, like.device)
    with no_grad():
        return Tensor._make(arr, None, False)
