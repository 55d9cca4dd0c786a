"""ContinuousBernoulli, FisherSnedecor, Multinomial, NegativeBinomial, MixtureSameFamily,
LowRankMultivariateNormal, VonMises, OneHotCategoricalStraightThrough and ExponentialFamily against torch:
values and parameter gradients (float64 tight, float32 to 1e-5), rsample gradients by finite differences
with the draw held fixed, KL pairs, sample shapes and statistics, validation.
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

RNG = np.random.default_rng(5)
PROBS = np.array([[0.1, 0.4995, 0.7], [0.3, 0.5006, 0.93]])  # two inside the Taylor region around ½
LOGITS = np.array([[-2.0, 0.001, 1.5], [0.7, -0.0015, 3.0]])
UNIT = RNG.uniform(0.02, 0.98, (4, 2, 3))
DF1 = np.array([[1.5, 3.0, 7.0], [2.5, 10.0, 0.8]])
DF2 = np.array([[5.0, 1.5, 9.0], [4.5, 3.0, 12.0]])
POS = np.exp(RNG.standard_normal((4, 2, 3)))
CAT = RNG.uniform(0.1, 1.0, (2, 4))
COUNTS = np.array([[[2.0, 0.0, 1.0, 3.0], [0.0, 0.0, 6.0, 0.0]], [[1.0, 1.0, 1.0, 3.0], [4.0, 2.0, 0.0, 0.0]]])
TOTAL = np.array([[2.0, 0.5, 7.0], [1.0, 3.5, 12.0]])
NB_VALUE = np.array([[[0.0, 3.0, 5.0], [1.0, 0.0, 20.0]], [[4.0, 1.0, 0.0], [2.0, 7.0, 9.0]]])
MIX_LOGITS = RNG.standard_normal((2, 3))
COMP_LOC = RNG.standard_normal((2, 3))
COMP_SCALE = RNG.uniform(0.5, 2.0, (2, 3))
VALUE = RNG.standard_normal((4, 2))
MVN_LOC = RNG.standard_normal((2, 3, 2))
MVN_VALUE = RNG.standard_normal((4, 2, 2))
LR_LOC = RNG.standard_normal((2, 4))
LR_W = RNG.standard_normal((2, 4, 2))
LR_D = RNG.uniform(0.5, 2.0, (2, 4))
LR_VALUE = RNG.standard_normal((5, 2, 4))
VM_LOC = RNG.uniform(-3, 3, (2, 3))
VM_CONC = np.array([[0.3, 2.0, 3.74], [3.76, 10.0, 50.0]])  # both sides of the Bessel approximation's 3.75
ANGLES = RNG.uniform(-math.pi, math.pi, (4, 2, 3))

CASES = {
    "cb_probs": (lambda M, p: M.ContinuousBernoulli(probs=p), [PROBS], UNIT, UNIT,
                 ["log_prob", "entropy", "mean", "variance", "stddev", "cdf", "icdf"]),
    "cb_logits": (lambda M, x: M.ContinuousBernoulli(logits=x), [LOGITS], UNIT, UNIT,
                  ["log_prob", "entropy", "mean", "variance", "cdf", "icdf"]),
    "fisher": (lambda M, a, b: M.FisherSnedecor(a, b), [DF1, DF2], POS, None,
               ["log_prob", "mean", "mode", "variance"]),
    "multinomial_probs": (lambda M, p: M.Multinomial(6, probs=p), [CAT], COUNTS, None,
                          ["log_prob", "entropy", "mean", "variance"]),
    "multinomial_logits": (lambda M, x: M.Multinomial(6, logits=x), [CAT * 3], COUNTS, None,
                           ["log_prob", "entropy", "mean", "variance"]),
    "negbin_probs": (lambda M, n, p: M.NegativeBinomial(n, probs=p), [TOTAL, PROBS], NB_VALUE, None,
                     ["log_prob", "mean", "mode", "variance"]),
    "negbin_logits": (lambda M, n, x: M.NegativeBinomial(n, logits=x), [TOTAL, LOGITS], NB_VALUE, None,
                      ["log_prob", "mean", "mode", "variance"]),
    "mixture_normal": (lambda M, w, a, b: M.MixtureSameFamily(M.Categorical(logits=w), M.Normal(a, b)),
                       [MIX_LOGITS, COMP_LOC, COMP_SCALE], VALUE, None, ["log_prob", "mean", "variance", "cdf"]),
    "mixture_mvn": (lambda M, w, a, b: M.MixtureSameFamily(M.Categorical(logits=w),
                                                           M.Independent(M.Normal(a, b.unsqueeze(-1) + 0 * a), 1)),
                    [MIX_LOGITS, MVN_LOC, COMP_SCALE], MVN_VALUE, None, ["log_prob", "mean", "variance"]),
    "lowrank": (lambda M, m, w, d: M.LowRankMultivariateNormal(m, w, d), [LR_LOC, LR_W, LR_D], LR_VALUE, None,
                ["log_prob", "entropy", "variance", "covariance_matrix", "precision_matrix", "scale_tril"]),
    "lowrank_broadcast": (lambda M, m, w, d: M.LowRankMultivariateNormal(m[0], w, d[0]), [LR_LOC, LR_W, LR_D],
                          LR_VALUE, None, ["log_prob", "entropy", "variance"]),
    "von_mises": (lambda M, a, k: M.VonMises(a, k), [VM_LOC, VM_CONC], ANGLES, None, ["log_prob", "mean", "variance"]),
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
    if case.startswith("cb") and precision == "float32":
        atol = 1e-5  # the normaliser divides by 2λ − 1 near ½: float32 rounding of λ is amplified ~1000×
    got, ggrads = _evaluate(mg, case, method, getattr(mg, precision))
    want, tgrads = _evaluate(torch, case, method, getattr(torch, precision))
    assert_matches_torch(got, ggrads, want, tgrads, rtol, atol, f"{case}.{method}")


KL_CASES = {
    "cb_cb": (lambda M, a, b: (M.ContinuousBernoulli(probs=a), M.ContinuousBernoulli(logits=b)), [PROBS, LOGITS]),
    "beta_cb": (lambda M, a, b: (M.Beta(a + 0.5, a.flip(0) + 0.5), M.ContinuousBernoulli(probs=b)), [DF1, PROBS]),
    "cb_exponential": (lambda M, a, b: (M.ContinuousBernoulli(probs=a), M.Exponential(b)), [PROBS, DF2]),
    "cb_normal": (lambda M, a, b, c: (M.ContinuousBernoulli(probs=a), M.Normal(b, c)), [PROBS, LOGITS, DF2]),
    "cb_uniform": (lambda M, a, b: (M.ContinuousBernoulli(probs=a), M.Uniform(-b, b + 1)), [PROBS, DF2]),
    "uniform_cb": (lambda M, a, b: (M.Uniform(a * 0.4, a * 0.4 + 0.5), M.ContinuousBernoulli(probs=b)),
                   [PROBS, PROBS]),
    "lowrank_lowrank": (lambda M, m, w, d: (M.LowRankMultivariateNormal(m, w, d),
                                            M.LowRankMultivariateNormal(m.flip(0), w * 0.5, d.flip(0))),
                        [LR_LOC, LR_W, LR_D]),
    "mvn_lowrank": (lambda M, m, w, d: (M.MultivariateNormal(m, scale_tril=(d.unsqueeze(-1) + 0 * w[..., :1]
                                                                             ).expand(2, 4, 4).tril()),
                                        M.LowRankMultivariateNormal(m.flip(0), w, d)), [LR_LOC, LR_W, LR_D]),
    "lowrank_mvn": (lambda M, m, w, d: (M.LowRankMultivariateNormal(m, w, d),
                                        M.MultivariateNormal(m.flip(0), scale_tril=(d.unsqueeze(-1) + 0 * w[..., :1]
                                                                                    ).expand(2, 4, 4).tril())),
                    [LR_LOC, LR_W, LR_D]),
}


@needs_torch
@pytest.mark.parametrize("case", list(KL_CASES))
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_kl_divergence_matches_torch(case, precision):
    rtol, atol = (1e-10, 1e-12) if precision == "float64" else (1e-5, 1e-5)
    results = []
    for lib, M in ((mg, D), (torch, TD)):
        build, params = KL_CASES[case]
        ps = [lib.tensor(p, dtype=getattr(lib, precision), requires_grad=True) for p in params]
        kl = M.kl_divergence(*build(M, *ps))
        arr = kl.detach().numpy() if lib is torch else kl.array
        lib.where(lib.tensor(np.isfinite(arr)), kl, 0.0).sum().backward()
        results.append((arr, [None if p.grad is None else (p.grad.numpy() if lib is torch else p.grad.array)
                              for p in ps]))
    (got, ggrads), (want, tgrads) = results
    assert_matches_torch(got, ggrads, want, tgrads, rtol, atol, case)


RSAMPLE = {
    "cb": (lambda p: D.ContinuousBernoulli(probs=p), [PROBS]),
    "lowrank": (lambda m, w, d: D.LowRankMultivariateNormal(m, w, d), [LR_LOC, LR_W, LR_D]),
}


@pytest.mark.parametrize("case", list(RSAMPLE))
def test_rsample_gradcheck_with_fixed_draw(case):
    build, params = RSAMPLE[case]
    ps = [mg.tensor(p, dtype=mg.float64, requires_grad=True) for p in params]

    def draw(*ps):
        mg.manual_seed(4)
        return build(*ps).rsample((3,))

    assert mg.gradcheck(draw, ps)


def test_fisher_rsample_is_differentiable():
    """X₁/X₂ of reparameterised gamma draws (their implicit gradient: no finite-difference check, since a
    rejection-sampled draw under a fixed seed is not a smooth function of its parameters)."""
    df1 = mg.tensor(DF1, dtype=mg.float64, requires_grad=True)
    df2 = mg.tensor(DF2, dtype=mg.float64, requires_grad=True)
    y = D.FisherSnedecor(df1, df2).rsample((50,))
    assert tuple(y.shape) == (50, 2, 3) and bool((y > 0).all())
    y.mean().backward()
    assert np.isfinite(df1.grad.array).all() and np.isfinite(df2.grad.array).all()
    assert (df1.grad.array != 0).all() and (df2.grad.array != 0).all()


def test_lowrank_rsample_gradient_is_the_affine_map():
    """loc + W·ε_W + √D·ε_D: d/dloc = 1 per draw, and the draws' covariance is W·Wᵀ + D."""
    m = mg.tensor(LR_LOC[0], dtype=mg.float64, requires_grad=True)
    w = mg.tensor(LR_W[0], dtype=mg.float64, requires_grad=True)
    d = mg.tensor(LR_D[0], dtype=mg.float64, requires_grad=True)
    x = D.LowRankMultivariateNormal(m, w, d).rsample((3,))
    x.sum().backward()
    assert_close(m.grad.array, np.full(4, 3.0), rtol=1e-15)
    mg.manual_seed(0)
    big = D.LowRankMultivariateNormal(m, w, d).sample((40000,)).array
    cov = LR_W[0] @ LR_W[0].T + np.diag(LR_D[0])
    assert_close(np.cov(big.T), cov, rtol=0.05, atol=0.05)


def test_straight_through_gradient_is_identity():
    p = mg.tensor([0.2, 0.5, 0.3], dtype=mg.float64, requires_grad=True)
    d = D.OneHotCategoricalStraightThrough(probs=p)
    mg.manual_seed(0)
    x = d.rsample((4,))
    assert set(np.unique(x.detach().array)) <= {0.0, 1.0} and (x.detach().array.sum(-1) == 1).all()
    (x * mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64)).sum().backward()
    v = np.array([1.0, 2.0, 3.0])
    assert_close(p.grad.array, 4 * (v - v @ p.detach().array), rtol=1e-14)  # through probs = p / Σp, as torch
    assert d.has_rsample and not D.OneHotCategorical(probs=p).has_rsample


@needs_torch
def test_exponential_family_entropy_is_the_closed_form():
    """ExponentialFamily.entropy (log-normaliser + autograd) equals ContinuousBernoulli's own, and torch's."""
    for logits in (LOGITS, LOGITS * 5):
        d = D.ContinuousBernoulli(logits=mg.tensor(logits))
        via_family = D.ExponentialFamily.entropy(d)
        assert_close(via_family.array, d.entropy().array, rtol=1e-9, atol=1e-12)
        t = TD.ContinuousBernoulli(logits=torch.tensor(logits))
        assert_close(via_family.array, TD.ExponentialFamily.entropy(t).detach().numpy(), rtol=1e-12, atol=1e-14)


def test_sample_shapes_and_statistics():
    mg.manual_seed(0)
    n = 20000
    cb = D.ContinuousBernoulli(probs=mg.tensor([0.2, 0.5, 0.9], dtype=mg.float64))
    x = cb.sample((n,)).array
    assert_close(x.mean(0), cb.mean.array, rtol=0, atol=5 * np.sqrt(cb.variance.array.max() / n))
    f = D.FisherSnedecor(mg.tensor(5.0, dtype=mg.float64), mg.tensor(12.0, dtype=mg.float64))
    assert abs(f.sample((n,)).array.mean() - f.mean.item()) < 5 * math.sqrt(f.variance.item() / n)
    mn = D.Multinomial(10, probs=mg.tensor([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]], dtype=mg.float64))
    c = mn.sample((n // 10,))
    assert tuple(c.shape) == (n // 10, 2, 3) and (c.array.sum(-1) == 10).all()
    assert_close(c.array.mean(0), mn.mean.array, rtol=0, atol=0.1)
    nb = D.NegativeBinomial(mg.tensor([3.0, 0.5], dtype=mg.float64), probs=mg.tensor([0.4, 0.8], dtype=mg.float64))
    s = nb.sample((n,)).array
    assert_close(s.mean(0), nb.mean.array, rtol=0, atol=5 * np.sqrt(nb.variance.array / n).max())
    assert (s == np.floor(s)).all() and (s >= 0).all()
    comps = D.Normal(mg.tensor([-2.0, 3.0], dtype=mg.float64), mg.tensor([0.5, 1.0], dtype=mg.float64))
    mix = D.MixtureSameFamily(D.Categorical(probs=mg.tensor([0.3, 0.7], dtype=mg.float64)), comps)
    m = mix.sample((n,)).array
    assert abs(m.mean() - mix.mean.item()) < 5 * math.sqrt(mix.variance.item() / n)
    assert abs(m.var() / mix.variance.item() - 1) < 0.05
    vm = D.VonMises(mg.tensor([0.5, -3.0], dtype=mg.float64), mg.tensor([4.0, 0.5], dtype=mg.float64))
    a = vm.sample((n,)).array
    assert a.shape == (n, 2) and (a >= -math.pi).all() and (a < math.pi).all()
    assert_close(np.angle(np.exp(1j * a).mean(0)), [0.5, -3.0], rtol=0, atol=0.1)  # the mean direction
    assert_close(1 - np.abs(np.exp(1j * a).mean(0)), vm.variance.array, rtol=0, atol=0.02)
    assert tuple(D.MixtureSameFamily(D.Categorical(logits=mg.zeros(3, 2)),
                                     D.Independent(D.Normal(mg.zeros(3, 2, 4), mg.ones(3, 2, 4)), 1)).sample(
        (5,)).shape) == (5, 3, 4)
    assert tuple(D.LowRankMultivariateNormal(mg.zeros(2, 4), mg.ones(2, 4, 1), mg.ones(2, 4)).expand(
        (3, 2)).sample((5,)).shape) == (5, 3, 2, 4)


def test_explicit_values():
    f = mg.float64
    cb = D.ContinuousBernoulli(probs=mg.tensor(0.5, dtype=f))
    assert_close(cb.log_prob(mg.tensor(0.3, dtype=f)).item(), 0.0, rtol=0, atol=1e-12)  # uniform at λ = ½
    assert_close(cb.mean.item(), 0.5, rtol=1e-15)
    nb = D.NegativeBinomial(mg.tensor(1.0, dtype=f), probs=mg.tensor(0.25, dtype=f))  # geometric (failures first)
    assert_close(nb.log_prob(mg.tensor(2.0, dtype=f)).item(), math.log(0.25 ** 2 * 0.75), rtol=1e-14)
    mn = D.Multinomial(3, probs=mg.tensor([0.5, 0.5], dtype=f))
    assert_close(mn.log_prob(mg.tensor([1.0, 2.0], dtype=f)).item(), math.log(3 / 8), rtol=1e-14)
    vm = D.VonMises(mg.tensor(0.0, dtype=f), mg.tensor(1.0, dtype=f))
    assert_close(vm.log_prob(mg.tensor(0.0, dtype=f)).item(), 1 - math.log(2 * math.pi * np.i0(1.0)), rtol=1e-6)
    fs = D.FisherSnedecor(mg.tensor(2.0, dtype=f), mg.tensor(2.0, dtype=f))  # density 1/(1+x)²
    assert_close(fs.log_prob(mg.tensor(1.0, dtype=f)).item(), -2 * math.log(2), rtol=1e-14)


@pytest.mark.parametrize("make, error, message", [
    (lambda: D.ContinuousBernoulli(probs=mg.tensor([1.5]), validate_args=True), ValueError, "probs"),
    (lambda: D.ContinuousBernoulli(), ValueError, "not both"),
    (lambda: D.ContinuousBernoulli(probs=mg.tensor([0.3])).log_prob(mg.tensor([1.5])), ValueError, "support"),
    (lambda: D.FisherSnedecor(mg.tensor([1.0]), mg.tensor([-1.0])), ValueError, "concentration"),  # its Gamma's
    (lambda: D.Multinomial(mg.tensor(3), probs=mg.ones(3)), NotImplementedError, "inhomogeneous"),
    (lambda: D.Multinomial(3, probs=mg.ones(3) / 3).log_prob(mg.tensor([2.0, 2.0, 1.0])), ValueError, "support"),
    (lambda: D.NegativeBinomial(mg.tensor([1.0]), probs=mg.tensor([1.0])), ValueError, "probs"),
    (lambda: D.NegativeBinomial(mg.tensor([-1.0]), probs=mg.tensor([0.5])), ValueError, "total_count"),
    (lambda: D.NegativeBinomial(mg.tensor([2.0]), probs=mg.tensor([0.5])).log_prob(mg.tensor([0.5])), ValueError,
     "support"),
    (lambda: D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(mg.zeros(2), mg.ones(2))), ValueError, "Categorical"),
    (lambda: D.MixtureSameFamily(D.Categorical(logits=mg.zeros(3)), D.Normal(mg.zeros(2), mg.ones(2))), ValueError,
     "does not equal"),
    (lambda: D.MixtureSameFamily(D.Categorical(logits=mg.zeros(3, 2)), D.Normal(mg.zeros(4, 2), mg.ones(4, 2))),
     ValueError, "not compatible"),
    (lambda: D.LowRankMultivariateNormal(mg.zeros(3), mg.zeros(2, 1), mg.ones(3)), ValueError, "cov_factor"),
    (lambda: D.LowRankMultivariateNormal(mg.zeros(3), mg.zeros(3, 1), mg.ones(2)), ValueError, "cov_diag"),
    (lambda: D.LowRankMultivariateNormal(mg.zeros(3), mg.zeros(3, 1), -mg.ones(3)), ValueError, "cov_diag"),
    (lambda: D.VonMises(mg.tensor([0.0]), mg.tensor([0.0])), ValueError, "concentration"),
])
def test_validation_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


@needs_torch
def test_supports_match_torch():
    pairs = [
        (lambda M, t: M.Multinomial(4, probs=t([0.5, 0.5]))),
        (lambda M, t: M.NegativeBinomial(t([2.0]), probs=t([0.5]))),
        (lambda M, t: M.MixtureSameFamily(M.Categorical(logits=t([0.0, 0.0])), M.Exponential(t([1.0, 2.0])))),
        (lambda M, t: M.ContinuousBernoulli(probs=t([0.3]))),
        (lambda M, t: M.LowRankMultivariateNormal(t([0.0, 0.0]), t([[1.0], [0.0]]), t([1.0, 1.0]))),
    ]
    for make in pairs:
        ours, theirs = make(D, lambda v: mg.tensor(v)), make(TD, lambda v: torch.tensor(v))
        assert type(ours.support).__name__.lstrip("_") == type(theirs.support).__name__.lstrip("_")
        assert ours.support.event_dim == theirs.support.event_dim
        assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
        assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    mix = D.MixtureSameFamily(D.Categorical(logits=mg.zeros(2)), D.Exponential(mg.ones(2)))
    assert mix.support.check(mg.tensor([1.0, -1.0])).tolist() == [True, False]


def test_submodule_aliases_and_names():
    """torch's lower-case submodules and public names exist here and hold the same classes."""
    pairs = {"normal": "Normal", "uniform": "Uniform", "exponential": "Exponential", "laplace": "Laplace",
             "log_normal": "LogNormal", "half_normal": "HalfNormal", "bernoulli": "Bernoulli",
             "categorical": "Categorical", "beta": "Beta", "chi2": "Chi2", "studentT": "StudentT",
             "poisson": "Poisson", "binomial": "Binomial", "geometric": "Geometric", "gumbel": "Gumbel",
             "weibull": "Weibull", "pareto": "Pareto", "cauchy": "Cauchy", "half_cauchy": "HalfCauchy",
             "kumaraswamy": "Kumaraswamy", "logistic_normal": "LogisticNormal", "inverse_gamma": "InverseGamma",
             "relaxed_bernoulli": "RelaxedBernoulli", "relaxed_categorical": "RelaxedOneHotCategorical",
             "continuous_bernoulli": "ContinuousBernoulli", "fishersnedecor": "FisherSnedecor",
             "multinomial": "Multinomial", "negative_binomial": "NegativeBinomial",
             "mixture_same_family": "MixtureSameFamily", "lowrank_multivariate_normal": "LowRankMultivariateNormal",
             "von_mises": "VonMises", "one_hot_categorical": "OneHotCategoricalStraightThrough",
             "exp_family": "ExponentialFamily", "transformed_distribution": "TransformedDistribution",
             "transforms": "ExpTransform", "constraint_registry": "biject_to"}
    for module, name in pairs.items():
        assert getattr(getattr(D, module), name) is getattr(D, name), module
    assert D.one_hot_categorical.OneHotCategorical is D.OneHotCategorical
    assert issubclass(D.ContinuousBernoulli, D.ExponentialFamily)
    assert all(hasattr(D, n) for n in D.__all__)
    if torch is not None:
        missing = {n for n in TD.__all__ if not hasattr(D, n)}
        assert missing <= {"GeneralizedPareto", "LKJCholesky", "Wishart"}, missing
