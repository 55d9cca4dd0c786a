"""matgrad.linalg on the CuPy-like test device: every function's outputs, gradients and gradients of
gradients equal the CPU's, and everything stays on the device.

The gradient rows are tests/test_linalg.py's table (sign-free quantities for eigh and svd); the rows
here add what that table leaves out: the outputs without a gradient (ranks, infos, signs, the
no-grad paths of eigvalsh and svdvals), the other norms' orders, and tolerances given as tensors.
A row that builds a constant or a mask on the host fails here with the test device's TypeError.
"""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.linalg as LA
from tests.devices.test_ops_on_device import _run
from tests.helpers import make_inputs
from tests.test_linalg import ROWS, SINGULAR, spd, sym


def _no_grad(fn):
    """fn run without recording (the paths that compute values only: eigvalsh, svdvals ...)."""
    def run(*ts):
        with mg.no_grad():
            return fn(*ts)
    return run


EXTRA = [  # (id, fn, shapes)
    ("vector_norm_0", lambda a: LA.vector_norm(a, 0, dim=-1), [(2, 3)]),
    ("vector_norm_-inf", lambda a: LA.vector_norm(a, -float("inf")), [(2, 3)]),
    ("matrix_norm_inf", lambda a: LA.matrix_norm(a, float("inf")), [(2, 3, 4)]),
    ("matrix_norm_-1", lambda a: LA.matrix_norm(a, -1), [(3, 4)]),
    ("norm_default", LA.norm, [(2, 3)]),
    ("inv_ex", lambda a: tuple(LA.inv_ex(a)), [(2, 3, 3)]),
    ("slogdet_both", lambda a: tuple(LA.slogdet(a)), [(2, 3, 3)]),
    ("cholesky_ex", lambda a: tuple(LA.cholesky_ex(spd(a), upper=True)), [(2, 3, 3)]),
    ("matrix_power_0", lambda a: LA.matrix_power(a, 0), [(2, 3, 3)]),
    ("eigvalsh_values", _no_grad(lambda a: LA.eigvalsh(sym(a), UPLO="U")), [(2, 3, 3)]),
    ("svdvals_values", _no_grad(LA.svdvals), [(2, 4, 3)]),
    ("svd_full_wide_reconstruct", lambda a: (lambda u, s, vh: (u * s[..., None, :]) @ vh[..., :3, :])(*LA.svd(a)),
     [(3, 5)]),
    ("qr_r", lambda a: tuple(LA.qr(a, mode="r")), [(2, 4, 3)]),
    ("pinv_atol", lambda a: LA.pinv(a, atol=0.5), [(2, 4, 3)]),
    ("pinv_rtol_tensor", lambda a: LA.pinv(a, rtol=mg.tensor([0.2, 1e-6], dtype=mg.float64)), [(2, 3, 4)]),
    ("matrix_rank", LA.matrix_rank, [(2, 4, 3)]),
    ("matrix_rank_deficient", lambda a, b: LA.matrix_rank(a @ b), [(4, 2), (2, 4)]),
    ("matrix_rank_hermitian_tol", lambda a: LA.matrix_rank(sym(a), hermitian=True, tol=1.0), [(2, 3, 3)]),
    ("lstsq_gelsd", lambda a, b: tuple(LA.lstsq(a, b, driver="gelsd")), [(2, 5, 3), (2, 5, 2)]),
    ("lstsq_gels_vector", lambda a, b: tuple(LA.lstsq(a, b, driver="gels")), [(5, 3), (5,)]),
    ("diagonal", lambda a: LA.diagonal(a, offset=1), [(2, 3, 4)]),
    ("matmul", LA.matmul, [(2, 3, 4), (4, 2)]),
    ("lu_factor_ex", lambda a: tuple(LA.lu_factor_ex(a)), [(2, 3, 3)]),
    ("lu_wide", lambda a: tuple(LA.lu(a)), [(3, 5)]),
    ("lu_tall", lambda a: tuple(LA.lu(a)), [(2, 5, 3)]),
    ("lu_solve_adjoint", lambda a, b: LA.lu_solve(*LA.lu_factor(a), b, adjoint=True), [(2, 3, 3), (3, 2)]),
    ("lu_solve_right", lambda a, b: LA.lu_solve(*LA.lu_factor(a), b, left=False), [(2, 3, 3), (2, 2, 3)]),
    ("lu_unpack", lambda a: tuple(mg.lu_unpack(*LA.lu_factor(a))), [(2, 3, 3)]),
    ("householder_product", LA.householder_product, [(2, 4, 3), (2, 2)]),
    ("vander", lambda x: LA.vander(x, N=3), [(2, 3)]),
    ("solve_ex", lambda a, b: tuple(LA.solve_ex(a, b)), [(2, 3, 3), (3, 2)]),
    ("cond_fro", lambda a: LA.cond(a, "fro"), [(2, 3, 3)]),
    ("tensorinv", lambda a: LA.tensorinv(a, 1), [(6, 2, 3)]),
]


def _compare(cpu, dev) -> None:
    for what, a, b in zip(("output", "gradient", "gradient of gradient"), cpu, dev):
        for i, (x, y) in enumerate(zip(a, b)):
            only = "only the device" if x is None else "only the CPU"
            assert (x is None) == (y is None), f"{what} {i}: {only} has one"
            if x is not None:
                assert (y.dtype, y.shape) == (x.dtype, x.shape), f"{what} {i}: {y.dtype}{y.shape}, {x.dtype}{x.shape}"
                np.testing.assert_allclose(y, x, rtol=1e-10, atol=1e-12, err_msg=f"{what} {i} differs on the device")


@pytest.mark.parametrize("fn, shapes", [pytest.param(r[1], r[3], id=r[0]) for r in ROWS]
                         + [pytest.param(fn, shapes, id=name) for name, fn, shapes in EXTRA])
def test_linalg_on_the_test_device(fn, shapes, cuda):
    arrays = make_inputs(shapes)
    _compare(_run(fn, arrays, True, on_device=False), _run(fn, arrays, True, on_device=True))


def _both(fn, *arrays):
    """fn's outputs on the CPU and on the test device, as host arrays; the device's checked to stay there."""
    results = []
    for where in (mg.device("cpu"), mg.device("cuda")):
        with where:
            outs = fn(*[mg.tensor(a, dtype=mg.float64) for a in arrays])
        for o in outs:
            assert o.device.type == where.type, f"an output is on {o.device}, not on {where}"
        results.append([o.cpu().numpy() for o in outs])
    return results


def test_failed_factorizations_on_the_test_device(cuda):
    """inv_ex and cholesky_ex report the failing matrix's info and nan there, on the device, as on the CPU."""
    singular = np.array([SINGULAR, [[1.0, 0.0], [0.0, 2.0]]])
    not_pd = np.array([[[4.0, 2.0], [2.0, 1.0]], [[4.0, 2.0], [2.0, 5.0]]])
    for fn, a in ((LA.inv_ex, singular), (lambda t: LA.cholesky_ex(t, upper=True), not_pd)):
        cpu, dev = _both(fn, a)
        for x, y in zip(cpu, dev):
            assert x.dtype == y.dtype
            np.testing.assert_allclose(y, x, rtol=1e-12)
    np.testing.assert_array_equal(dev[1], [2, 0])
    on_device = mg.tensor(singular, device="cuda")
    with pytest.raises(LA.LinAlgError, match="The diagonal element 2 is zero"):
        LA.inv_ex(on_device, check_errors=True)
    with pytest.raises(LA.LinAlgError, match="leading minor of order 2 is not positive-definite"):
        LA.cholesky(mg.tensor(not_pd, device="cuda"))
    with pytest.raises(LA.LinAlgError, match="singular"):
        LA.solve(on_device, mg.ones(2, 2, dtype=on_device.dtype, device="cuda"))
    with pytest.raises(LA.LinAlgError, match="The diagonal element 2 is zero"):
        LA.inv(on_device)  # the pivot search runs on a host copy
