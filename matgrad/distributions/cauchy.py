"""Cauchy: the distribution of loc + scale·tan(π(u − ½)), u ~ U(0, 1); no mean, infinite variance."""
from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor
from .continuous import _LocScale
from .utils import draw

__all__ = ["Cauchy"]


class Cauchy(_LocScale):
    """The Cauchy (Lorentz) distribution with density 1 / (π·scale·(1 + ((x − loc)/scale)²))."""

    @property
    def mean(self) -> Tensor:
        return self.loc.new_full(tuple(self._extended_shape()), math.nan)

    @property
    def variance(self) -> Tensor:
        return self.loc.new_full(tuple(self._extended_shape()), math.inf)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """loc + scale·ε, ε = tan(π(u − ½)) standard Cauchy (u from matgrad's generator)."""
        u = draw("uniform", tuple(self._extended_shape(sample_shape)), self.loc)
        eps = (math.pi * (u - 0.5)).tan()
        return self.loc + eps * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value: Tensor) -> Tensor:
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + self.scale.log()
