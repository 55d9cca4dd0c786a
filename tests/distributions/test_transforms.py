"""matgrad.distributions.transforms and constraint_registry against torch's: forward, inverse and
log |det J| values with their gradients (float64 tight, float32 to 1e-5), finite-difference gradient
checks, shapes, caching, signs, domains, and which transform biject_to / transform_to pick.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import matgrad as mg
import matgrad.distributions as D
from matgrad.distributions import constraints as C
from matgrad.distributions import transforms as T
from tests.distributions._compare import assert_matches_torch
from tests.helpers import assert_close

try:
    import torch
    import torch.distributions as TD
except ImportError:
    torch = TD = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")

RNG = np.random.default_rng(7)
X = RNG.standard_normal((3, 4))
POS = np.exp(RNG.standard_normal((3, 4)) * 0.5)
UNIT = RNG.uniform(0.05, 0.95, (3, 4))
SQ = RNG.standard_normal((2, 3, 3))
VEC3 = RNG.standard_normal((2, 3))
LOC = RNG.standard_normal(4)
SCALE = RNG.uniform(0.5, 2.0, 4) * np.array([1, -1, 1, -1])
EXPO = RNG.uniform(0.5, 2.0, 4)

# name: (build(M, *params) -> transform, params, x, has log_abs_det_jacobian)
CASES = {
    "exp": (lambda M: M.ExpTransform(), [], X, True),
    "affine": (lambda M, a, b: M.AffineTransform(a, b), [LOC, SCALE], X, True),
    "affine_scalar": (lambda M: M.AffineTransform(1.5, -2.0), [], X, True),
    "affine_event": (lambda M, a, b: M.AffineTransform(a, b, event_dim=1), [LOC, SCALE], X, True),
    "sigmoid": (lambda M: M.SigmoidTransform(), [], X * 3, True),
    "tanh": (lambda M: M.TanhTransform(), [], X, True),
    "softplus": (lambda M: M.SoftplusTransform(), [], X * 3, True),
    "power": (lambda M, e: M.PowerTransform(e), [EXPO], POS, True),
    "abs": (lambda M: M.AbsTransform(), [], X, False),
    "softmax": (lambda M: M.SoftmaxTransform(), [], X, False),
    "stick_breaking": (lambda M: M.StickBreakingTransform(), [], X, True),
    "lower_cholesky": (lambda M: M.LowerCholeskyTransform(), [], SQ, False),
    "positive_definite": (lambda M: M.PositiveDefiniteTransform(), [], SQ, False),
    "corr_cholesky": (lambda M: M.CorrCholeskyTransform(), [], VEC3, True),
    "compose": (lambda M, a, b: M.ComposeTransform([M.ExpTransform(), M.AffineTransform(a, b)]), [LOC, SCALE], X,
                True),
    "compose_event": (lambda M: M.ComposeTransform([M.AffineTransform(0.5, 2.0), M.StickBreakingTransform()]), [], X,
                      True),
    "inverse": (lambda M: M.SigmoidTransform().inv, [], UNIT, True),
    "independent": (lambda M, a, b: M.IndependentTransform(M.AffineTransform(a, b), 1), [LOC, SCALE], X, True),
    "reshape": (lambda M: M.ReshapeTransform((4,), (2, 2)), [], X, True),
    "cat": (lambda M: M.CatTransform([M.ExpTransform(), M.AffineTransform(1.0, 3.0)], dim=1, lengths=[1, 3]), [], X,
            True),
    "cat_event": (lambda M: M.CatTransform([M.ExpTransform(), M.IndependentTransform(M.AffineTransform(1.0, 2.0), 1)],
                                           dim=0, lengths=[1, 2]), [], X, True),
    "cat_last": (lambda M: M.CatTransform([M.ExpTransform(), M.IndependentTransform(M.TanhTransform(), 1)],
                                          dim=-1, lengths=[1, 3]), [], X, True),
    "stack": (lambda M: M.StackTransform([M.ExpTransform(), M.TanhTransform(), M.SigmoidTransform()], dim=0), [], X,
              True),
    "cdf": (lambda M, a, b: M.CumulativeDistributionTransform(M.Normal(a, b)), [LOC, np.abs(SCALE)], X, True),
}


def _run(lib, case, what, dtype):
    """(output, [gradients of the params and of x]) of what ∈ {call, inv, ladj} in matgrad or torch."""
    build, params, x, _ = CASES[case]
    M = D if lib is mg else TD
    ps = [lib.tensor(p, dtype=dtype, requires_grad=True) for p in params]
    t = build(M, *ps)
    xt = lib.tensor(x, dtype=dtype, requires_grad=True)
    if what == "call":
        out = t(xt)
    elif what == "inv":
        y = t(lib.tensor(x, dtype=dtype)).detach().requires_grad_(True)
        xt = y
        out = t.inv(y)
    else:
        out = t.log_abs_det_jacobian(xt, t(xt))
    seed = np.random.default_rng(1).standard_normal(tuple(out.shape))
    if out.requires_grad:  # a constant log |det J| (a number scale) has no graph, in torch either
        (out * lib.tensor(seed, dtype=dtype)).sum().backward()

    def arr(v):
        return None if v is None else np.asarray(v.detach().numpy() if lib is torch else v.array)

    return arr(out), [arr(p.grad) for p in ps] + [arr(xt.grad)]


ROWS = [(c, w) for c, spec in CASES.items() for w in (["call", "inv", "ladj"] if spec[3] else ["call", "inv"])]


@needs_torch
@pytest.mark.parametrize("case, what", ROWS, ids=[f"{c}-{w}" for c, w in ROWS])
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_transform_values_and_gradients_match_torch(case, what, precision):
    rtol, atol = (1e-10, 1e-12) if precision == "float64" else (1e-5, 1e-6)
    got, ggrads = _run(mg, case, what, getattr(mg, precision))
    want, tgrads = _run(torch, case, what, getattr(torch, precision))
    assert_matches_torch(got, ggrads, want, tgrads, rtol, atol, f"{case}.{what}")


GRADCHECK = ["exp", "affine", "affine_event", "sigmoid", "tanh", "softplus", "power", "stick_breaking",
             "corr_cholesky", "compose", "compose_event", "independent", "cat", "cat_event", "cat_last", "stack", "cdf"]


@pytest.mark.parametrize("case", GRADCHECK)
def test_transform_gradcheck(case):
    """Finite differences of t(x) and of log |det J| in x and in the transform's parameters (float64)."""
    build, params, x, _ = CASES[case]
    ps = [mg.tensor(p, dtype=mg.float64, requires_grad=True) for p in params]
    xt = mg.tensor(x, dtype=mg.float64, requires_grad=True)

    def forward(x, *ps):
        return build(D, *ps)(x)

    def ladj(x, *ps):
        t = build(D, *ps)
        return t.log_abs_det_jacobian(x, t(x))

    assert mg.gradcheck(forward, [xt, *ps])
    assert mg.gradcheck(ladj, [xt, *ps])


def test_log_abs_det_jacobian_is_the_log_derivative():
    """Elementwise transforms: log |dy/dx| equals the log of the finite-difference slope (no torch needed)."""
    x = np.linspace(-2.5, 2.5, 11)
    h = 1e-6
    for t in [T.ExpTransform(), T.SigmoidTransform(), T.TanhTransform(), T.SoftplusTransform(),
              T.AffineTransform(0.3, -1.7), T.PowerTransform(mg.tensor(2.5, dtype=mg.float64))]:
        xs = x + 3.0 if isinstance(t, T.PowerTransform) else x
        y = t(mg.tensor(xs)).array
        slope = (t(mg.tensor(xs + h)).array - t(mg.tensor(xs - h)).array) / (2 * h)
        assert_close(t.log_abs_det_jacobian(mg.tensor(xs), mg.tensor(y)).array, np.log(np.abs(slope)), rtol=1e-6,
                     atol=1e-8, err_msg=repr(t))
        assert_close(t.inv(mg.tensor(y)).array, xs, rtol=1e-9, atol=1e-12)


def test_stick_breaking_and_corr_cholesky_land_in_their_codomains():
    y = T.StickBreakingTransform()(mg.tensor(X))
    assert tuple(y.shape) == (3, 5) and bool(C.simplex.check(y).all())
    L = T.CorrCholeskyTransform()(mg.tensor(RNG.standard_normal((4, 6))))
    assert tuple(L.shape) == (4, 4, 4) and bool(C.corr_cholesky.check(L).all())
    assert tuple(T.CorrCholeskyTransform().inv(L).shape) == (4, 6)


def test_inverse_caching_and_identity():
    t = T.ExpTransform()
    assert t.inv.inv is t and t.inv is t.inv
    assert isinstance(t.inv, T._InverseTransform) and t.inv == T.ExpTransform().inv
    x = mg.tensor([0.1, 0.2], dtype=mg.float64)
    cached = T.ExpTransform(cache_size=1)
    y = cached(x)
    assert cached.inv(y) is x and cached(x) is y
    assert T.ExpTransform()(x) is not y and T.ExpTransform().inv(y) is not x
    assert t.with_cache(1)._cache_size == 1 and t.with_cache(0) is t
    assert T.AffineTransform(1.0, 2.0).with_cache(1)._cache_size == 1
    c = T.ComposeTransform([T.ExpTransform(), T.AffineTransform(1.0, 2.0)], cache_size=1)
    assert all(p._cache_size == 1 for p in c.parts)
    assert c.inv.inv is c
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)
    assert T.identity_transform(x) is x
    assert T.identity_transform.log_abs_det_jacobian(x, x).tolist() == [0.0, 0.0]
    assert T.identity_transform.domain is C.real and T.identity_transform.bijective


def test_attributes_shapes_and_errors():
    assert T.ExpTransform().sign == 1 and T.AffineTransform(0.0, -2.0).sign == -1
    assert T.AffineTransform(0.0, 0.0).sign == 0
    assert T.ExpTransform().inv.sign == 1
    assert T.AffineTransform(mg.tensor([1.0]), mg.tensor([-2.0, 3.0])).sign.tolist() == [-1.0, 1.0]
    assert T.ComposeTransform([T.ExpTransform(), T.AffineTransform(0.0, -1.0)]).sign == -1
    assert T.StickBreakingTransform().bijective and not T.SoftmaxTransform().bijective
    assert not T.AbsTransform().bijective
    assert T.StickBreakingTransform().event_dim == 1 and T.ExpTransform().event_dim == 0
    assert T.StickBreakingTransform().forward_shape((2, 3)) == (2, 4)
    assert T.StickBreakingTransform().inv.forward_shape((2, 4)) == (2, 3)
    assert T.CorrCholeskyTransform().forward_shape((5, 6)) == (5, 4, 4)
    assert T.CorrCholeskyTransform().inverse_shape((4, 4)) == (6,)
    r = T.ReshapeTransform((4,), (2, 2))
    assert r.forward_shape((3, 4)) == (3, 2, 2) and r.inverse_shape((3, 2, 2)) == (3, 4)
    assert T.AffineTransform(mg.zeros(3), 1.0).forward_shape((2, 1)) == (2, 3)
    with pytest.raises(ValueError, match="Please use either"):
        _ = T.CorrCholeskyTransform().event_dim
    with pytest.raises(ValueError, match="different numbers of elements"):
        T.ReshapeTransform((4,), (3,))
    with pytest.raises(ValueError, match="Shape mismatch"):
        r.forward_shape((3, 5))
    with pytest.raises(ValueError, match="not a flattened lower-diagonal"):
        T.CorrCholeskyTransform().forward_shape((5,))
    with pytest.raises(NotImplementedError):
        T.AbsTransform().log_abs_det_jacobian(mg.ones(2), mg.ones(2))
    with pytest.raises(NotImplementedError, match="with_cache"):
        T.CumulativeDistributionTransform.__bases__[0].with_cache(T.AffineTransform(0.0, 1.0), 2)
    with pytest.raises(AssertionError, match="must equal length"):
        T.CatTransform([T.ExpTransform()], dim=0, lengths=[2])(mg.ones(3))
    with pytest.raises(ValueError, match="Too few dimensions"):
        T.IndependentTransform(T.ExpTransform(), 2)(mg.ones(3))
    c = T.ComposeTransform([T.ExpTransform(), T.StickBreakingTransform()])
    assert c.domain.event_dim == 1 and c.codomain.event_dim == 1
    assert T.IndependentTransform(T.ExpTransform(), 2).codomain.event_dim == 2
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform() != T.SigmoidTransform()
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    assert "ExpTransform" in repr(T.ComposeTransform([T.ExpTransform()]))


@needs_torch
def test_domains_and_codomains_match_torch():
    for name in ["ExpTransform", "SigmoidTransform", "TanhTransform", "SoftplusTransform", "AbsTransform",
                 "SoftmaxTransform", "StickBreakingTransform", "LowerCholeskyTransform", "CorrCholeskyTransform"]:
        ours, theirs = getattr(T, name)(), getattr(TD.transforms, name)()
        for side in ("domain", "codomain"):
            a, b = getattr(ours, side), getattr(theirs, side)
            assert repr(a) == repr(b) and a.event_dim == b.event_dim, (name, side)
        assert ours.bijective == theirs.bijective


CONSTRAINTS = [
    ("real", lambda M: M.constraints.real, (4,)),
    ("positive", lambda M: M.constraints.positive, (4,)),
    ("nonnegative", lambda M: M.constraints.nonnegative, (4,)),
    ("greater_than", lambda M: M.constraints.greater_than(1.5), (4,)),
    ("greater_than_eq", lambda M: M.constraints.greater_than_eq(-1.5), (4,)),
    ("less_than", lambda M: M.constraints.less_than(2.0), (4,)),
    ("unit_interval", lambda M: M.constraints.unit_interval, (4,)),
    ("interval", lambda M: M.constraints.interval(-2.0, 3.0), (4,)),
    ("half_open_interval", lambda M: M.constraints.half_open_interval(-2.0, 3.0), (4,)),
    ("simplex", lambda M: M.constraints.simplex, (2, 4)),
    ("real_vector", lambda M: M.constraints.real_vector, (2, 4)),
    ("independent_positive", lambda M: M.constraints.independent(M.constraints.positive, 1), (2, 4)),
    ("lower_cholesky", lambda M: M.constraints.lower_cholesky, (2, 3, 3)),
    ("positive_definite", lambda M: M.constraints.positive_definite, (2, 3, 3)),
    ("positive_semidefinite", lambda M: M.constraints.positive_semidefinite, (2, 3, 3)),
    ("corr_cholesky", lambda M: M.constraints.corr_cholesky, (2, 6)),
    ("cat", lambda M: M.constraints.cat([M.constraints.positive, M.constraints.unit_interval], 0, [1, 3]), (4,)),
    ("stack", lambda M: M.constraints.stack([M.constraints.positive, M.constraints.real], -1), (3, 2)),
]


@needs_torch
@pytest.mark.parametrize("name, make, shape", CONSTRAINTS, ids=[c[0] for c in CONSTRAINTS])
@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_constraint_registry_matches_torch(name, make, shape, registry):
    """The same transform (or the same NotImplementedError) as torch, mapping into the constraint."""
    x = RNG.standard_normal(shape)
    ours_c, theirs_c = make(D), make(TD)
    try:
        theirs = getattr(TD, registry)(theirs_c)
    except NotImplementedError:
        with pytest.raises(NotImplementedError, match="Cannot transform"):
            getattr(D, registry)(ours_c)
        return
    ours = getattr(D, registry)(ours_c)
    assert " ".join(repr(ours).split()) == " ".join(repr(theirs).split())
    y = ours(mg.tensor(x))
    assert_close(y.array, theirs(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-14)
    assert bool(ours_c.check(y).all())
    if ours.bijective:
        assert_close(ours.inv(y).array, x, rtol=1e-7, atol=1e-9)


def test_constraint_registry_register_and_errors():
    reg = D.constraint_registry.ConstraintRegistry()
    with pytest.raises(NotImplementedError, match="Cannot transform _Real constraints"):
        reg(C.real)
    reg.register(C.real, lambda c: T.ExpTransform())
    assert isinstance(reg(C.real), T.ExpTransform)

    @reg.register(C._Boolean)
    def _boolean(c):
        return T.SigmoidTransform()

    assert isinstance(reg(C.boolean), T.SigmoidTransform)
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        reg.register(int, lambda c: None)
    t = D.biject_to(C.interval(mg.tensor([0.0, 1.0]), mg.tensor([1.0, 3.0])))
    y = t(mg.tensor([[-5.0, 0.0], [5.0, 20.0]], dtype=mg.float32))
    assert bool(((y >= mg.tensor([0.0, 1.0])) & (y <= mg.tensor([1.0, 3.0]))).all())


def test_new_constraints():
    assert C.less_than(1.0).check(mg.tensor([0.0, 1.0])).tolist() == [True, False]
    assert C.positive_integer.check(mg.tensor([0.0, 1.0, 2.5])).tolist() == [False, True, False]
    assert C.multinomial(3).check(mg.tensor([[1.0, 2.0], [2.0, 2.0]])).tolist() == [True, False]
    assert C.lower_triangular.check(mg.tensor([[1.0, 0.0], [-2.0, 0.0]])).item()
    assert C.square.check(mg.zeros(2, 3, 3)).tolist() == [True, True] and not C.square.check(mg.zeros(2, 3)).item()
    assert C.symmetric.check(mg.tensor([[1.0, 2.0], [2.0, 1.0]])).item()
    assert not C.positive_semidefinite.check(mg.tensor([[1.0, 2.0], [2.0, 1.0]])).item()
    assert C.positive_semidefinite.check(mg.tensor([[1.0, 1.0], [1.0, 1.0]])).item()
    assert C.corr_cholesky.check(mg.tensor([[1.0, 0.0], [0.6, 0.8]])).item()
    assert not C.corr_cholesky.check(mg.tensor([[1.0, 0.0], [0.6, 0.9]])).item()
    cat = C.cat([C.positive, C.real], dim=0, lengths=[1, 2])
    assert cat.check(mg.tensor([-1.0, -2.0, 3.0])).tolist() == [False, True, True] and cat.event_dim == 0
    assert C.stack([C.positive, C.real], dim=-1).check(mg.tensor([[1.0, -1.0], [-1.0, 1.0]])).tolist() == [
        [True, True], [False, True]]


def test_tanh_and_sigmoid_are_stable_far_out():
    x = mg.tensor([-800.0, -40.0, 0.0, 40.0, 800.0], dtype=mg.float64)
    for t in (T.TanhTransform(), T.SigmoidTransform(), T.SoftplusTransform()):
        ladj = t.log_abs_det_jacobian(x, t(x)).array
        assert np.isfinite(ladj).all() and np.isfinite(t(x).array).all()
    assert_close(T.SigmoidTransform()(x).array[-1], 1 - np.finfo(np.float64).eps, rtol=0)
    assert T.SigmoidTransform()(x).array[0] == np.finfo(np.float64).tiny
    assert math.isfinite(T.SigmoidTransform().inv(mg.tensor([0.0, 1.0], dtype=mg.float64)).array[0])
