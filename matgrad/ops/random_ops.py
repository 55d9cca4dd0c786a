"""Sampling: multinomial, bernoulli, normal, poisson, and the draws behind the in-place fillers
(uniform_, normal_, bernoulli_, random_, exponential_).

Each takes PyTorch's `generator=` (a matgrad.Generator; None draws from the global stream
that manual_seed sets). The numbers are NumPy's, so they differ from PyTorch's stream while
following the same distributions. A sample carries no gradient: as in PyTorch, its gradient
with respect to the parameters is zero (`Sampled`). Every draw is made on the host with matgrad's
generator and then moved to the tensor's device, so a seed gives the same numbers on every device.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op
from ..devices import CPU, device_of, get_default_device, move, resolve, to_host
from ..random import numpy_generator
from ..tensor import Tensor, as_tensor, get_default_dtype, to_array


class Sampled(Op):
    """y = a random draw with parameters x.  dy/dx = 0: a sample does not move with its parameters."""

    def forward(self, *params, sample):
        if params and type(sample) is np.ndarray and type(params[0]) is not np.ndarray:
            return move(sample, device_of(params[0]))  # a host draw for a device tensor
        return sample

    def backward(self, dy):
        zero = self.xp.zeros_like(dy)
        return (zero,) * len(self.input_arrays)


def _sample(sample: np.ndarray, *params: Tensor, device: Any = None) -> Tensor:
    """The host draw as a tensor on `device` (the parameters' if None), on the graph (with a zero gradient)
    when a parameter requires grad."""
    tensors = [p for p in params if isinstance(p, Tensor)]
    dev = device if device is not None else tensors[0].device if tensors else CPU
    if dev.type != "cpu":
        sample = move(sample, dev)
    grad = [p for p in tensors if p.requires_grad]
    if grad:
        return Sampled.apply(*grad, sample=sample)
    return Tensor._make(sample, None, False)


def multinomial(input: Any, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:
    """Draw category indices from the (unnormalized, non-negative) weights in each row of input.

    Without replacement a category is drawn at most once per row (the exponential race:
    the k smallest Exp(1)/w); with replacement by inverse CDF.
    """
    t = as_tensor(input)
    w = t.array
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial(): prob_dist must be 1 or 2 dim, got shape {tuple(w.shape)}")
    if w.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {w.dtype}")
    k, n = int(num_samples), w.shape[-1]
    if k <= 0:
        raise RuntimeError(f"multinomial(): cannot sample n_sample <= 0 samples (got {k})")
    if not replacement and k > n:
        raise RuntimeError(f"multinomial(): cannot sample n_sample > prob_dist.size(-1) samples without "
                           f"replacement (n_sample={k}, {n} categories)")
    rows = to_host(w).reshape(-1, n).astype(np.float64)
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("multinomial(): probability tensor contains either `inf`, `nan` or element < 0")
    total = rows.sum(axis=1)
    if (total <= 0).any():
        raise RuntimeError("multinomial(): invalid multinomial distribution (sum of probabilities <= 0)")
    rng = numpy_generator(generator)
    r = rows.shape[0]
    if replacement:
        cdf = np.cumsum(rows, axis=1) / total[:, None]
        cdf[:, -1] = 1.0
        offset = np.arange(r, dtype=np.float64)[:, None]
        u = rng.random((r, k)) + offset
        flat = np.searchsorted((cdf + offset).reshape(-1), u.reshape(-1), side="right").reshape(r, k)
        out = np.clip(flat - np.arange(r)[:, None] * n, 0, n - 1)
    else:
        # the exponential race: a category's key is Exp(1)/w, the k smallest win; zero weights come
        # last (drawn, in random order, only once every other category is out, as PyTorch)
        e = rng.standard_exponential(rows.shape)
        with np.errstate(divide="ignore"):
            keys = np.where(rows > 0, e / np.where(rows > 0, rows, 1), np.inf)
        keys = np.where(np.isinf(keys), np.finfo(np.float64).max * (e / (1 + e)), keys)
        out = np.argsort(keys, axis=1, kind="stable")[:, :k]
    return _sample(out.reshape(w.shape[:-1] + (k,)).astype(np.int64), device=t.device)


def _probabilities(op: str, p: np.ndarray) -> None:
    if p.size and (np.isnan(p).any() or p.min() < 0 or p.max() > 1):
        raise RuntimeError(f"{op}(): Expected p_in >= 0 && p_in <= 1 to be true, but got false (probabilities "
                           f"must lie in [0, 1])")


def bernoulli(input: Any, p: Any = None, *, generator: Any = None) -> Tensor:
    """1 with probability input (or p, if given) at each element, else 0; input's dtype and shape."""
    t = as_tensor(input)
    if p is None:
        if t.array.dtype.kind != "f":
            raise RuntimeError(f"bernoulli(): expected a floating point tensor of probabilities, got {t.array.dtype}")
        prob = to_host(t.array)
    else:
        prob = np.asarray(to_host(p.array) if isinstance(p, Tensor) else p, dtype=np.float64)
    _probabilities("bernoulli", prob)
    draw = numpy_generator(generator).random(t.shape) < prob
    dtype = t.array.dtype if t.array.dtype.kind in "fiub" else get_default_dtype()
    return _sample(draw.astype(dtype), t)


def poisson(input: Any, generator: Any = None) -> Tensor:
    """A Poisson draw with each element of input as its rate (≥ 0); input's dtype and shape, no gradient."""
    t = as_tensor(input)
    if t.array.dtype.kind != "f":
        raise TypeError(f"poisson(): expects a floating-point tensor of rates, got {t.array.dtype}")
    rate = to_host(t.array).astype(np.float64)
    if rate.size and not (rate >= 0).all():
        raise RuntimeError("poisson(): invalid Poisson rate, expected rate to be non-negative (and not nan)")
    draw = numpy_generator(generator).poisson(rate, t.shape)
    return _sample(draw.astype(t.array.dtype), t)


def _float_dtype(*arrays: np.ndarray, dtype: Any = None) -> np.dtype:
    if dtype is not None:
        return np.dtype(dtype)
    floats = [a.dtype for a in arrays if a.dtype.kind == "f"]
    return np.result_type(*floats) if floats else get_default_dtype()


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None, dtype: Any = None,
           requires_grad: bool = False, device: Any = None, out: Any = None) -> Tensor:
    """Normal samples with the given mean and std: tensors (broadcast together) or numbers with a `size`."""
    tensors = [x for x in (mean, std) if isinstance(x, Tensor)]
    m = to_host(mean.array) if isinstance(mean, Tensor) else np.asarray(mean, dtype=np.float64)
    s = to_host(std.array) if isinstance(std, Tensor) else np.asarray(std, dtype=np.float64)
    if s.size and (s.min() < 0 or np.isnan(s).any()):
        raise RuntimeError(f"normal expects std >= 0.0, but found std {s.min()}")
    if tensors:
        if size is not None:
            raise RuntimeError("normal(): size is only for a number mean and std; with tensors the shape is theirs")
        shape = np.broadcast_shapes(m.shape, s.shape)
        dt = _float_dtype(*(x.array for x in tensors), dtype=dtype)
    else:
        if size is None:
            raise TypeError("normal(): with a number mean and std, give a size (normal(0., 1., size=(2, 3)))")
        shape = tuple(size) if not isinstance(size, (int, np.integer)) else (int(size),)
        dt = _float_dtype(dtype=dtype)
    z = numpy_generator(generator).standard_normal(shape)
    sample = (m + s * z).astype(dt)
    dev = None if tensors else resolve(device) if device is not None else get_default_device()
    res = _sample(sample, *tensors, device=dev)
    if requires_grad and not tensors:
        res.requires_grad_(True)
    return res


# --- the draws behind Tensor's in-place fillers: each returns a new array of `shape` and `dtype` ------------
def draw_uniform(shape: tuple[int, ...], dtype: np.dtype, low: float, high: float, generator: Any) -> np.ndarray:
    """Uniform in [low, high)."""
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={low} > to={high}")
    return numpy_generator(generator).uniform(low, high, shape).astype(dtype)


def draw_normal(shape: tuple[int, ...], dtype: np.dtype, mean: float, std: float, generator: Any) -> np.ndarray:
    """Normal with mean and std."""
    if std < 0:
        raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std}")
    return (mean + std * numpy_generator(generator).standard_normal(shape)).astype(dtype)


def draw_bernoulli(shape: tuple[int, ...], dtype: np.dtype, p: Any, generator: Any) -> np.ndarray:
    """1 with probability p (a number or an array broadcast to shape), else 0."""
    prob = np.asarray(to_host(to_array(p)) if isinstance(p, Tensor) else p, dtype=np.float64)
    _probabilities("bernoulli_", prob)
    return (numpy_generator(generator).random(shape) < prob).astype(dtype)


def draw_exponential(shape: tuple[int, ...], dtype: np.dtype, lambd: float, generator: Any) -> np.ndarray:
    """Exponential with rate lambd."""
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return (numpy_generator(generator).standard_exponential(shape) / lambd).astype(dtype)


def _random_top(dtype: np.dtype) -> int:
    """random_()'s exclusive upper bound with no `to`: every integer the dtype holds exactly, as PyTorch."""
    if dtype.kind == "f":
        return 2 ** (np.finfo(dtype).nmant + 1) + 1
    if dtype.kind == "b":
        return 2
    return int(np.iinfo(dtype).max) + 1 if dtype != np.int64 else int(np.iinfo(dtype).max)


def draw_random(shape: tuple[int, ...], dtype: np.dtype, low: int, high: int | None, generator: Any) -> np.ndarray:
    """Integers in [low, high) (high None: up to the largest integer the dtype holds exactly)."""
    top = _random_top(dtype) if high is None else int(high)
    if low >= top:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={top}")
    if dtype.kind in "iu" and (low < np.iinfo(dtype).min or top - 1 > np.iinfo(dtype).max):
        raise RuntimeError(f"random_: the range [{low}, {top}) does not fit in {dtype}")
    return numpy_generator(generator).integers(low, top, shape, dtype=np.int64, endpoint=False).astype(dtype)
