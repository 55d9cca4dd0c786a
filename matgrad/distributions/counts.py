"""Poisson, Binomial, Geometric: distributions over counts 0, 1, 2 ... (float values, as torch's)."""
from __future__ import annotations

import numbers
from typing import Any

from ..autograd.grad_mode import no_grad
from ..creation import arange
from ..ops.arithmetic import xlogy
from ..ops.special import lgamma
from ..ops.unary import exp, log, log1p
from ..tensor import Tensor
from . import constraints
from .continuous import _scalar_batch
from .discrete import _clamp_by_zero, _one_of, _ProbsOrLogits
from .distribution import Distribution
from .utils import broadcast_all, draw, finfo, softplus_exact, where

__all__ = ["Binomial", "Geometric", "Poisson"]


class Poisson(Distribution):
    """The Poisson distribution: P(k) = rateᵏ e^(−rate) / k!."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer
    _batch_params = {"rate": 0}

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        batch_shape = () if _scalar_batch(rate) else self.rate.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        with no_grad():
            return draw("poisson", shape, self.rate, lam=self.rate.detach().array)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return xlogy(value, rate) - rate - lgamma(value + 1)


class Binomial(_ProbsOrLogits):
    """The number of successes in total_count independent trials of success probability probs (or sigmoid(logits))."""

    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}
    has_enumerate_support = True
    _batch_params = {"total_count": 0, "probs": 0, "logits": 0}

    def __init__(self, total_count: Any = 1, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        _one_of(probs, logits)
        param = probs if probs is not None else logits
        total, param = broadcast_all(total_count, param)
        self.total_count = total.to(param.dtype)
        self._set_param(param if probs is not None else None, param if logits is not None else None)
        super().__init__(self._param.shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        with no_grad():
            return draw("binomial", shape, self._param, n=self.total_count.detach().array,
                        p=self.probs.detach().array)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        log_factorial_n = lgamma(n + 1)
        log_factorial_k = lgamma(value + 1)
        log_factorial_nmk = lgamma(n - value + 1)
        # k·log p + (n − k)·log(1 − p) = k·logit − n·max(logit, 0) − n·log1p(e^−|logit|)
        normalize_term = n * _clamp_by_zero(logits) + n * log1p(exp(-logits.abs())) - log_factorial_n
        return value * logits - log_factorial_k - log_factorial_nmk - normalize_term

    def _homogeneous_count(self, what: str) -> int:
        total = int(self.total_count.max().item())
        if not self.total_count.min().item() == total:
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return total

    def entropy(self) -> Tensor:
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        total = self._homogeneous_count("enumerate_support")
        values = arange(1 + total, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


class Geometric(_ProbsOrLogits):
    """The number of failures before the first success: P(k) = (1 − p)ᵏ p, k = 0, 1, ..."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer
    _batch_params = {"probs": 0, "logits": 0}

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        self._set_param(probs, logits)
        given = probs if probs is not None else logits
        super().__init__(() if isinstance(given, numbers.Number) else self._param.shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            value = self.probs
            valid = value > 0
            if not bool(valid.all()):
                raise ValueError(f"Expected parameter probs ({type(value).__name__} of shape {tuple(value.shape)}) "
                                 f"of distribution {self!r} to be positive but found invalid values:\n"
                                 f"{value[~valid]}")

    @property
    def mean(self) -> Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        return self.probs * 0

    @property
    def variance(self) -> Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """floor(ln u / ln(1 − p)), u ~ U[tiny, 1)."""
        shape = tuple(self._extended_shape(sample_shape))
        tiny = float(finfo(self.probs.dtype).tiny)
        with no_grad():
            u = draw("uniform", shape, self.probs, low=tiny, high=1.0)
            return (log(u) / log1p(-self.probs)).floor()

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = where((probs == 1) & (value == 0), 0.0, probs)
        return value * log1p(-probs) + log(self.probs)

    def entropy(self) -> Tensor:
        return (softplus_exact(self.logits) - self.logits * self.probs) / self.probs
