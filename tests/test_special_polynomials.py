"""matgrad.special's orthogonal polynomials against torch.special: values (float64, float32, torch's edge branches:
negative, non-integer, nan and huge n, x = ±1, |x| > 1, large n), broadcasting and dtype promotion of x and n,
errors; gradients in x (torch's outputs have none) by finite differences and by the derivative identities on
torch's own values."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.special as ms
from tests.helpers import assert_close

torch = pytest.importorskip("torch")

NAMES = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
         "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
         "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
         "legendre_polynomial_p"]

RNG = np.random.default_rng(0)
X = np.concatenate([RNG.uniform(-1.3, 1.3, 40), RNG.uniform(-0.2, 1.2, 20),
                    [-1.0, 1.0, 0.0, -0.0, 0.5, 1e-20, -1e-20, 1 - 2 ** -53, -1 + 2 ** -53, 1 - 2 ** -52, 2.0, -2.0,
                     3.5, np.inf, -np.inf]])
N = np.array([-3, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 30, 2.7, 7.9, -0.5, -7.9, np.nan, np.inf, -np.inf, 1e20])


def _mine(name, x, n, dtype=mg.float64):
    return getattr(ms, name)(mg.tensor(x, dtype=dtype), mg.tensor(n, dtype=dtype)).numpy()


def _torch(name, x, n, dtype=torch.float64):
    return getattr(torch.special, name)(torch.tensor(x, dtype=dtype), torch.tensor(n, dtype=dtype)).numpy()


def _rowwise_close(got, want, rtol):
    """Each row (one degree) to rtol of that row's largest finite value: a recurrence's rounding is of the size of
    its largest terms, not of a value that lands near a zero."""
    for g, w in zip(got, want):
        finite = np.isfinite(w)
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
        np.testing.assert_array_equal(g[~finite & ~np.isnan(w)], w[~finite & ~np.isnan(w)])
        if finite.any():
            assert_close(g[finite], w[finite], rtol=rtol)


def test_namespace_has_the_functions():
    for name in NAMES:
        assert hasattr(torch.special, name) and getattr(ms, name) is getattr(mg.special, name), name
        assert name in ms.__all__


@pytest.mark.parametrize("name", NAMES)
def test_values_match_torch_float64(name):
    x, n = np.meshgrid(X, N)
    # torch's float64 runs the same branches and expressions: equal to a few roundings of the row's scale
    _rowwise_close(_mine(name, x, n), _torch(name, x, n), rtol=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_values_match_torch_float32(name):
    x, n = np.meshgrid(X[np.isfinite(X)], N[:15])  # degrees up to 30
    got = _mine(name, x.astype(np.float32), n.astype(np.float32), dtype=mg.float32)
    assert got.dtype == np.float32
    with np.errstate(over="ignore"):  # matgrad: float64 rounded once (a value beyond float32's range: inf)
        np.testing.assert_array_equal(got, _mine(name, x.astype(np.float32), n).astype(np.float32))
    want = _torch(name, x.astype(np.float32), n.astype(np.float32), torch.float32)
    # torch's float32 recurrence overflows to inf − inf = nan where the value is merely beyond float32's range
    want = np.where(np.isnan(want) & np.isinf(got), got, want)
    _rowwise_close(got, want, rtol=1e-5)


def test_large_degrees():
    x = np.array([-0.97, -0.3, 0.0, 0.41, 0.999, 1.0, -1.0])
    for name in ("chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
                 "chebyshev_polynomial_w"):  # the closed forms: any degree at once
        for n in (100, 12345, 10 ** 9):
            # cos(n·acos x) carries acos's rounding times n: torch's value is as far from the true one
            assert_close(_mine(name, x, n), _torch(name, x, n), rtol=1e-15 * n)
    n = np.array([50.0, 200.0, 511.0, 512.0, 513.0, 10 ** 6])
    for name in ("hermite_polynomial_h", "hermite_polynomial_he", "legendre_polynomial_p", "laguerre_polynomial_l"):
        got, want = _mine(name, 0.37, n[:5]), _torch(name, 0.37, n[:5])
        _rowwise_close(got[:, None], want[:, None], rtol=1e-11)
    # Hermite is nan above degree 512 (float32: 128), as torch
    assert np.isnan(_mine("hermite_polynomial_h", 0.1, np.array([513.0, 1e6]))).all()
    assert np.isnan(_mine("hermite_polynomial_he", 0.1, np.array([129.0]), dtype=mg.float32)).all()
    assert np.isinf(_mine("hermite_polynomial_he", 0.1, np.array([128.0]), dtype=mg.float32)).all()  # computed
    # |x| > 1: the recurrence overflows to inf and then inf − inf = nan, where torch stops too
    np.testing.assert_array_equal(_mine("chebyshev_polynomial_t", 2.0, np.array([2000.0])),
                                  _torch("chebyshev_polynomial_t", 2.0, np.array([2000.0])))


def test_nan_x_gives_nan():
    # torch returns whatever its loop last left behind for degree ≥ 2 at nan; matgrad gives nan
    n = np.array([-1.0, 0.0, 1.0, 2.0, 9.0])
    for name in NAMES:
        got = _mine(name, np.nan, n)
        np.testing.assert_array_equal(got[:3], _torch(name, np.nan, n[:3]))  # 0, 1, nan: torch's own branches
        assert np.isnan(got[3:]).all(), name


def test_broadcasting_and_scalars():
    x = RNG.uniform(-1, 1, (3, 1))
    n = np.array([0.0, 2.0, 5.0, 11.0])
    for name in NAMES:
        got = getattr(ms, name)(mg.tensor(x), mg.tensor(n))
        assert got.shape == (3, 4)
        want = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n)).numpy()
        assert_close(got.numpy(), want, rtol=1e-13)
        assert_close(getattr(ms, name)(mg.tensor(x), 3).numpy(),
                     getattr(torch.special, name)(torch.tensor(x), 3).numpy(), rtol=1e-13)
        assert_close(getattr(ms, name)(0.25, mg.tensor(n)).numpy(),
                     getattr(torch.special, name)(0.25, torch.tensor(n)).numpy(), rtol=1e-6)


def test_dtype_promotion_as_torch():
    f, tf = ms.chebyshev_polynomial_t, torch.special.chebyshev_polynomial_t
    cases = [(np.array([1, 2]), np.array([2, 3])), (np.array([0.5], dtype=np.float32), np.array([2.0])),
             (np.array([0.5]), np.array([2, 3]))]
    for x, n in cases:
        got, want = f(mg.tensor(x), mg.tensor(n)), tf(torch.tensor(x), torch.tensor(n))
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        assert_close(got.numpy(), want.numpy(), rtol=1e-6)
    assert f(0.5, mg.tensor([2, 3])).dtype == mg.float32
    assert f(mg.tensor(0.5, dtype=mg.float64), mg.tensor([2.0, 3.0])).dtype == mg.float32  # a 0-d tensor defers


def test_errors_as_torch():
    with pytest.raises(TypeError):
        torch.special.chebyshev_polynomial_t(0.5, 3)
    with pytest.raises(TypeError, match="must be a Tensor"):
        ms.chebyshev_polynomial_t(0.5, 3)
    with pytest.raises(ValueError, match="legendre_polynomial_p: shapes"):
        ms.legendre_polynomial_p(mg.tensor([0.5, 0.2]), mg.tensor([1.0, 2.0, 3.0]))
    for name in NAMES:
        with pytest.raises(NotImplementedError, match=f"{name}.*Half"):
            getattr(ms, name)(mg.tensor([0.5], dtype=mg.float16), 3)


# --- gradients -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_gradients_by_finite_differences(name):
    lo, hi = (-0.1, 1.1) if name.startswith("shifted") else (-1.1, 1.1)
    x = mg.tensor(np.random.default_rng(3).uniform(lo, hi, (3, 1)), dtype=mg.float64, requires_grad=True)
    n = mg.tensor(np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 7.0, 10.0, 13.0]), dtype=mg.float64)  # past every closed form
    fn = lambda a: getattr(ms, name)(a, n)  # noqa: E731
    assert mg.gradcheck(fn, [x])
    assert mg.gradgradcheck(fn, [x])


def _torch_derivative(name, x, n):
    """The derivative in x from torch's own values: T' = nU_{n−1}, H' = 2nH_{n−1}, ..., shifted: 2·X'(2x − 1)."""
    S = torch.special
    t, k = torch.tensor(x, dtype=torch.float64), torch.tensor(n, dtype=torch.float64)
    if name.startswith("shifted_"):
        return 2 * _torch_derivative(name[len("shifted_"):], 2 * x - 1, n)
    u_prime = lambda m: ((m + 1) * S.chebyshev_polynomial_t(t, m + 1) - t * S.chebyshev_polynomial_u(t, m)) / (t * t - 1)  # noqa: E501, E731
    return {
        "chebyshev_polynomial_t": lambda: k * S.chebyshev_polynomial_u(t, k - 1),
        "chebyshev_polynomial_u": lambda: u_prime(k),
        "chebyshev_polynomial_v": lambda: u_prime(k) - u_prime(k - 1),  # Vₙ = Uₙ − Uₙ₋₁
        "chebyshev_polynomial_w": lambda: u_prime(k) + u_prime(k - 1),  # Wₙ = Uₙ + Uₙ₋₁
        "hermite_polynomial_h": lambda: 2 * k * S.hermite_polynomial_h(t, k - 1),
        "hermite_polynomial_he": lambda: k * S.hermite_polynomial_he(t, k - 1),
        "laguerre_polynomial_l": lambda: k / t * (S.laguerre_polynomial_l(t, k) - S.laguerre_polynomial_l(t, k - 1)),
        "legendre_polynomial_p": lambda: k * (t * S.legendre_polynomial_p(t, k) - S.legendre_polynomial_p(t, k - 1))
        / (t * t - 1),
    }[name]().numpy()


@pytest.mark.parametrize("name", NAMES)
def test_gradients_match_torch_identities(name):
    x = np.linspace(0.03, 0.97, 9) if name.startswith("shifted") else np.linspace(-0.94, 0.94, 9)
    x = x[np.abs(x - 0.5 * name.startswith("shifted")) > 0.01]  # Laguerre's identity divides by x
    n = np.arange(1.0, 16.0)[:, None]
    xt = mg.tensor(np.broadcast_to(x, (15, x.size)).copy(), dtype=mg.float64, requires_grad=True)
    out = getattr(ms, name)(xt, mg.tensor(n, dtype=mg.float64))
    out.sum().backward()
    want = _torch_derivative(name, x[None, :], n)
    _rowwise_close(xt.grad, want, rtol=1e-11)  # the identities divide by x² − 1 (or x): a few digits go there
    assert not getattr(torch.special, name)(torch.tensor(x, requires_grad=True), 3).requires_grad  # torch: none


def test_gradient_edges():
    # exact at the ends (Tₙ'(±1) = (±1)ⁿ⁺¹n², Pₙ'(±1) = (±1)ⁿ⁺¹n(n+1)/2), 0 for n < 0; n itself gets no gradient
    x = mg.tensor([1.0, -1.0], dtype=mg.float64, requires_grad=True)
    n = mg.tensor([9.0], dtype=mg.float64, requires_grad=True)
    ms.chebyshev_polynomial_t(x, n).sum().backward()
    np.testing.assert_array_equal(x.grad, [81.0, 81.0])
    assert n.grad is None
    x.grad = None
    ms.legendre_polynomial_p(x, 9.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [45.0, 45.0])
    x.grad = None
    ms.hermite_polynomial_h(x, -2.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    assert not ms.laguerre_polynomial_l(mg.tensor([0.5]), n).requires_grad  # only through x, as torch's n


@pytest.mark.parametrize("name", ["chebyshev_polynomial_t", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
                                  "laguerre_polynomial_l"])
def test_on_device(cuda, name):
    x = np.random.default_rng(5).uniform(-1, 1, (2, 3))
    n = np.array([1.0, 4.0, 9.0])
    fn = getattr(ms, name)
    t = mg.tensor(x, dtype=mg.float64, device=cuda, requires_grad=True)
    out = fn(t, mg.tensor(n, device=cuda))
    assert out.device == t.device
    out.sum().backward()
    h = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    fn(h, mg.tensor(n)).sum().backward()
    np.testing.assert_array_equal(out.cpu().numpy(), fn(mg.tensor(x), mg.tensor(n)).numpy())
    np.testing.assert_array_equal(t.grad.cpu().numpy(), h.grad.numpy())
    assert fn(t, 3).device == t.device  # a number n joins x's device
    with pytest.raises(RuntimeError, match="same device"):
        fn(t, mg.tensor(n))
