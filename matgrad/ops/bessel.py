"""torch.special's other Bessel-type functions: Y₀ Y₁, I₀ I₁, K₀ K₁ (and eˣK₀, eˣK₁), spherical j₀, Airy Ai.

Each forward is NumPy in float64 on the host (an input of another float dtype is computed in float64 and
rounded back, a device array goes to the host and back), as ops/special.py's functions; accurate to a few
roundings (~1e-15, checked against mpmath) relative, or of the amplitude where the function oscillates (Y, j₀,
Ai on the left: near their zeros no method keeps relative accuracy).

y0 y1    x ≤ 2: the power series (DLMF 10.8.2) beside J's; 2 < x ≤ 25: Neumann's series Y₀ = (2/π)((ln(x/2) + γ)J₀
         − 2Σ(−1)ᵏJ₂ₖ/k) and its derivative (for Y₁) from one Miller backward recurrence for the Jₙ, normalised by
         J₀² + 2ΣJₙ² = 1 (positive terms: no cancellation); beyond: Hankel's asymptotic series.
i0 i1    ops/special.py's i0 and i1 (NumPy's i0 and the power / asymptotic series); beyond |x| = 700 its e^(−|x|)I_ν
         times e^|x| in two halves, so they stay finite up to 713.98 (torch's overflow from 709.78); nan at ±inf.
k0 k1    x ≤ 1: the power series (DLMF 10.31.1) beside I's; 1 < x ≤ 20: the trapezoidal rule on
         eˣK_ν(x) = ∫₀^∞ e^(−x(cosh t − 1)) cosh(νt) dt, which converges exponentially in the step for this analytic,
         doubly-exponentially decaying integrand (81 nodes give full float64 accuracy); beyond: Hankel's asymptotic
         series. The scaled eˣK_ν are computed as such, so they stay finite for any x.
j0       sin(x)/x (1 at 0); its derivative −j₁, j₁ = sin(x)/x² − cos(x)/x from its power series below |x| = 1.
airy_ai  −9.5 ≤ x ≤ 1: the Maclaurin series Ai = c₁f(x) − c₂g(x) (DLMF 9.4.1) in double-double arithmetic, which
         cancels to a full double on the left, where its terms reach e^ζ (ζ = (2/3)|x|^(3/2)); x > 1: Ai(x) =
         (1/π)√(x/3)·K_⅓(ζ) (DLMF 9.6.1) by the same trapezoidal rule / Hankel series as K; x < −9.5: the
         asymptotic series (DLMF 9.7.9), its phase ζ − π/4 carried in double-double, which keeps ~1e-15 up to
         |x| ≈ 1e11 (beyond, double-double's own 1e-32 of ζ is what limits the phase).

Gradients are exact (torch's outputs have none: they do not require grad): Y₀' = −Y₁, Y₁' = Y₀ − Y₁/x, I₀' = I₁,
I₁' = I₀ − I₁/x, K₀' = −K₁, K₁' = −K₀ − K₁/x, (eˣK₀)' = eˣ(K₀ − K₁), (eˣK₁)' = eˣK₁(1 − 1/x) − eˣK₀, j₀' = −j₁,
j₁' = j₀ − 2j₁/x, Ai' (its own series: the f and g series' derivatives, K_⅔, DLMF 9.7.10), Ai'' = x·Ai; each is an
op of its own, so gradients of gradients are exact too.
"""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from ..autograd.op import Op
from ..kernels import ignoring
from ..tensor import Tensor
from .special import _float, _host_float64, i0_array, i0e_array, i1_array, i1e_array

__all__ = ["airy_ai", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
           "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0"]

_EULER = 0.57721566490153286061
_SQRT1_2 = math.sqrt(0.5)
_SERIES_TERMS = 24  # x ≤ 2: (x²/4)^k/(k!)² < 1e-40 by k = 24
_Y_SERIES_MAX = 2.0
_Y_HANKEL_MIN = 25.0  # Hankel's series' smallest term, ~e^(−2x), is below 1e-21 from here
_MILLER_START = 80  # Jₙ(25) for n = 80 is ~1e-31: far below anything the normalisation sees
_K_SERIES_MAX = 1.0
_K_HANKEL_MIN = 20.0  # e^(−2x) < 1e-17: the asymptotic series is good to a rounding from here
_HANKEL_TERMS = 30


def _series_sums(x: np.ndarray, sign: float) -> tuple[np.ndarray, ...]:
    """The power series beside Y (sign −1) and K (sign +1), s = sign·x²/4:
    A₀ = Σ sᵏ/(k!)², A₁ = Σ sᵏ/(k!(k+1)!), S₀ = Σ_{k≥1} Hₖ sᵏ/(k!)², S₁ = Σ (Hₖ + Hₖ₊₁) sᵏ/(k!(k+1)!)."""
    s = sign * x * x / 4
    t0 = np.ones_like(x)  # sᵏ/(k!)²
    t1 = np.ones_like(x)  # sᵏ/(k!(k+1)!)
    a0, a1, s0, s1 = t0.copy(), t1.copy(), np.zeros_like(x), t1.copy()  # S₁'s k = 0 term: H₀ + H₁ = 1
    h = 0.0
    for k in range(1, _SERIES_TERMS):
        h += 1 / k
        t0 = t0 * s / (k * k)
        t1 = t1 * s / (k * (k + 1))
        a0, a1 = a0 + t0, a1 + t1
        s0 = s0 + h * t0
        s1 = s1 + (2 * h + 1 / (k + 1)) * t1
    return a0, a1, s0, s1


def _miller_neumann(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """J₀, J₁ and Neumann's sums N₀ = Σ_{k≥1} (−1)ᵏJ₂ₖ/k, N₁ = Σ_{k≥1} (−1)ᵏ(J₂ₖ₋₁ − J₂ₖ₊₁)/k, for 2 ≤ x ≤ 25,
    from Miller's backward recurrence J_{n−1} = (2n/x)Jₙ − Jₙ₊₁ (every order up to one common factor)."""
    j_next, j = np.zeros_like(x), np.full_like(x, 1e-30)
    squares, linear, n0, n1 = (np.zeros_like(x) for _ in range(4))
    j1 = j
    for n in range(_MILLER_START, 0, -1):
        j_next, j = j, (2 * n / x) * j - j_next  # j is now J_{n−1}
        m = n - 1
        if m == 1:
            j1 = j
        if m == 0:
            break
        squares = squares + 2 * j * j
        if m % 2 == 0:
            linear = linear + 2 * j
            n0 = n0 + ((-1) ** (m // 2) / (m // 2)) * j
        else:  # J₂ᵢ₊₁ enters N₁ from k = i + 1 (as −J₂ₖ₋₁... with k = i + 1) and from k = i (as J₂ₖ₊₁)
            i = (m - 1) // 2
            n1 = n1 + ((-1) ** (i + 1) / (i + 1) - ((-1) ** i / i if i else 0.0)) * j
    norm = np.sqrt(j * j + squares)  # J₀² + 2ΣJₙ² = 1; its sign from J₀ + 2ΣJ₂ₖ = 1
    norm = np.where(j + linear < 0, -norm, norm)
    return j / norm, j1 / norm, n0 / norm, n1 / norm


def _hankel_pq(x: np.ndarray, nu: int) -> tuple[np.ndarray, np.ndarray]:
    """Hankel's P and Q for J_ν, Y_ν (DLMF 10.17.3): tₖ = Π_{i≤k}(4ν² − (2i−1)²)/(k!(8x)ᵏ), P = t₀ − t₂ + …,
    Q = t₁ − t₃ + …"""
    t = np.ones_like(x)
    p, q = np.ones_like(x), np.zeros_like(x)
    for k in range(1, _HANKEL_TERMS):
        t = t * (4 * nu * nu - (2 * k - 1) ** 2) / (k * 8 * x)
        sign = 1 if (k // 2) % 2 == 0 else -1
        if k % 2 == 0:
            p = p + sign * t
        else:
            q = q + sign * t
    return p, q


@ignoring(over="ignore", invalid="ignore", under="ignore", divide="ignore")
def bessel_y_array(x: Any, nu: int) -> np.ndarray:
    """Y_ν(x) for ν = 0, 1 elementwise, float64: −inf at 0, nan for x < 0 and at ±inf (torch's edges)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.full_like(x, np.nan)
    small = (x > 0) & (x <= _Y_SERIES_MAX)
    if small.any():
        xs = x[small]
        a0, a1, s0, s1 = _series_sums(xs, -1.0)
        log_term = np.log(xs / 2) + _EULER
        if nu == 0:
            out[small] = (2 / np.pi) * (log_term * a0 - s0)
        else:
            out[small] = (2 / np.pi) * (log_term * (xs / 2) * a1 - 1 / xs) - xs / (2 * np.pi) * s1
    mid = (x > _Y_SERIES_MAX) & (x <= _Y_HANKEL_MIN)
    if mid.any():
        xm = x[mid]
        j0, j1, n0, n1 = _miller_neumann(xm)
        log_term = np.log(xm / 2) + _EULER
        if nu == 0:
            out[mid] = (2 / np.pi) * (log_term * j0 - 2 * n0)
        else:  # −Y₀' with Jₙ' = (Jₙ₋₁ − Jₙ₊₁)/2
            out[mid] = (2 / np.pi) * (log_term * j1 - j0 / xm + n1)
    big = (x > _Y_HANKEL_MIN) & np.isfinite(x)
    if big.any():
        xb = x[big]
        p, q = _hankel_pq(xb, nu)
        c, s = np.cos(xb), np.sin(xb)  # sin and cos of x − (2ν+1)π/4 from those of x: the reduction stays exact
        if nu == 0:
            sw, cw = (s - c) * _SQRT1_2, (c + s) * _SQRT1_2
        else:
            sw, cw = -(s + c) * _SQRT1_2, (s - c) * _SQRT1_2
        out[big] = np.sqrt(2 / (np.pi * xb)) * (p * sw + q * cw)
    return np.where(x == 0, -np.inf, out)


# --- K: the trapezoidal rule's nodes on [0, 5] (e^(−0.6(cosh 5 − 1)) < 1e-19: the tail is nothing from z = 0.6 up)
_TRAP_STEP = 1 / 16
_TRAP_T = np.arange(81) * _TRAP_STEP
_TRAP_C = 2 * np.sinh(_TRAP_T / 2) ** 2  # cosh t − 1 without its cancellation


def _scaled_k(nu: float, z: np.ndarray) -> np.ndarray:
    """e^z·K_ν(z) for z ≥ 0.6: the trapezoidal rule up to 20, Hankel's series
    √(π/2z)·Σ Π_{j≤k}(4ν² − (2j−1)²)/(k!(8z)ᵏ) (DLMF 10.40.2) beyond."""
    out = np.empty_like(z)
    mid = z <= _K_HANKEL_MIN
    if mid.any():
        zm = z[mid]
        acc = np.zeros_like(zm)
        for t, c in zip(_TRAP_T[:0:-1], _TRAP_C[:0:-1]):  # smallest terms first: the sum keeps its last bits
            acc = acc + math.cosh(nu * t) * np.exp(-zm * c)
        out[mid] = _TRAP_STEP * (acc + 0.5)  # the t = 0 node, halved
    big = ~mid
    if big.any():
        zb = z[big]
        terms = [np.ones_like(zb)]
        for k in range(1, _HANKEL_TERMS):
            terms.append(terms[-1] * ((4 * nu * nu - (2 * k - 1) ** 2) / (8 * k)) / zb)
        acc = np.zeros_like(zb)
        for t in terms[::-1]:  # smallest first
            acc = acc + t
        out[big] = acc * np.sqrt(np.pi / (2 * zb))
    return out


@ignoring(over="ignore", invalid="ignore", under="ignore", divide="ignore")
def modified_bessel_k_array(x: Any, nu: int, scaled: bool = False) -> np.ndarray:
    """K_ν(x) for ν = 0, 1 (with scaled, eˣK_ν(x)) elementwise, float64: inf at 0, nan for x < 0, 0 at +inf."""
    x = np.asarray(x, dtype=np.float64)
    out = np.full_like(x, np.nan)
    small = (x > 0) & (x <= _K_SERIES_MAX)
    if small.any():
        xs = x[small]
        a0, a1, s0, s1 = _series_sums(xs, 1.0)
        log_term = np.log(xs / 2) + _EULER
        if nu == 0:
            k = s0 - log_term * a0
        else:
            k = 1 / xs + log_term * (xs / 2) * a1 - xs / 4 * s1
        out[small] = k * np.exp(xs) if scaled else k
    rest = (x > _K_SERIES_MAX) & (x < np.inf)
    if rest.any():
        xr = x[rest]
        sk = _scaled_k(float(nu), xr)
        half = np.exp(-xr / 2)  # e^(−x) in two halves: K stays a (subnormal) number until e^(−x) alone would be 0
        out[rest] = sk if scaled else half * sk * half
    out = np.where(x == 0, np.inf, out)
    return np.where(x == np.inf, 0.0, out)


_I_SCALED_MIN = 700.0  # e^|x| overflows from 709.78, I₀ and I₁ only from 713.98: eˣ in two halves there


@ignoring(over="ignore", invalid="ignore")
def modified_bessel_i_array(x: Any, nu: int) -> np.ndarray:
    """I_ν(x) for ν = 0, 1 elementwise, float64: ops/special.py's i0_array / i1_array, and e^(−|x|)I_ν times e^|x|
    in two halves beyond |x| = 700 (finite up to 713.98); nan at ±inf, as torch's modified_bessel_i0/i1."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    big = a > _I_SCALED_MIN
    out = i0_array(np.where(big, 0.0, x)) if nu == 0 else i1_array(np.where(big, 0.0, x))
    if big.any():
        xb = x[big]
        half = np.exp(np.abs(xb) / 2)
        out[big] = (i0e_array(xb) if nu == 0 else i1e_array(xb)) * half * half
    return np.where(np.isinf(x), np.nan, out)


@ignoring(invalid="ignore", divide="ignore")
def spherical_j_array(x: Any, nu: int) -> np.ndarray:
    """j_ν(x) for ν = 0, 1 elementwise, float64: j₀ = sin x/x (1 at 0), j₁ = sin x/x² − cos x/x (its power series
    Σ (−1)ᵏ(2k+2)x^(2k+1)/(2k+3)! below |x| = 1, where the difference cancels); 0 at ±inf, as torch's j₀."""
    x = np.asarray(x, dtype=np.float64)
    if nu == 0:
        out = np.where(x == 0, 1.0, np.sin(x) / np.where(x == 0, 1.0, x))
    else:
        small = np.abs(x) < 1
        xs = np.where(small, x, 0.0)
        q = -xs * xs
        term = xs / 3  # k = 0: 2x/3!
        series = term.copy()
        for k in range(1, 12):  # 1/(2k+3)! < 1e-20 by k = 10
            term = term * q * (2 * k + 2) / ((2 * k) * (2 * k + 2) * (2 * k + 3))
            series = series + term
        xb = np.where(small, 1.0, x)
        out = np.where(small, series, (np.sin(xb) / xb - np.cos(xb)) / xb)
    return np.where(np.isinf(x), 0.0, out)


# --- Airy: double-double arithmetic (a value is hi + lo, |lo| ≤ ulp(hi)/2), error-free products by Dekker's split
_SPLITTER = 134217729.0  # 2^27 + 1


def _two_sum(a: Any, b: Any) -> tuple[Any, Any]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fast_two_sum(a: Any, b: Any) -> tuple[Any, Any]:
    s = a + b
    return s, b - (s - a)


def _split(a: Any) -> tuple[Any, Any]:
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a: Any, b: Any) -> tuple[Any, Any]:
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _dd_mul(ah: Any, al: Any, bh: Any, bl: Any) -> tuple[Any, Any]:
    p, e = _two_prod(ah, bh)
    return _fast_two_sum(p, e + (ah * bl + al * bh))


def _dd_add(ah: Any, al: Any, bh: Any, bl: Any) -> tuple[Any, Any]:
    s, e = _two_sum(ah, bh)
    return _fast_two_sum(s, e + (al + bl))


def _dd_const(value: Fraction) -> tuple[float, float]:
    hi = float(value)
    return hi, float(value - Fraction(hi))


_MACLAURIN_MIN = -9.5  # ζ = 19.5: the asymptotic series' smallest term, ~e^(−2ζ), is below 1e-17 beyond
_MACLAURIN_MAX = 1.0  # ζ = 2/3: K_⅓'s trapezoidal rule holds from ζ = 0.6
_MACLAURIN_TERMS = 46  # |x| ≤ 9.5: the terms fall below 1e-20 of 1 by k = 44


def _maclaurin_coefficients() -> tuple[list[tuple[float, float]], ...]:
    """The Maclaurin series in u = x³ as double-double coefficients (exact fractions, split once):
    f = Σ aₖuᵏ, g = x·Σ bₖuᵏ, f' = x²·Σ 3(k+1)aₖ₊₁uᵏ, g' = Σ (3k+1)bₖuᵏ, aₖ = Π 1/((3j−1)3j), bₖ = Π 1/(3j(3j+1))."""
    a, b = [Fraction(1)], [Fraction(1)]
    for k in range(1, _MACLAURIN_TERMS + 2):
        a.append(a[-1] / ((3 * k - 1) * 3 * k))
        b.append(b[-1] / (3 * k * (3 * k + 1)))
    n = _MACLAURIN_TERMS
    return ([_dd_const(c) for c in a[:n]], [_dd_const(c) for c in b[:n]],
            [_dd_const(3 * (k + 1) * a[k + 1]) for k in range(n)], [_dd_const((3 * k + 1) * b[k]) for k in range(n)])


_MAC_F, _MAC_G, _MAC_DF, _MAC_DG = _maclaurin_coefficients()
#: Ai(0) = 1/(3^⅔Γ(⅔)) and −Ai'(0) = 1/(3^⅓Γ(⅓)) (DLMF 9.2.3–4), to 50 digits
_AI0 = _dd_const(Fraction(Decimal("0.35502805388781723926006318600418317639797917419918")))
_DAI0 = _dd_const(Fraction(Decimal("0.25881940379280679840518356018920396347909113835493")))


def _dd_horner(coefs: list[tuple[float, float]], uh: np.ndarray, ul: np.ndarray, terms: int) -> tuple[Any, Any]:
    h, lo = np.full_like(uh, coefs[terms - 1][0]), np.full_like(uh, coefs[terms - 1][1])
    for ch, cl in coefs[terms - 2::-1]:
        h, lo = _dd_mul(h, lo, uh, ul)
        h, lo = _dd_add(h, lo, ch, cl)
    return h, lo


def _airy_maclaurin(x: np.ndarray, derivative: int) -> np.ndarray:
    """Ai(x) (derivative 1: Ai'(x)) = c₁f − c₂g from the Maclaurin series, in double-double, for |x| ≤ 9.5."""
    if x.size == 0:
        return x
    # terms needed for the largest |x| here: aₖ|x|^(3k) < 1e-20 (aₖ ≥ bₖ, and the derivative series' ratio is ≤ 3k)
    umax = float(np.max(np.abs(x))) ** 3
    terms = 2
    while terms < _MACLAURIN_TERMS and _MAC_F[terms][0] * umax ** terms * 3 * terms > 1e-20:
        terms += 1
    x2h, x2l = _two_prod(x, x)
    uh, ul = _dd_mul(x2h, x2l, x, 0.0)
    if derivative == 0:
        fh, fl = _dd_horner(_MAC_F, uh, ul, terms)
        gh, gl = _dd_horner(_MAC_G, uh, ul, terms)
        gh, gl = _dd_mul(gh, gl, x, 0.0)
    else:
        fh, fl = _dd_horner(_MAC_DF, uh, ul, terms)
        fh, fl = _dd_mul(fh, fl, x2h, x2l)
        gh, gl = _dd_horner(_MAC_DG, uh, ul, terms)
    ah, al = _dd_mul(fh, fl, *_AI0)
    bh, bl = _dd_mul(gh, gl, *_DAI0)
    h, lo = _dd_add(ah, al, -bh, -bl)
    return h + lo


def _zeta_dd(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ζ = (2/3)r^(3/2) for r > 0 as hi + lo (√r refined by one exact residual); lo is 0 where a product would
    overflow (there ζ's rounding is far beyond what a phase could keep anyway)."""
    s = np.sqrt(r)
    ph, pl = _two_prod(s, s)
    s_lo = ((r - ph) - pl) / (2 * s)  # √r − s to first order
    ah, al = _two_prod(r, s)
    al = al + r * s_lo
    zh, zl = _dd_mul(ah, al, *_TWO_THIRDS)
    ok = np.isfinite(zh) & np.isfinite(zl)
    return np.where(ok, zh, (2 / 3) * (r * s)), np.where(ok, zl, 0.0)


_TWO_THIRDS = _dd_const(Fraction(2, 3))


def _airy_u() -> tuple[list[float], list[float]]:
    """The asymptotic coefficients uₖ = (2k+1)(2k+3)…(6k−1)/(216ᵏk!) and vₖ = −(6k+1)/(6k−1)·uₖ (DLMF 9.7.2)."""
    u, v = [Fraction(1)], [Fraction(1)]
    for k in range(1, _HANKEL_TERMS):
        u.append(u[-1] * Fraction((6 * k - 5) * (6 * k - 3) * (6 * k - 1), (2 * k - 1) * 216 * k))
        v.append(-Fraction(6 * k + 1, 6 * k - 1) * u[-1])
    return [float(c) for c in u], [float(c) for c in v]


_AIRY_U, _AIRY_V = _airy_u()


def _airy_left(r: np.ndarray, derivative: int) -> np.ndarray:
    """Ai(−r) (derivative 1: Ai'(−r)) for r > 9.5 from the asymptotic series (DLMF 9.7.9, 9.7.10)."""
    zh, zl = _zeta_dd(r)
    coefs = _AIRY_U if derivative == 0 else _AIRY_V
    even, odd = np.zeros_like(r), np.zeros_like(r)
    inv = 1 / zh
    power = np.ones_like(r)
    for k, c in enumerate(coefs):
        term = c * power * (1 if (k // 2) % 2 == 0 else -1)
        if k % 2 == 0:
            even = even + term
        else:
            odd = odd + term
        power = power * inv
    ch, sh, cl, sl = np.cos(zh), np.sin(zh), np.cos(zl), np.sin(zl)
    c, s = ch * cl - sh * sl, sh * cl + ch * sl  # cos and sin of zh + zl
    cw, sw = (c + s) * _SQRT1_2, (s - c) * _SQRT1_2  # of ζ − π/4
    quarter = np.sqrt(np.sqrt(r))
    if derivative == 0:
        return (cw * even + sw * odd) / (math.sqrt(math.pi) * quarter)
    return quarter / math.sqrt(math.pi) * (sw * even - cw * odd)


def _airy_right(x: np.ndarray, derivative: int) -> np.ndarray:
    """Ai(x) = (1/π)√(x/3)·K_⅓(ζ), Ai'(x) = −(x/(π√3))·K_⅔(ζ) for x > 1 (DLMF 9.6.1, 9.6.2), e^(−ζ) from ζ's hi + lo."""
    zh, zl = _zeta_dd(x)
    zh = np.where(np.isfinite(zh), zh, np.inf)
    sk = _scaled_k(1 / 3 if derivative == 0 else 2 / 3, np.minimum(zh, 1e300))
    decay = np.exp(-zh) * (1 - zl)
    if derivative == 0:
        return np.sqrt(x / 3) / np.pi * sk * decay
    return -x / (np.pi * math.sqrt(3)) * sk * decay


@ignoring(over="ignore", invalid="ignore", under="ignore", divide="ignore")
def airy_ai_array(x: Any, derivative: int = 0) -> np.ndarray:
    """Ai(x) (derivative 1: Ai'(x)) elementwise, float64; nan at ±inf, as torch's airy_ai."""
    x = np.asarray(x, dtype=np.float64)
    out = np.full_like(x, np.nan)
    middle = (x >= _MACLAURIN_MIN) & (x <= _MACLAURIN_MAX)
    out[middle] = _airy_maclaurin(x[middle], derivative)
    right = (x > _MACLAURIN_MAX) & (x < np.inf)
    out[right] = _airy_right(x[right], derivative)
    left = (x < _MACLAURIN_MIN) & (x > -np.inf)
    out[left] = _airy_left(-x[left], derivative)
    return out


# --- the ops ------------------------------------------------------------------------------------------------------
def _zero_mask(op: Op) -> Any:
    """Where the input is 0, as a plain array (a mask, also under create_graph)."""
    return op.input_arrays[0] == 0


def _sibling(op: Op, x: Any, array_fn: Any, **params: Any) -> Any:
    """The op with other parameters at x: its array function in a plain backward, the op itself (differentiable)
    under create_graph, so every derivative has a derivative."""
    if op.xp.plain:
        return _host_float64(lambda a: array_fn(a, **params), x)
    return type(op).apply(x, **params)


#: the singular points' inf·0 and inf − inf are replaced by the limits afterwards
_QUIET = {"invalid": "ignore", "divide": "ignore", "over": "ignore"}


class BesselY(Op):
    """y = Y_ν(x), ν = 0 or 1.  dy/dx = −Y₁(x) (ν = 0); Y₀(x) − Y₁(x)/x (ν = 1; +inf at 0)."""

    def forward(self, x, *, nu):
        return _host_float64(lambda h: bessel_y_array(h, nu), x)

    def backward(self, dy):
        (x,) = self.inputs
        xp = self.xp
        with np.errstate(**_QUIET):
            y1 = _sibling(self, x, bessel_y_array, nu=1)
            if self.params["nu"] == 0:
                return dy * -y1
            zero = _zero_mask(self)
            y0 = _sibling(self, x, bessel_y_array, nu=0)
            return dy * xp.where(zero, np.inf, y0 - y1 / xp.where(zero, 1.0, x))


class ModifiedBesselI(Op):
    """y = I_ν(x), ν = 0 or 1.  dy/dx = I₁(x) (ν = 0); I₀(x) − I₁(x)/x (ν = 1; ½ at 0)."""

    def forward(self, x, *, nu):
        return _host_float64(lambda h: modified_bessel_i_array(h, nu), x)

    def backward(self, dy):
        (x,) = self.inputs
        xp = self.xp
        with np.errstate(**_QUIET):
            i1 = _sibling(self, x, modified_bessel_i_array, nu=1)
            if self.params["nu"] == 0:
                return dy * i1
            zero = _zero_mask(self)
            i0 = _sibling(self, x, modified_bessel_i_array, nu=0)
            return dy * xp.where(zero, 0.5, i0 - i1 / xp.where(zero, 1.0, x))


class ModifiedBesselK(Op):
    """y = K_ν(x) (scaled: eˣK_ν(x)), ν = 0 or 1.  dy/dx = −K₁ (ν = 0), −K₀ − K₁/x (ν = 1);
    scaled: eˣK₀ − eˣK₁ (ν = 0), eˣK₁(1 − 1/x) − eˣK₀ (ν = 1; −inf at 0)."""

    def forward(self, x, *, nu, scaled):
        return _host_float64(lambda h: modified_bessel_k_array(h, nu, scaled), x)

    def backward(self, dy):
        (x,) = self.inputs
        xp = self.xp
        scaled = self.params["scaled"]
        with np.errstate(**_QUIET):
            k1 = _sibling(self, x, modified_bessel_k_array, nu=1, scaled=scaled)
            if self.params["nu"] == 0 and not scaled:
                return dy * -k1
            k0 = _sibling(self, x, modified_bessel_k_array, nu=0, scaled=scaled)
            if self.params["nu"] == 0:
                return dy * (k0 - k1)
            zero = _zero_mask(self)
            k1_x = k1 / xp.where(zero, 1.0, x)
            return dy * xp.where(zero, -np.inf, (k1 - k1_x - k0) if scaled else (-k0 - k1_x))


class SphericalBesselJ(Op):
    """y = j_ν(x), ν = 0 or 1.  dy/dx = −j₁(x) (ν = 0); j₀(x) − 2j₁(x)/x (ν = 1; ⅓ at 0)."""

    def forward(self, x, *, nu):
        return _host_float64(lambda h: spherical_j_array(h, nu), x)

    def backward(self, dy):
        (x,) = self.inputs
        xp = self.xp
        j1 = _sibling(self, x, spherical_j_array, nu=1)
        if self.params["nu"] == 0:
            return dy * -j1
        zero = _zero_mask(self)
        j0 = _sibling(self, x, spherical_j_array, nu=0)
        return dy * xp.where(zero, 1 / 3, j0 - 2 * j1 / xp.where(zero, 1.0, x))


class AiryAi(Op):
    """y = Ai(x) (derivative 1: Ai'(x)).  dy/dx = Ai'(x); for Ai', x·Ai(x) (Airy's equation Ai'' = x·Ai)."""

    def forward(self, x, *, derivative):
        return _host_float64(lambda h: airy_ai_array(h, derivative), x)

    def backward(self, dy):
        (x,) = self.inputs
        if self.params["derivative"] == 0:
            return dy * _sibling(self, x, airy_ai_array, derivative=1)
        return dy * x * _sibling(self, x, airy_ai_array, derivative=0)


def _real_float(name: str, input: Any) -> Tensor:
    """input as a float tensor (integers and bools become the default dtype); float16 is refused, as torch's CPU
    kernels refuse Half."""
    t = _float(input)
    if t.array.dtype == np.float16:
        raise NotImplementedError(f'"{name}" is not implemented for \'Half\' (float16), as in PyTorch on the CPU: '
                                  "convert with .float() or .double() first")
    return t


def bessel_y0(input: Any) -> Tensor:
    """The Bessel function of the second kind of order 0, elementwise (−inf at 0, nan for x < 0)."""
    return BesselY.apply(_real_float("bessel_y0", input), nu=0)


def bessel_y1(input: Any) -> Tensor:
    """The Bessel function of the second kind of order 1, elementwise (−inf at 0, nan for x < 0)."""
    return BesselY.apply(_real_float("bessel_y1", input), nu=1)


def modified_bessel_i0(input: Any) -> Tensor:
    """The modified Bessel function of the first kind of order 0, elementwise (nan at ±inf, as torch)."""
    return ModifiedBesselI.apply(_real_float("modified_bessel_i0", input), nu=0)


def modified_bessel_i1(input: Any) -> Tensor:
    """The modified Bessel function of the first kind of order 1, elementwise (nan at ±inf, as torch)."""
    return ModifiedBesselI.apply(_real_float("modified_bessel_i1", input), nu=1)


def modified_bessel_k0(input: Any) -> Tensor:
    """The modified Bessel function of the second kind of order 0, elementwise (inf at 0, nan for x < 0)."""
    return ModifiedBesselK.apply(_real_float("modified_bessel_k0", input), nu=0, scaled=False)


def modified_bessel_k1(input: Any) -> Tensor:
    """The modified Bessel function of the second kind of order 1, elementwise (inf at 0, nan for x < 0)."""
    return ModifiedBesselK.apply(_real_float("modified_bessel_k1", input), nu=1, scaled=False)


def scaled_modified_bessel_k0(input: Any) -> Tensor:
    """eˣ·K₀(x), the exponentially scaled modified Bessel function of the second kind of order 0, elementwise."""
    return ModifiedBesselK.apply(_real_float("scaled_modified_bessel_k0", input), nu=0, scaled=True)


def scaled_modified_bessel_k1(input: Any) -> Tensor:
    """eˣ·K₁(x), the exponentially scaled modified Bessel function of the second kind of order 1, elementwise."""
    return ModifiedBesselK.apply(_real_float("scaled_modified_bessel_k1", input), nu=1, scaled=True)


def spherical_bessel_j0(input: Any) -> Tensor:
    """The spherical Bessel function of the first kind of order 0, sin(x)/x, elementwise (0 at ±inf, as torch)."""
    return SphericalBesselJ.apply(_real_float("spherical_bessel_j0", input), nu=0)


def airy_ai(input: Any) -> Tensor:
    """The Airy function Ai(x), elementwise (nan at ±inf, as torch)."""
    return AiryAi.apply(_real_float("airy_ai", input), derivative=0)
