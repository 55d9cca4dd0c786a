"""TransformedDistribution and the families built on it (Gumbel, Weibull, Pareto, HalfCauchy, Kumaraswamy,
LogisticNormal, RelaxedBernoulli, RelaxedOneHotCategorical, InverseGamma) and Cauchy, against torch:
values and parameter gradients of log_prob, entropy, moments, cdf and icdf (float64 tight, float32 to 1e-5),
rsample gradients by finite differences with the base draw held fixed, shapes, validation, KL pairs.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import matgrad as mg
import matgrad.distributions as D
from tests.distributions._compare import assert_matches_torch, evaluate
from tests.helpers import assert_close

try:
    import torch
    import torch.distributions as TD
except ImportError:
    torch = TD = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")

RNG = np.random.default_rng(11)
LOC = RNG.standard_normal((2, 3))
SCALE = np.abs(RNG.standard_normal((2, 3))) + 0.5
CONC = RNG.uniform(0.6, 3.0, (2, 3))
VALUE = RNG.standard_normal((4, 2, 3))
POS = np.exp(RNG.standard_normal((4, 2, 3)) * 0.7)
UNIT = RNG.uniform(0.05, 0.95, (4, 2, 3))
PROBS = RNG.uniform(0.1, 0.9, (2, 3))
CAT = RNG.uniform(0.2, 1.0, (2, 4))
_s = np.exp(RNG.standard_normal((4, 2, 4)))
SIMPLEX = _s / _s.sum(-1, keepdims=True)
LOGSIMPLEX = np.log(SIMPLEX)
TEMP = np.array(0.7)

# name: (build(M, *params), params, value for log_prob/cdf, value for icdf, methods)
CASES = {
    "gumbel": (lambda M, a, b: M.Gumbel(a, b), [LOC, SCALE], VALUE, UNIT,
               ["log_prob", "entropy", "mean", "mode", "variance", "stddev", "cdf", "icdf"]),
    "weibull": (lambda M, s, c: M.Weibull(s, c), [SCALE, CONC], POS, UNIT,
                ["log_prob", "entropy", "mean", "mode", "variance", "cdf", "icdf"]),
    "pareto": (lambda M, s, a: M.Pareto(s, a + 2), [SCALE, CONC], SCALE * (1 + POS), UNIT,
               ["log_prob", "entropy", "mean", "mode", "variance", "cdf", "icdf"]),
    "half_cauchy": (lambda M, s: M.HalfCauchy(s), [SCALE], POS, UNIT,
                    ["log_prob", "entropy", "mode", "cdf", "icdf"]),
    "cauchy": (lambda M, a, b: M.Cauchy(a, b), [LOC, SCALE], VALUE, UNIT,
               ["log_prob", "entropy", "mode", "cdf", "icdf"]),
    "kumaraswamy": (lambda M, a, b: M.Kumaraswamy(a, b), [CONC, CONC[::-1] + 0.5], UNIT, UNIT,
                    ["log_prob", "entropy", "mean", "mode", "variance", "cdf", "icdf"]),
    "logistic_normal": (lambda M, a, b: M.LogisticNormal(a, b), [LOC, SCALE], SIMPLEX, None, ["log_prob"]),
    "relaxed_bernoulli_probs": (lambda M, t, p: M.RelaxedBernoulli(t, probs=p), [TEMP, PROBS], UNIT, None,
                                ["log_prob"]),
    "relaxed_bernoulli_logits": (lambda M, t, x: M.RelaxedBernoulli(t, logits=x), [TEMP, LOC], UNIT, None,
                                 ["log_prob"]),
    "logit_relaxed_bernoulli": (lambda M, t, p: M.relaxed_bernoulli.LogitRelaxedBernoulli(t, probs=p),
                                [TEMP, PROBS], VALUE, None, ["log_prob"]),
    "relaxed_onehot_probs": (lambda M, t, p: M.RelaxedOneHotCategorical(t, probs=p), [TEMP, CAT], SIMPLEX, None,
                             ["log_prob"]),
    "relaxed_onehot_logits": (lambda M, t, x: M.RelaxedOneHotCategorical(t, logits=x), [TEMP, CAT * 3], SIMPLEX,
                              None, ["log_prob"]),
    "exp_relaxed_categorical": (lambda M, t, p: M.relaxed_categorical.ExpRelaxedCategorical(t, probs=p),
                                [TEMP, CAT], LOGSIMPLEX, None, ["log_prob"]),
    "inverse_gamma": (lambda M, c, r: M.InverseGamma(c + 2, r), [CONC, SCALE], POS, None,
                      ["log_prob", "entropy", "mean", "mode", "variance"]),
    "transformed_affine_exp": (lambda M, a, b: M.TransformedDistribution(
        M.Normal(a, b), [M.AffineTransform(0.5, -2.0), M.ExpTransform().inv, M.AffineTransform(1.0, 3.0)]),
        [LOC, SCALE], VALUE * 0 - 2.5, UNIT, ["log_prob", "cdf", "icdf"]),
    "transformed_stick_breaking": (lambda M, a, b: M.TransformedDistribution(
        M.Independent(M.Normal(a, b), 1), M.StickBreakingTransform()), [LOC, SCALE], SIMPLEX, None, ["log_prob"]),
    "lognormal": (lambda M, a, b: M.LogNormal(a, b), [LOC, SCALE], POS, UNIT,
                  ["log_prob", "entropy", "mean", "mode", "variance", "cdf", "icdf"]),
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


@needs_torch
@pytest.mark.parametrize("case", ["gumbel", "weibull", "pareto", "half_cauchy", "cauchy", "kumaraswamy",
                                  "logistic_normal", "inverse_gamma", "relaxed_bernoulli_probs",
                                  "relaxed_onehot_logits"])
def test_shapes_and_support_match_torch(case):
    build, params, *_ = CASES[case]
    ours = build(D, *[mg.tensor(p) for p in params])
    theirs = build(TD, *[torch.tensor(p) for p in params])
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    assert repr(ours.support).replace("matgrad", "") .split("(")[0] == repr(theirs.support).split("(")[0]
    assert ours.support.event_dim == theirs.support.event_dim


# name: (build(*params), params) for the rsample finite-difference checks
RSAMPLE = {
    "gumbel": (lambda a, b: D.Gumbel(a, b), [LOC, SCALE]),
    "weibull": (lambda s, c: D.Weibull(s, c), [SCALE, CONC]),
    "pareto": (lambda s, a: D.Pareto(s, a), [SCALE, CONC]),
    "half_cauchy": (lambda s: D.HalfCauchy(s), [SCALE]),
    "cauchy": (lambda a, b: D.Cauchy(a, b), [LOC, SCALE]),
    "kumaraswamy": (lambda a, b: D.Kumaraswamy(a, b), [CONC, CONC[::-1]]),
    "logistic_normal": (lambda a, b: D.LogisticNormal(a, b), [LOC, SCALE]),
    "relaxed_bernoulli": (lambda t, p: D.RelaxedBernoulli(t, probs=p), [TEMP, PROBS]),
    "relaxed_onehot": (lambda t, x: D.RelaxedOneHotCategorical(t, logits=x), [TEMP, CAT]),
    "transformed": (lambda a, b: D.TransformedDistribution(D.Normal(a, b), [D.TanhTransform(),
                                                                             D.AffineTransform(1.0, 2.0)]),
                    [LOC, SCALE]),
}


@pytest.mark.parametrize("case", list(RSAMPLE))
def test_rsample_gradcheck_with_fixed_draw(case):
    """d rsample / d params by finite differences, the generator reseeded so every call uses one base draw."""
    build, params = RSAMPLE[case]
    ps = [mg.tensor(p, dtype=mg.float64, requires_grad=True) for p in params]

    def draw(*ps):
        mg.manual_seed(3)
        return build(*ps).rsample((2,))

    x = draw(*ps)
    assert tuple(x.shape) == (2,) + tuple(build(*ps).batch_shape) + tuple(build(*ps).event_shape)
    assert bool(build(*ps).support.check(x.detach()).all())
    assert mg.gradcheck(draw, ps)


@needs_torch
def test_inverse_gamma_rsample_gradient_matches_torch_pathwise():
    """1/s with s a standard gamma draw: d(rate/s)/d rate = 1/s exactly, as torch's."""
    c = mg.tensor([2.0, 3.5], dtype=mg.float64)
    r = mg.tensor([1.5, 0.5], dtype=mg.float64, requires_grad=True)
    mg.manual_seed(0)
    y = D.InverseGamma(c, r).rsample((5,))
    y.sum().backward()
    assert_close(r.grad.array, (y.detach().array / r.detach().array).sum(0), rtol=1e-12)


def test_sample_statistics():
    """Draw means (20,000 draws, seeded) within 5 standard errors of the closed forms."""
    mg.manual_seed(0)
    n = 20000
    for d in [D.Gumbel(mg.tensor(1.0, dtype=mg.float64), mg.tensor(2.0, dtype=mg.float64)),
              D.Weibull(mg.tensor(1.5, dtype=mg.float64), mg.tensor(2.0, dtype=mg.float64)),
              D.Pareto(mg.tensor(1.0, dtype=mg.float64), mg.tensor(5.0, dtype=mg.float64)),
              D.Kumaraswamy(mg.tensor(2.0, dtype=mg.float64), mg.tensor(3.0, dtype=mg.float64)),
              D.InverseGamma(mg.tensor(6.0, dtype=mg.float64), mg.tensor(2.0, dtype=mg.float64))]:
        x = d.sample((n,)).array
        assert abs(x.mean() - d.mean.item()) < 5 * math.sqrt(d.variance.item() / n), type(d).__name__
    x = D.HalfCauchy(mg.tensor(2.0, dtype=mg.float64)).sample((n,)).array
    assert abs(np.median(x) - 2.0) < 0.1  # the median of HalfCauchy(s) is s
    x = D.Cauchy(mg.tensor(1.0, dtype=mg.float64), mg.tensor(1.0, dtype=mg.float64)).sample((n,)).array
    assert abs(np.median(x) - 1.0) < 0.05


def test_explicit_values():
    """Closed forms, so the file tests something without torch."""
    f = mg.float64
    g = D.Gumbel(mg.tensor(0.0, dtype=f), mg.tensor(1.0, dtype=f))
    assert_close(g.log_prob(mg.tensor(0.0, dtype=f)).item(), -1.0, rtol=1e-15)
    assert_close(g.cdf(mg.tensor(0.0, dtype=f)).item(), math.exp(-1), rtol=1e-14)
    w = D.Weibull(mg.tensor(2.0, dtype=f), mg.tensor(1.0, dtype=f))  # Exponential(rate 1/2)
    assert_close(w.log_prob(mg.tensor(1.0, dtype=f)).item(), math.log(0.5) - 0.5, rtol=1e-14)
    p = D.Pareto(mg.tensor(1.0, dtype=f), mg.tensor(3.0, dtype=f))
    assert_close(p.log_prob(mg.tensor(2.0, dtype=f)).item(), math.log(3 / 16), rtol=1e-14)
    assert_close(p.cdf(mg.tensor(2.0, dtype=f)).item(), 1 - 1 / 8, rtol=1e-14)
    c = D.Cauchy(mg.tensor(0.0, dtype=f), mg.tensor(1.0, dtype=f))
    assert_close(c.cdf(mg.tensor(1.0, dtype=f)).item(), 0.75, rtol=1e-15)
    assert math.isnan(c.mean.item()) and math.isinf(c.variance.item())
    assert_close(D.HalfCauchy(mg.tensor(1.0, dtype=f)).log_prob(mg.tensor(0.0, dtype=f)).item(),
                 math.log(2 / math.pi), rtol=1e-15)
    k = D.Kumaraswamy(mg.tensor(1.0, dtype=f), mg.tensor(1.0, dtype=f))  # uniform
    assert_close(k.log_prob(mg.tensor(0.3, dtype=f)).item(), 0.0, rtol=0, atol=1e-15)
    ig = D.InverseGamma(mg.tensor(3.0, dtype=f), mg.tensor(2.0, dtype=f))
    assert_close(ig.mean.item(), 1.0, rtol=1e-15)
    assert_close(ig.log_prob(mg.tensor(1.0, dtype=f)).item(), 3 * math.log(2) - 2 - math.log(2), rtol=1e-14)
    ln = D.LogisticNormal(mg.zeros(2, dtype=f), mg.ones(2, dtype=f))
    assert tuple(ln.event_shape) == (3,) and tuple(ln.sample((4,)).shape) == (4, 3)


def test_expand_and_batch_shapes():
    d = D.Gumbel(mg.zeros(3), mg.ones(3))
    e = d.expand((2, 3))
    assert tuple(e.batch_shape) == (2, 3) and tuple(e.sample().shape) == (2, 3)
    assert tuple(e.log_prob(mg.zeros(2, 3)).shape) == (2, 3) and tuple(e.loc.shape) == (2, 3)
    w = D.Weibull(mg.ones(3), mg.full((3,), 2.0)).expand((4, 3))
    assert tuple(w.concentration.shape) == (4, 3) and tuple(w.rsample((2,)).shape) == (2, 4, 3)
    r = D.RelaxedOneHotCategorical(mg.tensor(0.5), probs=mg.ones(3) / 3).expand((2,))
    assert tuple(r.batch_shape) == (2,) and tuple(r.sample().shape) == (2, 3)
    ln = D.LogisticNormal(mg.zeros(3), mg.ones(3)).expand((5,))
    assert tuple(ln.sample().shape) == (5, 4)
    t = D.TransformedDistribution(D.Normal(0.0, 1.0), D.AffineTransform(mg.zeros(2), mg.ones(2)))
    assert tuple(t.batch_shape) == (2,) and tuple(t.base_dist.batch_shape) == (2,)
    t = D.TransformedDistribution(D.Normal(mg.zeros(4), mg.ones(4)), D.ReshapeTransform((4,), (2, 2)))
    assert tuple(t.batch_shape) == () and tuple(t.event_shape) == (2, 2)
    assert tuple(t.log_prob(mg.zeros(3, 2, 2)).shape) == (3,)
    assert t.support.event_dim == 2


@pytest.mark.parametrize("make, message", [
    (lambda: D.Gumbel(mg.tensor([0.0]), mg.tensor([-1.0])), "scale"),
    (lambda: D.Weibull(mg.tensor([1.0]), mg.tensor([0.0])), "concentration"),
    (lambda: D.Pareto(mg.tensor([1.0]), mg.tensor([-1.0])), "rate"),  # the base Exponential's check, as torch
    (lambda: D.Pareto(mg.tensor([1.0]), mg.tensor([1.0])).log_prob(mg.tensor([0.5])), "support"),
    (lambda: D.HalfCauchy(mg.tensor([-1.0])), "scale"),
    (lambda: D.HalfCauchy(mg.tensor([1.0])).log_prob(mg.tensor([-1.0])), "support"),
    (lambda: D.Cauchy(mg.tensor([0.0]), mg.tensor([0.0])), "scale"),
    (lambda: D.Kumaraswamy(mg.tensor([1.0]), mg.tensor([1.0])).log_prob(mg.tensor([1.5])), "support"),
    (lambda: D.InverseGamma(mg.tensor([-1.0]), mg.tensor([1.0])), "concentration"),
    (lambda: D.RelaxedBernoulli(mg.tensor(0.5), probs=mg.tensor([1.5])), "probs"),
    (lambda: D.RelaxedBernoulli(mg.tensor(0.5)), "not both"),
    (lambda: D.RelaxedOneHotCategorical(mg.tensor(0.5), probs=mg.tensor([-0.5, 1.5])), "probs"),
    (lambda: D.LogisticNormal(mg.zeros(2), mg.ones(2)).log_prob(mg.tensor([0.5, 0.6, 0.7])), "support"),
    (lambda: D.TransformedDistribution(D.Normal(0.0, 1.0), "exp"), "transforms must be"),
    (lambda: D.TransformedDistribution(D.Normal(0.0, 1.0), [D.ExpTransform(), 3]), "transforms must be"),
    (lambda: D.TransformedDistribution(D.Normal(0.0, 1.0), D.StickBreakingTransform()), "at least 1"),
])
def test_validation_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@needs_torch
@pytest.mark.parametrize("make, message", [
    (lambda M, t: M.Pareto(t([1.0]), t([1.0])).log_prob(t([0.5])), "support"),
    (lambda M, t: M.Gumbel(t([0.0]), t([-1.0])), "scale"),
    (lambda M, t: M.LogisticNormal(t([0.0, 0.0]), t([1.0, 1.0])).log_prob(t([0.5, 0.6, 0.7])), "support"),
])
def test_validation_errors_match_torch(make, message):
    for M, t in ((D, lambda v: mg.tensor(v)), (TD, lambda v: torch.tensor(v))):
        with pytest.raises(ValueError, match=message):
            make(M, t)


KL_CASES = {
    "gumbel_gumbel": (lambda M, a, b: (M.Gumbel(a, b), M.Gumbel(a.flip(0), b.flip(0))), [LOC, SCALE]),
    "pareto_pareto": (lambda M, s, a: (M.Pareto(s, a), M.Pareto(s * 0.5, a.flip(0))), [SCALE, CONC]),
    "cauchy_cauchy": (lambda M, a, b: (M.Cauchy(a, b), M.Cauchy(a.flip(0), b * 2)), [LOC, SCALE]),
    "exponential_gumbel": (lambda M, r, a, b: (M.Exponential(r), M.Gumbel(a, b)), [CONC, LOC, SCALE]),
    "gamma_gumbel": (lambda M, c, a, b: (M.Gamma(c, b), M.Gumbel(a, b.flip(0))), [CONC, LOC, SCALE]),
    "gumbel_normal": (lambda M, a, b: (M.Gumbel(a, b), M.Normal(a.flip(0), b.flip(0))), [LOC, SCALE]),
    "normal_gumbel": (lambda M, a, b: (M.Normal(a, b), M.Gumbel(a.flip(0), b.flip(0))), [LOC, SCALE]),
    "pareto_exponential": (lambda M, s, a: (M.Pareto(s, a + 0.5), M.Exponential(s.flip(0))), [SCALE, CONC]),
    "pareto_gamma": (lambda M, s, a: (M.Pareto(s, a + 0.5), M.Gamma(a, s.flip(0))), [SCALE, CONC]),
    "pareto_normal": (lambda M, s, a: (M.Pareto(s, a + 1.5), M.Normal(s.flip(0), a)), [SCALE, CONC]),
    "uniform_gumbel": (lambda M, a, b: (M.Uniform(a - b, a + b), M.Gumbel(a.flip(0), b)), [LOC, SCALE]),
    "uniform_pareto": (lambda M, s, a: (M.Uniform(s * 0.8, s * 3), M.Pareto(s * 0.9, a)), [SCALE, CONC]),
    "inverse_gamma_transformed": (lambda M, c, r: (M.InverseGamma(c, r), M.InverseGamma(c.flip(0), r)), [CONC, SCALE]),
    "lognormal": (lambda M, a, b: (M.LogNormal(a, b), M.LogNormal(a.flip(0), b)), [LOC, SCALE]),
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
        finite = lib.tensor(np.isfinite(kl.detach().numpy() if lib is torch else kl.array))
        lib.where(finite, kl, 0.0).sum().backward()
        results.append((kl.detach().numpy() if lib is torch else kl.array,
                        [None if p.grad is None else (p.grad.numpy() if lib is torch else p.grad.array) for p in ps]))
    (got, ggrads), (want, tgrads) = results
    assert_matches_torch(got, ggrads, want, tgrads, rtol, atol, case)


def test_kl_infinite_pairs_and_errors():
    g = D.Gumbel(mg.zeros(2), mg.ones(2))
    for q in (D.Beta(mg.ones(2), mg.ones(2)), D.Exponential(mg.ones(2)), D.Uniform(mg.zeros(2), mg.ones(2)),
              D.Pareto(mg.ones(2), mg.ones(2))):
        assert np.isinf(D.kl_divergence(g, q).array).all()
    assert np.isinf(D.kl_divergence(D.Normal(mg.zeros(2), mg.ones(2)), D.Pareto(mg.ones(2), mg.ones(2))).array).all()
    kl = D.kl_divergence(D.Pareto(mg.tensor([1.0, 2.0]), mg.tensor([2.0, 2.0])),
                         D.Pareto(mg.tensor([1.5, 1.5]), mg.tensor([2.0, 2.0])))
    assert np.isinf(kl.array[0]) and np.isfinite(kl.array[1])
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.TransformedDistribution(D.Normal(0.0, 1.0), D.ExpTransform()),
                        D.TransformedDistribution(D.Normal(0.0, 1.0), D.SigmoidTransform()))
    same = D.kl_divergence(D.TransformedDistribution(D.Normal(0.0, 1.0), D.ExpTransform()),
                           D.TransformedDistribution(D.Normal(1.0, 1.0), D.ExpTransform()))
    assert_close(same.item(), 0.5, rtol=1e-6)


@pytest.fixture
def fake_cuda():
    """matgrad's "cuda" as the CuPy-like test device (tests/devices), for one test."""
    from matgrad import devices
    from tests.devices.conftest import fake_backend
    before = devices.set_cuda_backend(fake_backend())
    try:
        yield devices.device("cuda", 0)
    finally:
        devices.restore_cuda_backend(before)


def test_on_the_fake_device(fake_cuda):
    """Transforms and the new distributions run on a device array namespace: values equal the host's."""
    host = np.random.default_rng(0).standard_normal((3, 6))
    for t in [D.ExpTransform(), D.SigmoidTransform(), D.TanhTransform(), D.SoftplusTransform(),
              D.StickBreakingTransform(), D.CorrCholeskyTransform(), D.AffineTransform(1.0, 2.0),
              D.CatTransform([D.ExpTransform(), D.TanhTransform()], 1, [1, 5])]:
        x = mg.tensor(host).to(fake_cuda).requires_grad_(True)
        y = t(x)
        (y.sum() + t.log_abs_det_jacobian(x, y).sum()).backward()
        assert y.device == fake_cuda and x.grad.device == fake_cuda
        assert_close(y.cpu().array, t(mg.tensor(host)).array, rtol=1e-14, err_msg=repr(t))
        assert_close(t.inv(y).cpu().array, t.inv(t(mg.tensor(host))).array, rtol=1e-12)
    p_host = np.array([[0.2, 0.3], [0.6, 0.7]])
    makers = [lambda p: D.Gumbel(p, p), lambda p: D.Weibull(p, p), lambda p: D.LogisticNormal(p, p),
              lambda p: D.Cauchy(p, p), lambda p: D.ContinuousBernoulli(probs=p), lambda p: D.VonMises(p, p),
              lambda p: D.NegativeBinomial(p, probs=p), lambda p: D.Multinomial(3, probs=p),
              lambda p: D.MixtureSameFamily(D.Categorical(probs=p), D.Normal(p, p)),
              lambda p: D.RelaxedOneHotCategorical(mg.tensor(0.5, dtype=mg.float64).to(p.device), probs=p)]
    for make in makers:
        p = mg.tensor(p_host).to(fake_cuda).requires_grad_(True)
        d = make(p)
        s = d.sample((2,))
        lp = d.log_prob(s)
        lp.sum().backward()
        assert s.device == fake_cuda and lp.device == fake_cuda and p.grad.device == fake_cuda
        assert_close(lp.cpu().array, make(mg.tensor(p_host)).log_prob(s.cpu()).array, rtol=1e-12,
                     err_msg=type(d).__name__)
