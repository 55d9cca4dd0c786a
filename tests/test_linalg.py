"""matgrad.linalg against torch.linalg and float64 finite differences.

Each op: values (float64, and float32 where it matters), first- and second-order gradients by finite
differences, and, with PyTorch installed, values and gradients equal to torch's. Decompositions that
are unique only up to sign (eigh, svd) are checked through quantities the signs do not change: the
reconstruction, squared vectors, and losses that do not depend on the signs. Explicit expected values
keep the tests meaningful without torch.
"""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.linalg as LA
from tests.helpers import assert_close, check_op

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")
EYE3 = np.eye(3)


def spd(a):
    """A symmetric positive-definite matrix made from a (either library)."""
    lib = mg if isinstance(a, mg.Tensor) else torch
    return a @ a.mT + 3 * lib.tensor(EYE3, dtype=a.dtype)


def sym(a):
    return a + a.mT


# --- gradient table: (id, fn, torch_fn or None for the same, shapes, second order) --------------------
def both(name, *args, **kwargs):
    return (lambda *ts: getattr(LA, name)(*ts, *args, **kwargs),
            lambda *ts: getattr(torch.linalg, name)(*ts, *args, **kwargs))


ROWS = [
    ("vector_norm", *both("vector_norm"), [(2, 3, 4)], True),
    ("vector_norm_p3_dim", *both("vector_norm", 3, dim=-1, keepdim=True), [(2, 3, 4)], True),
    ("vector_norm_p0.5", *both("vector_norm", 0.5, dim=(0, 2)), [(2, 3, 4)], True),
    ("vector_norm_inf", *both("vector_norm", float("inf"), dim=1), [(2, 5)], True),
    ("vector_norm_1", *both("vector_norm", 1), [(4,)], True),
    ("matrix_norm_fro", *both("matrix_norm"), [(2, 3, 4)], True),
    ("matrix_norm_nuc", *both("matrix_norm", "nuc"), [(2, 4, 3)], True),
    ("matrix_norm_2", *both("matrix_norm", 2), [(3, 4)], True),
    ("matrix_norm_-2", *both("matrix_norm", -2), [(4, 3)], True),
    ("matrix_norm_1_dims", *both("matrix_norm", 1, dim=(0, 2), keepdim=True), [(3, 2, 4)], True),
    ("matrix_norm_-inf", *both("matrix_norm", -float("inf")), [(2, 3, 3)], True),
    ("norm_vector", *both("norm", 3, 1), [(2, 4)], True),
    ("norm_matrix", *both("norm", "nuc"), [(3, 4)], True),
    ("inv", *both("inv"), [(2, 3, 3)], True),
    ("det", *both("det"), [(2, 3, 3)], True),
    ("solve_broadcast", *both("solve"), [(3, 3), (2, 3, 2)], True),
    ("solve_vector", *both("solve"), [(2, 3, 3), (2, 3)], True),
    ("solve_right", *both("solve", left=False), [(2, 3, 3), (4, 3)], True),
    ("slogdet", lambda a: LA.slogdet(a).logabsdet, lambda a: torch.linalg.slogdet(a).logabsdet, [(2, 3, 3)], True),
    ("cholesky", lambda a: LA.cholesky(spd(a)), lambda a: torch.linalg.cholesky(spd(a)), [(2, 3, 3)], True),
    ("cholesky_upper", lambda a: LA.cholesky(spd(a), upper=True),
     lambda a: torch.linalg.cholesky(spd(a), upper=True), [(3, 3)], True),
    ("matrix_power_-2", *both("matrix_power", -2), [(2, 3, 3)], True),
    ("matrix_power_5", *both("matrix_power", 5), [(3, 3)], True),
    ("multi_dot", lambda a, b, c: LA.multi_dot([a, b, c]), lambda a, b, c: torch.linalg.multi_dot([a, b, c]),
     [(3,), (3, 4), (4, 2)], True),
    ("vecdot", lambda a, b: LA.vecdot(a, b, dim=0), lambda a, b: torch.linalg.vecdot(a, b, dim=0),
     [(3, 4), (3, 1)], True),
    ("cross", *both("cross"), [(2, 3), (1, 3)], True),
    ("eigh", lambda a: (lambda w, v: (w, v * v))(*LA.eigh(sym(a))),
     lambda a: (lambda w, v: (w, v * v))(*torch.linalg.eigh(sym(a))), [(2, 3, 3)], True),
    ("eigh_upper", lambda a: (lambda w, v: v[..., :1] * v[..., :1].mT)(*LA.eigh(sym(a), UPLO="U")),
     lambda a: (lambda w, v: v[..., :1] * v[..., :1].mT)(*torch.linalg.eigh(sym(a), UPLO="U")), [(3, 3)], True),
    ("eigvalsh", lambda a: LA.eigvalsh(sym(a)), lambda a: torch.linalg.eigvalsh(sym(a)), [(2, 4, 4)], True),
    ("svd_tall", lambda a: (lambda u, s, vh: (u[..., :3] ** 2, s, vh * vh))(*LA.svd(a)),
     lambda a: (lambda u, s, vh: (u[..., :3] ** 2, s, vh * vh))(*torch.linalg.svd(a)), [(2, 4, 3)], True),
    ("svd_wide_reduced", lambda a: (lambda u, s, vh: (u * u, s, vh ** 2))(*LA.svd(a, full_matrices=False)),
     lambda a: (lambda u, s, vh: (u * u, s, vh ** 2))(*torch.linalg.svd(a, full_matrices=False)), [(3, 5)], True),
    ("svd_reconstruct", lambda a: (lambda u, s, vh: (u * s[..., None, :]) @ vh)(*LA.svd(a, False)),
     lambda a: (lambda u, s, vh: (u * s[..., None, :]) @ vh)(*torch.linalg.svd(a, False)), [(2, 3, 3)], True),
    ("svdvals", *both("svdvals"), [(2, 3, 4)], True),
    ("qr_tall", *both("qr"), [(2, 4, 3)], True),
    ("qr_wide", *both("qr"), [(3, 5)], True),
    ("qr_complete_wide", *both("qr", "complete"), [(3, 4)], True),
    ("pinv_tall", *both("pinv"), [(2, 4, 3)], True),
    ("pinv_wide", *both("pinv"), [(3, 4)], True),
    ("pinv_hermitian", lambda a: LA.pinv(sym(a), hermitian=True),
     lambda a: torch.linalg.pinv(sym(a), hermitian=True), [(3, 3)], True),
    ("lstsq", lambda a, b: LA.lstsq(a, b).solution, lambda a, b: torch.linalg.lstsq(a, b).solution,
     [(2, 5, 3), (2, 5, 2)], True),
    ("solve_triangular", lambda a, b: LA.solve_triangular(a + 3 * mg.tensor(EYE3), b, upper=True),
     lambda a, b: torch.linalg.solve_triangular(a + 3 * torch.tensor(EYE3), b, upper=True), [(2, 3, 3), (3, 2)], True),
    ("solve_triangular_unit_right", lambda a, b: LA.solve_triangular(a, b, upper=False, left=False,
                                                                     unitriangular=True),
     lambda a, b: torch.linalg.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
     [(3, 3), (2, 3)], True),
    ("matrix_exp", *both("matrix_exp"), [(2, 3, 3)], True),
    ("diagonal", *both("diagonal"), [(2, 3, 4)], True),
    ("diagonal_offset_dims", *both("diagonal", offset=-1, dim1=2, dim2=0), [(4, 2, 3)], True),
]


@pytest.mark.parametrize("fn, torch_fn, shapes, second", [pytest.param(*r[1:], id=r[0]) for r in ROWS])
def test_gradients(fn, torch_fn, shapes, second):
    check_op(fn, *shapes, torch_fn=torch_fn, second=second)


# --- values without torch -------------------------------------------------------------------------------
def test_norm_values():
    x = mg.tensor([[3.0, -4.0], [0.0, 0.0]])
    assert_close(LA.vector_norm(x).item(), 5.0, rtol=1e-6)
    assert_close(LA.vector_norm(x, 1, dim=1).numpy(), [7.0, 0.0], rtol=1e-6)
    assert_close(LA.vector_norm(x, float("inf")).item(), 4.0, rtol=1e-6)
    assert_close(LA.vector_norm(x, 0).item(), 2.0, rtol=1e-6)
    assert_close(LA.vector_norm(x, 3, dim=-1).numpy(), [91.0 ** (1 / 3), 0.0], rtol=1e-6)
    a = mg.tensor([[1.0, -2.0], [3.0, 4.0]])
    assert_close(LA.matrix_norm(a, 1).item(), 6.0, rtol=1e-6)  # column sums 4, 6
    assert_close(LA.matrix_norm(a, float("inf")).item(), 7.0, rtol=1e-6)  # row sums 3, 7
    assert_close(LA.matrix_norm(a, -1).item(), 4.0, rtol=1e-6)
    assert_close(LA.matrix_norm(a).item(), 30.0 ** 0.5, rtol=1e-6)
    s = np.linalg.svd(a.numpy(), compute_uv=False)
    assert_close(LA.matrix_norm(a, "nuc").item(), s.sum(), rtol=1e-6)
    assert_close(LA.norm(a, 2).item(), s[0], rtol=1e-6)
    assert LA.norm(mg.zeros(2, 3, 4), dim=(0, 2), keepdim=True).shape == (1, 3, 1)
    assert LA.matrix_norm(mg.zeros(2, 3, 4), 1, dim=(2, 0), keepdim=True).shape == (1, 3, 1)
    assert LA.vector_norm(mg.ones(2, 3, dtype=mg.float32), dtype=mg.float64).dtype == mg.float64


@pytest.mark.parametrize("ord", [2, 3, 1, 0.5, float("inf")])
def test_vector_norm_gradient_at_zero_is_zero(ord):
    """torch's gradient at the zero vector is 0 for every ord (no nan from 0/0)."""
    x = mg.zeros(3, dtype=mg.float64, requires_grad=True)
    LA.vector_norm(x, ord).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))


def test_decomposition_values():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 4, 3))
    u, s, vh = LA.svd(mg.tensor(a), full_matrices=False)
    assert_close(((u * s[..., None, :]) @ vh).numpy(), a, rtol=1e-10)
    assert_close(s.numpy(), np.linalg.svd(a, compute_uv=False), rtol=1e-10)
    u, s, vh = LA.svd(mg.tensor(a))
    assert (u.shape, s.shape, vh.shape) == ((2, 4, 4), (2, 3), (2, 3, 3))
    assert_close((u.mT @ u).numpy(), np.broadcast_to(np.eye(4), (2, 4, 4)), rtol=1e-10, atol=1e-12)
    q, r = LA.qr(mg.tensor(a))
    assert_close((q @ r).numpy(), a, rtol=1e-10)
    np.testing.assert_array_equal(np.tril(r.numpy()[0], -1), 0)
    assert LA.qr(mg.tensor(a), mode="complete").Q.shape == (2, 4, 4)
    qe, r_only = LA.qr(mg.tensor(a), mode="r")
    assert qe.shape == (0,) and r_only.shape == (2, 3, 3)
    m = a[0].T @ a[0]
    w, v = LA.eigh(mg.tensor(m))
    assert np.all(np.diff(w.numpy()) > 0)
    assert_close((v @ mg.diag(w) @ v.mT).numpy(), m, rtol=1e-10)
    low = LA.cholesky(mg.tensor(m))
    assert_close((low @ low.mT).numpy(), m, rtol=1e-10)
    sign, logabs = LA.slogdet(mg.tensor([[0.0, 2.0], [3.0, 0.0]]))
    assert sign.item() == -1.0 and abs(logabs.item() - np.log(6.0)) < 1e-6
    assert_close(LA.matrix_exp(mg.tensor([[0.0, 1.0], [-1.0, 0.0]])).numpy(),
                 [[np.cos(1), np.sin(1)], [-np.sin(1), np.cos(1)]], rtol=1e-6)
    assert_close(LA.matrix_exp(mg.tensor([[50.0, 0.0], [0.0, -1.0]], dtype=mg.float64)).numpy(),
                 [[np.exp(50.0), 0.0], [0.0, np.exp(-1.0)]], rtol=1e-10)  # scaling and squaring
    assert_close(LA.matrix_power(mg.tensor([[1.0, 1.0], [0.0, 1.0]]), 5).numpy(), [[1, 5], [0, 1]], rtol=1e-6)
    assert_close(LA.matrix_power(mg.tensor([[2.0, 0.0], [0.0, 4.0]]), -1).numpy(), [[0.5, 0], [0, 0.25]], rtol=1e-6)
    np.testing.assert_array_equal(LA.matrix_power(mg.zeros(2, 3, 3), 0).numpy(), np.broadcast_to(EYE3, (2, 3, 3)))
    assert_close(LA.solve_triangular(mg.tensor([[2.0, 5.0], [0.0, 4.0]]), mg.tensor([[9.0], [8.0]]),
                                     upper=True).numpy(), [[-0.5], [2.0]], rtol=1e-6)


def test_pinv_lstsq_rank():
    a = mg.tensor([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]], dtype=mg.float64)  # rank 1
    assert LA.matrix_rank(a).item() == 1 and LA.matrix_rank(a).dtype == mg.int64
    assert LA.matrix_rank(mg.eye(3)).item() == 3
    assert LA.matrix_rank(a, atol=100.0).item() == 0
    assert_close(LA.pinv(a).numpy(), np.linalg.pinv(a.numpy()), rtol=1e-10)
    b = mg.tensor([[1.0], [2.0], [3.0]], dtype=mg.float64)
    res = LA.lstsq(a, b)
    assert_close(res.solution.numpy(), np.linalg.pinv(a.numpy()) @ b.numpy(), rtol=1e-10)
    assert res.rank.item() == 1 and res.residuals.shape == (0,) and res.singular_values.shape == (0,)
    full = mg.tensor(np.random.default_rng(0).standard_normal((5, 2)))
    res = LA.lstsq(full, mg.ones(5, 1, dtype=mg.float64), driver="gelsd")
    want = np.linalg.lstsq(full.numpy(), np.ones((5, 1)), rcond=None)
    assert_close(res.residuals.numpy(), want[1], rtol=1e-8)
    assert_close(res.singular_values.numpy(), want[3], rtol=1e-8)


@needs_torch
def test_lstsq_outputs_like_torch():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 2))
    for driver, b_ in ((None, b), ("gelsd", b), ("gels", b), ("gelss", b[..., 0])):
        got = LA.lstsq(mg.tensor(a), mg.tensor(b_), driver=driver)
        want = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b_), driver=driver)
        for g, w in zip(got, want):
            assert g.shape == tuple(w.shape) and g.dtype == mg.tensor(w.numpy()).dtype
            assert_close(g.numpy(), w.numpy(), rtol=1e-8)


@needs_torch
@pytest.mark.parametrize("name, make", [
    ("inv", lambda x: x), ("det", lambda x: x), ("cholesky", spd), ("matrix_exp", lambda x: x),
    ("svdvals", lambda x: x), ("eigvalsh", sym), ("pinv", lambda x: x), ("matrix_norm", lambda x: x),
])
def test_float32_like_torch(name, make):
    a = np.random.default_rng(2).standard_normal((2, 3, 3)).astype(np.float32)
    got = getattr(LA, name)(make(mg.tensor(a)))
    want = getattr(torch.linalg, name)(make(torch.tensor(a)))
    assert got.dtype == mg.float32
    assert_close(got.numpy(), want.numpy(), rtol=1e-4, scale=float(np.abs(want.numpy()).max()) * 10)


# --- errors and the _ex variants --------------------------------------------------------------------------
SINGULAR = [[1.0, 2.0], [2.0, 4.0]]


def test_errors():
    with pytest.raises(LA.LinAlgError, match=r"linalg.inv: The diagonal element 2 is zero.*singular"):
        LA.inv(mg.tensor(SINGULAR))
    with pytest.raises(RuntimeError, match="linalg.solve: The solver failed because the input matrix is singular"):
        LA.solve(mg.tensor(SINGULAR), mg.ones(2))
    with pytest.raises(LA.LinAlgError, match="leading minor of order 2 is not positive-definite"):
        LA.cholesky(mg.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(RuntimeError, match="square"):
        LA.inv(mg.zeros(2, 3))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        LA.det(mg.zeros(3))
    with pytest.raises(RuntimeError, match="floating point"):
        LA.vector_norm(mg.arange(3))
    with pytest.raises(RuntimeError, match="linalg.vecdot: Expected a floating point or complex tensor .* Got Long"):
        LA.vecdot(mg.arange(3), mg.arange(3))  # torch's error, where x @ y and dot take integers
    with pytest.raises(RuntimeError, match="the same dtype"):
        LA.vecdot(mg.ones(3), mg.arange(3))
    with pytest.raises(RuntimeError, match="must be 1D or 2D. Got 3D"):
        LA.norm(mg.zeros(2, 2, 2), ord=2)
    with pytest.raises(RuntimeError, match="Order 3"):
        LA.matrix_norm(mg.zeros(2, 2), 3)
    with pytest.raises(RuntimeError, match="unrecognized mode 'x'"):
        LA.qr(mg.zeros(2, 2), mode="x")
    with pytest.raises(RuntimeError, match="same dtype"):
        LA.solve(mg.eye(2, dtype=mg.float64), mg.ones(2, dtype=mg.float32))
    with pytest.raises(RuntimeError, match="at least 2 tensors"):
        LA.multi_dot([mg.eye(2)])
    x = mg.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete'"):
        LA.qr(x, mode="complete").Q.sum().backward()
    assert issubclass(LA.LinAlgError, RuntimeError) and mg.linalg is LA


def test_ex_variants():
    a = mg.tensor([SINGULAR, [[1.0, 0.0], [0.0, 2.0]]])
    inverse, info = LA.inv_ex(a)
    np.testing.assert_array_equal(info.numpy(), [2, 0])
    assert info.dtype == mg.int32
    assert_close(inverse.numpy()[1], [[1.0, 0.0], [0.0, 0.5]], rtol=1e-6)
    assert np.isnan(inverse.numpy()[0]).all()
    with pytest.raises(LA.LinAlgError):
        LA.inv_ex(a, check_errors=True)
    low, info = LA.cholesky_ex(mg.tensor([[[4.0, 2.0], [2.0, 1.0]], [[4.0, 2.0], [2.0, 5.0]]]))
    np.testing.assert_array_equal(info.numpy(), [2, 0])
    assert_close(low.numpy()[1], [[2.0, 0.0], [1.0, 2.0]], rtol=1e-6)
    _, info = LA.cholesky_ex(mg.eye(3))
    assert info.item() == 0


@needs_torch
def test_ex_info_like_torch():
    for a in ([[0.0, 1.0], [1.0, 1.0]], SINGULAR, [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 2.0, 3.0]]):
        assert LA.inv_ex(mg.tensor(a)).info.item() == torch.linalg.inv_ex(torch.tensor(a)).info.item()
    for a in ([[1.0, 2.0], [2.0, 1.0]], [[-1.0, 0.0], [0.0, 1.0]], [[1.0, 0, 0], [0, 1.0, 0], [0, 0, -1.0]]):
        assert LA.cholesky_ex(mg.tensor(a)).info.item() == torch.linalg.cholesky_ex(torch.tensor(a)).info.item()



# --- diagonal: a view, as torch.linalg.diagonal's -------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"offset": 1}, {"offset": -1, "dim1": 0, "dim2": 2}])
def test_diagonal_is_a_view_of_its_input(kwargs):
    a = np.arange(24.0).reshape(2, 3, 4)
    where = (kwargs.get("offset", 0), kwargs.get("dim1", -2), kwargs.get("dim2", -1))  # torch.linalg's defaults
    base = mg.tensor(a)
    d = LA.diagonal(base, **kwargs)
    assert d._base is base
    np.testing.assert_array_equal(d.numpy(), np.diagonal(a, *where))
    with mg.no_grad():
        d.mul_(-1.0)  # written through the view: the base's diagonal entries change, nothing else
    hit = np.diagonal(np.arange(a.size).reshape(a.shape), *where).ravel()
    expected = a.copy().ravel()
    expected[hit] *= -1.0
    np.testing.assert_array_equal(base.numpy(), expected.reshape(a.shape))
    if torch is not None:
        tb = torch.tensor(a)
        td = torch.linalg.diagonal(tb, **kwargs)
        assert td._base is tb
        with torch.no_grad():
            td.mul_(-1.0)
        np.testing.assert_array_equal(base.numpy(), tb.numpy())
        np.testing.assert_array_equal(d.numpy(), td.numpy())
        assert d.stride() == td.stride()
