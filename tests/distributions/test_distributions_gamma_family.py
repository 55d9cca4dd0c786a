"""The distributions built on lgamma/digamma and gamma draws (Gamma, Chi2, StudentT, Beta, Dirichlet,
Poisson, Binomial, Geometric) and LogNormal, HalfNormal, against torch.distributions: values and
parameter gradients (float64 tight, float32 loose), KL pairs; the implicit gradient of the standard
gamma draw against a finite difference of torch.special.gammainc; closed forms and sample statistics
that need no torch.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import matgrad as mg
import matgrad.distributions as D
from matgrad.distributions.gamma import regularized_gamma_array, standard_gamma_grad_array
from tests.distributions._compare import assert_matches_torch, evaluate
from tests.helpers import assert_close

try:
    import torch
    import torch.distributions as TD
except ImportError:
    torch = TD = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")

RNG = np.random.default_rng(7)
CONC = RNG.uniform(0.5, 4.0, (2, 3))
RATE = RNG.uniform(0.5, 3.0, (2, 3))
POS = RNG.gamma(2.0, 1.0, (4, 2, 3))
UNIT = RNG.uniform(0.05, 0.95, (4, 2, 3))
LOC = RNG.standard_normal((2, 3))
VALUE = RNG.standard_normal((4, 2, 3))
DIR = np.array([[0.5, 0.7, 0.3, 0.9], [1.5, 2.0, 0.6, 3.0]])  # the first row: all < 1 (mode's one-hot case)
DIR_VALUE = RNG.dirichlet(np.ones(4), (5, 2))
COUNTS = RNG.poisson(3.0, (4, 2, 3)).astype(float)
TRIALS = RNG.binomial(8, 0.4, (4, 2, 3)).astype(float)
DF = np.array([[0.7, 1.5, 2.5], [4.0, 6.0, 10.0]])  # df ≤ 1, 1 < df ≤ 2, df > 2: mean and variance's cases
PROBS = RNG.uniform(0.05, 0.95, (2, 3))
STATS = ["mean", "mode", "variance"]

# name: (build(M, const, *params), params, value for log_prob/cdf, value for icdf, methods)
CASES = {
    "gamma": (lambda M, k, c, r: M.Gamma(c, r), [CONC, RATE], POS, None, ["log_prob", "entropy"] + STATS),
    "gamma_cdf": (lambda M, k, r: M.Gamma(k(CONC), r), [RATE], POS, None, ["cdf"]),
    "chi2": (lambda M, k, d: M.Chi2(d), [CONC * 2], POS, None, ["log_prob", "entropy"] + STATS),
    "student_t": (lambda M, k, d, m, s: M.StudentT(d, m, s), [DF, LOC, RATE], VALUE, None,
                  ["log_prob", "entropy"] + STATS),
    "beta": (lambda M, k, a, b: M.Beta(a, b), [CONC, RATE], UNIT, None, ["log_prob", "entropy"] + STATS),
    "dirichlet": (lambda M, k, c: M.Dirichlet(c), [DIR], DIR_VALUE, None, ["log_prob", "entropy"] + STATS),
    "poisson": (lambda M, k, r: M.Poisson(r), [RATE * 2], COUNTS, None, ["log_prob"] + STATS),
    "binomial_probs": (lambda M, k, p: M.Binomial(8, probs=p), [PROBS], TRIALS, None, ["log_prob", "entropy"] + STATS),
    "binomial_logits": (lambda M, k, x: M.Binomial(k(np.full((2, 3), 8.0)), logits=x), [LOC * 2], TRIALS, None,
                        ["log_prob", "entropy"] + STATS),
    "geometric_probs": (lambda M, k, p: M.Geometric(probs=p), [PROBS], COUNTS, None, ["log_prob", "entropy"] + STATS),
    "geometric_logits": (lambda M, k, x: M.Geometric(logits=x), [LOC], COUNTS, None, ["log_prob", "entropy"] + STATS),
    "lognormal": (lambda M, k, m, s: M.LogNormal(m, s), [LOC, RATE], POS, PROBS,
                  ["log_prob", "entropy", "cdf", "icdf"] + STATS),
    "halfnormal": (lambda M, k, s: M.HalfNormal(s), [RATE], POS, PROBS, ["log_prob", "entropy", "cdf", "icdf"] + STATS),
}


def _evaluate(lib, case, method, dtype):
    """(output, [param gradients]) of one method in matgrad (lib=mg) or torch, float of `dtype`."""
    build, params, value, q, _ = CASES[case]
    M = D if lib is mg else TD
    return evaluate(lib, lambda *ps: build(M, lambda a: lib.tensor(a, dtype=dtype), *ps), params, method, dtype,
                    value, q)


ROWS = [(c, m) for c, spec in CASES.items() for m in spec[4]]


@needs_torch
@pytest.mark.parametrize("case, method", ROWS, ids=[f"{c}-{m}" for c, m in ROWS])
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_values_and_gradients_match_torch(case, method, precision):
    rtol, atol = (1e-10, 1e-12) if precision == "float64" else (2e-5, 2e-5)
    got, ggrads = _evaluate(mg, case, method, getattr(mg, precision))
    want, tgrads = _evaluate(torch, case, method, getattr(torch, precision))
    assert_matches_torch(got, ggrads, want, tgrads, rtol, atol, f"{case}.{method}")


KL_CASES = {
    "gamma": (lambda M, a, b, c, d: (M.Gamma(a, b), M.Gamma(c, d)), [CONC, RATE, RATE, CONC]),
    "chi2": (lambda M, a, b: (M.Chi2(a), M.Chi2(b)), [CONC, RATE]),
    "exponential_gamma": (lambda M, a, b, c: (M.Exponential(a), M.Gamma(b, c)), [RATE, CONC, RATE[::-1]]),
    "gamma_exponential": (lambda M, a, b, c: (M.Gamma(a, b), M.Exponential(c)), [CONC, RATE, RATE[::-1]]),
    "beta": (lambda M, a, b, c, d: (M.Beta(a, b), M.Beta(c, d)), [CONC, RATE, RATE, CONC]),
    "dirichlet": (lambda M, a, b: (M.Dirichlet(a), M.Dirichlet(b)), [DIR, DIR[::-1]]),
    "poisson": (lambda M, a, b: (M.Poisson(a), M.Poisson(b)), [RATE, CONC]),
    "bernoulli_poisson": (lambda M, a, b: (M.Bernoulli(probs=a), M.Poisson(b)), [PROBS, CONC]),
    "binomial": (lambda M, a, b: (M.Binomial(5, probs=a), M.Binomial(5, logits=b)), [PROBS, LOC]),
    "geometric": (lambda M, a, b: (M.Geometric(probs=a), M.Geometric(logits=b)), [PROBS, LOC]),
    "lognormal": (lambda M, a, b, c: (M.LogNormal(a, b), M.LogNormal(c, b)), [LOC, RATE, LOC[::-1]]),
    "halfnormal": (lambda M, a, b: (M.HalfNormal(a), M.HalfNormal(b)), [RATE, CONC]),
}


@needs_torch
@pytest.mark.parametrize("case", list(KL_CASES))
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_kl_divergence_matches_torch(case, precision):
    rtol, atol = (1e-10, 1e-12) if precision == "float64" else (2e-5, 2e-5)
    results = []
    for lib, M in ((mg, D), (torch, TD)):
        build, params = KL_CASES[case]
        ps = [lib.tensor(np.ascontiguousarray(p), dtype=getattr(lib, precision), requires_grad=True) for p in params]
        kl = M.kl_divergence(*build(M, *ps))
        kl.sum().backward()
        results.append((kl.detach().numpy() if lib is torch else kl.array,
                        [p.grad.numpy() if lib is torch else p.grad.array for p in ps]))
    (got, ggrads), (want, tgrads) = results
    assert_close(got, want, rtol=rtol, atol=atol)
    for g, t in zip(ggrads, tgrads):
        assert_close(g, t, rtol=rtol * 10, atol=atol)


def test_binomial_kl_with_larger_q_count_raises_and_smaller_is_inf():
    with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
        D.kl_divergence(D.Binomial(3, probs=mg.tensor([0.5])), D.Binomial(4, probs=mg.tensor([0.5])))
    kl = D.kl_divergence(D.Binomial(mg.tensor([4.0, 3.0]), probs=mg.tensor([0.5, 0.5])),
                         D.Binomial(mg.tensor([3.0, 3.0]), probs=mg.tensor([0.4, 0.4])))
    assert np.isinf(kl.array[0]) and np.isfinite(kl.array[1])


GAMMA_ALPHAS = [0.01, 0.3, 1.0, 2.5, 9.0, 40.0, 800.0]


@needs_torch
@pytest.mark.parametrize("alpha", GAMMA_ALPHAS)
def test_standard_gamma_grad_is_the_implicit_derivative(alpha):
    """ds/dα = −(∂P/∂α)/p at draws s, ∂P/∂α a central difference of torch.special.gammainc (float64)."""
    x = np.maximum(np.random.default_rng(2).standard_gamma(alpha, 500), 1e-300)
    h = 1e-5 * alpha
    xt = torch.tensor(x, dtype=torch.float64)

    def p(a):
        return torch.special.gammainc(torch.tensor(a, dtype=torch.float64), xt).numpy()

    log_pdf = (alpha - 1) * np.log(x) - x - math.lgamma(alpha)
    keep = log_pdf > -600  # where the density is representable
    want = -(p(alpha + h) - p(alpha - h)) / (2 * h) / np.exp(log_pdf)
    got = standard_gamma_grad_array(alpha, x)
    assert_close(got[keep], want[keep], rtol=1e-6, atol=1e-12)
    # torch's own single-precision fit agrees to its accuracy
    tg = torch._standard_gamma_grad(torch.full_like(xt, alpha), xt).numpy()
    assert_close(got, tg, rtol=2e-3, atol=1e-12)
    assert_close(regularized_gamma_array(alpha, x), p(alpha), rtol=1e-9, atol=1e-12)


def test_gamma_rsample_gradient_is_unbiased():
    """E[x] = α/β and E[x²] = α(α+1)/β²: the mean of the pathwise gradients estimates their derivatives."""
    mg.manual_seed(3)
    n = 20000
    for a, b in [(0.4, 2.0), (3.0, 0.5)]:
        alpha = mg.tensor(a, dtype=mg.float64, requires_grad=True)
        rate = mg.tensor(b, dtype=mg.float64, requires_grad=True)
        x = D.Gamma(alpha, rate).rsample((n,))
        (x ** 2).mean().backward()
        # d/dα E[x²] = (2α + 1)/β², d/dβ E[x²] = −2α(α+1)/β³; 5 standard errors of the sample means
        sx = x.detach().array
        g_alpha = 2 * sx * standard_gamma_grad_array(a, sx * b) / b
        assert abs(alpha.grad.item() - (2 * a + 1) / b ** 2) < 5 * g_alpha.std() / math.sqrt(n)
        assert abs(rate.grad.item() + 2 * a * (a + 1) / b ** 3) < 5 * (2 * sx ** 2 / b).std() / math.sqrt(n)


def test_dirichlet_and_beta_rsample_gradients():
    """Sum-to-one draws whose gradients move the mean: d E[x₀]/dα₀ = (Σα − α₀)/(Σα)², estimated."""
    mg.manual_seed(4)
    n = 20000
    c = mg.tensor([2.0, 3.0, 1.5], dtype=mg.float64, requires_grad=True)
    x = D.Dirichlet(c).rsample((n,))
    assert_close(x.detach().array.sum(-1), np.ones(n), rtol=1e-12)
    x[:, 0].mean().backward()
    total = 6.5
    want = np.array([total - 2.0, -2.0, -2.0]) / total ** 2
    assert np.all(np.abs(c.grad.array - want) < 0.01), (c.grad.array, want)
    a = mg.tensor(2.0, dtype=mg.float64, requires_grad=True)
    b = mg.tensor(5.0, dtype=mg.float64, requires_grad=True)
    D.Beta(a, b).rsample((n,)).mean().backward()
    assert abs(a.grad.item() - 5 / 49) < 0.01 and abs(b.grad.item() + 2 / 49) < 0.01


def test_student_t_rsample_gradient_reaches_df():
    df = mg.tensor([3.0], dtype=mg.float64, requires_grad=True)
    mg.manual_seed(6)
    x = D.StudentT(df).rsample((100,))
    (x ** 2).sum().backward()
    assert df.grad is not None and np.isfinite(df.grad.array).all() and df.grad.item() != 0


def test_explicit_values():
    """Closed forms, so the file tests something without torch."""
    f64 = mg.float64
    g = D.Gamma(mg.tensor(1.0, dtype=f64), mg.tensor(2.0, dtype=f64))  # = Exponential(2)
    assert_close(g.log_prob(mg.tensor(0.7, dtype=f64)).item(), math.log(2) - 1.4, rtol=1e-15)
    assert_close(g.entropy().item(), 1 - math.log(2), rtol=1e-14)
    assert_close(g.cdf(mg.tensor(0.7, dtype=f64)).item(), 1 - math.exp(-1.4), rtol=1e-14)
    g3 = D.Gamma(mg.tensor(3.0, dtype=f64), 1.0)  # P(3, x) = 1 − e⁻ˣ(1 + x + x²/2)
    assert_close(g3.cdf(mg.tensor([0.5, 2.0, 9.0], dtype=f64)).array,
                 [1 - math.exp(-x) * (1 + x + x * x / 2) for x in (0.5, 2.0, 9.0)], rtol=1e-13)
    b = D.Beta(mg.tensor(2.0, dtype=f64), mg.tensor(3.0, dtype=f64))  # density 12 x (1 − x)²
    assert_close(b.log_prob(mg.tensor(0.25, dtype=f64)).item(), math.log(12 * 0.25 * 0.75 ** 2), rtol=1e-14)
    assert_close(b.mode.item(), 1 / 3, rtol=1e-15)
    dr = D.Dirichlet(mg.ones(3, dtype=f64))  # uniform on the simplex: density Γ(3) = 2
    assert_close(dr.log_prob(mg.tensor([0.2, 0.3, 0.5], dtype=f64)).item(), math.log(2), rtol=1e-14)
    assert_close(dr.entropy().item(), -math.log(2), rtol=1e-14)
    p = D.Poisson(mg.tensor(3.0, dtype=f64))
    assert_close(p.log_prob(mg.tensor(2.0, dtype=f64)).item(), math.log(9 / 2 * math.exp(-3)), rtol=1e-14)
    p0 = D.Poisson(mg.tensor(0.0, dtype=f64))
    assert_close(p0.log_prob(mg.tensor(0.0, dtype=f64)).item(), 0.0, rtol=0, atol=1e-15)
    bi = D.Binomial(4, probs=mg.tensor(0.3, dtype=f64))
    assert_close(bi.log_prob(mg.tensor(2.0, dtype=f64)).item(), math.log(6 * 0.09 * 0.49), rtol=1e-13)
    probs = [math.comb(4, k) * 0.3 ** k * 0.7 ** (4 - k) for k in range(5)]
    assert_close(bi.entropy().item(), -sum(q * math.log(q) for q in probs), rtol=1e-13)
    ge = D.Geometric(probs=mg.tensor(0.25, dtype=f64))
    assert_close(ge.log_prob(mg.tensor(3.0, dtype=f64)).item(), math.log(0.75 ** 3 * 0.25), rtol=1e-14)
    assert_close(ge.entropy().item(), -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)) / 0.25, rtol=1e-14)
    t = D.StudentT(mg.tensor(1.0, dtype=f64))  # Cauchy
    assert_close(t.log_prob(mg.tensor(1.0, dtype=f64)).item(), -math.log(2 * math.pi), rtol=1e-14)
    assert_close(t.entropy().item(), math.log(4 * math.pi), rtol=1e-14)
    assert np.isnan(t.mean.item()) and np.isnan(t.variance.item())
    assert D.StudentT(mg.tensor(1.5, dtype=f64)).variance.item() == math.inf
    c2 = D.Chi2(mg.tensor(2.0, dtype=f64))  # = Exponential(1/2)
    assert_close(c2.log_prob(mg.tensor(1.0, dtype=f64)).item(), math.log(0.5) - 0.5, rtol=1e-15)
    assert_close(c2.df.item(), 2.0, rtol=0)
    ln = D.LogNormal(mg.tensor(0.0, dtype=f64), mg.tensor(1.0, dtype=f64))
    assert_close(ln.log_prob(mg.tensor(1.0, dtype=f64)).item(), -0.5 * math.log(2 * math.pi), rtol=1e-15)
    assert_close(ln.mean.item(), math.exp(0.5), rtol=1e-15)
    hn = D.HalfNormal(mg.tensor(2.0, dtype=f64))
    assert_close(hn.cdf(mg.tensor(2.0, dtype=f64)).item(), math.erf(1 / math.sqrt(2)), rtol=1e-14)
    unchecked = D.HalfNormal(mg.tensor(2.0, dtype=f64), validate_args=False)
    assert unchecked.log_prob(mg.tensor(-1.0, dtype=f64)).item() == -math.inf
    kl = D.kl_divergence(D.Gamma(mg.tensor(2.0, dtype=f64), 1.0), D.Gamma(mg.tensor(2.0, dtype=f64), 2.0))
    assert_close(kl.item(), 2 * math.log(0.5) + 2, rtol=1e-14)  # same shape: c·ln(β_p/β_q) + c(β_q − β_p)/β_p
    kl = D.kl_divergence(D.Poisson(mg.tensor(2.0, dtype=f64)), D.Poisson(mg.tensor(3.0, dtype=f64)))
    assert_close(kl.item(), 2 * math.log(2 / 3) + 1, rtol=1e-14)


F64 = mg.float64
STAT_CASES = [
    ("gamma", lambda: D.Gamma(mg.tensor([0.5, 4.0], dtype=F64), mg.tensor([2.0, 0.5], dtype=F64)),
     np.array([0.25, 8.0]), np.array([0.125, 16.0])),
    ("chi2", lambda: D.Chi2(mg.tensor([3.0], dtype=F64)), 3.0, 6.0),
    ("student_t", lambda: D.StudentT(mg.tensor([5.0], dtype=F64), 1.0, 2.0), 1.0, 4 * 5 / 3),
    ("beta", lambda: D.Beta(mg.tensor([0.5, 2.0], dtype=F64), mg.tensor([0.5, 5.0], dtype=F64)),
     np.array([0.5, 2 / 7]), np.array([0.125, 10 / 392])),
    ("dirichlet", lambda: D.Dirichlet(mg.tensor([1.0, 2.0, 3.0], dtype=F64)), np.array([1, 2, 3]) / 6,
     np.array([5, 8, 9]) / 252),
    ("poisson", lambda: D.Poisson(mg.tensor([0.7, 12.0], dtype=F64)), np.array([0.7, 12.0]), np.array([0.7, 12.0])),
    ("binomial", lambda: D.Binomial(mg.tensor([10.0, 3.0], dtype=F64), probs=mg.tensor([0.3, 0.8], dtype=F64)),
     np.array([3.0, 2.4]), np.array([2.1, 0.48])),
    ("geometric", lambda: D.Geometric(probs=mg.tensor([0.3], dtype=F64)), 7 / 3, 7 / 0.9),
    ("lognormal", lambda: D.LogNormal(mg.tensor([0.2], dtype=F64), mg.tensor([0.5], dtype=F64)),
     math.exp(0.325), math.expm1(0.25) * math.exp(0.65)),
    ("halfnormal", lambda: D.HalfNormal(mg.tensor([2.0], dtype=F64)), 2 * math.sqrt(2 / math.pi),
     4 * (1 - 2 / math.pi)),
]


@pytest.mark.parametrize("name, make, mean, var", STAT_CASES, ids=[c[0] for c in STAT_CASES])
def test_sample_statistics(name, make, mean, var):
    """Mean of 20,000 seeded draws within 5 standard errors, variance within 10%; the moments the
    distribution reports are those values; draws lie in the support."""
    mg.manual_seed(0)
    n = 20000
    d = make()
    x = d.sample((n,))
    assert bool(d.support.check(x).all())
    x = x.array.astype(np.float64).reshape(n, -1)
    se_mean = np.sqrt(np.asarray(var) / n)
    assert np.all(np.abs(x.mean(0) - mean) < 5 * se_mean), (x.mean(0), mean)
    assert np.all(np.abs(x.var(0) / var - 1) < 0.1), (x.var(0), var)
    assert_close(d.mean.array.reshape(-1), np.broadcast_to(mean, x.shape[1:]), rtol=1e-12)
    assert_close(d.variance.array.reshape(-1), np.broadcast_to(var, x.shape[1:]), rtol=1e-12)


SHAPE_CASES = [
    ("gamma", lambda: D.Gamma(mg.ones(2, 3), 2.0), (2, 3)),
    ("chi2", lambda: D.Chi2(3.0), ()),
    ("student_t", lambda: D.StudentT(mg.full((3,), 4.0)), (3,)),
    ("beta", lambda: D.Beta(mg.ones(2, 1), mg.ones(2, 1)), (2, 1)),
    ("beta_scalar", lambda: D.Beta(2.0, 3.0), ()),
    ("dirichlet", lambda: D.Dirichlet(mg.ones(2, 4)), (2, 4)),
    ("poisson", lambda: D.Poisson(mg.full((3,), 2.0)), (3,)),
    ("binomial", lambda: D.Binomial(mg.full((2, 1), 5.0), probs=mg.full((2, 3), 0.3)), (2, 3)),
    ("geometric", lambda: D.Geometric(logits=mg.zeros(2)), (2,)),
    ("lognormal", lambda: D.LogNormal(mg.zeros(2), mg.ones(2)), (2,)),
    ("halfnormal", lambda: D.HalfNormal(1.0), ()),
]


@pytest.mark.parametrize("name, make, shape", SHAPE_CASES, ids=[c[0] for c in SHAPE_CASES])
def test_sample_shapes(name, make, shape):
    d = make()
    assert tuple(d.batch_shape) + tuple(d.event_shape) == shape
    assert tuple(d.sample().shape) == shape
    assert tuple(d.sample((5, 2)).shape) == (5, 2) + shape
    lp = d.log_prob(d.sample((7,)))
    assert tuple(lp.shape) == (7,) + tuple(d.batch_shape)
    assert tuple(d.expand((6,) + tuple(d.batch_shape)).sample((2,)).shape) == (2, 6) + shape


def test_rsample_flags_and_seed():
    for d in (D.Gamma(1.0, 1.0), D.Chi2(2.0), D.Beta(1.0, 2.0), D.Dirichlet(mg.ones(3)), D.StudentT(3.0),
              D.LogNormal(0.0, 1.0), D.HalfNormal(1.0)):
        assert d.has_rsample
    for d in (D.Poisson(1.0), D.Binomial(3, probs=0.5), D.Geometric(0.5)):
        assert not d.has_rsample
        with pytest.raises(NotImplementedError):
            d.rsample()
    mg.manual_seed(9)
    a = D.Gamma(mg.full((5,), 2.0), 1.0).sample((3,)).array
    mg.manual_seed(9)
    np.testing.assert_array_equal(D.Gamma(mg.full((5,), 2.0), 1.0).sample((3,)).array, a)
    assert D.Binomial(mg.tensor([6.0]), probs=mg.tensor([0.5])).enumerate_support().tolist() == [[float(k)] for k in
                                                                                                range(7)]


@pytest.mark.parametrize("make, message", [
    (lambda: D.Gamma(mg.tensor([1.0]), mg.tensor([-1.0])), "rate"),
    (lambda: D.Gamma(mg.tensor([0.0]), mg.tensor([1.0])), "concentration"),
    (lambda: D.Chi2(mg.tensor([-2.0])), "df"),
    (lambda: D.Beta(mg.tensor([1.0]), mg.tensor([-1.0])), "concentration"),
    (lambda: D.Dirichlet(mg.tensor([1.0, 0.0])), "concentration"),
    (lambda: D.Dirichlet(mg.tensor(1.0)), "one-dimensional"),
    (lambda: D.Poisson(mg.tensor([-1.0])), "rate"),
    (lambda: D.Binomial(mg.tensor([2.5]), probs=mg.tensor([0.5])), "total_count"),
    (lambda: D.Binomial(3, probs=mg.tensor([0.5]), logits=mg.tensor([0.0])), "not both"),
    (lambda: D.Geometric(probs=mg.tensor([0.0])), "positive"),
    (lambda: D.StudentT(mg.tensor([-1.0])), "df"),
    (lambda: D.HalfNormal(mg.tensor([0.0])), "scale"),
    (lambda: D.Gamma(mg.ones(2), mg.ones(2)).log_prob(mg.tensor([-1.0, 1.0])), "support"),
    (lambda: D.Beta(mg.ones(2), mg.ones(2)).log_prob(mg.tensor([0.5, 1.5])), "support"),
    (lambda: D.Dirichlet(mg.ones(3)).log_prob(mg.tensor([0.5, 0.6, 0.1])), "support"),
    (lambda: D.Poisson(mg.ones(2)).log_prob(mg.tensor([0.5, 1.0])), "support"),
    (lambda: D.Binomial(3, probs=mg.tensor([0.5])).log_prob(mg.tensor([4.0])), "support"),
    (lambda: D.LogNormal(0.0, 1.0).log_prob(mg.tensor(0.0)), "support"),
])
def test_validation_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_binomial_inhomogeneous_count_entropy_raises():
    with pytest.raises(NotImplementedError, match="Inhomogeneous"):
        D.Binomial(mg.tensor([2.0, 3.0]), probs=mg.tensor([0.5, 0.5])).entropy()


def test_gamma_cdf_gradcheck_in_concentration_rate_and_value():
    """Gamma.cdf's gradients (concentration included, which torch's gammainc lacks) against finite differences."""
    c = mg.tensor([0.3, 2.0, 15.0], dtype=mg.float64, requires_grad=True)
    r = mg.tensor([1.5, 0.7, 1.0], dtype=mg.float64, requires_grad=True)
    x = mg.tensor([0.2, 3.0, 14.0], dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda c, r, x: D.Gamma(c, r).cdf(x), [c, r, x])
