"""Dirichlet and Beta (the two-category Dirichlet), reparameterised through standard gamma draws."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.arithmetic import xlogy
from ..ops.join import stack
from ..ops.special import digamma, lgamma
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .gamma import standard_gamma
from .utils import broadcast_all, where

__all__ = ["Beta", "Dirichlet"]


class Dirichlet(Distribution):
    """The Dirichlet distribution on the simplex of K = concentration.shape[-1] categories."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True
    _batch_params = {"concentration": 1}

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """g / Σg, gᵢ ~ Gamma(αᵢ, 1) standard gamma draws with their implicit gradients.

        The pathwise gradient of that construction (the draws' random stream held fixed); torch's
        `_dirichlet_grad` holds a different stream fixed, so sample-wise gradients differ, both unbiased.
        """
        shape = tuple(self._extended_shape(sample_shape))
        g = standard_gamma(self.concentration.expand(shape))
        return g / g.sum(-1, keepdim=True)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return xlogy(c - 1.0, value).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        """(α − 1)₊ / Σ(α − 1)₊; where every αᵢ < 1, the one-hot vector at the argmax of that (nan) row, as torch."""
        cm1 = (self.concentration - 1).clamp(min=0.0)
        total = cm1.sum(-1, keepdim=True)
        mask = (self.concentration < 1).all(-1, keepdim=True)
        mode = cm1 / where(mask, 1.0, total)
        with np.errstate(invalid="ignore"):
            nan_rows = np.where(mask.array, np.nan, mode.detach().array)
        k = cm1.shape[-1]
        one_hot = np.eye(k, dtype=mode.array.dtype)[np.argmax(nan_rows, -1)]
        return where(mask, Tensor._make(one_hot, None, False).to(mode.device), mode)

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        con0 = c.sum(-1, keepdim=True)
        return c * (con0 - c) / (con0 ** 2 * (con0 + 1))

    def entropy(self) -> Tensor:
        c = self.concentration
        k = c.shape[-1]
        a0 = c.sum(-1)
        return lgamma(c).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0) - ((c - 1.0) * digamma(c)).sum(-1)


class Beta(Distribution):
    """The beta distribution on [0, 1] with density x^(c1−1) (1−x)^(c0−1) / B(c1, c0)."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool | None = None) -> None:
        c1, c0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(stack([c1, c0], -1), validate_args=validate_args)
        super().__init__(self._dirichlet.batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Beta:
        new = super().expand(batch_shape, _instance)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        return new

    @property
    def concentration1(self) -> Tensor:
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self) -> Tensor:
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self._dirichlet.log_prob(stack([value, 1.0 - value], -1))

    def entropy(self) -> Tensor:
        return self._dirichlet.entropy()
