"""LogitRelaxedBernoulli and RelaxedBernoulli (its sigmoid): the Concrete / Gumbel-softmax relaxation of Bernoulli."""
from __future__ import annotations

import numbers
from typing import Any

from ..tensor import Tensor, as_tensor
from . import constraints
from .discrete import _ProbsOrLogits
from .transformed_distribution import TransformedDistribution
from .transforms import SigmoidTransform
from .utils import broadcast_all, clamp_probs, draw

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]


def _temperature(temperature: Any, like: Tensor) -> Tensor:
    """temperature as a Tensor (a number takes like's dtype; torch requires a Tensor)."""
    return temperature if isinstance(temperature, Tensor) else as_tensor(temperature).to(like.dtype)


class LogitRelaxedBernoulli(_ProbsOrLogits):
    """(logit u + logits) / temperature, u ~ U(0, 1): the logit of a RelaxedBernoulli draw."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True
    _batch_params = {"probs": 0, "logits": 0}

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        self._set_param(probs, logits)
        self.temperature = _temperature(temperature, self._param)
        is_scalar = isinstance(probs if probs is not None else logits, numbers.Number)
        super().__init__(() if is_scalar else self._param.shape, validate_args=validate_args)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        probs = clamp_probs(self.probs.expand(shape))
        uniforms = clamp_probs(draw("uniform", shape, probs))
        return (uniforms.log() - (-uniforms).log1p() + probs.log() - (-probs).log1p()) / self.temperature

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedBernoulli(TransformedDistribution):
    """sigmoid of a LogitRelaxedBernoulli draw: a reparameterisable relaxation of Bernoulli on (0, 1)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        base_dist = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base_dist, SigmoidTransform(), validate_args=validate_args)

    @property
    def temperature(self) -> Tensor:
        return self.base_dist.temperature

    @property
    def logits(self) -> Tensor:
        return self.base_dist.logits

    @property
    def probs(self) -> Tensor:
        return self.base_dist.probs
