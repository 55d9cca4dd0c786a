"""ExponentialFamily: the base of distributions p(x; θ) = h(x)·exp(⟨t(x), θ⟩ − F(θ)).

Subclasses give the natural parameters θ, the log-normaliser F and E[log h(x)] (the mean carrier
measure); the entropy follows as F(θ) − ⟨θ, ∇F(θ)⟩ − E[log h], with ∇F by autograd (Bregman form).
"""
from __future__ import annotations

from typing import Any

from ..autograd.api import grad
from ..tensor import Tensor
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """A distribution of the exponential family; its entropy comes from the log-normaliser."""

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> Any:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """F(θ) − ⟨θ, ∇F(θ)⟩ − E[log h(x)], ∇F by autograd (differentiable: create_graph)."""
        result: Any = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for p, g in zip(nparams, gradients):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
