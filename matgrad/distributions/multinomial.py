"""Multinomial: counts of total_count independent draws from a Categorical over the last dim."""
from __future__ import annotations

import math
from typing import Any

from ..autograd.grad_mode import no_grad
from ..creation import eye
from ..ops.special import lgamma
from ..tensor import Size, Tensor, as_tensor, get_default_dtype
from . import constraints
from .counts import Binomial
from .discrete import Categorical
from .distribution import Distribution
from .utils import broadcast_all, size, where

__all__ = ["Multinomial"]


class Multinomial(Distribution):
    """Counts (event_shape (K,)) of total_count draws with category probabilities probs (or softmax(logits))."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count: int = 1, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Multinomial:
        new = _instance if _instance is not None else type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._categorical = self._categorical.expand(batch_shape)
        new._batch_shape = size(batch_shape)
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self) -> constraints.Constraint:
        return constraints.multinomial(self.total_count)

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def param_shape(self) -> Size:
        return self._categorical.param_shape

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Counts of total_count Categorical draws (one-hot vectors summed)."""
        sample_shape = tuple(size(sample_shape))
        with no_grad():
            k = self._categorical._num_events
            p = self._categorical._param
            idx = self._categorical.sample((self.total_count,) + sample_shape)
            one_hot = eye(k, dtype=p.dtype, device=p.device)[idx]
            counts = one_hot.sum(0)
            return counts.expand(tuple(self._extended_shape(sample_shape)))

    def entropy(self) -> Tensor:
        """n·H(cat) − log n! + Σₖ E[log xₖ!] (Binomial marginals).

        log n! is computed in the default dtype, as torch's lgamma of its integer n (float32 by default)."""
        n = float(self.total_count)
        log_n_factorial = lgamma(as_tensor(n + 1).to(get_default_dtype())).to(self.probs.dtype)
        term1 = n * self._categorical.entropy() - log_n_factorial
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = self._binomial.log_prob(support).exp()
        weights = lgamma(support + 1)
        return term1 + (binomial_probs * weights).sum((0, -1))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = lgamma(value.sum(-1) + 1)
        log_factorial_xs = lgamma(value + 1).sum(-1)
        logits = where((value == 0) & (logits == -math.inf), 0.0, logits)  # 0·log 0 = 0
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)
