"""torch.special's orthogonal polynomials: Chebyshev T U V W (and shifted, on [0, 1]), Hermite H and He, Laguerre L,
Legendre P, each as `name(x, n)` with x and n tensors or numbers that broadcast.

Values are torch's, branch by branch (aten/src/ATen/native/Math.h's): n is truncated to an integer (nan, ±inf
and values beyond int64 give n < 0), n < 0 gives 0; the Chebyshev families use their closed forms for |x| < 1
above a small degree (T: cos(n·acos x), U: sin((n+1)θ)/sin θ, V: cos((n+½)θ)/cos(θ/2), W: sin((n+½)θ)/sin(θ/2)),
exact values at x = ±1 (shifted: x = 0, 1), and elsewhere the three-term recurrence, stopped once it is nan;
Hermite gives nan above degree 512 (float32: 128), as torch does before its recurrence overflows. The forward
runs in float64 on the host (rounded to the input's dtype); the recurrence steps once per degree for all
elements together, so degree n costs n NumPy steps (torch's C loop does the same per element).

Gradients: torch's outputs have none (they do not require grad). matgrad's d/dx is the polynomial's derivative,
from the same recurrence differentiated term by term, P⁽ʲ⁾ₖ₊₁ = (aₖx + bₖ)P⁽ʲ⁾ₖ + j·aₖ·P⁽ʲ⁻¹⁾ₖ − cₖP⁽ʲ⁾ₖ₋₁
(so gradients of gradients are exact too); n gets no gradient.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from ..autograd.op import Op
from ..devices import device_of, move, to_host
from ..kernels import ignoring
from ..tensor import Tensor

__all__ = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
           "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w"]


class _Family(NamedTuple):
    """A family's three-term recurrence P₀ = 1, P₁ = first(x), Pₖ₊₁ = step(k, x, Pₖ, Pₖ₋₁) (torch's expressions),
    with slope(k) = d/dx of the factor multiplying Pₖ, and first_slope = P₁'."""

    first: Callable[[np.ndarray], np.ndarray]
    step: Callable[[int, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    slope: Callable[[int], float]
    first_slope: float


def _chebyshev_step(k, x, q, p):
    return (x + x) * q - p


def _two(k):
    return 2.0


_FAMILIES = {
    "t": _Family(lambda x: x, _chebyshev_step, _two, 1.0),
    "u": _Family(lambda x: x + x, _chebyshev_step, _two, 2.0),
    "v": _Family(lambda x: x + x - 1.0, _chebyshev_step, _two, 2.0),
    "w": _Family(lambda x: x + x + 1.0, _chebyshev_step, _two, 2.0),
    "h": _Family(lambda x: x + x, lambda k, x, q, p: (x + x) * q - (2 * k) * p, _two, 2.0),
    "he": _Family(lambda x: x, lambda k, x, q, p: x * q - k * p, lambda k: 1.0, 1.0),
    "l": _Family(lambda x: 1.0 - x, lambda k, x, q, p: (((k + k) + (1.0 - x)) * q - k * p) / (k + 1),
                 lambda k: -1 / (k + 1), -1.0),
    "p": _Family(lambda x: x, lambda k, x, q, p: ((k + k + 1) * x * q - k * p) / (k + 1),
                 lambda k: (2 * k + 1) / (k + 1), 1.0),
}

#: torch's degree above which a Chebyshev family uses its closed form for |x| < 1
_CLOSED_FORM_ABOVE = {("t", False): 6, ("u", False): 8, ("v", False): 8, ("w", False): 8,
                      ("t", True): 6, ("u", True): 6, ("v", True): 6, ("w", True): 4}


def _recurrence(family: _Family, x: np.ndarray, n: np.ndarray, order: int) -> np.ndarray:
    """The order-th derivative of Pₙ(x) for n ≥ 0 (flat arrays), stepping all elements together and dropping each
    once it reaches its degree (or goes nan, where it stays)."""
    out = np.zeros_like(x)
    prev = [np.ones_like(x)] + [np.zeros_like(x) for _ in range(order)]  # P₀ and its derivatives
    cur = [family.first(x)] + [np.full_like(x, family.first_slope)] + [np.zeros_like(x) for _ in range(order - 1)]
    cur = cur[:order + 1]
    out[n == 0] = prev[order][n == 0]
    out[n == 1] = cur[order][n == 1]
    live = np.flatnonzero(n >= 2)
    x, n = x[live], n[live]
    prev, cur = [a[live] for a in prev], [a[live] for a in cur]
    k = 1
    while live.size:
        new = []
        for j in range(order + 1):
            v = family.step(k, x, cur[j], prev[j])
            new.append(v + (j * family.slope(k)) * cur[j - 1] if j else v)
        prev, cur = cur, new
        k += 1  # cur holds P_k
        done = (n == k) | np.isnan(cur[order])
        if done.any():
            out[live[done]] = cur[order][done]
            keep = ~done
            live, x, n = live[keep], x[keep], n[keep]
            prev, cur = [a[keep] for a in prev], [a[keep] for a in cur]
    return out


def _chebyshev_closed(kind: str, shifted: bool, y: np.ndarray, n: np.ndarray) -> np.ndarray:
    """torch's closed forms for |y| < 1 (θ = acos y), with its fallbacks where the divisor rounds to 0 (U: sin θ,
    V: cos(θ/2), W: sin(θ/2), which is where y rounds to ±1: there the values at ±1)."""
    theta = np.arccos(y)
    nf = n.astype(np.float64)
    if kind == "t":
        return np.cos(nf * theta)
    if kind == "u":
        s = np.sin(theta)
        return np.where(s != 0, np.sin((nf + 1) * theta) / np.where(s != 0, s, 1.0),
                        (nf + 1) * np.cos((nf + 1) * theta) / y)
    sign = np.where(n % 2 == 0, 1.0, -1.0)
    if kind == "v":
        flat = np.sin(theta / 2) == 1
        return np.where(flat, sign * (2 * nf + 1), np.cos((nf + 0.5) * theta) / np.cos(theta / 2))
    flat = np.cos(theta / 2) == 1
    # W at θ ≈ 0 (y ≈ 1) is 2n + 1 (torch's shifted W returns ±1 there, which is not Wₙ(1))
    edge = 2 * nf + 1 if shifted else np.where(y > 0, 2 * nf + 1, sign)
    return np.where(flat, edge, np.sin((nf + 0.5) * theta) / np.where(flat, 1.0, np.sin(theta / 2)))


def _chebyshev_at_ends(kind: str, y: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Tₙ, Uₙ, Vₙ, Wₙ at y = ±1 (torch's values there): 1, n + 1, 1, 2n + 1 at 1; ±1, ±(n+1), ±(2n+1), ±1 at −1."""
    nf = n.astype(np.float64)
    at_one = {"t": np.ones_like(nf), "u": nf + 1, "v": np.ones_like(nf), "w": 2 * nf + 1}[kind]
    at_minus = {"t": np.ones_like(nf), "u": nf + 1, "v": 2 * nf + 1, "w": np.ones_like(nf)}[kind]
    sign = np.where(n % 2 == 0, 1.0, -1.0)
    return np.where(y > 0, at_one, sign * at_minus)


def _degree(n: np.ndarray) -> np.ndarray:
    """n as torch's static_cast<int64_t>: truncated toward 0; nan, ±inf and values beyond int64 become −1 (any
    negative degree gives 0, as int64's minimum, what the cast gives there on x86, does)."""
    n = np.asarray(n, dtype=np.float64)
    ok = np.isfinite(n) & (np.abs(n) < 2.0 ** 63)
    return np.where(ok, np.trunc(np.where(ok, n, -1.0)), -1.0).astype(np.int64)


@ignoring(over="ignore", invalid="ignore", under="ignore", divide="ignore")
def polynomial_array(name: str, x: Any, n: Any, order: int = 0, hermite_limit: int = 512) -> np.ndarray:
    """torch.special.`name`(x, n) (order 0) or its order-th derivative in x, float64, broadcast."""
    shifted = name.startswith("shifted_")
    kind = name.rsplit("_", 1)[1]
    x, n = np.broadcast_arrays(np.asarray(x, dtype=np.float64), _degree(n))
    shape = x.shape
    x, n = x.ravel(), n.ravel()
    y = x + x - 1.0 if shifted else x  # torch's shifted forms run the plain recurrence on 2x − 1
    family = _FAMILIES[kind]
    out = np.zeros_like(y)
    go = n >= 0
    chebyshev = name.startswith(("chebyshev", "shifted"))
    if order == 0:
        if chebyshev:
            ends = go & (np.abs(y) == 1)
            closed = go & ~ends & (n > _CLOSED_FORM_ABOVE[kind, shifted]) & (np.abs(y) < 1)
            out[ends] = _chebyshev_at_ends(kind, y[ends], n[ends])
            out[closed] = _chebyshev_closed(kind, shifted, y[closed], n[closed])
            go = go & ~ends & ~closed
        elif kind == "p":
            ends = go & (np.abs(y) == 1)
            out[ends] = np.where((y[ends] > 0) | (n[ends] % 2 == 0), 1.0, -1.0)
            go = go & ~ends
        elif kind == "l":
            go = go & (y != 0)
            out[(n >= 0) & (y == 0)] = 1.0
    if kind in ("h", "he"):
        over = go & (n > hermite_limit)
        out[over] = np.nan
        go = go & ~over
    out[go] = _recurrence(family, y[go], n[go], order)
    if shifted and order:
        out = out * 2.0 ** order  # d/dx = 2·d/dy
    return out.reshape(shape)


class OrthogonalPolynomial(Op):
    """y = dᵐ/dxᵐ Pₙ(x) (m = order; 0: torch's value) for the family `name`.  dy/dx = the (m+1)-th derivative, by the
    recurrence differentiated; n (the second input) gets no gradient."""

    def forward(self, x, n, *, name, order):
        if type(x) is not type(n):  # different devices: apply() moves a 0-d CPU tensor over or raises torch's error
            raise TypeError(f"{name}: x and n are on different devices")
        host_x = to_host(x)
        limit = 128 if host_x.dtype == np.float32 else 512  # torch's Hermite limit for its float and double
        with np.errstate(over="ignore"):  # a float64 value beyond float32's range rounds to inf
            out = polynomial_array(name, host_x, to_host(n), order, limit).astype(host_x.dtype, copy=False)
        return out if type(x) is np.ndarray else move(out, device_of(x))

    def backward(self, dy):
        x, n = self.inputs
        name, order = self.params["name"], self.params["order"] + 1
        if self.xp.plain:
            d = self.forward(x, n, name=name, order=order)
        else:
            d = OrthogonalPolynomial.apply(x, n, name=name, order=order)
        return dy * d, None


def _polynomial(name: str, x: Any, n: Any) -> Tensor:
    from .arithmetic import _float_pair

    if not isinstance(x, Tensor) and not isinstance(n, Tensor):
        raise TypeError(f"{name}(): x or n must be a Tensor (got {type(x).__name__} and {type(n).__name__}), as in "
                        "PyTorch; wrap one in matgrad.tensor(...)")
    tx, tn = _float_pair(name, x, n)
    if tx.array.dtype == np.float16:
        raise NotImplementedError(f'"{name}" is not implemented for \'Half\' (float16), as in PyTorch on the CPU: '
                                  "convert with .float() or .double() first")
    return OrthogonalPolynomial.apply(tx, tn.detach(), name=name, order=0)


def chebyshev_polynomial_t(x: Any, n: Any) -> Tensor:
    """Tₙ(x), the Chebyshev polynomial of the first kind, elementwise (x and n broadcast)."""
    return _polynomial("chebyshev_polynomial_t", x, n)


def chebyshev_polynomial_u(x: Any, n: Any) -> Tensor:
    """Uₙ(x), the Chebyshev polynomial of the second kind, elementwise (x and n broadcast)."""
    return _polynomial("chebyshev_polynomial_u", x, n)


def chebyshev_polynomial_v(x: Any, n: Any) -> Tensor:
    """Vₙ(x), the Chebyshev polynomial of the third kind, elementwise (x and n broadcast)."""
    return _polynomial("chebyshev_polynomial_v", x, n)


def chebyshev_polynomial_w(x: Any, n: Any) -> Tensor:
    """Wₙ(x), the Chebyshev polynomial of the fourth kind, elementwise (x and n broadcast)."""
    return _polynomial("chebyshev_polynomial_w", x, n)


def shifted_chebyshev_polynomial_t(x: Any, n: Any) -> Tensor:
    """Tₙ*(x) = Tₙ(2x − 1), the shifted Chebyshev polynomial of the first kind, elementwise."""
    return _polynomial("shifted_chebyshev_polynomial_t", x, n)


def shifted_chebyshev_polynomial_u(x: Any, n: Any) -> Tensor:
    """Uₙ*(x) = Uₙ(2x − 1), the shifted Chebyshev polynomial of the second kind, elementwise."""
    return _polynomial("shifted_chebyshev_polynomial_u", x, n)


def shifted_chebyshev_polynomial_v(x: Any, n: Any) -> Tensor:
    """Vₙ*(x) = Vₙ(2x − 1), the shifted Chebyshev polynomial of the third kind, elementwise."""
    return _polynomial("shifted_chebyshev_polynomial_v", x, n)


def shifted_chebyshev_polynomial_w(x: Any, n: Any) -> Tensor:
    """Wₙ*(x) = Wₙ(2x − 1), the shifted Chebyshev polynomial of the fourth kind, elementwise."""
    return _polynomial("shifted_chebyshev_polynomial_w", x, n)


def hermite_polynomial_h(x: Any, n: Any) -> Tensor:
    """Hₙ(x), the physicists' Hermite polynomial, elementwise (nan above degree 512, float32: 128, as torch)."""
    return _polynomial("hermite_polynomial_h", x, n)


def hermite_polynomial_he(x: Any, n: Any) -> Tensor:
    """Heₙ(x), the probabilists' Hermite polynomial, elementwise (nan above degree 512, float32: 128, as torch)."""
    return _polynomial("hermite_polynomial_he", x, n)


def laguerre_polynomial_l(x: Any, n: Any) -> Tensor:
    """Lₙ(x), the Laguerre polynomial, elementwise (x and n broadcast)."""
    return _polynomial("laguerre_polynomial_l", x, n)


def legendre_polynomial_p(x: Any, n: Any) -> Tensor:
    """Pₙ(x), the Legendre polynomial, elementwise (x and n broadcast)."""
    return _polynomial("legendre_polynomial_p", x, n)
