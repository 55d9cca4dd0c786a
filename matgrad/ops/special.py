"""Special functions NumPy lacks: lgamma, digamma, polygamma(1, ·) (trigamma), erfinv, and torch.special's own.

Each forward is vectorised NumPy in float64 (an input of another float dtype is computed in
float64 and rounded back). On a device, the forward runs there with the device's own kernel where it
has one (cupyx.scipy.special's gammaln, digamma, polygamma, erfinv, i0, i1, gammainc, gammaincc on a
GPU: `_on_device`), in the input's dtype, with torch's values at the edges put back by `where`s;
only where it has none does a device array go to the host and back.

lgamma   x ≥ 10: Stirling's series to x⁻¹³; 0 < x < 10: the recurrence Γ(x+1) = x·Γ(x) up to
         x + n ≥ 10; |x − 1| or |x − 2| < 0.25: the Taylor series of lgamma(1 + z) (ζ values
         computed once), so the zeros at 1 and 2 keep their relative accuracy; x < 0: the reflection
         Γ(x)Γ(1−x) = π/sin(πx); poles (0, −1, −2 ...) give +inf, as torch.lgamma.
digamma  ψ(x + 1) = ψ(x) + 1/x up to x ≥ 10, then the asymptotic series; x < 0: ψ(1−x) − π/tan(πx);
         torch's values at the poles: −inf at +0, +inf at −0, nan at negative integers.
trigamma ψ'(x) the same way (reflection ψ'(1−x) + ψ'(x) = π²/sin²(πx)).
erfinv   a rational first guess refined by Newton steps on erf (erfc in the tails).
i0       NumPy's np.i0 (Cephes' Chebyshev expansions).
i1       (i0's derivative) |x| ≤ 30: the power series Σ (x/2)^(2k+1) / (k!(k+1)!), all terms of one sign;
         beyond: the asymptotic series eˣ/√(2πx) · Σ (−1)^k Π(4 − (2j−1)²) / (k! (8x)^k); odd in x;
         ±inf gives nan, as torch.special.i1.
igamma   P(a, x) from its series below x = a + 1, Q = 1 − P (igammac) from Legendre's continued fraction above.
erfcx    Laplace's continued fraction for |x| ≥ 6, exp(x²)·erfc(x) below (x² split so exp(x²) keeps its accuracy).
ndtr     ½erfc(−x/√2); log_ndtr: ln(erfcx(−x/√2)/2) − x²/2 below −1, log1p(−erfc(x/√2)/2) above.
ndtri    √2·erfinv(2p − 1) on [¼, ¾]; Newton on ln erfc in the tails (accurate down to the subnormals).
i0e i1e  e^(−|x|)·I_ν(x): the power series below 30, Hankel's asymptotic series above.
zeta     Hurwitz ζ(x, q): Cephes' Euler–Maclaurin sum, with its edge values (as torch).
j0 j1    the power series to 4, Miller's backward recurrence to 25, Hankel's asymptotic series beyond.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.op import Op
from ..devices import backend_of, device_of, move, to_host
from ..kernels import ignoring
from ..tensor import ShapeError, Tensor, as_tensor, get_default_dtype

__all__ = ["bessel_j0", "bessel_j1",
           "digamma", "entr", "erfcx", "erfinv", "i0", "i0e", "i1", "i1e", "igamma", "igammac", "lgamma", "log_ndtr",
           "mvlgamma", "ndtr", "ndtri", "polygamma", "xlog1py", "zeta"]

_EULER = 0.57721566490153286061
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _zeta_values(kmax: int) -> np.ndarray:
    """ζ(k) for k = 0..kmax (entries below 2 unused): a partial sum plus its Euler–Maclaurin tail."""
    n = 40
    out = np.zeros(kmax + 1)
    terms = np.arange(1, n, dtype=np.float64)
    for k in range(2, kmax + 1):
        s = math.fsum(terms ** -k)
        tail = n ** (1 - k) / (k - 1) + 0.5 * n ** -k + k * n ** (-k - 1) / 12
        tail -= k * (k + 1) * (k + 2) * n ** (-k - 3) / 720
        tail += k * (k + 1) * (k + 2) * (k + 3) * (k + 4) * n ** (-k - 5) / 30240
        out[k] = s + tail
    return out


_TAYLOR_K = 30
#: lgamma(1 + z) = −γz + Σ_{k≥2} (−1)^k ζ(k) z^k / k, the coefficients from k = 2 up
_LGAMMA1 = np.array([(-1) ** k * z / k for k, z in enumerate(_zeta_values(_TAYLOR_K)) if k >= 2])
#: Stirling: lgamma(x) ≈ (x − ½)ln x − x + ½ln 2π + Σ B₂ₖ / (2k(2k−1) x^(2k−1))
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)
#: ψ(x) ≈ ln x − 1/(2x) − Σ B₂ₖ / (2k x^(2k))
_DIGAMMA = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)
#: ψ'(x) ≈ 1/x + 1/(2x²) + Σ B₂ₖ / x^(2k+1)
_TRIGAMMA = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)
_BIG = 10.0


def _series(coefs: tuple[float, ...], inv2: np.ndarray) -> np.ndarray:
    """Σ coefs[k] · inv2^k for k = 0.. (Horner)."""
    acc = np.full_like(inv2, coefs[-1])
    for c in coefs[-2::-1]:
        acc = acc * inv2 + c
    return acc


def _sinpi(x: np.ndarray) -> np.ndarray:
    """sin(πx), exact at the integers and accurate for large |x| (x reduced mod 2 first)."""
    r = x - 2 * np.round(x / 2)  # in [-1, 1]
    return np.sin(np.pi * r)


def _lgamma_positive(x: np.ndarray) -> np.ndarray:
    """lgamma for x > 0 (finite)."""
    out = np.empty_like(x)
    shift = np.zeros_like(x)  # Σ ln of the factors the recurrence takes off
    y = x.copy()
    small = y < _BIG
    prod = np.ones_like(x)
    while small.any():  # at most 10 rounds; the product is logged every 8 to stay in range
        for _ in range(8):
            prod = np.where(small, prod * y, prod)
            y = np.where(small, y + 1, y)
            small = y < _BIG
        shift += np.log(prod)
        prod[:] = 1
    inv = 1 / y
    out = (y - 0.5) * np.log(y) - y + _HALF_LOG_2PI + inv * _series(_STIRLING, inv * inv) - shift
    near1 = np.abs(x - 1) < 0.25
    near2 = np.abs(x - 2) < 0.25
    if near1.any() or near2.any():
        z = np.where(near1, x - 1, x - 2)
        taylor = z * (-_EULER + z * np.polynomial.polynomial.polyval(z, _LGAMMA1))
        taylor = np.where(near2, taylor + np.log1p(z), taylor)
        out = np.where(near1 | near2, taylor, out)
    return out


@ignoring(divide="ignore", invalid="ignore", over="ignore")
def lgamma_array(x: np.ndarray) -> np.ndarray:
    """ln|Γ(x)| elementwise, float64."""
    x = np.asarray(x, dtype=np.float64)
    out = np.full_like(x, np.inf)
    finite = np.isfinite(x)
    out[np.isnan(x)] = np.nan
    pos = finite & (x > 0)
    out[pos] = _lgamma_positive(x[pos])
    neg = finite & (x <= 0) & (x != np.floor(x))
    if neg.any():
        xn = x[neg]
        out[neg] = math.log(math.pi) - np.log(np.abs(_sinpi(xn))) - _lgamma_positive(1 - xn)
    return out


def _digamma_positive(x: np.ndarray) -> np.ndarray:
    acc = np.zeros_like(x)
    y = x.copy()
    small = y < _BIG
    while small.any():
        acc = np.where(small, acc - 1 / y, acc)
        y = np.where(small, y + 1, y)
        small = y < _BIG
    inv2 = 1 / (y * y)
    return acc + np.log(y) - 0.5 / y - inv2 * _series(_DIGAMMA, inv2)


@ignoring(divide="ignore", invalid="ignore", over="ignore")
def digamma_array(x: np.ndarray) -> np.ndarray:
    """ψ(x) = d/dx ln Γ(x) elementwise, float64."""
    x = np.asarray(x, dtype=np.float64)
    out = np.full_like(x, np.nan)
    out[x == np.inf] = np.inf
    pos = np.isfinite(x) & (x > 0)
    out[pos] = _digamma_positive(x[pos])
    zero = x == 0
    out[zero] = np.copysign(np.inf, -x[zero])
    neg = np.isfinite(x) & (x < 0) & (x != np.floor(x))
    if neg.any():
        xn = x[neg]
        r = xn - np.rint(xn)  # tan has period π: x less the nearest integer keeps the argument small (and exact)
        out[neg] = _digamma_positive(1 - xn) - np.pi / np.tan(np.pi * r)
    return out


def _trigamma_positive(x: np.ndarray) -> np.ndarray:
    acc = np.zeros_like(x)
    y = x.copy()
    small = y < _BIG
    while small.any():
        acc = np.where(small, acc + 1 / (y * y), acc)
        y = np.where(small, y + 1, y)
        small = y < _BIG
    inv = 1 / y
    inv2 = inv * inv
    return acc + inv + 0.5 * inv2 + inv * inv2 * _series(_TRIGAMMA, inv2)


@ignoring(divide="ignore", invalid="ignore", over="ignore")
def trigamma_array(x: np.ndarray) -> np.ndarray:
    """ψ'(x) elementwise, float64; +inf at the poles (0, −1, −2 ...)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.full_like(x, np.nan)
    out[x == np.inf] = 0.0
    pos = np.isfinite(x) & (x > 0)
    out[pos] = _trigamma_positive(x[pos])
    pole = np.isfinite(x) & (x <= 0) & (x == np.floor(x))
    out[pole] = np.inf
    neg = np.isfinite(x) & (x < 0) & (x != np.floor(x))
    if neg.any():
        xn = x[neg]
        out[neg] = (np.pi / _sinpi(xn)) ** 2 - _trigamma_positive(1 - xn)
    return out


# erfinv: Giles' single-precision approximation as the first guess
_GILES_CENTRAL = (1.50140941, 0.246640727, -0.00417768164, -0.00125372503, 0.00021858087, -4.39150654e-06,
                  -3.5233877e-06, 3.43273939e-07, 2.81022636e-08)
_GILES_TAIL = (2.83297682, 1.00167406, 0.00943887047, -0.0076224613, 0.00573950773, -0.00367342844,
               0.00134934322, 0.000100950558, -0.000200214257)
_erf_scalar = np.vectorize(math.erf, otypes=[np.float64])
_erfc_scalar = np.vectorize(math.erfc, otypes=[np.float64])


@ignoring(divide="ignore", invalid="ignore", over="ignore")
def erfinv_array(y: np.ndarray) -> np.ndarray:
    """erf⁻¹(y) for y in [−1, 1] (±inf at ±1, nan outside), float64."""
    y = np.asarray(y, dtype=np.float64)
    a = np.abs(y)
    w = -np.log((1 - a) * (1 + a))
    central = w < 5
    wc = np.where(central, w - 2.5, np.sqrt(w) - 3)
    p = np.where(central, _series(_GILES_CENTRAL, wc), _series(_GILES_TAIL, wc))
    x = p * a
    tail = a > 0.5
    comp = 1 - a  # exact for a ≥ 0.5
    for _ in range(3):  # Newton on erf(x) = a, or on erfc(x) = 1 − a in the tail, where erf saturates
        slope = (2 / math.sqrt(math.pi)) * np.exp(-x * x)
        f = np.where(tail, comp - _erfc_scalar(x), _erf_scalar(x) - a)
        ok = np.isfinite(x) & (slope > 0)
        x = np.where(ok, x - f / np.where(ok, slope, 1), x)
    x = np.where(a == 1, np.inf, x)
    x = np.where(a > 1, np.nan, x)
    return np.copysign(x, y)


_I1_SERIES_MAX = 30.0


@ignoring(over="ignore", invalid="ignore")
def i0_array(x: np.ndarray) -> np.ndarray:
    """I₀(x), the modified Bessel function of the first kind of order 0, elementwise, float64."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(np.isnan(x), np.nan, np.i0(np.where(np.isnan(x), 0.0, x)))


@ignoring(over="ignore", invalid="ignore", divide="ignore")
def i1_array(x: np.ndarray) -> np.ndarray:
    """I₁(x), the modified Bessel function of the first kind of order 1, elementwise, float64."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    small = np.where(a <= _I1_SERIES_MAX, a, 0.0)
    term = small / 2
    q = term * term
    series = term.copy()
    for k in range(1, 90):  # (15^2)^k / (k!(k+1)!) falls below 1e-17 of the sum well before k = 90
        term = term * q / (k * (k + 1))
        series = series + term
    big = np.where(a > _I1_SERIES_MAX, a, _I1_SERIES_MAX + 1)
    inv8 = 1 / (8 * big)
    coef = np.ones_like(big)
    asym = np.ones_like(big)
    for k in range(1, 30):  # the k-th term: the last one · (−1)(4 − (2k−1)²) / (8kx)
        coef = coef * ((2 * k - 1) ** 2 - 4) * inv8 / k
        asym = asym + coef
    asym = asym * np.exp(big) / np.sqrt(2 * np.pi * big)  # inf once eˣ overflows, as torch's
    out = np.where(a <= _I1_SERIES_MAX, series, asym)
    out = np.where(np.isfinite(x), out, np.nan)
    return np.where(x < 0, -out, out)


_EPS = 2e-16
_MAX_TERMS = 100_000  # the series and the fraction need about 10·√α terms near s = α; far fewer elsewhere


def _lower_series(a: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(S, S') for P(a, x) = xᵃe⁻ˣ/Γ(a+1) · S, S = Σₙ xⁿ/((a+1)…(a+n)), S' = ∂S/∂a (all terms ≤ 0)."""
    s, sp = np.ones_like(x), np.zeros_like(x)
    idx = np.arange(x.size)  # the elements still summing
    t, h, ss, ssp, aa, xx = np.ones_like(x), np.zeros_like(x), s.copy(), sp.copy(), a, x
    for n in range(1, _MAX_TERMS):
        t = t * xx / (aa + n)
        h = h + 1 / (aa + n)
        ss = ss + t
        ssp = ssp - t * h
        going = t * (1 + h) > _EPS * (ss + np.abs(ssp))
        if not going.all():
            s[idx[~going]], sp[idx[~going]] = ss[~going], ssp[~going]
            idx, t, h, ss, ssp, aa, xx = (v[going] for v in (idx, t, h, ss, ssp, aa, xx))
            if idx.size == 0:
                break
    s[idx], sp[idx] = ss, ssp  # any left at _MAX_TERMS
    return s, sp


def _upper_fraction(a: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F, F') for Q(a, x) = xᵃe⁻ˣ/Γ(a) · F, F Legendre's continued fraction (modified Lentz), F' = ∂F/∂a."""
    tiny = 1e-300
    b = x + 1 - a
    c, dc = np.full_like(x, 1 / tiny), np.zeros_like(x)
    d = 1 / b
    dd = d * d  # ∂(1/b)/∂a, b' = −1
    f, df = d.copy(), dd.copy()
    out_f, out_df = f.copy(), df.copy()
    idx = np.arange(x.size)  # the elements still converging
    for i in range(1, _MAX_TERMS):
        an, dan = -i * (i - a), float(i)
        b = b + 2
        den = an * d + b
        dden = dan * d + an * dd - 1
        den = np.where(np.abs(den) < tiny, tiny, den)
        d, dd = 1 / den, -dden / (den * den)
        cn = b + an / c
        dc = -1 + dan / c - an * dc / (c * c)
        c = np.where(np.abs(cn) < tiny, tiny, cn)
        delta, ddelta = d * c, dd * c + d * dc
        f, df = f * delta, df * delta + f * ddelta
        going = (np.abs(delta - 1) > _EPS) | (np.abs(f * ddelta) > _EPS * (np.abs(df) + np.abs(f)))
        if not going.all():
            out_f[idx[~going]], out_df[idx[~going]] = f[~going], df[~going]
            idx, a, b, c, dc, d, dd, f, df = (v[going] for v in (idx, a, b, c, dc, d, dd, f, df))
            if idx.size == 0:
                break
    out_f[idx], out_df[idx] = f, df  # any left at _MAX_TERMS
    return out_f, out_df


def regularized_gamma_array(alpha: Any, x: Any, upper: bool = False) -> np.ndarray:
    """P(α, x) = γ(α, x)/Γ(α), the regularised lower incomplete gamma (torch.special.gammainc), float64;
    with upper, Q(α, x) = 1 − P (gammaincc), each taken directly from the side where it is small.
    x ≤ 0 gives P = 0 (igamma's own edge values are igamma_array's)."""
    a, x = np.broadcast_arrays(np.asarray(alpha, dtype=np.float64), np.asarray(x, dtype=np.float64))
    p, q = np.where(x > 0, np.nan, 0.0), np.where(x > 0, np.nan, 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        low = (x > 0) & (x < a + 1)
        if low.any():
            al, xl = a[low], x[low]
            s, _ = _lower_series(al, xl)
            p[low] = np.exp(al * np.log(xl) - xl - lgamma_array(al + 1)) * s
            q[low] = 1 - p[low]
        high = x >= a + 1
        if high.any():
            ah, xh = a[high], x[high]
            f, _ = _upper_fraction(ah, xh)
            q[high] = np.exp(ah * np.log(xh) - xh - lgamma_array(ah)) * f
            p[high] = 1 - q[high]
    return np.where(x == np.inf, 0.0, q) if upper else np.where(x == np.inf, 1.0, p)


def igamma_array(a: Any, x: Any, upper: bool = False) -> np.ndarray:
    """P(a, x) (or with upper, Q) with torch.igamma's values at the edges: nan for a < 0, x < 0, a = x = 0
    and a = x = inf; P = 1 at a = 0; P = 0 at a = inf."""
    a, x = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(x, dtype=np.float64))
    out = regularized_gamma_array(a, x, upper)
    out = np.where(a == 0, 0.0 if upper else 1.0, out)
    out = np.where(a == np.inf, 1.0 if upper else 0.0, out)
    bad = (a < 0) | (x < 0) | np.isnan(a) | np.isnan(x) | ((a == 0) & (x == 0)) | ((a == np.inf) & (x == np.inf))
    return np.where(bad, np.nan, out)


def _host_float64(fn: Any, x: Any) -> Any:
    """fn on x's values in float64 on the host, returned in x's dtype on x's device."""
    host = to_host(x)
    with np.errstate(over="ignore"):  # a float64 value beyond float32's range rounds to inf, silently as torch
        out = fn(host).astype(host.dtype, copy=False)
    return out if type(x) is np.ndarray else move(out, device_of(x))


def _kernel(name: str, x: Any) -> Any:
    """The device's own kernel `name` (cupyx.scipy.special's) for a device array x, or None (NumPy's arrays,
    or a device without it)."""
    return None if type(x) is np.ndarray else getattr(backend_of(x).namespace, name, None)


def _on_device(name: str, host_fn: Any, x: Any, edges: Any) -> Any:
    """host_fn(x) in x's dtype: on x's device with its kernel `name` and `edges(xp, x, out)` (the host
    function's values where the kernel's may differ), else through `_host_float64`."""
    kernel = _kernel(name, x)
    if kernel is None:
        return _host_float64(host_fn, x)
    xp = backend_of(x).xp
    return edges(xp, x, kernel(x).astype(x.dtype, copy=False))


def _lgamma_edges(xp: Any, x: Any, out: Any) -> Any:
    return xp.where(xp.isinf(x) | ((x <= 0) & (x == xp.floor(x))), xp.inf, out)  # the poles and ±inf: +inf


def _digamma_edges(xp: Any, x: Any, out: Any) -> Any:
    out = xp.where(x == 0, xp.copysign(xp.inf, -x), out)  # −inf at +0, +inf at −0
    return xp.where(((x < 0) & (x == xp.floor(x))) | (x == -xp.inf), xp.nan, out)


def _trigamma_device(x: Any) -> Any:
    """ψ'(x) = polygamma(1, x) on x's device for x > 0; the reflection ψ'(x) = π²/sin²(πx) − ψ'(1 − x)
    below, as trigamma_array (the kernel's zeta is not trusted at negative arguments)."""
    kernel, xp = _kernel("polygamma", x), backend_of(x).xp
    pos = x > 0
    y = xp.where(pos, x, 1 - xp.where(xp.isfinite(x), x, 0))
    p = kernel(xp.ones_like(y), y).astype(x.dtype, copy=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = xp.sin(math.pi * (x - xp.rint(x)))  # sin(πx) up to its sign, exact near the integers
        out = xp.where(pos, p, (math.pi / s) ** 2 - p)
    out = xp.where((x <= 0) & (x == xp.floor(x)), xp.inf, out)  # the poles
    out = xp.where(x == xp.inf, 0.0, out)
    return xp.where(xp.isnan(x) | (x == -xp.inf), xp.nan, out).astype(x.dtype, copy=False)


def _erfinv_edges(xp: Any, x: Any, out: Any) -> Any:
    out = xp.where(xp.abs(x) == 1, xp.copysign(xp.inf, x), out)
    return xp.where(xp.abs(x) > 1, xp.nan, out)


def _i0_edges(xp: Any, x: Any, out: Any) -> Any:
    return xp.where(xp.isnan(x), xp.nan, out)


def _i1_edges(xp: Any, x: Any, out: Any) -> Any:
    return xp.where(xp.isfinite(x), out, xp.nan)  # ±inf gives nan, as i1_array


def _lgamma(x: Any) -> Any:
    return _on_device("gammaln", lgamma_array, x, _lgamma_edges)


def _digamma(x: Any) -> Any:
    return _on_device("digamma", digamma_array, x, _digamma_edges)


def _trigamma(x: Any) -> Any:
    return _host_float64(trigamma_array, x) if _kernel("polygamma", x) is None else _trigamma_device(x)


def _i0(x: Any) -> Any:
    return _on_device("i0", i0_array, x, _i0_edges)


def _i1(x: Any) -> Any:
    return _on_device("i1", i1_array, x, _i1_edges)


class Lgamma(Op):
    """y = ln|Γ(x)|.  dy/dx = ψ(x)."""

    def forward(self, x):
        return _lgamma(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy * (_digamma(x) if self.xp.plain else Digamma.apply(x))


class Digamma(Op):
    """y = ψ(x).  dy/dx = ψ'(x)."""

    def forward(self, x):
        return _digamma(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy * (_trigamma(x) if self.xp.plain else Trigamma.apply(x))


class Trigamma(Op):
    """y = ψ'(x).  No gradient of its own here (polygamma(2) is not written)."""

    differentiable = False

    def forward(self, x):
        return _trigamma(x)


class Erfinv(Op):
    """y = erf⁻¹(x).  dy/dx = √π/2 · e^(y²)."""

    save_output = True

    def forward(self, x):
        return _on_device("erfinv", erfinv_array, x, _erfinv_edges)

    def backward(self, dy):
        return dy * (math.sqrt(math.pi) / 2) * self.xp.exp(self.output * self.output)


class I0(Op):
    """y = I₀(x).  dy/dx = I₁(x)."""

    def forward(self, x):
        return _i0(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy * (_i1(x) if self.xp.plain else I1.apply(x))


class I1(Op):
    """y = I₁(x).  dy/dx = I₀(x) − I₁(x)/x (½ at x = 0)."""

    def forward(self, x):
        return _i1(x)

    def backward(self, dy):
        (x,) = self.inputs
        xp = self.xp
        zero = x == 0
        safe = xp.where(zero, 1.0, x)
        if xp.plain:
            d = _i0(x) - _i1(x) / safe
        else:
            d = I0.apply(x) - I1.apply(x) / safe
        return dy * xp.where(zero, 0.5, d)


def _float(x: Any) -> Tensor:
    t = as_tensor(x)
    if t.array.dtype.kind != "f":
        return Tensor._make(t.array.astype(get_default_dtype()), None, False)
    return t


def lgamma(input: Any) -> Tensor:
    """ln|Γ(x)|, elementwise (+inf at 0 and the negative integers)."""
    return Lgamma.apply(_float(input))


def digamma(input: Any) -> Tensor:
    """ψ(x) = d/dx ln Γ(x), elementwise."""
    return Digamma.apply(_float(input))


def polygamma(n: int, input: Any) -> Tensor:
    """The n-th derivative of ψ; n = 0 (digamma) and 1 (trigamma) only."""
    if n == 0:
        return digamma(input)
    if n == 1:
        return Trigamma.apply(_float(input))
    raise NotImplementedError(f"polygamma: only n = 0 and 1 are written, got n = {n}")


def erfinv(input: Any) -> Tensor:
    """The inverse error function, elementwise (±inf at ±1, nan outside [−1, 1])."""
    return Erfinv.apply(_float(input))


def i0(input: Any) -> Tensor:
    """The modified Bessel function of the first kind of order 0, elementwise (gradient I₁)."""
    return I0.apply(_float(input))


def mvlgamma(input: Any, p: int) -> Tensor:
    """The multivariate log-gamma of dimension p: Σ_{i<p} lgamma(x − i/2) + p(p−1)/4 · ln π."""
    if int(p) != p or p < 1:
        raise RuntimeError(f"mvlgamma: p has to be an integer greater than or equal to 1, got {p!r}")
    t = _float(input)
    out = lgamma(t)
    for i in range(1, int(p)):
        out = out + lgamma(t - i / 2)
    return out + p * (p - 1) / 4 * math.log(math.pi)


class Igamma(Op):
    """y = P(a, x) (upper: Q(a, x) = 1 − P).  dy/dx = ±xᵃ⁻¹e⁻ˣ/Γ(a) (− for Q); dy/da is not written, as in
    PyTorch."""

    def forward(self, a, x, *, upper):
        kernel = _kernel("gammaincc" if upper else "gammainc", x)
        if kernel is not None:  # on x's device, with igamma_array's values at the edges
            xp = backend_of(x).xp
            a, x = xp.broadcast_arrays(a, x)
            out = kernel(a, x).astype(x.dtype, copy=False)
            out = xp.where(a == 0, 0.0 if upper else 1.0, out)
            out = xp.where(a == xp.inf, 1.0 if upper else 0.0, out)
            bad = (a < 0) | (x < 0) | xp.isnan(a + x) | ((a == 0) & (x == 0)) | ((a == xp.inf) & (x == xp.inf))
            return xp.where(bad, xp.nan, out).astype(x.dtype, copy=False)
        host_a, host_x = to_host(a), to_host(x)
        out = igamma_array(host_a, host_x, upper).astype(host_x.dtype, copy=False)
        return out if type(x) is np.ndarray else move(out, device_of(x))

    def backward(self, dy):
        op = "igammac" if self.params["upper"] else "igamma"
        if self.needs_input_grad[0]:
            raise NotImplementedError(f"the derivative for '{op}: input' is not implemented (nor in PyTorch); "
                                      f"only x, the second argument, gets a gradient: detach the first")
        a, x = self.inputs
        xp = self.xp
        positive = x > 0
        log_x = xp.log(xp.where(positive, x, 1.0))
        lg = _lgamma(a) if xp.plain else Lgamma.apply(a)
        pdf = xp.where(positive, xp.exp((a - 1) * log_x - x - lg), 0.0)
        return None, (-dy if self.params["upper"] else dy) * pdf


def _igamma(op: str, input: Any, other: Any, upper: bool) -> Tensor:
    from .arithmetic import promote

    a = as_tensor(input, other if isinstance(other, Tensor) else None)
    a, x = promote(a, as_tensor(other, a))
    if a.array.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for dtype {a.dtype}; it takes floating-point tensors "
                                  "(convert with .double() or .float())")
    try:
        return Igamma.apply(a, x, upper=upper)
    except ValueError:
        raise ShapeError(f"{op}: shapes {a.shape} and {x.shape} cannot be broadcast together (compare them from "
                         "the right: each pair of sizes must be equal or one of them 1)") from None


def igamma(input: Any, other: Any) -> Tensor:
    """P(input, other) = γ(a, x)/Γ(a), the regularized lower incomplete gamma function (special.gammainc)."""
    return _igamma("igamma", input, other, upper=False)


def igammac(input: Any, other: Any) -> Tensor:
    """Q(input, other) = 1 − P(a, x), the regularized upper incomplete gamma function (special.gammaincc)."""
    return _igamma("igammac", input, other, upper=True)


# --- torch.special's remaining functions: erfcx ndtr ndtri log_ndtr i0e i1e i1 entr xlog1py zeta --------------
# Forwards are float64 on the host (rounded to the input's dtype) unless x's device has the kernel
# (cupyx.scipy.special's erfcx, ndtr, ndtri, log_ndtr, i0e, i1e, entr, zeta), as the functions above.
_SQRT1_2 = math.sqrt(0.5)
_TWO_SQRT_PI = 2 / math.sqrt(math.pi)
_ERFCX_CF = 6.0  # erfcx's continued fraction from here up; exp(x²)·erfc(x) below
_CF_TERMS = 60  # the fraction's error at x = 6 is far below 1e-16 after ~40 terms


def _exp_square(x: np.ndarray) -> np.ndarray:
    """exp(x²) without the rounding of x² (x split in halves of 26 bits, so hi² is exact)."""
    hi = np.ldexp(np.round(np.ldexp(x, -6) * 2.0 ** 26), -20)  # x to 26 significant bits (|x| < 64)
    hi = np.where(np.abs(x) < 64, hi, x)
    return np.exp(hi * hi) * np.exp((x - hi) * (x + hi))


@ignoring(over="ignore", invalid="ignore", under="ignore")
def erfcx_array(x: np.ndarray) -> np.ndarray:
    """erfcx(x) = exp(x²)·erfc(x) elementwise, float64: Laplace's continued fraction
    1/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))) for |x| ≥ 6, exp(x²)·erfc(|x|) below; x < 0 through
    erfcx(x) = 2exp(x²) − erfcx(−x) (+inf once exp(x²) overflows)."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    big = np.where(a >= _ERFCX_CF, a, _ERFCX_CF)
    frac = big.copy()
    for k in range(_CF_TERMS, 0, -1):  # bottom up: x + (k/2)/(…)
        frac = big + (k / 2) / frac
    cf = np.where(big > 1e8, 1 / big, 1 / frac) / math.sqrt(math.pi)  # 1/x + … : the fraction's limit
    small = np.where(a < _ERFCX_CF, a, 0.0)
    direct = _exp_square(small) * _erfc_scalar(small)
    pos = np.where(a >= _ERFCX_CF, cf, direct)
    out = np.where(x < 0, 2 * _exp_square(np.where(x < 0, x, 0.0)) - pos, pos)
    out = np.where(x == -np.inf, np.inf, out)
    return np.where(x == np.inf, 0.0, np.where(np.isnan(x), np.nan, out))


@ignoring(divide="ignore", invalid="ignore", under="ignore")
def ndtr_array(x: np.ndarray) -> np.ndarray:
    """Φ(x), the standard normal CDF, float64: ½erfc(−x/√2) (tiny values keep their relative accuracy)."""
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * _erfc_scalar(-x * _SQRT1_2)


@ignoring(divide="ignore", invalid="ignore", under="ignore", over="ignore")
def log_ndtr_array(x: np.ndarray) -> np.ndarray:
    """ln Φ(x), float64: ln(erfcx(−t)/2) − t² (t = x/√2) below x = −1, so it stays finite far out; log1p(−erfc(t)/2)
    above."""
    x = np.asarray(x, dtype=np.float64)
    t = x * _SQRT1_2
    low = np.where(x < -1, t, -1.0)
    out = np.where(x < -1, np.log(erfcx_array(-low) / 2) - low * low, np.log1p(-_erfc_scalar(t) / 2))
    return np.where(np.isnan(x), np.nan, out)


@ignoring(divide="ignore", invalid="ignore", under="ignore", over="ignore")
def ndtri_array(p: np.ndarray) -> np.ndarray:
    """Φ⁻¹(p), float64: √2·erfinv(2p − 1) for p in [¼, ¾] (2p − 1 is exact there); in the tails Newton's method on
    ln erfc(z) = ln(2q), q = min(p, 1 − p) (1 − p exact for p ≥ ½), from Abramowitz–Stegun 26.2.23's guess, so q
    down to the subnormals keeps its relative accuracy."""
    p = np.asarray(p, dtype=np.float64)
    central = np.abs(p - 0.5) <= 0.25
    out = math.sqrt(2) * erfinv_array(np.where(central, 2 * p - 1, 0.0))
    q = np.where(central | ~(p > 0) | ~(p < 1), 0.25, np.minimum(p, 1 - p))
    t = np.sqrt(-2 * np.log(q))
    z = (t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1 + t * (1.432788 + t * (0.189269 + t * 0.001308))))
    z = z * _SQRT1_2  # erfc(z) ≈ 2q
    log2q = np.log(2 * q)
    for _ in range(6):  # quadratic convergence from the guess's 4.5e-4
        e = erfcx_array(z)
        z = z + (np.log(e) - z * z - log2q) * (math.sqrt(math.pi) / 2) * e
    tail = -math.sqrt(2) * z
    out = np.where(central, out, np.where(p < 0.5, tail, -tail))
    out = np.where(p == 0, -np.inf, np.where(p == 1, np.inf, out))
    return np.where((p < 0) | (p > 1) | np.isnan(p), np.nan, out)


@ignoring(over="ignore", invalid="ignore", under="ignore")
def _bessel_scaled(x: np.ndarray, nu: int) -> np.ndarray:
    """e^(−|x|)·I_ν(|x|) for ν = 0, 1: the power series times e^(−|x|) up to 30, Hankel's asymptotic series
    e^(−x)I_ν(x) ≈ 1/√(2πx) · Σ (−1)^k Π_{j≤k}(4ν² − (2j−1)²) / (k!(8x)^k) beyond (as i1_array)."""
    a = np.abs(x)
    small = np.where(a <= _I1_SERIES_MAX, a, 0.0)
    half = small / 2
    q = half * half
    term = half if nu == 1 else np.ones_like(half)
    series = term.copy()
    for k in range(1, 90):
        term = term * q / (k * (k + nu))
        series = series + term
    series = series * np.exp(-small)
    big = np.where(a > _I1_SERIES_MAX, a, _I1_SERIES_MAX + 1)
    inv8 = 1 / (8 * big)
    coef = np.ones_like(big)
    asym = np.ones_like(big)
    for k in range(1, 30):
        coef = coef * ((2 * k - 1) ** 2 - 4 * nu * nu) * inv8 / k
        asym = asym + coef
    asym = asym / np.sqrt(2 * np.pi * big)
    out = np.where(a <= _I1_SERIES_MAX, series, asym)
    return np.where(a == np.inf, 0.0, out)


def i0e_array(x: np.ndarray) -> np.ndarray:
    """e^(−|x|)·I₀(x) elementwise, float64 (finite for every x: 0 at ±inf)."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(np.isnan(x), np.nan, _bessel_scaled(np.where(np.isnan(x), 0.0, x), 0))


def i1e_array(x: np.ndarray) -> np.ndarray:
    """e^(−|x|)·I₁(x) elementwise, float64 (odd; 0 at ±inf)."""
    x = np.asarray(x, dtype=np.float64)
    out = _bessel_scaled(np.where(np.isnan(x), 0.0, x), 1)
    return np.where(np.isnan(x), np.nan, np.where(x < 0, -out, out))


#: the Euler–Maclaurin tail's denominators (2k)!/B₂ₖ (Cephes' zeta)
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
           -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
           1.8152105401943546773e17, -7.1661652561756670113e18)
_ZETA_MAX_SHIFT = 10_000  # q below −10⁴ (with integer x) is summed only this far: torch's values there are rough too


@ignoring(over="ignore", invalid="ignore", under="ignore", divide="ignore")
def zeta_array(x: Any, q: Any) -> np.ndarray:
    """ζ(x, q) = Σₙ (n + q)^(−x), the Hurwitz zeta function, float64, with torch's (Cephes') edges: +inf at x = 1
    and at q a non-positive integer, nan for x < 1 and for q < 0 with x not an integer. Σ of the first terms until
    n + q > 9, then the Euler–Maclaurin tail with 12 Bernoulli terms; (1/(x−1) + 1/(2q))·q^(1−x) for q > 10⁸."""
    x, q = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(q, dtype=np.float64))
    x, q = x.copy(), q.copy()
    s = q ** -x
    a = q.copy()
    b = np.zeros_like(s)
    i = 0
    while i < 9 or ((a <= 9) & (i < _ZETA_MAX_SHIFT)).any():
        more = (a <= 9) | (i < 9)
        a = np.where(more, a + 1, a)
        b = np.where(more, a ** -x, b)
        s = np.where(more, s + b, s)
        i += 1
    w = a
    s = s + b * w / (x - 1) - 0.5 * b
    fac = np.ones_like(s)
    k = 0.0
    for coef in _ZETA_A:
        fac = fac * (x + k)
        b = b / w
        s = s + fac * b / coef
        k += 1
        fac = fac * (x + k)
        b = b / w
        k += 1
    s = np.where(q > 1e8, (1 / (x - 1) + 1 / (2 * q)) * q ** (1 - x), s)
    bad = (x < 1) | ((q <= 0) & (q != np.floor(q)) & (x != np.floor(x)))
    inf = (x == 1) | ((q <= 0) & (q == np.floor(q)))
    out = np.where(inf, np.inf, np.where(bad, np.nan, s))
    return np.where(np.isnan(x) | np.isnan(q), np.nan, np.where((x == 1) & ~np.isnan(q), np.inf, out))


_J_SERIES_MAX = 4.0  # the power series' terms stay below ~4 up to here: no cancellation worth the name
_J_HANKEL_MIN = 25.0  # Hankel's series' smallest term, ~e^(−2x), is below 1e-21 from here
_J_MILLER_START = 80  # the backward recurrence's first order, well above x ≤ 25


@ignoring(over="ignore", invalid="ignore", under="ignore", divide="ignore")
def bessel_j_array(x: Any, nu: int) -> np.ndarray:
    """J_ν(x) for ν = 0, 1 elementwise, float64: the power series for |x| ≤ 4; Miller's backward recurrence
    J_{n−1} = (2n/x)J_n − J_{n+1}, normalised by J₀ + 2ΣJ₂ₖ = 1, up to 25; Hankel's asymptotic series
    √(2/(πx))·(P cos ω − Q sin ω), ω = x − (2ν + 1)π/4, beyond. Absolute error ~1e-16 (so relative error grows at the
    zeros, as with any such method); ±inf gives nan, as torch.special.bessel_j0/j1."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    # power series Σ (−1)^k (x/2)^(2k+ν) / (k!(k+ν)!)
    s = np.where(a <= _J_SERIES_MAX, a, 0.0) / 2
    q = -s * s
    term = s if nu == 1 else np.ones_like(s)
    series = term.copy()
    for k in range(1, 30):
        term = term * q / (k * (k + nu))
        series = series + term
    # Miller's backward recurrence from a tiny start; every order's value is defined up to one common factor
    m = np.where((a > _J_SERIES_MAX) & (a <= _J_HANKEL_MIN), a, 10.0)
    j_next, j = np.zeros_like(m), np.full_like(m, 1e-30)
    norm = np.zeros_like(m)
    j0 = j1 = j
    for n in range(_J_MILLER_START, 0, -1):
        j_prev = (2 * n / m) * j - j_next
        j_next, j = j, j_prev  # j is now J_{n−1}
        if (n - 1) % 2 == 0 and n - 1 > 0:
            norm = norm + 2 * j
        if n == 2:
            j1 = j
    j0 = j
    miller = (j0 if nu == 0 else j1) / (norm + j0)
    # Hankel: t_k = Π_{i≤k} (4ν² − (2i−1)²) / (k! (8x)^k); P = t₀ − t₂ + t₄ …, Q = t₁ − t₃ + …
    h = np.where(a > _J_HANKEL_MIN, a, _J_HANKEL_MIN + 1)
    t = np.ones_like(h)
    p_sum, q_sum = np.ones_like(h), np.zeros_like(h)
    for k in range(1, 40):
        t = t * (4 * nu * nu - (2 * k - 1) ** 2) / (k * 8 * h)
        sign = 1 if (k // 2) % 2 == 0 else -1
        if k % 2 == 0:
            p_sum = p_sum + sign * t
        else:
            q_sum = q_sum + sign * t
    c, sn = np.cos(h), np.sin(h)
    if nu == 0:  # cos and sin of x − π/4 from those of x (exact reduction for large x is NumPy's)
        cw, sw = (c + sn) * _SQRT1_2, (sn - c) * _SQRT1_2
    else:  # of x − 3π/4
        cw, sw = (sn - c) * _SQRT1_2, -(sn + c) * _SQRT1_2
    hankel = np.sqrt(2 / (np.pi * h)) * (p_sum * cw - q_sum * sw)
    out = np.where(a <= _J_SERIES_MAX, series, np.where(a <= _J_HANKEL_MIN, miller, hankel))
    if nu == 1:
        out = np.where(x < 0, -out, out)
    return np.where(np.isfinite(x), out, np.nan)


class BesselJ(Op):
    """y = J_ν(x), ν = 0 or 1.  No gradient, as torch.special.bessel_j0/j1 (their outputs do not require grad)."""

    differentiable = False

    def forward(self, x, *, nu):
        return _host_float64(lambda h: bessel_j_array(h, nu), x)


def _ndtr_device(xp: Any, x: Any, out: Any) -> Any:
    return out


def _erfcx_edges(xp: Any, x: Any, out: Any) -> Any:
    return xp.where(x == xp.inf, 0.0, xp.where(x == -xp.inf, xp.inf, out))


def _scaled_bessel_edges(xp: Any, x: Any, out: Any) -> Any:
    return xp.where(xp.isnan(x), xp.nan, xp.where(xp.isinf(x), 0.0, out))


def _erfcx(x: Any) -> Any:
    return _on_device("erfcx", erfcx_array, x, _erfcx_edges)


def _i0e(x: Any) -> Any:
    return _on_device("i0e", i0e_array, x, _scaled_bessel_edges)


def _i1e(x: Any) -> Any:
    return _on_device("i1e", i1e_array, x, _scaled_bessel_edges)


class Erfcx(Op):
    """y = erfcx x = e^(x²)·erfc x.  dy/dx = 2x·y − 2/√π."""

    save_output = True

    def forward(self, x):
        return _erfcx(x)

    def backward(self, dy):
        (x,) = self.inputs
        return dy * (2 * x * self.output - _TWO_SQRT_PI)


class Ndtr(Op):
    """y = Φ(x) = ½erfc(−x/√2).  dy/dx = e^(−x²/2)/√(2π)."""

    def forward(self, x):
        return _on_device("ndtr", ndtr_array, x, _ndtr_device)

    def backward(self, dy):
        (x,) = self.inputs
        return dy * self.xp.exp(-(x * x) / 2) / math.sqrt(2 * math.pi)


class LogNdtr(Op):
    """y = ln Φ(x).  dy/dx = e^(−x²/2 − y)/√(2π) (torch's formula)."""

    save_output = True

    def forward(self, x):
        return _on_device("log_ndtr", log_ndtr_array, x, _ndtr_device)

    def backward(self, dy):
        (x,) = self.inputs
        return dy * self.xp.exp(-(x * x) / 2 - self.output) / math.sqrt(2 * math.pi)


class Ndtri(Op):
    """y = Φ⁻¹(x).  dy/dx = √(2π)·e^(y²/2)."""

    save_output = True

    def forward(self, x):
        return _on_device("ndtri", ndtri_array, x, _ndtr_device)

    def backward(self, dy):
        y = self.output
        return dy * math.sqrt(2 * math.pi) * self.xp.exp(y * y / 2)


class I0e(Op):
    """y = e^(−|x|)I₀(x).  dy/dx = i1e(x) − sgn(x)·y."""

    save_output = True

    def forward(self, x):
        return _i0e(x)

    def backward(self, dy):
        (x,) = self.inputs
        i1e_x = _i1e(x) if self.xp.plain else I1e.apply(x)
        return dy * (i1e_x - self.xp.sign(x) * self.output)


class I1e(Op):
    """y = e^(−|x|)I₁(x).  dy/dx = i0e(x) − y·(sgn x + 1/x) (½ where |x| ≤ eps, as torch)."""

    save_output = True

    def forward(self, x):
        return _i1e(x)

    def backward(self, dy):
        (x,) = self.inputs
        xp = self.xp
        x_arr = self.input_arrays[0]
        eps = float(np.finfo(x_arr.dtype).eps)
        tiny = backend_of(x_arr).xp.abs(x_arr) <= eps  # a mask: plain arrays even under create_graph
        safe = xp.where(tiny, eps, x)
        i0e_x = _i0e(safe) if xp.plain else I0e.apply(safe)
        return dy * xp.where(tiny, 0.5, i0e_x - self.output * (xp.sign(safe) + 1 / safe))


class Entr(Op):
    """y = −x·ln x (0 at x = 0, −inf for x < 0).  dy/dx = −(1 + ln x) (torch's: inf at 0, nan below)."""

    def forward(self, x):
        xp = backend_of(x).xp
        with np.errstate(divide="ignore", invalid="ignore"):
            out = -x * xp.log(xp.where(x > 0, x, 1))
        out = xp.where(x == 0, 0, xp.where(x < 0, -xp.inf, out))
        return xp.where(xp.isnan(x), xp.nan, out).astype(x.dtype, copy=False)

    def backward(self, dy):
        (x,) = self.inputs
        with np.errstate(divide="ignore", invalid="ignore"):
            return dy * -(1 + self.xp.log(x))


class Xlog1py(Op):
    """y = x·ln(1 + z), 0 where x = 0 (unless z is nan).  dx = dy·ln(1 + z) (0 where x = 0 and z ≤ −1, as torch),
    dz = dy·x/(1 + z)."""

    def forward(self, x, z):
        xp = backend_of(x).xp
        with np.errstate(divide="ignore", invalid="ignore"):
            out = x * xp.log1p(z)
        return xp.where((x == 0) & ~xp.isnan(z), 0, out).astype(out.dtype, copy=False)

    def backward(self, dy):
        xp = self.xp
        x, z = self.inputs
        x_arr, z_arr = self.input_arrays
        dx = dz = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.needs_input_grad[0]:
                masked = (x_arr == 0) & (z_arr <= -1)
                dx = dy * xp.where(masked, 0, _log1p(xp, xp.where(masked, 0, z)))
            if self.needs_input_grad[1]:
                dz = dy * x / (z + 1)
        return dx, dz


def _log1p(xp: Any, z: Any) -> Any:
    """ln(1 + z) in the backward's namespace (the array's own log1p, or the differentiable op under create_graph)."""
    if xp.plain:
        return backend_of(z).xp.log1p(z)
    from .unary import log1p as log1p_op

    return log1p_op(z)


class Zeta(Op):
    """y = ζ(x, q), the Hurwitz zeta function.  dy/dq = −x·ζ(x + 1, q); dy/dx is not implemented, as in PyTorch."""

    def forward(self, x, q):
        kernel = _kernel("zeta", q)
        if kernel is not None:
            xp = backend_of(q).xp
            x, q = xp.broadcast_arrays(x, q)
            return kernel(x, q).astype(q.dtype, copy=False)
        out = zeta_array(to_host(x), to_host(q)).astype(np.result_type(x.dtype, q.dtype), copy=False)
        return out if type(q) is np.ndarray else move(out, device_of(q))

    def backward(self, dy):
        if self.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented (nor in PyTorch): only other, "
                                      "the second argument, gets a gradient; detach the first")
        x, q = self.inputs
        if self.xp.plain:
            return None, dy * -x * Zeta.forward(self, x + 1, q)
        return None, dy * -x * Zeta.apply(x + 1, q)


def _float_pair(op: str, input: Any, other: Any) -> tuple[Tensor, Tensor]:
    from .arithmetic import _float_pair as pair

    return pair(op, input, other)


def erfcx(input: Any) -> Tensor:
    """The scaled complementary error function e^(x²)·erfc(x), elementwise."""
    return Erfcx.apply(_float(input))


def ndtr(input: Any) -> Tensor:
    """The standard normal CDF Φ(x), elementwise."""
    return Ndtr.apply(_float(input))


def ndtri(input: Any) -> Tensor:
    """Φ⁻¹(p), the standard normal quantile, elementwise (±inf at 1 and 0, nan outside [0, 1])."""
    return Ndtri.apply(_float(input))


def log_ndtr(input: Any) -> Tensor:
    """ln Φ(x), elementwise, finite far into the left tail."""
    return LogNdtr.apply(_float(input))


def i0e(input: Any) -> Tensor:
    """The exponentially scaled modified Bessel function e^(−|x|)·I₀(x), elementwise."""
    return I0e.apply(_float(input))


def i1(input: Any) -> Tensor:
    """The modified Bessel function of the first kind of order 1, elementwise."""
    return I1.apply(_float(input))


def i1e(input: Any) -> Tensor:
    """The exponentially scaled modified Bessel function e^(−|x|)·I₁(x), elementwise."""
    return I1e.apply(_float(input))


def bessel_j0(input: Any) -> Tensor:
    """The Bessel function of the first kind of order 0, elementwise (no gradient, as torch)."""
    return BesselJ.apply(_float(input), nu=0)


def bessel_j1(input: Any) -> Tensor:
    """The Bessel function of the first kind of order 1, elementwise (no gradient, as torch)."""
    return BesselJ.apply(_float(input), nu=1)


def entr(input: Any) -> Tensor:
    """The entropy term −x·ln x, elementwise (0 at 0, −inf for x < 0)."""
    return Entr.apply(_float(input))


def xlog1py(input: Any, other: Any) -> Tensor:
    """input · ln(1 + other), elementwise, with 0 wherever input is 0 (nan in other stays nan)."""
    return Xlog1py.apply(*_float_pair("xlog1py", input, other))


def zeta(input: Any, other: Any) -> Tensor:
    """The Hurwitz zeta function ζ(input, other) = Σₙ (n + other)^(−input), elementwise."""
    return Zeta.apply(*_float_pair("zeta", input, other))
