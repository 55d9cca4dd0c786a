"""GeneralizedPareto: loc + scale·((1 − u)^(−ξ) − 1)/ξ, u ~ U(0, 1) (loc − scale·log(1 − u) at ξ = 0)."""
from __future__ import annotations

import math
from typing import Any

from ..ops.binary import where
from ..ops.compare import isclose
from ..tensor import Tensor
from . import constraints
from .continuous import _scalar_batch
from .distribution import Distribution
from .utils import broadcast_all, draw

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """The generalized Pareto distribution with shape ξ = concentration: density
    (1/scale)·(1 + ξz)^(−1/ξ − 1), z = (x − loc)/scale, on x ≥ loc (and x ≤ loc − scale/ξ when ξ < 0).

    ξ counts as 0 where it is within 1e-8 of it (torch's isclose), as torch's.
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}
    has_rsample = True
    _batch_params = {"loc": 0, "scale": 0, "concentration": 0}

    def __init__(self, loc: Any, scale: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        batch_shape = () if _scalar_batch(loc, scale, concentration) else self.loc.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def _safe_concentration(self) -> tuple[Tensor, Tensor]:
        """(where ξ counts as 0, ξ with those places set to 1 so no branch divides by 0)."""
        zero = isclose(self.concentration, self.concentration.new_zeros(()))
        return zero, where(zero, 1.0, self.concentration)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """icdf(u), u from matgrad's generator."""
        return self.icdf(draw("uniform", tuple(self._extended_shape(sample_shape)), self.loc))

    def _z(self, x: Tensor) -> Tensor:
        return (x - self.loc) / self.scale

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        zero, xi = self._safe_concentration()
        y = 1 / xi + 1
        nonzero = where(y == 0, y, y * (xi * z).log1p())
        return -self.scale.log() - where(zero, z, nonzero)

    def log_survival_function(self, value: Any) -> Tensor:
        """log P(X > value)."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        zero, xi = self._safe_concentration()
        return where(zero, -z, -(xi * z).log1p() / xi)

    def log_cdf(self, value: Any) -> Tensor:
        """log P(X ≤ value)."""
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value: Any) -> Tensor:
        return self.log_cdf(value).exp()

    def icdf(self, value: Any) -> Tensor:
        zero, xi = self._safe_concentration()
        logu = (-value).log1p()
        nonzero = self.loc + self.scale / xi * (-xi * logu).expm1()
        return where(zero, self.loc - self.scale * logu, nonzero)

    @property
    def mean(self) -> Tensor:
        valid = self.concentration < 1
        xi = where(valid, self.concentration, 0.5)
        return where(valid, self.loc + self.scale / (1 - xi), math.nan)

    @property
    def variance(self) -> Tensor:
        valid = self.concentration < 0.5
        xi = where(valid, self.concentration, 0.25)
        return where(valid, self.scale ** 2 / ((1 - xi) ** 2 * (1 - 2 * xi)), math.nan)

    def entropy(self) -> Tensor:
        return (self.scale.log() + self.concentration + 1).expand(tuple(self._batch_shape))

    @property
    def mode(self) -> Tensor:
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        negative = self.concentration < 0
        xi = where(negative, self.concentration, -1.0)  # no division by a ξ ≥ 0, whose upper end is inf
        upper = where(negative, self.loc - self.scale / xi, math.inf)
        return constraints.interval(self.loc, upper)
