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
transforms            Transform and its kinds (Exp, Affine, Sigmoid, StickBreaking, Compose, ...)
constraint_registry   biject_to, transform_to: a constraint's Transform from unconstrained space
transformed_distribution  TransformedDistribution, and the families built on it (one module each, torch's
                      names): Gumbel Weibull Pareto HalfCauchy Kumaraswamy LogisticNormal InverseGamma
                      RelaxedBernoulli RelaxedOneHotCategorical; cauchy: Cauchy
(one module each)     ContinuousBernoulli FisherSnedecor Multinomial NegativeBinomial MixtureSameFamily
                      LowRankMultivariateNormal VonMises OneHotCategoricalStraightThrough; exp_family: ExponentialFamily

Draws come from matgrad's generator (matgrad.manual_seed reproduces them); the numbers differ
from PyTorch's, the distributions and every density, moment and KL value are the same.
"""
from __future__ import annotations

from . import (  # torch's submodule names, each also importable (matgrad.distributions.normal.Normal)
    bernoulli,  # noqa: F401
    beta,  # noqa: F401
    binomial,  # noqa: F401
    categorical,  # noqa: F401
    chi2,  # noqa: F401
    constraint_registry,
    constraints,
    exponential,  # noqa: F401
    geometric,  # noqa: F401
    half_normal,  # noqa: F401
    laplace,  # noqa: F401
    log_normal,  # noqa: F401
    normal,  # noqa: F401
    poisson,  # noqa: F401
    studentT,  # noqa: F401
    transforms,
    uniform,  # noqa: F401
)
from .cauchy import Cauchy
from .constraint_registry import biject_to, transform_to
from .continuous import Exponential, HalfNormal, Laplace, LogNormal, Normal, Uniform
from .continuous_bernoulli import ContinuousBernoulli
from .counts import Binomial, Geometric, Poisson
from .dirichlet import Beta, Dirichlet
from .discrete import Bernoulli, Categorical, OneHotCategorical
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .fishersnedecor import FisherSnedecor
from .gamma import Chi2, Gamma, StudentT
from .generalized_pareto import GeneralizedPareto
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .independent import Independent
from .inverse_gamma import InverseGamma
from .kl import kl_divergence, register_kl
from .kumaraswamy import Kumaraswamy
from .lkj_cholesky import LKJCholesky
from .logistic_normal import LogisticNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .one_hot_categorical import OneHotCategoricalStraightThrough
from .pareto import Pareto
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .transformed_distribution import TransformedDistribution
from .transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from .von_mises import VonMises
from .weibull import Weibull
from .wishart import Wishart

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Chi2", "Dirichlet", "Distribution", "Exponential", "Gamma",
    "Geometric", "HalfNormal", "Independent", "Laplace", "LogNormal", "MultivariateNormal", "Normal",
    "OneHotCategorical", "Poisson", "StudentT", "Uniform", "constraints", "kl_divergence", "register_kl",
    "AbsTransform", "AffineTransform", "CatTransform", "Cauchy", "ComposeTransform", "CorrCholeskyTransform",
    "CumulativeDistributionTransform", "ExpTransform", "Gumbel", "HalfCauchy",
    "IndependentTransform", "InverseGamma", "Kumaraswamy", "LogisticNormal",
    "LowerCholeskyTransform", "Pareto", "PositiveDefiniteTransform", "PowerTransform", "RelaxedBernoulli",
    "RelaxedOneHotCategorical", "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform", "SoftplusTransform",
    "StackTransform", "StickBreakingTransform", "TanhTransform", "Transform", "TransformedDistribution", "Weibull",
    "biject_to", "constraint_registry", "identity_transform", "transform_to", "transforms",
    "ContinuousBernoulli", "ExponentialFamily", "FisherSnedecor", "LowRankMultivariateNormal", "MixtureSameFamily",
    "Multinomial", "NegativeBinomial", "OneHotCategoricalStraightThrough", "VonMises",
    "Wishart", "LKJCholesky", "GeneralizedPareto",
]
