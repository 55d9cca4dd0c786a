"""matgrad.distributions: torch.distributions' counterpart.

    import matgrad.distributions as D
    d = D.Normal(loc, scale)
    x = d.rsample((100,))            # reparameterised: gradients reach loc and scale
    d.log_prob(x).mean().backward()

distribution          Distribution (the base: shapes, sample/rsample, validation, expand)
continuous            Normal Uniform Exponential Laplace LogNormal HalfNormal
discrete              Bernoulli Categorical OneHotCategorical (probs or logits)
gamma                 Gamma Chi2 StudentT, and the reparameterised standard gamma draw (implicit gradient)
dirichlet             Dirichlet Beta
counts                Poisson Binomial Geometric
independent           Independent
multivariate_normal   MultivariateNormal (covariance_matrix, precision_matrix or scale_tril)
kl                    kl_divergence, register_kl
constraints           the sets parameters and values live in (arg_constraints, support)

Draws come from matgrad's generator (matgrad.manual_seed reproduces them); the numbers differ
from PyTorch's, the distributions and every density, moment and KL value are the same.
"""
from __future__ import annotations

from . import constraints
from .continuous import Exponential, HalfNormal, Laplace, LogNormal, Normal, Uniform
from .counts import Binomial, Geometric, Poisson
from .dirichlet import Beta, Dirichlet
from .discrete import Bernoulli, Categorical, OneHotCategorical
from .distribution import Distribution
from .gamma import Chi2, Gamma, StudentT
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Chi2", "Dirichlet", "Distribution", "Exponential", "Gamma",
    "Geometric", "HalfNormal", "Independent", "Laplace", "LogNormal", "MultivariateNormal", "Normal",
    "OneHotCategorical", "Poisson", "StudentT", "Uniform", "constraints", "kl_divergence", "register_kl",
]
