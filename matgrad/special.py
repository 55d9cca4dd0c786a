"""matgrad.special: torch.special's functions, with its names and signatures, so `torch.special.*` ports by import.

Most are matgrad's ops under torch.special's names (expit = sigmoid, gammaln = lgamma, psi = digamma,
multigammaln = mvlgamma, gammainc = igamma ...); the ones torch has only here (erfcx, ndtr, ndtri, log_ndtr,
i0e, i1e, entr, xlog1py, zeta, bessel_j0, bessel_j1) are ops in matgrad/ops/special.py; bessel_y0/y1,
modified_bessel_i0/i1/k0/k1, scaled_modified_bessel_k0/k1, spherical_bessel_j0 and airy_ai in matgrad/ops/bessel.py;
the orthogonal polynomials (chebyshev_polynomial_t/u/v/w, shifted_chebyshev_polynomial_t/u/v/w,
hermite_polynomial_h/he, laguerre_polynomial_l, legendre_polynomial_p) in matgrad/ops/polynomials.py.
Differences: ndtr is ½erfc(−x/√2), accurate in the left tail where torch's (1 + erf(x/√2))/2 cancels to 0
(x < −8); bessel_j0/j1 are good to ~3e-16 absolute where torch's float64 ones are off by up to ~4e-7 (near x = 5);
bessel_y0/y1 and airy_ai are good to ~1e-15 of their amplitude (checked against mpmath) where torch's float64 ones
are off by up to ~7e-7 (Y, x = 5 to 8) and ~3e-6 (Ai near x = −2.1), and keep their phase for large x, where
torch's x − π/4 (Ai: ζ + π/4) rounds; Ai beyond x ≈ 103.9 is the subnormal it is, not torch's 0; the Bessel-type
functions and the polynomials have exact gradients in x (torch's outputs do not require grad; n gets none); a
polynomial of degree ≥ 2 at x = nan is nan (torch's is whatever its loop last left behind); float32 polynomials
are computed in float64, so one that overflows float32 is ±inf where torch's float32 recurrence gives nan.
"""
from __future__ import annotations

from typing import Any

from .ops.activation import sigmoid as expit
from .ops.arithmetic import xlogy
from .ops.bessel import (
    airy_ai,
    bessel_y0,
    bessel_y1,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    spherical_bessel_j0,
)
from .ops.polynomials import (
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
)
from .ops.reduction import logsumexp as _logsumexp
from .ops.softmax import log_softmax as _log_softmax
from .ops.softmax import softmax as _softmax
from .ops.special import (
    bessel_j0,
    bessel_j1,
    digamma,
    entr,
    erfcx,
    erfinv,
    i0,
    i0e,
    i1,
    i1e,
    log_ndtr,
    ndtr,
    ndtri,
    polygamma,
    xlog1py,
    zeta,
)
from .ops.special import igamma as gammainc
from .ops.special import igammac as gammaincc
from .ops.special import lgamma as gammaln
from .ops.special import mvlgamma as multigammaln
from .ops.unary import erf, erfc, exp2, expm1, log1p, logit, round, sinc  # noqa: A004 - torch.special's name
from .tensor import Tensor

psi = digamma

__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
           "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
           "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p",
           "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w",
           "spherical_bessel_j0",
           "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc",
           "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
           "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy", "zeta"]


def softmax(input: Any, dim: int, *, dtype: Any = None) -> Tensor:
    """softmax over `dim` (required, as torch.special.softmax), optionally in `dtype`."""
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Any, dim: int, *, dtype: Any = None) -> Tensor:
    """log-softmax over `dim` (required, as torch.special.log_softmax), optionally in `dtype`."""
    return _log_softmax(input, dim, dtype=dtype)


def logsumexp(input: Any, dim: Any, keepdim: bool = False) -> Tensor:
    """ln Σ eˣ over `dim` (required, as torch.special.logsumexp)."""
    return _logsumexp(input, dim, keepdim)
