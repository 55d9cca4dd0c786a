"""matgrad.distributions against torch.distributions: values and parameter gradients of log_prob,
entropy, mean, variance, cdf, icdf and kl_divergence (float64 tight, float32 to 1e-5); sample shapes,
sample statistics under manual_seed, rsample gradients, validation errors; lgamma/digamma/erfinv.
Explicit expected values keep the tests meaningful where PyTorch is not installed.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import matgrad as mg
import matgrad.distributions as D
from matgrad.ops.special import digamma, erfinv, lgamma
from tests.distributions._compare import assert_matches_torch, evaluate
from tests.helpers import assert_close

try:
    import torch
    import torch.distributions as TD
except ImportError:
    torch = TD = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")

RNG = np.random.default_rng(0)
LOC = RNG.standard_normal((2, 3))
SCALE = np.abs(RNG.standard_normal((2, 3))) + 0.5
VALUE = RNG.standard_normal((4, 2, 3))
PROBS = RNG.uniform(0.05, 0.95, (2, 3))
CAT = RNG.uniform(0.1, 1.0, (2, 4))
A = RNG.standard_normal((2, 3, 3))
COV = A @ np.swapaxes(A, -1, -2) + 3 * np.eye(3)
MVN_LOC = RNG.standard_normal((2, 3))
MVN_VALUE = RNG.standard_normal((5, 2, 3))

# name: (build(dist_module, *params), params, value for log_prob/cdf, value for icdf, methods)
CASES = {
    "normal": (lambda M, a, b: M.Normal(a, b), [LOC, SCALE], VALUE, PROBS,
               ["log_prob", "entropy", "mean", "variance", "stddev", "cdf", "icdf"]),
    "uniform": (lambda M, a, b: M.Uniform(a, a + b), [LOC, SCALE], LOC + 0.3 * SCALE, PROBS,
                ["log_prob", "entropy", "mean", "variance", "cdf", "icdf"]),
    "exponential": (lambda M, r: M.Exponential(r), [SCALE], np.abs(VALUE), PROBS,
                    ["log_prob", "entropy", "mean", "variance", "cdf", "icdf"]),
    "laplace": (lambda M, a, b: M.Laplace(a, b), [LOC, SCALE], VALUE, PROBS,
                ["log_prob", "entropy", "mean", "variance", "cdf", "icdf"]),
    "bernoulli_probs": (lambda M, p: M.Bernoulli(probs=p), [PROBS], (VALUE > 0).astype(float), None,
                        ["log_prob", "entropy", "mean", "variance"]),
    "bernoulli_logits": (lambda M, x: M.Bernoulli(logits=x), [LOC * 3], (VALUE > 0).astype(float), None,
                         ["log_prob", "entropy", "mean", "variance"]),
    "categorical_probs": (lambda M, p: M.Categorical(probs=p), [CAT], np.array([[0.0, 3.0], [2.0, 1.0]]), None,
                          ["log_prob", "entropy"]),
    "categorical_logits": (lambda M, x: M.Categorical(logits=x), [CAT * 4 - 2], np.array([3.0, 0.0]), None,
                           ["log_prob", "entropy"]),
    "onehot": (lambda M, p: M.OneHotCategorical(probs=p), [CAT], np.eye(4)[[[1, 3], [0, 2]]], None,
               ["log_prob", "entropy", "mean", "variance"]),
    "independent": (lambda M, a, b: M.Independent(M.Normal(a, b), 1), [LOC, SCALE], VALUE, None,
                    ["log_prob", "entropy", "mean", "variance"]),
    "mvn_cov": (lambda M, m, c: M.MultivariateNormal(m, covariance_matrix=c), [MVN_LOC, COV], MVN_VALUE, None,
                ["log_prob", "entropy", "mean", "variance"]),
    "mvn_tril": (lambda M, m, c: M.MultivariateNormal(m, scale_tril=c), [MVN_LOC, np.linalg.cholesky(COV)],
                 MVN_VALUE, None, ["log_prob", "entropy", "mean", "variance"]),
    "mvn_precision": (lambda M, m, c: M.MultivariateNormal(m[0], precision_matrix=c), [MVN_LOC, COV], MVN_VALUE,
                      None, ["log_prob", "entropy", "variance"]),
}


def _evaluate(lib, case, method, dtype):
    """(output, [param gradients]) of one method in matgrad (lib=mg) or torch, float of `dtype`."""
    build, params, value, q, _ = CASES[case]
    M = D if lib is mg else TD
    return evaluate(lib, lambda *ps: build(M, *ps), params, method, dtype, value, q)


ROWS = [(c, m) for c, spec in CASES.items() for m in spec[4]]


@needs_torch
@pytest.mark.parametrize("case, method", ROWS, ids=[f"{c}-{m}" for c, m in ROWS])
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_values_and_gradients_match_torch(case, method, precision):
    rtol, atol = (1e-10, 1e-12) if precision == "float64" else (1e-5, 1e-6)
    got, ggrads = _evaluate(mg, case, method, getattr(mg, precision))
    want, tgrads = _evaluate(torch, case, method, getattr(torch, precision))
    assert_matches_torch(got, ggrads, want, tgrads, rtol, atol, f"{case}.{method}")


KL_CASES = {
    "normal": (lambda M, a, b, c, d: (M.Normal(a, b), M.Normal(c, d)), [LOC, SCALE, LOC[::-1], SCALE[::-1]]),
    "laplace": (lambda M, a, b, c, d: (M.Laplace(a, b), M.Laplace(c, d)), [LOC, SCALE, LOC[::-1], SCALE[::-1]]),
    "exponential": (lambda M, a, b: (M.Exponential(a), M.Exponential(b)), [SCALE, SCALE[::-1]]),
    "uniform": (lambda M, a, b: (M.Uniform(a - 2, a + 1), M.Uniform(a - 3 - b, a + 2 + b)), [LOC, SCALE]),
    "bernoulli": (lambda M, a, b: (M.Bernoulli(probs=a), M.Bernoulli(logits=b)), [PROBS, LOC]),
    "categorical": (lambda M, a, b: (M.Categorical(probs=a), M.Categorical(logits=b)), [CAT, CAT[::-1] * 3]),
    "onehot": (lambda M, a, b: (M.OneHotCategorical(probs=a), M.OneHotCategorical(logits=b)), [CAT, CAT * 2]),
    "independent": (lambda M, a, b, c: (M.Independent(M.Normal(a, b), 1), M.Independent(M.Normal(c, b), 1)),
                    [LOC, SCALE, LOC[::-1]]),
    "mvn": (lambda M, m, c, lq: (M.MultivariateNormal(m, covariance_matrix=c),
                                 M.MultivariateNormal(m * 0.5 - 0.3, scale_tril=lq)),
            [MVN_LOC, COV, np.linalg.cholesky(COV[::-1] + np.eye(3))]),
}


@needs_torch
@pytest.mark.parametrize("case", list(KL_CASES))
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_kl_divergence_matches_torch(case, precision):
    rtol, atol = (1e-10, 1e-12) if precision == "float64" else (1e-5, 1e-6)
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


def test_explicit_values():
    """Closed forms, so the file tests something without torch."""
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    n = D.Normal(mg.tensor(0.0, dtype=mg.float64), mg.tensor(1.0, dtype=mg.float64))
    assert_close(n.log_prob(mg.tensor(0.0, dtype=mg.float64)).item(), -half_log_2pi, rtol=1e-15)
    assert_close(n.entropy().item(), 0.5 + half_log_2pi, rtol=1e-15)
    assert_close(n.cdf(mg.tensor(1.0, dtype=mg.float64)).item(), 0.8413447460685429, rtol=1e-14)
    assert_close(n.icdf(mg.tensor(0.975, dtype=mg.float64)).item(), 1.959963984540054, rtol=1e-14)
    e = D.Exponential(mg.tensor(2.0, dtype=mg.float64))
    assert_close(e.cdf(mg.tensor(1.0, dtype=mg.float64)).item(), 1 - math.exp(-2), rtol=1e-15)
    c = D.Categorical(logits=mg.zeros(5, dtype=mg.float64))
    assert_close(c.entropy().item(), math.log(5), rtol=1e-15)
    assert_close(c.log_prob(mg.tensor(3)).item(), -math.log(5), rtol=1e-15)
    b = D.Bernoulli(probs=mg.tensor(0.25, dtype=mg.float64))
    assert_close(b.log_prob(mg.tensor(1.0, dtype=mg.float64)).item(), math.log(0.25), rtol=1e-14)
    kl = D.kl_divergence(D.Normal(0.0, 1.0), D.Normal(1.0, 2.0))
    assert_close(kl.item(), math.log(2) + (1 + 1) / 8 - 0.5, rtol=1e-6)
    cov = mg.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=mg.float64)
    mvn = D.MultivariateNormal(mg.zeros(2, dtype=mg.float64), covariance_matrix=cov)
    x = np.array([0.3, -0.7])
    want = -math.log(2 * math.pi) - 0.5 * math.log(np.linalg.det(cov.array)) - 0.5 * x @ np.linalg.solve(cov.array, x)
    assert_close(mvn.log_prob(mg.tensor(x)).item(), want, rtol=1e-14)
    assert_close(mvn.covariance_matrix.array, cov.array, rtol=1e-15)


def test_special_functions_known_values_and_gradients():
    x = mg.tensor([0.5, 1.0, 2.0, 3.5, 10.0, -0.5, -2.5], dtype=mg.float64, requires_grad=True)
    want = [0.5 * math.log(math.pi), 0.0, 0.0, math.lgamma(3.5), math.lgamma(10.0), math.lgamma(-0.5),
            math.lgamma(-2.5)]
    assert_close(lgamma(x).array, want, rtol=1e-13)
    lgamma(x).sum().backward()
    euler = 0.5772156649015329
    assert_close(x.grad[:3], [-euler - 2 * math.log(2), -euler, 1 - euler], rtol=1e-14)
    assert_close(digamma(mg.tensor([1.0], dtype=mg.float64)).array, [-euler], rtol=1e-15)
    y = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    digamma(y).sum().backward()
    assert_close(y.grad, [math.pi ** 2 / 6], rtol=1e-14)  # trigamma(1) = ζ(2)
    assert np.isinf(lgamma(mg.tensor([0.0, -1.0, -7.0])).array).all()
    z = [mg.tensor([0.3, 1.7, 4.2, 12.5, -0.6], dtype=mg.float64, requires_grad=True)]
    assert mg.gradcheck(lgamma, z) and mg.gradgradcheck(lgamma, z) and mg.gradcheck(digamma, z)
    assert mg.gradcheck(lambda t: erfinv(t), [mg.tensor([-0.9, 0.1, 0.6], dtype=mg.float64, requires_grad=True)])
    p = mg.tensor([-0.99, -0.3, 0.0, 0.42, 0.999999], dtype=mg.float64)
    assert_close(mg.erf(erfinv(p)).array, p.array, rtol=1e-14, atol=1e-16)


@needs_torch
def test_special_functions_match_torch():
    rng = np.random.default_rng(3)
    xs = np.concatenate([rng.uniform(-20, 30, 400), rng.uniform(0.01, 4, 400), np.exp(rng.uniform(-10, 5, 200))])
    t = torch.tensor(xs)
    assert_close(lgamma(mg.tensor(xs)).array, torch.lgamma(t).numpy(), rtol=1e-12, atol=1e-14)
    assert_close(digamma(mg.tensor(xs)).array, torch.digamma(t).numpy(), rtol=1e-11, atol=1e-13)
    assert_close(mg.polygamma(1, mg.tensor(xs)).array, torch.polygamma(1, t).numpy(),
                 rtol=1e-8)  # torch's own trigamma is good to ~5e-10
    p = rng.uniform(-1, 1, 500)
    assert_close(erfinv(mg.tensor(p)).array, torch.erfinv(torch.tensor(p)).numpy(), rtol=1e-14)


SHAPE_CASES = [
    ("normal", lambda: D.Normal(mg.zeros(2, 3), mg.ones(2, 3)), (2, 3)),
    ("uniform", lambda: D.Uniform(mg.zeros(3), mg.ones(3)), (3,)),
    ("exponential", lambda: D.Exponential(mg.ones(2, 1)), (2, 1)),
    ("laplace", lambda: D.Laplace(0.0, 1.0), ()),
    ("bernoulli", lambda: D.Bernoulli(probs=mg.full((3,), 0.3)), (3,)),
    ("categorical", lambda: D.Categorical(probs=mg.ones(2, 5)), (2,)),
    ("onehot", lambda: D.OneHotCategorical(logits=mg.zeros(2, 5)), (2, 5)),
    ("independent", lambda: D.Independent(D.Normal(mg.zeros(2, 3), mg.ones(2, 3)), 1), (2, 3)),
    ("mvn", lambda: D.MultivariateNormal(mg.zeros(4, 3), scale_tril=mg.eye(3)), (4, 3)),
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


STAT_CASES = [
    ("normal", lambda: D.Normal(mg.tensor([1.5], dtype=mg.float64), mg.tensor([2.0], dtype=mg.float64)), 1.5, 4.0),
    ("uniform", lambda: D.Uniform(mg.tensor([-1.0], dtype=mg.float64), mg.tensor([3.0], dtype=mg.float64)), 1.0,
     16 / 12),
    ("exponential", lambda: D.Exponential(mg.tensor([2.0], dtype=mg.float64)), 0.5, 0.25),
    ("laplace", lambda: D.Laplace(mg.tensor([-1.0], dtype=mg.float64), mg.tensor([0.5], dtype=mg.float64)), -1.0, 0.5),
    ("bernoulli", lambda: D.Bernoulli(probs=mg.tensor([0.3], dtype=mg.float64)), 0.3, 0.21),
    ("categorical", lambda: D.Categorical(probs=mg.tensor([0.2, 0.5, 0.3], dtype=mg.float64)), 1.1, 0.49),
    ("mvn", lambda: D.MultivariateNormal(mg.tensor([1.0, -1.0], dtype=mg.float64),
                                         covariance_matrix=mg.tensor([[2.0, 0.6], [0.6, 1.0]], dtype=mg.float64)),
     np.array([1.0, -1.0]), np.array([2.0, 1.0])),
]


@pytest.mark.parametrize("name, make, mean, var", STAT_CASES, ids=[c[0] for c in STAT_CASES])
def test_sample_statistics(name, make, mean, var):
    """Mean and variance of 20,000 draws within 5 standard errors (seeded: deterministic)."""
    mg.manual_seed(0)
    n = 20000
    x = make().sample((n,)).array.astype(np.float64).reshape(n, -1)
    se_mean = np.sqrt(np.asarray(var) / n)
    assert np.all(np.abs(x.mean(0) - mean) < 5 * se_mean), (x.mean(0), mean)
    assert np.all(np.abs(x.var(0) / var - 1) < 0.1), (x.var(0), var)


def test_mvn_sample_covariance_and_seed():
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    d = D.MultivariateNormal(mg.zeros(2, dtype=mg.float64), covariance_matrix=mg.tensor(cov))
    mg.manual_seed(5)
    x = d.sample((20000,)).array
    assert_close(np.cov(x.T), cov, rtol=0.05)
    mg.manual_seed(5)
    np.testing.assert_array_equal(d.sample((20000,)).array, x)


def test_rsample_gradients():
    loc = mg.tensor([0.5, -1.0], dtype=mg.float64, requires_grad=True)
    scale = mg.tensor([2.0, 3.0], dtype=mg.float64, requires_grad=True)
    mg.manual_seed(1)
    x = D.Normal(loc, scale).rsample((100,))
    x.mean().backward()
    assert_close(loc.grad, [0.5, 0.5], rtol=1e-15)  # d mean(x) / d loc_i = 1/2 (two locs share the mean)
    eps = (x.detach().array - loc.detach().array) / scale.detach().array
    assert_close(scale.grad, eps.mean(0) / 2, rtol=1e-12)
    rate = mg.tensor(2.0, dtype=mg.float64, requires_grad=True)
    y = D.Exponential(rate).rsample((10,))
    y.sum().backward()
    assert_close(rate.grad.item(), -(y.detach().array * 2).sum() / 4, rtol=1e-12)  # y = e/rate: dy/drate = -y/rate
    m = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    tril = mg.tensor([[1.0, 0.0], [0.5, 2.0]], dtype=mg.float64, requires_grad=True)
    z = D.MultivariateNormal(m, scale_tril=tril).rsample((3,))
    z.sum().backward()
    assert_close(m.grad, [3.0, 3.0], rtol=1e-15)
    eps = np.linalg.solve(tril.detach().array, (z.detach().array - m.detach().array).T)  # (2, 3)
    assert_close(tril.grad, np.ones((2, 1)) * eps.sum(1), rtol=1e-12)  # every entry, as torch (L·ε uses all of L)
    with pytest.raises(NotImplementedError):
        D.Bernoulli(probs=0.3).rsample()
    assert not D.Normal(loc, scale).sample().requires_grad


def test_enumerate_support_and_modes():
    c = D.Categorical(probs=mg.tensor([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]]))
    assert c.enumerate_support().tolist() == [[0, 0], [1, 1], [2, 2]]
    assert c.mode.tolist() == [1, 0]
    assert D.Bernoulli(probs=mg.tensor([0.2, 0.9])).enumerate_support().tolist() == [[0.0, 0.0], [1.0, 1.0]]
    oh = D.OneHotCategorical(probs=mg.tensor([0.1, 0.7, 0.2]))
    assert oh.mode.tolist() == [0.0, 1.0, 0.0]
    assert oh.enumerate_support().tolist() == np.eye(3).tolist()


@pytest.mark.parametrize("make, message", [
    (lambda: D.Normal(mg.tensor([0.0]), mg.tensor([-1.0])), "scale"),
    (lambda: D.Bernoulli(probs=mg.tensor([1.5])), "probs"),
    (lambda: D.Bernoulli(probs=mg.tensor([0.5]), logits=mg.tensor([0.0])), "not both"),
    (lambda: D.Categorical(), "not both"),
    (lambda: D.Categorical(probs=mg.tensor([-0.5, 1.5])), "probs"),
    (lambda: D.Exponential(mg.tensor([0.0])), "rate"),
    (lambda: D.Uniform(mg.tensor([1.0]), mg.tensor([0.0])), "low>= high"),
    (lambda: D.MultivariateNormal(mg.zeros(2), covariance_matrix=mg.tensor([[1.0, 2.0], [2.0, 1.0]])),
     "covariance_matrix"),
    (lambda: D.MultivariateNormal(mg.zeros(2), scale_tril=mg.tensor([[1.0, 1.0], [0.0, 1.0]])), "scale_tril"),
    (lambda: D.MultivariateNormal(mg.zeros(2), covariance_matrix=mg.eye(2), scale_tril=mg.eye(2)), "Exactly one"),
    (lambda: D.MultivariateNormal(mg.zeros(3), covariance_matrix=mg.eye(2)), "covariance_matrix"),
    (lambda: D.Independent(D.Normal(mg.zeros(2), mg.ones(2)), 2), "reinterpreted_batch_ndims"),
    (lambda: D.Normal(mg.zeros(2), mg.ones(2)).log_prob(mg.ones(3)), "broadcastable"),
    (lambda: D.MultivariateNormal(mg.zeros(2), scale_tril=mg.eye(2)).log_prob(mg.ones(3)), "event_shape"),
    (lambda: D.Exponential(mg.ones(2)).log_prob(mg.tensor([-1.0, 1.0])), "support"),
    (lambda: D.Categorical(probs=mg.ones(3)).log_prob(mg.tensor([3])), "support"),
])
def test_validation_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_validation_can_be_turned_off():
    d = D.Normal(mg.tensor([0.0]), mg.tensor([-1.0]), validate_args=False)
    assert np.isnan(d.log_prob(mg.tensor([0.0])).item())
    D.Distribution.set_default_validate_args(False)
    try:
        D.Exponential(mg.tensor([-1.0]))
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Exponential(mg.tensor([-1.0]))
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


def test_kl_registry():
    class MyNormal(D.Normal):
        pass

    p, q = MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)
    assert_close(D.kl_divergence(p, q).item(), 0.5, rtol=1e-6)  # falls back to Normal–Normal

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return mg.tensor(42.0)

    assert D.kl_divergence(p, q).item() == 42.0
    with pytest.raises(NotImplementedError, match="Normal and q type Exponential"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Exponential(1.0))
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)


def test_mvn_ops_gradcheck_first_and_second_order():
    from matgrad.distributions.multivariate_normal import _cholesky, _solve_tril
    lower = np.array([[1.0, 0.0, 0.0], [0.5, 2.0, 0.0], [-0.3, 0.4, 1.5]])
    b = np.array([[0.3, 1.0], [-0.8, 0.2], [0.5, -1.1]])
    xs = [mg.tensor(lower, dtype=mg.float64, requires_grad=True), mg.tensor(b, dtype=mg.float64, requires_grad=True)]
    assert mg.gradcheck(_solve_tril, xs) and mg.gradgradcheck(_solve_tril, xs)
    sym = [mg.tensor(lower @ lower.T, dtype=mg.float64, requires_grad=True)]
    assert mg.gradcheck(lambda a: _cholesky((a + a.mT) / 2), sym)
    assert mg.gradgradcheck(lambda a: _cholesky((a + a.mT) / 2), sym)


@needs_torch
@pytest.mark.parametrize("param", ["scale_tril", "covariance_matrix"])
def test_mvn_second_order_gradients_match_torch(param):
    mat = np.linalg.cholesky(COV[0]) if param == "scale_tril" else COV[0]
    out = []
    for lib, M in ((mg, D), (torch, TD)):
        m = lib.tensor(mat, dtype=lib.float64, requires_grad=True)
        lp = M.MultivariateNormal(lib.tensor(MVN_LOC[0], dtype=lib.float64), **{param: m}).log_prob(
            lib.tensor(MVN_VALUE[:, 0], dtype=lib.float64)).sum()
        (g,) = lib.autograd.grad(lp, m, create_graph=True)
        (g * g).sum().backward()
        out.append((np.asarray(g.detach().numpy() if lib is torch else g.detach().array),
                    np.asarray(m.grad.numpy() if lib is torch else m.grad.array)))
    assert_close(out[0][0], out[1][0], rtol=1e-10)
    assert_close(out[0][1], out[1][1], rtol=1e-9)
