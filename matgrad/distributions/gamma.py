"""Gamma, Chi2, StudentT, and the reparameterised standard gamma draw they (and Dirichlet, Beta) share.

A standard gamma draw s ~ Gamma(α, 1) comes from NumPy's sampler (matgrad's generator); its gradient
is the implicit one of the CDF held fixed (Figurnov et al. 2018, as torch's `_standard_gamma`):

    ds/dα = −(∂P(α, s)/∂α) / p(s; α)        P the regularised lower incomplete gamma, p its density

computed to float64 accuracy from the series of P (s < α + 1) or the continued fraction of
Q = 1 − P (s ≥ α + 1), each differentiated term by term (torch uses a single-precision fit).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.op import Op
from ..devices import device_of, move, to_host
from ..ops.arithmetic import xlogy
from ..ops.special import (
    _lower_series,
    _upper_fraction,
    digamma,
    digamma_array,
    lgamma,
    lgamma_array,
    regularized_gamma_array,
)
from ..ops.unary import log, log1p, rsqrt
from ..tensor import Tensor
from . import constraints
from .continuous import _scalar_batch
from .distribution import Distribution
from .utils import broadcast_all, draw, finfo, where

__all__ = ["Chi2", "Gamma", "StudentT"]


def standard_gamma_grad_array(alpha: Any, x: Any) -> np.ndarray:
    """ds/dα at a standard gamma draw s = x of concentration α (float64; 0 where x is 0, as torch)."""
    a, x = np.broadcast_arrays(np.asarray(alpha, dtype=np.float64), np.asarray(x, dtype=np.float64))
    out = np.zeros(a.shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        low = (x > 0) & (x < a + 1)
        if low.any():
            al, xl = a[low], x[low]
            s, sp = _lower_series(al, xl)
            out[low] = -(xl / al) * (s * (np.log(xl) - digamma_array(al + 1)) + sp)
        high = x >= a + 1
        if high.any():
            ah, xh = a[high], x[high]
            f, df = _upper_fraction(ah, xh)
            out[high] = xh * ((np.log(xh) - digamma_array(ah)) * f + df)
    return np.where(np.isfinite(out), out, 0.0)


def _on_host(fn: Any, like: Any, *arrays: Any) -> Any:
    """fn of the arrays' values in float64 on the host, in like's dtype on like's device."""
    out = fn(*[to_host(a) for a in arrays]).astype(to_host(like).dtype, copy=False)
    return out if type(like) is np.ndarray else move(out, device_of(like))


def _constant(arr: Any, like: Any) -> Any:
    """arr as the backward's namespace wants it: the array itself, or a constant Tensor under create_graph."""
    return arr if isinstance(like, np.ndarray) or not isinstance(like, Tensor) else Tensor._make(arr, None, False)


class _StandardGamma(Op):
    """y = s, a standard gamma draw of concentration α (given: the random stream held fixed).
    dy/dα = ds/dα, the implicit gradient above (once differentiable, as torch's)."""

    def forward(self, alpha, *, sample):
        return sample

    def backward(self, dy):
        (alpha,) = self.input_arrays
        g = _on_host(standard_gamma_grad_array, alpha, alpha, self.params["sample"])
        return dy * _constant(g, dy)


def standard_gamma(alpha: Tensor) -> Tensor:
    """A draw s ~ Gamma(alpha, 1) of alpha's shape from matgrad's generator, differentiable in alpha."""
    s = draw("gamma", tuple(alpha.shape), alpha, concentration=alpha.detach().array)
    tiny = float(finfo(alpha.dtype).tiny)
    s_arr = np.maximum(s.array, tiny)  # torch clamps the same way: a draw is never exactly 0
    return _StandardGamma.apply(alpha, sample=s_arr)


def _xlogy_array(a: Any, b: Any) -> Any:
    """a · ln b, 0 where a is 0."""
    return np.where(a == 0, 0.0, a * np.log(np.where(a == 0, 1.0, b)))


class _RegularizedGamma(Op):
    """y = P(α, x).  dy/dx = p(x; α) = x^(α−1)e⁻ˣ/Γ(α); dy/dα = −p(x; α) · ds/dα(α, x)."""

    def forward(self, alpha, x):
        return _on_host(regularized_gamma_array, x, alpha, x)

    def backward(self, dy):
        alpha, x = self.input_arrays
        with np.errstate(divide="ignore", invalid="ignore"):
            pdf = np.exp(_xlogy_array(alpha - 1, x) - x - _on_host(lgamma_array, alpha, alpha))
        da = dx = None
        if self.needs_input_grad[0]:
            da = dy * _constant(-pdf * _on_host(standard_gamma_grad_array, alpha, alpha, x), dy)
        if self.needs_input_grad[1]:
            dx = dy * _constant(np.where(x > 0, pdf, 0.0), dy)
        return da, dx


class Gamma(Distribution):
    """The gamma distribution with density rateᶜ xᶜ⁻¹ e^(−rate·x) / Γ(c), c = concentration."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _batch_params = {"concentration": 0, "rate": 0}

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        batch_shape = () if _scalar_batch(concentration, rate) else self.concentration.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate ** 2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """s / rate, s ~ Gamma(concentration, 1) with its implicit gradient."""
        shape = tuple(self._extended_shape(sample_shape))
        return standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return xlogy(c, self.rate) + xlogy(c - 1, value) - self.rate * value - lgamma(c)

    def cdf(self, value: Tensor) -> Tensor:
        """P(concentration, rate·value), differentiable in all three (torch's gammainc: not in concentration)."""
        if self._validate_args:
            self._validate_sample(value)
        c, x = broadcast_all(self.concentration, self.rate * value)
        return _RegularizedGamma.apply(c, x)

    def entropy(self) -> Tensor:
        c = self.concentration
        return c - log(self.rate) + lgamma(c) + (1.0 - c) * digamma(c)


class Chi2(Gamma):
    """The chi-squared distribution with df degrees of freedom: Gamma(df/2, 1/2)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df: Any, validate_args: bool | None = None) -> None:
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    @property
    def df(self) -> Tensor:
        return self.concentration * 2


class StudentT(Distribution):
    """Student's t distribution with df degrees of freedom, location loc and scale scale."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _batch_params = {"df": 0, "loc": 0, "scale": 0}

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0, validate_args: bool | None = None) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df, validate_args=False)
        super().__init__(self.df.shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> StudentT:
        new = super().expand(batch_shape, _instance)
        new._chi2 = self._chi2.expand(batch_shape)
        return new

    @property
    def mean(self) -> Tensor:
        return where(self.df > 1, self.loc, math.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        df = self.df
        safe = where(df > 2, df, 3.0)
        v = where(df > 2, self.scale ** 2 * safe / (safe - 2), math.inf)
        return where(df > 1, v, math.nan)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """loc + scale · X / √(Z/df), X ~ N(0, 1), Z ~ χ²(df) (reparameterised)."""
        x = draw("normal", tuple(self._extended_shape(sample_shape)), self.df)
        z = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * x * rsqrt(z / self.df)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = (log(self.scale) + 0.5 * log(self.df) + 0.5 * math.log(math.pi) + lgamma(0.5 * self.df)
             - lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * log1p(y ** 2.0 / self.df) - z

    def entropy(self) -> Tensor:
        lbeta = lgamma(0.5 * self.df) + math.lgamma(0.5) - lgamma(0.5 * (self.df + 1))
        return (log(self.scale) + 0.5 * (self.df + 1) * (digamma(0.5 * (self.df + 1)) - digamma(0.5 * self.df))
                + 0.5 * log(self.df) + lbeta)

