"""NegativeBinomial: the number of successes before total_count failures, success probability probs."""
from __future__ import annotations

from typing import Any

from ..autograd.grad_mode import no_grad
from ..ops.special import lgamma
from ..tensor import Size, Tensor
from . import constraints
from .discrete import _one_of
from .distribution import Distribution
from .gamma import Gamma
from .utils import broadcast_all, draw, lazy_property, logits_to_probs, probs_to_logits, softplus_exact

__all__ = ["NegativeBinomial"]


def _logsigmoid(x: Tensor) -> Tensor:
    return -softplus_exact(-x)


class NegativeBinomial(Distribution):
    """P(k) = C(k + r − 1, k)·pᵏ(1 − p)ʳ, r = total_count, p = probs (or sigmoid(logits))."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0), "logits": constraints.real}
    support = constraints.nonnegative_integer
    _batch_params = {"total_count": 0, "probs": 0, "logits": 0}

    def __init__(self, total_count: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        _one_of(probs, logits)
        if probs is not None:
            total, self.probs = broadcast_all(total_count, probs)
            self.total_count = total.to(self.probs.dtype)
        else:
            total, self.logits = broadcast_all(total_count, logits)
            self.total_count = total.to(self.logits.dtype)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> NegativeBinomial:
        new = super().expand(batch_shape, _instance)
        new._param = new.__dict__["probs"] if "probs" in self.__dict__ else new.__dict__["logits"]
        new.__dict__.pop("_gamma", None)
        return new

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / (-self.logits).sigmoid()

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> Size:
        return self._param.shape

    @lazy_property
    def _gamma(self) -> Gamma:
        return Gamma(concentration=self.total_count, rate=(-self.logits).exp(), validate_args=False)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Poisson(λ), λ ~ Gamma(total_count, e^(−logits)): the gamma–Poisson mixture."""
        with no_grad():
            rate = self._gamma.sample(sample_shape)
            return draw("poisson", tuple(rate.shape), rate, lam=rate.array)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized_prob = self.total_count * _logsigmoid(-self.logits) + value * _logsigmoid(self.logits)
        log_normalization = -lgamma(self.total_count + value) + lgamma(1.0 + value) + lgamma(self.total_count)
        log_normalization = log_normalization.masked_fill(self.total_count + value == 0.0, 0.0)  # r = k = 0: P = 1
        return log_unnormalized_prob - log_normalization
