"""matgrad.special: torch.special's functions, with its names and signatures, so `torch.special.*` ports by import.

Most are matgrad's ops under torch.special's names (expit = sigmoid, gammaln = lgamma, psi = digamma,
multigammaln = mvlgamma, gammainc = igamma ...); the ones torch has only here (erfcx, ndtr, ndtri, log_ndtr,
i0e, i1e, entr, xlog1py, zeta, bessel_j0, bessel_j1) are ops in matgrad/ops/special.py. Differences: ndtr is
½erfc(−x/√2), accurate in the left tail where torch's (1 + erf(x/√2))/2 cancels to 0 (x < −8); bessel_j0/j1
are good to ~3e-16 absolute where torch's float64 ones are off by up to ~4e-7 (near x = 5). Left out:
bessel_y0/y1, modified_bessel_i0/i1/k0/k1, scaled_modified_bessel_k0/k1, spherical_bessel_j0, airy_ai and the
orthogonal polynomials (chebyshev_polynomial_t ...).
"""
from __future__ import annotations

from typing import Any

from .ops.activation import sigmoid as expit
from .ops.arithmetic import xlogy
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

__all__ = ["bessel_j0", "bessel_j1",
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
