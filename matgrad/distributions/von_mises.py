"""VonMises: the circular normal distribution, density e^(κ·cos(x − loc)) / (2π·I₀(κ)) on [−π, π).

log I₀ and log I₁ use torch's polynomial approximations (Abramowitz & Stegun 9.8.1–9.8.4), so log_prob
and variance equal torch's; draws come from Best & Fisher's rejection sampler, as torch's.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..devices import move, to_host
from ..random import numpy_generator
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property, size, where

__all__ = ["VonMises"]

_I0_COEF_SMALL = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2]
_I0_COEF_LARGE = [0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2, -0.2057706e-1, 0.2635537e-1,
                  -0.1647633e-1, 0.392377e-2]
_I1_COEF_SMALL = [0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3]
_I1_COEF_LARGE = [0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1, 0.2282967e-1,
                  -0.2895312e-1, 0.1787654e-1, -0.420059e-2]
_COEF_SMALL = [_I0_COEF_SMALL, _I1_COEF_SMALL]
_COEF_LARGE = [_I0_COEF_LARGE, _I1_COEF_LARGE]


def _eval_poly(y: Any, coef: list[float]) -> Any:
    """Σ coef[i]·yⁱ by Horner's rule."""
    coef = list(coef)
    result = coef.pop()
    while coef:
        result = coef.pop() + y * result
    return result


def _log_modified_bessel_fn(x: Tensor, order: int = 0) -> Tensor:
    """log Iₙ(x), n = 0 or 1, for x > 0 (torch's approximation: relative error below 1e-6)."""
    if order not in (0, 1):
        raise AssertionError(f"order must be 0 or 1, got {order}")
    y = (x / 3.75) ** 2
    small = _eval_poly(y, _COEF_SMALL[order])
    if order == 1:
        small = x.abs() * small
    small = small.log()
    y = 3.75 / x
    large = x - 0.5 * x.log() + _eval_poly(y, _COEF_LARGE[order]).log()
    return where(x < 3.75, small, large)


def _rejection_sample(loc: np.ndarray, concentration: np.ndarray, proposal_r: np.ndarray, shape: tuple[int, ...],
                      rng: np.random.Generator) -> np.ndarray:
    """Best & Fisher (1979): wrapped-Cauchy proposals accepted until every element has one (float64)."""
    x = np.zeros(shape)
    done = np.zeros(shape, dtype=bool)
    loc, concentration, proposal_r = (np.broadcast_to(a, shape) for a in (loc, concentration, proposal_r))
    while not done.all():
        u1, u2, u3 = rng.random((3,) + shape)
        z = np.cos(math.pi * u1)
        f = (1 + proposal_r * z) / (proposal_r + z)
        c = concentration * (proposal_r - f)
        with np.errstate(divide="ignore", invalid="ignore"):
            accept = ((c * (2 - c) - u2) > 0) | (np.log(c / u2) + 1 - c >= 0)
        accept &= ~done
        x = np.where(accept, np.sign(u3 - 0.5) * np.arccos(np.clip(f, -1, 1)), x)
        done |= accept
    return (x + math.pi + loc) % (2 * math.pi) - math.pi


class VonMises(Distribution):
    """The von Mises distribution with mean direction loc and concentration κ."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False
    _batch_params = {"loc": 0, "concentration": 0}

    def __init__(self, loc: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, (), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> VonMises:
        new = super().expand(batch_shape, _instance)
        for k in ("_proposal_r", "variance"):
            new.__dict__.pop(k, None)
        return new

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        lp = self.concentration * (value - self.loc).cos()
        return lp - math.log(2 * math.pi) - _log_modified_bessel_fn(self.concentration, order=0)

    @lazy_property
    def _proposal_r(self) -> np.ndarray:
        """The wrapped-Cauchy proposal's r (float64, as torch computes it)."""
        kappa = to_host(self.concentration.detach().array).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = 1 + np.sqrt(1 + 4 * kappa ** 2)
            rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
            r = (1 + rho ** 2) / (2 * rho)
            return np.where(kappa < 1e-5, 1 / kappa + kappa, r)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Draws in [−π, π) by rejection (matgrad's generator); no gradient (no rsample, as torch)."""
        shape = tuple(self._extended_shape(size(sample_shape)))
        loc = to_host(self.loc.detach().array).astype(np.float64)
        kappa = to_host(self.concentration.detach().array).astype(np.float64)
        x = _rejection_sample(loc, kappa, self._proposal_r, shape, numpy_generator())
        arr = x.astype(self.loc.array.dtype)
        if self.loc.device.type != "cpu":
            arr = move(arr, self.loc.device)
        with no_grad():
            return Tensor._make(arr, None, False)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> Tensor:
        """1 − I₁(κ)/I₀(κ), the circular variance."""
        k = self.concentration
        return 1 - (_log_modified_bessel_fn(k, order=1) - _log_modified_bessel_fn(k, order=0)).exp()
