"""matgrad.blas: one-pass in-place updates and gemm through NumPy's OpenBLAS, and their NumPy fallback."""
from __future__ import annotations

import numpy as np
import pytest

from matgrad import blas


@pytest.fixture(params=["blas", "numpy"])
def path(request, monkeypatch):
    """Run each test through BLAS (every size) and through the NumPy fallback."""
    if request.param == "blas":
        if blas._kernels() is None:
            pytest.skip("this NumPy has no OpenBLAS with axpy/axpby")
        monkeypatch.setattr(blas, "MIN_SIZE", 0)
    else:
        monkeypatch.setattr(blas, "_kernels", lambda: None)
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_axpy_and_axpby_match_numpy(path, dtype, order):
    rng = np.random.default_rng(0)
    x = np.asarray(rng.standard_normal((37, 53)), dtype=dtype, order=order)
    y0 = np.asarray(rng.standard_normal((37, 53)), dtype=dtype, order=order)
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-14, atol=1e-14)

    y = y0.copy(order=order)
    blas.axpy(-0.1, x, y)
    np.testing.assert_allclose(y, y0 - 0.1 * x, **tol)
    assert y.dtype == dtype

    y = y0.copy(order=order)
    blas.axpby(0.7, x, 0.9, y)
    np.testing.assert_allclose(y, 0.9 * y0 + 0.7 * x, **tol)
    np.testing.assert_array_equal(x, np.asarray(x))  # x is only read


def test_mixed_layouts_and_strided_views_fall_back_correctly(monkeypatch):
    monkeypatch.setattr(blas, "MIN_SIZE", 0)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 8))
    y0 = rng.standard_normal((8, 6)).T  # F-ordered against C-ordered x: flat orders differ
    y = y0.copy(order="F")
    blas.axpy(2.0, x, y)
    np.testing.assert_allclose(y, y0 + 2 * x, rtol=1e-14)
    big = rng.standard_normal((6, 16))
    y = y0.copy()
    blas.axpby(1.0, big[:, ::2], 0.5, y)  # a strided view
    np.testing.assert_allclose(y, 0.5 * y0 + big[:, ::2], rtol=1e-14)


def test_large_float32_update_takes_the_blas_path(monkeypatch):
    if blas._kernels() is None:
        pytest.skip("this NumPy has no OpenBLAS with axpy/axpby")
    calls = []
    real = blas._kernels()
    spied = {k: (lambda *a, _f=f, _k=k: calls.append(_k) or _f(*a)) for k, f in real.items()}
    monkeypatch.setattr(blas, "_kernels", lambda: spied)
    x = np.ones(blas.MIN_SIZE, np.float32)
    y = np.full(blas.MIN_SIZE, 3.0, np.float32)
    blas.axpby(1.0, x, 0.5, y)
    blas.axpy(-2.0, y, y)  # x and y the same array: y = -y
    assert calls == [("axpby", np.dtype(np.float32)), ("axpy", np.dtype(np.float32))]
    np.testing.assert_array_equal(y, np.full(blas.MIN_SIZE, -2.5, np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta", [0.0, 1.0, 0.5])
def test_gemm_on_transposed_and_shifted_views(path, dtype, beta):
    rng = np.random.default_rng(2)
    buf = rng.standard_normal((5, 40)).astype(dtype)  # shifted slices of one buffer: row stride 40, not 20
    a = rng.standard_normal((5, 3)).astype(dtype)
    c_big = rng.standard_normal((3, 30)).astype(dtype)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-13)
    for lhs, rhs, out in (
        (a.T, buf[:, 7:27], c_big[:, 4:24]),  # a transposed, b a row-strided slice, c a slice
        (buf[:3, 2:7], a, c_big[:, :3]),
        (buf[:3, 1:21], buf[:, 3:23].T, np.ones((3, 5), dtype)),  # both views of one buffer, b transposed
        (buf[:3, :1], buf[:1, :20], c_big[:, :20]),  # k = 1: a single outer product
    ):
        expected = 0.5 * (lhs.astype(np.float64) @ rhs) + beta * out
        c0 = c_big.copy()
        blas.gemm(0.5, lhs, rhs, beta, out)
        np.testing.assert_allclose(out, expected, **tol)
        assert out.dtype == dtype
    np.testing.assert_array_equal(c_big[:, 24:], c0[:, 24:])  # nothing outside c is written


def test_gemm_takes_blas_when_it_can(monkeypatch):
    if blas._kernels() is None:
        pytest.skip("this NumPy has no OpenBLAS with gemm")
    calls = []
    real = blas._kernels()
    spied = {k: (lambda *a, _f=f, _k=k: calls.append(_k) or _f(*a)) for k, f in real.items()}
    monkeypatch.setattr(blas, "_kernels", lambda: spied)
    x = np.ones((4, 6), np.float32)
    c = np.zeros((4, 4), np.float32)
    blas.gemm(1.0, x, x.T, 0.0, c)
    assert calls == [("gemm", np.dtype(np.float32))]
    blas.gemm(1.0, x, x.T, 1.0, c.T)  # c transposed: NumPy
    blas.gemm(1.0, x[:, ::2], x[:, ::2].T, 1.0, c)  # no unit stride: NumPy
    blas.gemm(1.0, x, x.T.astype(np.float64), 1.0, c)  # mixed dtypes: NumPy
    blas.gemm(1.0, c[:, :4], c, 1.0, c)  # c is also an operand: NumPy
    assert len(calls) == 1
    np.testing.assert_array_equal(c, np.full((4, 4), 21 + 21 * 21 * 4, np.float32))  # 6, +6, +3, +6, +c@c


def test_gemm_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="gemm"):
        blas.gemm(1.0, np.ones((2, 3)), np.ones((4, 2)), 0.0, np.zeros((2, 2)))


def test_overlapping_arrays_take_the_numpy_path(monkeypatch):
    monkeypatch.setattr(blas, "MIN_SIZE", 0)
    base = np.arange(12.0)
    x, y = base[:8], base[4:]  # same shape, contiguous, sharing base[4:8]
    expected = y + 2 * x
    blas.axpy(2.0, x, y)
    np.testing.assert_array_equal(base[4:], expected)


@pytest.mark.parametrize("size", [8, 1 << 15])
def test_axpby_axpy_is_axpby_then_axpy_bit_for_bit(size):
    rng = np.random.default_rng(3)
    x, y0, z0 = (rng.standard_normal(size).astype(np.float32) for _ in range(3))
    y, z = y0.copy(), z0.copy()
    blas.axpby_axpy(0.7, x, 0.9, y, -0.1, z)
    y1, z1 = y0.copy(), z0.copy()
    blas.axpby(0.7, x, 0.9, y1)
    blas.axpy(-0.1, y1, z1)
    assert y.tobytes() == y1.tobytes() and z.tobytes() == z1.tobytes()


def test_which_pairs_take_blas(monkeypatch):
    """The addresses come from the buffers where both are C-ordered and writeable; a Fortran-ordered pair or a
    read-only x still takes BLAS (through the full check); overlapping arrays never do."""
    if blas._kernels() is None:
        pytest.skip("this NumPy has no OpenBLAS with axpy/axpby")
    calls = []
    real = blas._kernels()
    spied = {k: (lambda *a, _f=f, _k=k: calls.append(_k[0]) or _f(*a)) for k, f in real.items()}
    monkeypatch.setattr(blas, "_kernels", lambda: spied)
    monkeypatch.setattr(blas, "MIN_SIZE", 0)
    rng = np.random.default_rng(4)
    x0 = rng.standard_normal((6, 8))
    for x, y, blas_path in (
        (x0.copy(), x0 * 2, True),
        (np.asfortranarray(x0), np.asfortranarray(x0 * 2), True),
        (np.frombuffer(x0.tobytes(), dtype=x0.dtype).reshape(6, 8), x0 * 2, True),  # a read-only x
        (x0[:, :4], x0[:, 4:].copy(), False),  # a strided x
    ):
        calls.clear()
        expected = y + 0.5 * x
        blas.axpy(0.5, x, y)
        np.testing.assert_allclose(y, expected, rtol=1e-14)
        assert calls == (["axpy"] if blas_path else [])
    base = np.arange(12.0)
    for x, y in ((base[:8], base[4:]), (base[4:], base[:8]), (base[:8], base[:8].view())):  # overlapping, or one block
        calls.clear()
        expected = y + 2 * x
        blas.axpby(2.0, x, 1.0, y)
        np.testing.assert_array_equal(y, expected)
        assert calls == []


def test_corename_names_the_kernel_openblas_runs():
    from matgrad import blas
    from matgrad.threads import _openblas

    name = blas.corename()
    assert isinstance(name, str) and name == name.lower() and name == name.strip()
    if _openblas() is not None:  # NumPy's own OpenBLAS answers get_corename: 'haswell', 'skylakex', 'zen', ...
        assert name and name.isprintable()
