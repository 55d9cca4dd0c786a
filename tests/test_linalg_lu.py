"""matgrad.linalg's LU family (lu_factor, lu_factor_ex, lu, lu_solve, lu_unpack and the old torch.lu / lu_solve) and
the other late additions (householder_product / orgqr, cond, solve_ex, tensorinv, tensorsolve, vander, the old
torch.qr and torch.triangular_solve), against float64 finite differences (first and second order) and torch.

The LU values are checked without torch too: the reconstruction P L U = A, LAPACK's pivots of small matrices
worked by hand, and the info of singular ones.
"""
from __future__ import annotations

import warnings

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
I32 = mg.int32


def _eye3(lib, dtype):
    return 3 * lib.eye(3, dtype=dtype)


def _quiet(fn):
    """fn with the old API's deprecation warnings silenced (both libraries warn)."""
    def run(*ts):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*ts)
    return run


def _solve_rows():
    rows = []
    for left in (True, False):
        for adjoint in (False, True):
            tag = f"{'left' if left else 'right'}{'_adjoint' if adjoint else ''}"
            rows.append((f"lu_solve_{tag}",
                         lambda a, b, l=left, j=adjoint: LA.lu_solve(*LA.lu_factor(a), b, left=l, adjoint=j),
                         lambda a, b, l=left, j=adjoint: torch.linalg.lu_solve(*torch.linalg.lu_factor(a), b, left=l,
                                                                                adjoint=j),
                         [(2, 3, 3), (2, 3, 3)]))
            rows.append((f"lu_solve_packed_{tag}",  # a given LU (not a factorization's) and broadcast batch dims
                         lambda lu, b, l=left, j=adjoint: LA.lu_solve(lu, mg.tensor([2, 3, 3], dtype=I32), b, left=l,
                                                                      adjoint=j),
                         lambda lu, b, l=left, j=adjoint: torch.linalg.lu_solve(
                             lu, torch.tensor([2, 3, 3], dtype=torch.int32), b, left=l, adjoint=j),
                         [(3, 3), (2, 3, 3)]))
    return rows


ROWS = [  # (id, fn, torch_fn, shapes); every row is checked to second order
    ("lu_factor", lambda a: LA.lu_factor(a).LU, lambda a: torch.linalg.lu_factor(a).LU, [(2, 4, 4)]),
    ("lu_factor_ex_wide", lambda a: LA.lu_factor_ex(a).LU, lambda a: torch.linalg.lu_factor_ex(a).LU, [(3, 5)]),
    ("lu_factor_ex_tall", lambda a: LA.lu_factor_ex(a).LU, lambda a: torch.linalg.lu_factor_ex(a).LU, [(2, 5, 3)]),
    ("lu", lambda a: tuple(LA.lu(a))[1:], lambda a: tuple(torch.linalg.lu(a))[1:], [(2, 4, 4)]),
    ("lu_wide", lambda a: tuple(LA.lu(a))[1:], lambda a: tuple(torch.linalg.lu(a))[1:], [(3, 5)]),
    ("lu_tall", lambda a: tuple(LA.lu(a))[1:], lambda a: tuple(torch.linalg.lu(a))[1:], [(2, 5, 3)]),
    ("lu_unpack", lambda a: tuple(mg.lu_unpack(*LA.lu_factor(a)))[1:],
     lambda a: tuple(torch.lu_unpack(*torch.linalg.lu_factor(a)))[1:], [(4, 3)]),
    *_solve_rows(),
    ("old_lu_solve", _quiet(lambda b, a: mg.lu_solve(b, *mg.lu(a))),
     _quiet(lambda b, a: torch.lu_solve(b, *torch.lu(a))), [(2, 3, 2), (3, 3)]),
    ("householder_product", LA.householder_product, torch.linalg.householder_product if torch else None,
     [(2, 5, 3), (2, 2)]),
    ("householder_product_square", LA.householder_product, torch.linalg.householder_product if torch else None,
     [(4, 4), (4,)]),
    ("orgqr_method", lambda a, t: a.orgqr(t), None, [(5, 3), (3,)]),
    ("cond", LA.cond, torch.linalg.cond if torch else None, [(2, 3, 3)]),
    ("cond_-2_wide", lambda a: LA.cond(a, -2), lambda a: torch.linalg.cond(a, -2), [(2, 3, 4)]),
    ("solve_ex", lambda a, b: LA.solve_ex(a, b).result, lambda a, b: torch.linalg.solve_ex(a, b).result,
     [(2, 3, 3), (3,)]),
    ("solve_ex_right", lambda a, b: LA.solve_ex(a, b, left=False).result,
     lambda a, b: torch.linalg.solve_ex(a, b, left=False).result, [(3, 3), (2, 4, 3)]),
    ("tensorinv", lambda a: LA.tensorinv(a, 1), lambda a: torch.linalg.tensorinv(a, 1), [(6, 2, 3)]),
    ("tensorinv_ind2", lambda a: LA.tensorinv(a), lambda a: torch.linalg.tensorinv(a), [(2, 3, 6)]),
    ("tensorsolve_dims", lambda a, b: LA.tensorsolve(a, b, dims=(0,)),
     lambda a, b: torch.linalg.tensorsolve(a, b, dims=(0,)), [(6, 2, 3), (2, 3)]),
    ("vander", lambda x: LA.vander(x, N=4), lambda x: torch.linalg.vander(x, N=4), [(2, 3)]),
    ("old_qr", _quiet(lambda a: tuple(mg.qr(a))), _quiet(lambda a: tuple(torch.qr(a))), [(2, 4, 3)]),
    ("old_qr_complete_method", _quiet(lambda a: tuple(a.qr(some=False))), None, [(3, 4)]),
]
for _up in (True, False):
    for _tr in (True, False):
        for _unit in (True, False):
            ROWS.append((f"triangular_solve_{_up}_{_tr}_{_unit}",
                         _quiet(lambda b, a, u=_up, t=_tr, n=_unit: tuple(mg.triangular_solve(
                             b, a + _eye3(mg, mg.float64), u, t, n))),
                         _quiet(lambda b, a, u=_up, t=_tr, n=_unit: tuple(torch.triangular_solve(
                             b, a + _eye3(torch, torch.float64), u, t, n))),
                         [(2, 3, 2), (3, 3)]))


@pytest.mark.parametrize("fn, torch_fn, shapes", [pytest.param(*r[1:], id=r[0]) for r in ROWS])
def test_gradients(fn, torch_fn, shapes):
    check_op(fn, *shapes, torch_fn=torch_fn, second=True)


@pytest.mark.parametrize("p", ["fro", "nuc", 1, -1, float("inf"), -float("inf")])
def test_cond_other_norms(p):
    """Finite differences only: torch 2.13's own backward of these fails (it writes into inv_ex's output)."""
    check_op(lambda a: LA.cond(a, p), (2, 3, 3), use_torch=False)
    if torch is not None:
        a = np.random.default_rng(0).standard_normal((2, 3, 3))
        assert_close(LA.cond(mg.tensor(a), p).numpy(), torch.linalg.cond(torch.tensor(a), p).numpy(), rtol=1e-10)


# --- values without torch -------------------------------------------------------------------------------------------
def test_lu_by_hand():
    lu_t, piv = LA.lu_factor(mg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mg.float64))
    assert piv.dtype == I32 and piv.tolist() == [2, 2]  # row 2 (|3| > |1|) swapped up
    assert_close(lu_t.numpy(), [[3.0, 4.0], [1 / 3, 2 - 4 / 3]], rtol=1e-12)
    p, low, up = LA.lu(mg.tensor([[0.0, 1.0, 2.0], [4.0, 0.0, 1.0], [2.0, 2.0, 0.0]], dtype=mg.float64))
    np.testing.assert_array_equal(p.numpy(), [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert_close(low.numpy(), [[1, 0, 0], [0.5, 1, 0], [0, 0.5, 1]], rtol=1e-12)
    assert_close(up.numpy(), [[4, 0, 1], [0, 2, -0.5], [0, 0, 2.25]], rtol=1e-12)
    # ties go to the first row, as LAPACK's idamax
    assert LA.lu_factor(mg.tensor([[1.0, 1.0], [-1.0, 2.0]])).pivots.tolist() == [1, 2]


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 5, 5), (3, 5), (5, 3), (2, 0, 3), (0, 3, 3), (1, 1)])
def test_lu_reconstructs(shape):
    a = np.random.default_rng(1).standard_normal(shape)
    p, low, up = LA.lu(mg.tensor(a))
    k = min(shape[-2:])
    assert p.shape == shape[:-1] + (shape[-2],) and low.shape == shape[:-1] + (k,) and up.shape == shape[:-2] + (
        k, shape[-1])
    assert_close((p @ low @ up).numpy(), a, rtol=1e-12, atol=1e-12)
    assert np.all(np.abs(low.numpy()) <= 1 + 1e-12)  # partial pivoting bounds the multipliers
    lu_t, piv, info = LA.lu_factor_ex(mg.tensor(a))
    assert piv.shape == shape[:-2] + (k,) and info.shape == shape[:-2] and not info.numpy().any()
    if shape[-1] == shape[-2] and 0 not in shape:
        b = np.random.default_rng(2).standard_normal(shape[:-1] + (2,))
        assert_close(LA.lu_solve(lu_t, piv, mg.tensor(b)).numpy(), np.linalg.solve(a, b), rtol=1e-10)


def test_singular_info_and_errors():
    singular = mg.tensor([[[1.0, 2.0], [2.0, 4.0]], [[1.0, 0.0], [0.0, 1.0]]])
    assert LA.lu_factor_ex(singular).info.tolist() == [2, 0]
    assert LA.lu_factor_ex(mg.zeros(3, 3)).info.item() == 1  # the first zero column: nothing swapped or scaled
    assert LA.lu_factor_ex(mg.ones(3, 2)).info.item() == 2
    with pytest.raises(LA.LinAlgError, match=r"\(Batch element 0\): U\[2,2\] is zero"):
        LA.lu_factor(singular)
    with pytest.raises(LA.LinAlgError, match=r"linalg.lu_factor: U\[1,1\] is zero"):
        LA.lu_factor(mg.zeros(2, 2))
    with pytest.raises(LA.LinAlgError, match="U\\[2,2\\]"):
        LA.lu_factor_ex(singular, check_errors=True)
    p, low, up = LA.lu(singular)  # never raises
    assert_close((p @ low @ up).numpy(), singular.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="without pivoting is not implemented"):
        LA.lu_factor(mg.eye(2), pivot=False)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        LA.lu_factor(mg.ones(3))
    with pytest.raises(RuntimeError, match="floating point"):
        LA.lu(mg.ones(2, 2, dtype=mg.int64))
    lu_t, piv = LA.lu_factor(mg.eye(2))
    with pytest.raises(RuntimeError, match="pivots should be a Tensor of scalar type torch.int32"):
        LA.lu_solve(lu_t, piv.to(mg.int64), mg.ones(2, 1))
    with pytest.raises(RuntimeError, match=r"pivots must be LAPACK's 1-based row indices in \[1, 2\]"):
        LA.lu_solve(lu_t, mg.tensor([0, 3], dtype=I32), mg.ones(2, 1))
    with pytest.raises(RuntimeError, match=r"Incompatible shapes of A and B for the equation AX = B \(2x2 and 3x1\)"):
        LA.lu_solve(lu_t, piv, mg.ones(3, 1))
    with pytest.raises(RuntimeError, match=r"XA = B \(1x3 and 2x2\)"):
        LA.lu_solve(lu_t, piv, mg.ones(1, 3), left=False)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        LA.lu_solve(lu_t, piv, mg.ones(2))
    with pytest.raises(RuntimeError, match="square"):
        LA.lu_solve(mg.ones(2, 3), piv, mg.ones(2, 1))
    with pytest.raises(LA.LinAlgError, match="singular"):
        LA.lu_solve(mg.zeros(2, 2), piv, mg.ones(2, 1))


def test_lu_unpack_parts_and_old_api():
    a = mg.tensor(np.random.default_rng(3).standard_normal((2, 3, 3)))
    lu_t, piv = LA.lu_factor(a)
    p, low, up = mg.lu_unpack(lu_t, piv, unpack_data=False)
    assert low.shape == (0,) and up.shape == (0,) and p.shape == (2, 3, 3)
    p, low, up = mg.lu_unpack(lu_t, piv, unpack_pivots=False)
    assert p.shape == (0,) and low.shape == (2, 3, 3)
    with pytest.warns(UserWarning, match="torch.lu is deprecated"):
        out = mg.lu(a, get_infos=True)
    assert len(out) == 3 and out[2].tolist() == [0, 0]
    with pytest.warns(UserWarning, match="torch.lu is deprecated"):
        lu2, piv2 = a.lu()
    np.testing.assert_array_equal(lu2.numpy(), lu_t.numpy())
    with pytest.warns(UserWarning, match="torch.lu_solve is deprecated"):
        x = mg.ones(2, 3, 1, dtype=mg.float64).lu_solve(lu2, piv2)
    assert_close((a @ x).numpy(), np.ones((2, 3, 1)), rtol=1e-10)
    with pytest.warns(UserWarning, match="torch.qr is deprecated"):
        q, r = a.qr()
    assert_close((q @ r).numpy(), a.numpy(), rtol=1e-10)
    with pytest.warns(UserWarning, match="torch.triangular_solve is deprecated"):
        x, copy = mg.triangular_solve(mg.ones(2, 3, 1, dtype=mg.float64), up[0])
    assert copy.shape == (2, 3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="Expected b to have at least 2 dimensions"):
            mg.triangular_solve(mg.ones(3), mg.eye(3))


def test_other_errors_and_values():
    with pytest.raises(RuntimeError, match=r"input.shape\[-2\] must be greater than or equal to input.shape\[-1\]"):
        LA.householder_product(mg.ones(2, 3), mg.ones(2))
    with pytest.raises(RuntimeError, match=r"input.shape\[-1\] must be greater than or equal to tau.shape\[-1\]"):
        LA.householder_product(mg.ones(3, 2), mg.ones(3))
    with pytest.raises(RuntimeError, match="Expected batch dimensions of tau"):
        LA.householder_product(mg.ones(2, 3, 2), mg.ones(3, 2))
    with pytest.raises(RuntimeError, match="strictly positive integer for 'ind'"):
        LA.tensorinv(mg.ones(2, 2), ind=0)
    with pytest.raises(RuntimeError, match="prod"):
        LA.tensorinv(mg.ones(2, 3), ind=1)
    with pytest.raises(RuntimeError, match="N must be greater than 1"):
        LA.vander(mg.ones(3), N=1)
    with pytest.raises(RuntimeError, match="invalid norm type"):
        LA.cond(mg.eye(2), 3)
    np.testing.assert_array_equal(LA.vander(mg.tensor([0.0, 2.0, 3.0])).numpy(), [[1, 0, 0], [1, 2, 4], [1, 3, 9]])
    assert LA.vander(mg.tensor([2, 3])).dtype == mg.int64
    x = mg.tensor([0.0, 2.0], requires_grad=True)
    LA.vander(x, N=3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 5.0])  # d(1 + x + x²) at x = 0 is 1, not nan
    singular = mg.tensor([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.0], [0.0, 4.0]]])
    res = LA.solve_ex(singular, mg.ones(2))
    assert res.info.tolist() == [2, 0] and res.info.dtype == I32
    assert np.isnan(res.result.numpy()[0]).all()
    assert_close(res.result.numpy()[1], [0.5, 0.25], rtol=1e-6)
    with pytest.raises(LA.LinAlgError, match="singular"):
        LA.solve_ex(singular, mg.ones(2), check_errors=True)
    assert LA.cond(singular, 1).numpy()[0] == np.inf
    assert_close(LA.cond(singular).numpy()[1], 2.0, rtol=1e-6)
    assert LA.cond(mg.tensor([[1.0, 0.0], [0.0, 0.0]])).item() == np.inf  # σ_min = 0, as torch
    # householder_product is the product of the reflectors, written out here one by one
    a = np.random.default_rng(4).standard_normal((5, 3))
    q = LA.householder_product(mg.tensor(a), mg.tensor([1.2, 0.4, 1.9], dtype=mg.float64)).numpy()
    h = np.eye(5)
    for i, t in enumerate([1.2, 0.4, 1.9]):
        v = np.concatenate([np.zeros(i), [1.0], a[i + 1:, i]])
        h = h @ (np.eye(5) - t * np.outer(v, v))
    assert_close(q, h[:, :3], rtol=1e-12)


# --- against torch --------------------------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 6, 6), (3, 5), (5, 3), (2, 0, 3), (40, 40)])
def test_lu_factor_like_torch(shape, dtype):
    a = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    got = LA.lu_factor_ex(mg.tensor(a))
    want = torch.linalg.lu_factor_ex(torch.tensor(a))
    np.testing.assert_array_equal(got.pivots.numpy(), want.pivots.numpy())
    np.testing.assert_array_equal(got.info.numpy(), want.info.numpy())
    rtol = 1e-10 if dtype == "float64" else 1e-4
    assert got.LU.dtype == mg.tensor(want.LU.numpy()).dtype
    assert_close(got.LU.numpy(), want.LU.numpy(), rtol=rtol, scale=10.0)
    for g, w in zip(LA.lu(mg.tensor(a)), torch.linalg.lu(torch.tensor(a))):
        assert_close(g.numpy(), w.numpy(), rtol=rtol, scale=10.0)


@needs_torch
@pytest.mark.parametrize("a", [np.zeros((3, 3)), np.ones((3, 3)), [[0.0, 1.0], [0.0, 2.0]], np.ones((2, 3)),
                               np.ones((3, 2)), [[1.0, 2.0], [2.0, 4.0]],
                               [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1, 0, 0]]])
def test_singular_like_torch(a):
    got = LA.lu_factor_ex(mg.tensor(np.asarray(a, dtype=np.float64)))
    want = torch.linalg.lu_factor_ex(torch.tensor(np.asarray(a, dtype=np.float64)))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w.numpy())
    for g, w in zip(mg.lu_unpack(got.LU, got.pivots), torch.lu_unpack(want.LU, want.pivots)):
        np.testing.assert_array_equal(g.numpy(), w.numpy())
