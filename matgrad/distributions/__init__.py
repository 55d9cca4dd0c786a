"""matgrad.distributions: torch.distributions' counterpart.

    import matgrad.distributions as D
    d = D.Normal(loc, scale)
    x = d.rsample((100,))            # reparameterised: gradients reach loc and scale
    d.log_prob(x).mean().backward()

distribution          Distribution (the base: shapes, sample/rsample, validation, expand)
continuous            Normal Uniform Exponential Laplace
discrete              Bernoulli Categorical OneHotCategorical (probs or logits)
independent           Independent
multivariate_normal   MultivariateNormal (covariance_matrix, precision_matrix or scale_tril)
kl                    kl_divergence, register_kl
constraints           the sets parameters and values live in (arg_constraints, support)

Draws come from matgrad's generator (matgrad.manual_seed reproduces them); the numbers differ
from PyTorch's, the distributions and every density, moment and KL value are the same.
"""
from __future__ import annotations

from . import constraints
from .continuous import Exponential, Laplace, Normal, Uniform
from .discrete import Bernoulli, Categorical, OneHotCategorical
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal

__all__ = [
    "Bernoulli", "Categorical", "Distribution", "Exponential", "Independent", "Laplace", "MultivariateNormal",
    "Normal", "OneHotCategorical", "Uniform", "constraints", "kl_divergence", "register_kl",
]
