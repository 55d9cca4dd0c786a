"""The torch functions added last: values written out (so they mean something without torch), torch's
values where it is installed, the deprecation warnings, and the errors. Gradients are in the op table
(tests/ops/test_op_table_math.py)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import matgrad as mg
from matgrad.ops.special import i1_array

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")
NAN, INF = float("nan"), float("inf")


def test_predicates_and_complex_identities():
    x = mg.tensor([1.0, -INF, NAN, INF, -0.0])
    assert mg.isneginf(x).tolist() == [False, True, False, False, False]
    assert x.isposinf().tolist() == [False, False, False, True, False]
    assert mg.isposinf(mg.tensor([1, 2])).tolist() == [False, False]
    assert mg.isreal(x).tolist() == [True] * 5 and mg.isreal(x).dtype == mg.bool
    assert mg.logical_xor(mg.tensor([1.0, 0.0, 2.0]), mg.tensor([0, 0, 1])).tolist() == [True, False, False]
    assert x.logical_xor(mg.tensor(True)).tolist() == [False] * 4 + [True]
    for fn in (mg.real, mg.conj, mg.resolve_conj, mg.resolve_neg):
        assert fn(x) is x
    assert x.real is x and x.conj() is x and not x.is_conj()
    assert [mg.is_nonzero(mg.tensor(v)) for v in ([0.0], -0.0, NAN, [[3]])] == [False, False, True, True]
    for bad, what in ((mg.tensor([]), "no values"), (mg.tensor([1.0, 2.0]), "more than one")):
        with pytest.raises(RuntimeError, match=what):
            bad.is_nonzero()
    with pytest.raises(TypeError, match="complex"):
        mg.conj(np.array([1j]))


def test_aminmax_values_and_errors():
    x = mg.tensor([[1.0, 5.0, -2.0], [3.0, NAN, 2.0]])
    lo, hi = mg.aminmax(x, dim=1)
    np.testing.assert_array_equal(lo.numpy(), [-2.0, NAN])
    np.testing.assert_array_equal(hi.numpy(), [5.0, NAN])
    r = x[:, :1].aminmax(keepdim=True)
    assert r.min.shape == (1, 1) and r.min.item() == 1.0 and r.max.item() == 3.0
    assert mg.aminmax(mg.tensor([4, 1, 7])) == (1, 7)
    with pytest.raises(RuntimeError, match="empty"):
        mg.aminmax(mg.zeros(2, 0), dim=1)


def test_nanmedian_and_nanquantile_values():
    x = mg.tensor([[2.0, NAN, 1.0, 3.0], [NAN] * 4, [4.0, 1.0, 2.0, NAN], [5.0, NAN, 5.0, 5.0]])
    values, indices = mg.nanmedian(x, 1)
    np.testing.assert_array_equal(values.numpy(), [2.0, NAN, 2.0, 5.0])
    assert indices[[0, 2, 3]].tolist() == [0, 2, 2]  # ties: the middle one, as torch
    assert mg.nanmedian(x).item() == 3.0 and np.isnan(mg.nanmedian(mg.tensor([NAN])).item())
    assert mg.nanmedian(mg.tensor([3, 1, 2, 4])).item() == 2
    np.testing.assert_allclose(mg.nanquantile(x, 0.5, dim=1).numpy(), [2.0, NAN, 2.0, 5.0])
    np.testing.assert_allclose(x[0].nanquantile(mg.tensor([0.0, 0.25, 1.0])).numpy(), [1.0, 1.5, 3.0])
    assert mg.nanquantile(x, 0.3, dim=1, keepdim=True).shape == (4, 1)
    assert np.isnan(mg.quantile(x[0], 0.5).item())  # quantile itself still propagates NaN
    with pytest.raises(RuntimeError, match=r"nanquantile\(\) q values"):
        mg.nanquantile(x, 1.5)


@needs_torch
def test_nanmedian_and_nanquantile_match_torch():
    a = np.random.default_rng(0).standard_normal((4, 6))
    a[a > 0.8] = np.nan
    a[1] = np.nan
    for dim in (0, 1):
        got, want = mg.tensor(a).nanmedian(dim), torch.tensor(a).nanmedian(dim)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        ok = ~np.isnan(want.values.numpy())  # an all-NaN slice's index is torch's selection algorithm's
        np.testing.assert_array_equal(got.indices.numpy()[ok], want.indices.numpy()[ok])
        for interpolation in ("linear", "lower", "nearest", "midpoint"):
            np.testing.assert_allclose(
                mg.tensor(a).nanquantile(0.4, dim, interpolation=interpolation).numpy(),
                torch.tensor(a).nanquantile(0.4, dim, interpolation=interpolation).numpy(), rtol=1e-12)


def test_i0_and_its_gradient_i1():
    x = np.array([0.0, 1.0, -1.0, 5.0, -35.0, 100.0, NAN])
    np.testing.assert_allclose(mg.i0(mg.tensor(x, dtype=mg.float64)).numpy(), np.i0(x), rtol=1e-14)
    # I₁ from tables (Abramowitz & Stegun 9.8): I₁(1) = 0.5651591040, I₁(5) = 24.33564214
    np.testing.assert_allclose(i1_array(np.array([1.0, -5.0])), [0.565159103992485, -24.335642142450524],
                               rtol=1e-14)
    assert mg.i0(mg.tensor([1, 2])).dtype == mg.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy RuntimeWarning: float32 overflow is inf, silently
        assert mg.i0(mg.tensor([700.0])).item() == INF
    if torch is not None:
        grid = np.concatenate([np.linspace(-60, 60, 2401), [0.0, 700.0, 800.0, -INF, INF, NAN]])
        np.testing.assert_allclose(i1_array(grid), torch.special.i1(torch.tensor(grid)).numpy(), rtol=5e-15)


def test_mvlgamma_renorm_nextafter_values():
    np.testing.assert_allclose(mg.mvlgamma(mg.tensor([2.5, 3.0], dtype=mg.float64), 2).numpy(),
                               [math.lgamma(2.5) + math.lgamma(2.0) + math.log(math.pi) / 2,
                                math.lgamma(3.0) + math.lgamma(2.5) + math.log(math.pi) / 2], rtol=1e-14)
    with pytest.raises(RuntimeError, match="p has to be"):
        mg.mvlgamma(mg.tensor([1.0]), 0)
    r = mg.renorm(mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [0.6, 0.8, 0.0]]), 2, 0, 5.0)
    np.testing.assert_allclose(r.numpy()[1], np.array([4.0, 5.0, 6.0]) * 5 / (77 ** 0.5 + 1e-7), rtol=1e-6)
    np.testing.assert_array_equal(r.numpy()[[0, 2]], np.float32([[1, 2, 3], [0.6, 0.8, 0]]))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        mg.renorm(mg.ones(3), 2, 0, 1.0)
    with pytest.raises(RuntimeError, match="non-positive-norm"):
        mg.renorm(mg.ones(2, 2), 0, 0, 1.0)
    with pytest.raises(RuntimeError, match="maxnorm"):
        mg.renorm(mg.ones(2, 2), 2, 0, -1.0)
    n = mg.nextafter(mg.tensor([1.0, 0.0, -0.0], dtype=mg.float64), mg.tensor([2.0, -1.0, 1.0], dtype=mg.float64))
    assert n.tolist() == [1.0 + 2.0 ** -52, -5e-324, 5e-324]
    assert mg.nextafter(mg.tensor([1.0]), mg.tensor(2.0, dtype=mg.float64)).dtype == mg.float32  # 0-d: no promotion
    with pytest.raises(TypeError, match="floating-point"):
        mg.nextafter(mg.tensor([1, 2]), mg.tensor([3, 4]))


def test_range_is_inclusive_and_deprecated():
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        r = mg.range(0, 1, 0.25)
    assert r.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0] and r.dtype == mg.float32
    with pytest.warns(UserWarning):
        assert mg.range(3, 0, -1).tolist() == [3, 2, 1, 0]
        assert mg.range(0, 5, 2, dtype=mg.int64).tolist() == [0, 2, 4]
        with pytest.raises(RuntimeError, match="nonzero"):
            mg.range(0, 3, 0)
        with pytest.raises(RuntimeError, match="inconsistent"):
            mg.range(0, 3, -1)
    assert "range" not in mg.__all__  # `from matgrad import *` keeps Python's range


def test_poisson_draws():
    rates = mg.tensor([0.0, 1.0, 4.0, 30.0], dtype=mg.float64, requires_grad=True)
    a = mg.poisson(rates.expand(5000, 4), generator=mg.Generator().manual_seed(3))
    b = mg.poisson(rates.expand(5000, 4), generator=mg.Generator().manual_seed(3))
    assert mg.equal(a, b) and a.dtype == mg.float64
    assert (a[:, 0] == 0).all() and (a == a.round()).all()
    np.testing.assert_allclose(a.mean(0).detach().numpy(), [0.0, 1.0, 4.0, 30.0], rtol=0.05)
    a.sum().backward()
    assert (rates.grad == 0).all()  # a sample does not move with its rate, as torch's PoissonBackward
    with pytest.raises(RuntimeError, match="non-negative"):
        mg.poisson(mg.tensor([-1.0]))


def test_matrix_products():
    m, v = mg.tensor([[1.0, 2.0], [3.0, 4.0]]), mg.tensor([1.0, -1.0])
    assert mg.addmv(mg.tensor([10.0, 20.0]), m, v, beta=0.5, alpha=2).tolist() == [3.0, 8.0]
    b1, b2 = mg.stack([m, m]), mg.stack([mg.eye(2), 2 * mg.eye(2)])
    assert mg.addbmm(mg.ones(2, 2), b1, b2, beta=0).tolist() == [[3.0, 6.0], [9.0, 12.0]]
    assert b1.bmm(b2).tolist() == [m.tolist(), (2 * m).tolist()]
    with pytest.raises(RuntimeError, match="size mismatch"):
        mg.addmv(mg.zeros(2), m, mg.ones(3))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        mg.addbmm(mg.zeros(2, 2), b1, mg.ones(3, 2, 2))


def test_old_linear_algebra():
    a = mg.tensor([[4.0, 2.0], [2.0, 3.0]], dtype=mg.float64)
    with pytest.warns(UserWarning, match="torch.cholesky is deprecated"):
        low = mg.cholesky(a)
    np.testing.assert_allclose(low.numpy(), [[2.0, 0.0], [1.0, 2.0 ** 0.5]], rtol=1e-15)
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(a.cholesky(upper=True).numpy(), low.numpy().T, rtol=1e-15)
    with pytest.warns(UserWarning, match="chain_matmul is deprecated"):
        assert mg.chain_matmul(a, a, a).tolist() == (a @ a @ a).tolist()
        assert mg.chain_matmul(a).tolist() == a.tolist()
        with pytest.raises(RuntimeError, match="one or more"):
            mg.chain_matmul()
        with pytest.raises(RuntimeError, match="expected 2"):
            mg.chain_matmul(a, mg.ones(2))
    assert mg.logdet(a).item() == pytest.approx(np.log(8.0), rel=1e-15)
    assert np.isnan(mg.logdet(mg.tensor([[-1.0, 0.0], [0.0, 1.0]])).item())
    assert mg.logdet(mg.tensor([[0.0, 0.0], [0.0, 1.0]])).item() == -INF
    assert mg.matrix_power(a, 2).tolist() == (a @ a).tolist() and mg.matrix_power(a, 0).tolist() == [[1, 0], [0, 1]]
    np.testing.assert_allclose(mg.matrix_exp(mg.zeros(2, 2)).numpy(), np.eye(2))
    np.testing.assert_allclose(a.pinverse().numpy(), np.linalg.inv(a.numpy()), rtol=1e-12)
    x = mg.tensor([[3.0, 0.0], [0.0, -2.0], [0.0, 0.0]], dtype=mg.float64)
    u, s, v = mg.svd(x)
    assert u.shape == (3, 2) and v.shape == (2, 2)
    np.testing.assert_allclose((u * s @ v.mT).numpy(), x.numpy(), atol=1e-15)  # V, not Vh
    u, s, v = x.svd(some=False, compute_uv=False)
    assert u.shape == (3, 3) and v.shape == (2, 2) and not u.numpy().any()
    np.testing.assert_allclose(s.numpy(), [3.0, 2.0], rtol=1e-15)
    np.testing.assert_allclose(x.pinverse(rcond=0.8).numpy(), [[1 / 3, 0.0, 0.0], [0.0, 0.0, 0.0]], atol=1e-15)


@needs_torch
def test_deprecation_warnings_match_torch():
    a = np.array([[4.0, 2.0], [2.0, 3.0]])
    for name, call in (("range", lambda lib: lib.range(0, 2)), ("cholesky", lambda lib: lib.cholesky(lib.tensor(a))),
                       ("chain_matmul", lambda lib: lib.chain_matmul(lib.tensor(a), lib.tensor(a)))):
        texts = []
        for lib in (torch, mg):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                call(lib)
            texts.append(str(w[0].message).split(" (Triggered internally")[0] if w else None)
        assert texts[1] is not None, f"{name}: matgrad does not warn"
        if texts[0] is not None:  # torch warns once per process from C++ (an earlier test may have used it up)
            assert texts[1] == texts[0], name


def test_nanmedian_all_nan_slice_index_is_torchs():
    # PyTorch's CPU nanmedian: wherever std::nth_element leaves index 0 among equals (values are NaN either way)
    want = {1: 0, 2: 0, 3: 0, 4: 2, 5: 2, 7: 5, 9: 7, 40: 28}  # PyTorch 2.13's
    for n, index in want.items():
        values, indices = mg.full((2, n), NAN).nanmedian(1)
        assert indices.tolist() == [index, index], n
        assert np.isnan(values.numpy()).all()
    x = mg.tensor([[NAN] * 9, [NAN, 1.0, NAN, 2.0, 3.0, NAN, NAN, NAN, NAN]], requires_grad=True)
    values, indices = x.nanmedian(1, keepdim=True)
    assert indices.tolist() == [[7], [3]]
    values.sum().backward()  # the gradient goes to that index, as torch's
    assert x.grad.tolist() == [[0.0] * 7 + [1.0, 0.0], [0.0, 0.0, 0.0, 1.0] + [0.0] * 5]


@needs_torch
def test_nanmedian_all_nan_slices_match_torch_for_every_length():
    for n in list(range(1, 70)) + [128, 1000, 4097]:
        a = np.full((3, n), np.nan)
        a[1, : n // 2] = np.arange(n // 2)
        for dim, arr in ((1, a), (0, a.T.copy())):
            got, want = mg.tensor(arr).nanmedian(dim), torch.tensor(arr).nanmedian(dim)
            np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy(), err_msg=str(n))
            np.testing.assert_array_equal(got.values.numpy(), want.values.numpy(), err_msg=str(n))


def test_nanmedian_all_nan_slice_on_the_test_device():
    from matgrad import devices
    from tests.devices.conftest import fake_backend

    a = np.full((2, 9), NAN)
    a[1, :3] = [3.0, 1.0, 2.0]
    before = devices.set_cuda_backend(fake_backend())
    try:
        t = mg.tensor(a).to("cuda").requires_grad_()
        values, indices = t.nanmedian(1)
        assert indices.device.type == "cuda" and indices.cpu().tolist() == [7, 2]
        values.sum().backward()
        assert t.grad.cpu().numpy()[:, [7, 2]].tolist() == [[1.0, 0.0], [0.0, 1.0]]
    finally:
        devices.restore_cuda_backend(before)
