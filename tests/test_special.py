"""matgrad.special against torch.special: names, values (float64 and float32, extremes included), gradients."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.special as ms
from tests.helpers import assert_close, check_op, compare_torch

torch = pytest.importorskip("torch")

TORCH_NAMES = ["bessel_j0", "bessel_j1",
               "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc",
               "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
               "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy",
               "zeta"]

RNG = np.random.default_rng(0)
#: points over many scales, with the edges
WIDE = np.concatenate([RNG.standard_normal(400) * 10.0 ** RNG.uniform(-4, 2.3, 400),
                       [0.0, -0.0, 1e-300, -1e-300, 1.0, -1.0, 5.99, 6.0, 6.01, -26.0, -26.5, 29.9, 30.0, 30.1,
                        700.0, -700.0, 1e4, 1e8, 1e12, 1e300, -1e300, np.inf, -np.inf, np.nan]])
PROBS = np.concatenate([RNG.uniform(0, 1, 300) * 10.0 ** -RNG.integers(0, 300, 300), RNG.uniform(0, 1, 200),
                        [0.0, 5e-324, 1e-310, 0.25, 0.2499999, 0.75, 0.7500001, 0.5, 0.5 - 1e-12, 1 - 1e-10,
                         1 - 2 ** -53, 1.0, 1.5, -0.5, np.nan]])


def _torch(name: str, *args):
    return getattr(torch.special, name)(*[torch.tensor(a, dtype=torch.float64) for a in args]).numpy()


def _mine(name: str, *args, dtype=mg.float64):
    return getattr(ms, name)(*[mg.tensor(a, dtype=dtype) for a in args]).numpy()


def test_namespace_has_torch_special_names():
    for name in TORCH_NAMES:
        assert hasattr(torch.special, name) and callable(getattr(ms, name)), name
    assert mg.special is ms
    assert ms.psi is ms.digamma and ms.expit is mg.sigmoid


@pytest.mark.parametrize("name", ["erfcx", "log_ndtr", "i0e", "i1e", "i1", "i0", "entr", "erf", "erfc", "expm1",
                                  "log1p", "exp2", "sinc", "expit", "gammaln", "digamma"])
def test_unary_values_float64(name):
    # lgamma and digamma (older ops) lose ~1e-12 relative past x = −100, where their value hangs on x's last bits
    x = WIDE[(WIDE > -100) & (WIDE < 1e250)] if name in ("gammaln", "digamma") else WIDE
    if name == "erfcx":  # torch's erfcx loses ~5e-14 near overflow (x ≈ −26.5); matgrad keeps ~1e-16
        rtol = 1e-12
    else:
        rtol = 1e-12 if name in ("gammaln", "digamma") else 1e-13
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(_mine(name, x), _torch(name, x), rtol=rtol, atol=0, equal_nan=True)


def test_ndtr_values_float64():
    # torch computes (1 + erf(x/√2))/2, which cancels to 0 below about −8; matgrad's ½erfc(−x/√2) does not, so the
    # far left tail is checked against exp(torch's log_ndtr), whose relative error grows as |log_ndtr| · 1e-16
    got = _mine("ndtr", WIDE)
    tail = WIDE < -3
    np.testing.assert_allclose(got[~tail], _torch("ndtr", WIDE[~tail]), rtol=1e-13, atol=1e-16, equal_nan=True)
    want = np.exp(_torch("log_ndtr", WIDE[tail]))
    with np.errstate(all="ignore"):
        allowed = 2e-13 * np.maximum(1, WIDE[tail] ** 2 / 2)
        err = np.where(got[tail] == want, 0, np.abs(got[tail] - want) / np.abs(want))
    assert np.all(err <= allowed)
    assert _mine("ndtr", np.array([-10.0]))[0] == pytest.approx(7.619853024160527e-24, rel=1e-14)  # scipy's value


def test_ndtri_values_float64():
    got, want = _mine("ndtri", PROBS), _torch("ndtri", PROBS)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0, equal_nan=True)
    inner = (PROBS > 1e-300) & (PROBS < 1)
    np.testing.assert_allclose(_mine("ndtr", got[inner]), PROBS[inner], rtol=1e-12)  # Φ(Φ⁻¹(p)) = p


def test_log_ndtr_far_left_tail():
    x = -np.logspace(0, 150, 60)
    got = _mine("log_ndtr", x)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, _torch("log_ndtr", x), rtol=1e-14)


def test_zeta_values_float64():
    x = np.concatenate([RNG.uniform(1, 30, 600), np.round(RNG.uniform(1, 30, 200)),
                        [1, 1.5, 2, 2, 3, 4.5, 10, 2, 2, 3, 3, 2.5, 0.5, 1, 2, np.nan, 100, 1.0001]])
    q = np.concatenate([RNG.uniform(-20, 50, 600), np.round(RNG.uniform(-20, 20, 200)),
                        [1, 2, 0.5, -1.5, -2, -0.5, 1e-3, 1e9, -3, -3.5, -20.25, 0, 2, -1, -100.5, 1, 0.5, 1e-5]])
    q[:200] = np.exp(RNG.uniform(-10, 20, 200))
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(_mine("zeta", x, q), _torch("zeta", x, q), rtol=1e-13, atol=0, equal_nan=True)


def test_binary_values_float64():
    x = np.concatenate([RNG.standard_normal(50), [0.0, 0.0, 0.0, 2.0, np.nan, 1.0]])
    y = np.concatenate([RNG.uniform(-0.9, 5, 50), [-1.0, np.nan, -2.0, -1.0, 0.5, np.inf]])
    for name in ("xlog1py", "xlogy"):
        yy = np.abs(y) if name == "xlogy" else y
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(_mine(name, x, yy), _torch(name, x, yy), rtol=1e-14, equal_nan=True)
    assert_close(ms.xlog1py(2, mg.tensor([0.5, 3.0])).numpy(), torch.special.xlog1py(2, torch.tensor([0.5, 3.0])),
                 rtol=1e-6)
    assert_close(ms.zeta(2.0, mg.tensor([1.5, 3.0])).numpy(), torch.special.zeta(2.0, torch.tensor([1.5, 3.0])),
                 rtol=1e-6)
    assert_close(ms.zeta(mg.tensor([2.0, 3.0]), 2.0).numpy(), torch.special.zeta(torch.tensor([2.0, 3.0]), 2.0),
                 rtol=1e-6)


@pytest.mark.parametrize("name,points", [("erfcx", WIDE), ("ndtr", WIDE), ("log_ndtr", WIDE), ("i0e", WIDE),
                                         ("i1e", WIDE), ("i1", WIDE), ("entr", WIDE), ("ndtri", PROBS)])
def test_unary_values_float32(name, points):
    with np.errstate(all="ignore"):  # 1e300 rounds to inf in float32
        x = points.astype(np.float32)
        got = _mine(name, x, dtype=mg.float32)
        want = getattr(torch.special, name)(torch.tensor(x)).numpy()
        if name == "ndtr":  # torch's float32 ndtr cancels in the left tail: compare with its float64 log_ndtr
            want = np.exp(_torch("log_ndtr", x.astype(np.float64))).astype(np.float32)
    assert got.dtype == np.float32
    finite = np.isfinite(want) & (np.abs(want) > 1e-30)  # values near float32's underflow: only their presence
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-5, atol=1e-6)
    assert np.array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.parametrize("name,lo,hi", [("erfcx", -3, 8), ("ndtr", -4, 4), ("log_ndtr", -12, 4), ("i0e", -40, 40),
                                        ("i1e", -40, 40), ("i1", -5, 5), ("entr", 0.05, 4), ("ndtri", 0.01, 0.99),
                                        ("expit", -6, 6), ("gammaln", 0.2, 8), ("psi", 0.2, 8)])
def test_unary_gradients(name, lo, hi):
    x = np.random.default_rng(3).uniform(lo, hi, (3, 4))
    fn = getattr(ms, name)
    second = name not in ("psi",)  # polygamma(1) has no gradient
    check_op(fn, x, second=second, use_torch=False)
    tname = "digamma" if name == "psi" else name
    # torch's trigamma (psi's gradient) is a short asymptotic series good to ~1e-9; matgrad's to ~1e-15
    rtol = 1e-8 if name == "psi" else 1e-10
    compare_torch(fn, [x], torch_fn=getattr(torch.special, tname), rtol=rtol, atol=1e-12)


def test_i1e_gradient_at_zero():
    x = mg.tensor([0.0, 1e-20, -1e-20], dtype=mg.float64, requires_grad=True)
    ms.i1e(x).sum().backward()
    tx = torch.tensor([0.0, 1e-20, -1e-20], dtype=torch.float64, requires_grad=True)
    torch.special.i1e(tx).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-14)


def test_binary_gradients_broadcast():
    x, y = RNG.standard_normal((2, 3)), RNG.uniform(0.2, 3, (3,))
    check_op(ms.xlog1py, x, y, use_torch=False)
    compare_torch(ms.xlog1py, [x, y], torch_fn=torch.special.xlog1py, rtol=1e-10, atol=1e-12)
    check_op(ms.xlogy, x, y, use_torch=False)
    compare_torch(ms.xlogy, [x, y], torch_fn=torch.special.xlogy, rtol=1e-10, atol=1e-12)
    s, q = RNG.uniform(1.5, 6, (2, 1)), RNG.uniform(0.3, 5, (4,))
    compare_torch(lambda a, b: ms.zeta(a.detach(), b), [s, q], torch_fn=lambda a, b: torch.special.zeta(a.detach(), b),
                  rtol=1e-10, atol=1e-12)
    qt = mg.tensor(q, requires_grad=True)
    assert mg.gradcheck(lambda b: ms.zeta(mg.tensor(s), b), [qt])
    assert mg.gradgradcheck(lambda b: ms.zeta(mg.tensor(s), b), [qt])


def test_xlog1py_gradient_masked_where_torch_masks():
    x = mg.tensor([0.0, 0.0, 1.0], dtype=mg.float64, requires_grad=True)
    y = mg.tensor([-1.0, -2.0, 0.5], dtype=mg.float64)
    ms.xlog1py(x, y).sum().backward()
    tx = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64, requires_grad=True)
    torch.special.xlog1py(tx, torch.tensor([-1.0, -2.0, 0.5], dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())


def test_entr_gradient_edges():
    x = mg.tensor([0.0, 2.0], dtype=mg.float64, requires_grad=True)
    ms.entr(x).sum().backward()
    tx = torch.tensor([0.0, 2.0], dtype=torch.float64, requires_grad=True)
    torch.special.entr(tx).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy())


def test_zeta_has_no_gradient_in_x():
    x = mg.tensor([2.0, 3.0], dtype=mg.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="derivative for 'zeta' is not implemented"):
        ms.zeta(x, mg.tensor([1.5, 2.0], dtype=mg.float64)).sum().backward()


def test_composite_functions_match_torch():
    x = RNG.standard_normal((3, 5))
    compare_torch(lambda a: ms.softmax(a, 1), [x], torch_fn=lambda a: torch.special.softmax(a, 1))
    compare_torch(lambda a: ms.log_softmax(a, 0), [x], torch_fn=lambda a: torch.special.log_softmax(a, 0))
    compare_torch(lambda a: ms.logsumexp(a, 1), [x], torch_fn=lambda a: torch.special.logsumexp(a, 1))
    compare_torch(lambda a: ms.logsumexp(a, (0, 1), True), [x],
                  torch_fn=lambda a: torch.special.logsumexp(a, (0, 1), True))
    p = RNG.uniform(0.05, 0.95, (3, 5))
    compare_torch(lambda a: ms.logit(a, eps=0.1), [p], torch_fn=lambda a: torch.special.logit(a, eps=0.1))
    a = RNG.uniform(2, 5, (4,))
    compare_torch(lambda t: ms.multigammaln(t, 3), [a], torch_fn=lambda t: torch.special.multigammaln(t, 3))
    compare_torch(lambda t: ms.polygamma(0, t), [a], torch_fn=lambda t: torch.special.polygamma(0, t))
    compare_torch(lambda t: ms.gammainc(mg.tensor(a[:3, None]), t), [p + 1],
                  torch_fn=lambda t: torch.special.gammainc(torch.tensor(a[:3, None]), t))
    compare_torch(lambda t: ms.gammaincc(mg.tensor(a[:3, None]), t), [p + 1],
                  torch_fn=lambda t: torch.special.gammaincc(torch.tensor(a[:3, None]), t))
    r = np.array([1.234, -2.5, 0.5, 1.5])
    np.testing.assert_array_equal(ms.round(mg.tensor(r)).numpy(), torch.special.round(torch.tensor(r)).numpy())
    np.testing.assert_array_equal(ms.round(mg.tensor(r), decimals=1).numpy(),
                                  torch.special.round(torch.tensor(r), decimals=1).numpy())


def test_errors_as_torch():
    with pytest.raises(TypeError):
        ms.softmax(mg.tensor([1.0, 2.0]))  # dim is required, as torch.special.softmax
    with pytest.raises(TypeError):
        ms.logsumexp(mg.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="p has to be"):
        ms.multigammaln(mg.tensor([3.0]), 0)
    with pytest.raises(ValueError, match="xlog1py"):
        ms.xlog1py(mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="zeta"):
        ms.zeta(mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.0, 3.0]))


def test_integer_inputs_become_float():
    assert ms.ndtr(mg.tensor([0, 1])).dtype == mg.float32
    assert ms.xlog1py(mg.tensor([1, 2]), mg.tensor([0, 1])).dtype == mg.float32
    np.testing.assert_allclose(ms.erfcx(mg.tensor([0, 1])).numpy(), torch.special.erfcx(torch.tensor([0, 1])).numpy(),
                               rtol=1e-6)



@pytest.mark.parametrize("name,lo,hi", [("erfcx", -3, 8), ("ndtr", -4, 4), ("log_ndtr", -12, 4), ("i0e", -40, 40),
                                        ("i1e", -40, 40), ("entr", 0.05, 4), ("ndtri", 0.01, 0.99)])
def test_unary_on_device(cuda, name, lo, hi):
    x = np.random.default_rng(5).uniform(lo, hi, (2, 3))
    fn = getattr(ms, name)
    t = mg.tensor(x, dtype=mg.float64, device=cuda, requires_grad=True)
    out = fn(t)
    assert out.device == t.device
    out.sum().backward()
    h = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    fn(h).sum().backward()
    np.testing.assert_allclose(out.cpu().numpy(), fn(mg.tensor(x)).numpy(), rtol=1e-14)
    np.testing.assert_allclose(t.grad.cpu().numpy(), h.grad.numpy(), rtol=1e-14)


def test_binary_on_device(cuda):
    x, y = RNG.standard_normal((2, 3)), RNG.uniform(0.2, 3, (3,))
    for fn in (ms.xlog1py, ms.zeta):
        a = mg.tensor(np.abs(x) + 1.5, device=cuda)
        b = mg.tensor(y, device=cuda, requires_grad=True)
        out = fn(a, b)
        assert out.device == b.device
        out.sum().backward()
        hb = mg.tensor(y, requires_grad=True)
        fn(mg.tensor(np.abs(x) + 1.5), hb).sum().backward()
        np.testing.assert_allclose(b.grad.cpu().numpy(), hb.grad.numpy(), rtol=1e-14)


def test_binary_values_float32():
    x = RNG.uniform(1, 10, 50).astype(np.float32)
    q = RNG.uniform(0.1, 10, 50).astype(np.float32)
    for name in ("zeta", "xlog1py"):
        got = getattr(ms, name)(mg.tensor(x), mg.tensor(q)).numpy()
        assert got.dtype == np.float32
        want = getattr(torch.special, name)(torch.tensor(x), torch.tensor(q)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_digamma_near_negative_integers():
    # the reflection's cot(πx) from x less its nearest integer (exact); mpmath's values (torch's is off by 6e-6 at
    # −1 + 1e-12)
    x = np.array([-1e-300, -1 + 1e-12, -2.5, -3 - 1e-9, -0.5])
    want = [1e300, -1000022122209.0801, 1.103156640645243, 999999918.5157535, 0.03648997397857652]
    np.testing.assert_allclose(ms.digamma(mg.tensor(x)).numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("nu", [0, 1])
def test_bessel_j_values(nu):
    mpmath = pytest.importorskip("mpmath")
    x = np.concatenate([RNG.standard_normal(150) * 10.0 ** RNG.uniform(-3, 3, 150), np.linspace(3.5, 26, 60),
                        [0.0, 1e-300, 3.99, 4.0, 4.01, 24.99, 25.0, 25.01, 2.404825557695773, 1e8, 1e15, -1e15]])
    want = np.array([float(mpmath.besselj(nu, mpmath.mpf(v))) for v in x])
    fn = ms.bessel_j0 if nu == 0 else ms.bessel_j1
    np.testing.assert_allclose(fn(mg.tensor(x, dtype=mg.float64)).numpy(), want, rtol=0, atol=1e-15)
    # torch's float64 bessel_j0/j1 are off by up to ~5e-7 (near x = 5): only that close to them
    tfn = torch.special.bessel_j0 if nu == 0 else torch.special.bessel_j1
    np.testing.assert_allclose(fn(mg.tensor(x)).numpy(), tfn(torch.tensor(x, dtype=torch.float64)), rtol=0, atol=1e-6)
    edges = np.array([np.inf, -np.inf, np.nan, 0.0])
    np.testing.assert_array_equal(fn(mg.tensor(edges)).numpy(), tfn(torch.tensor(edges)).numpy())
    x32 = x[np.abs(x) < 1e3].astype(np.float32)  # far out, torch's float32 kernel reduces the argument in float32
    f32 = fn(mg.tensor(x32)).numpy()
    assert f32.dtype == np.float32
    np.testing.assert_allclose(f32, tfn(torch.tensor(x32)).numpy(), rtol=1e-5, atol=2e-6)


def test_bessel_j_has_no_gradient_as_torch():
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    assert not ms.bessel_j0(x).requires_grad and not ms.bessel_j1(x).requires_grad
