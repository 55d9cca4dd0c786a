"""matgrad/ops/softmax.py: softmax and log_softmax over short last axes, whose max and sums take other ways than
NumPy's own reductions (a max by windows up to `_WINDOW` values, sums by einsum up to `_EINSUM_LONGEST`, columns
for strided rows up to `_SHORT`).

Every way must give softmax's values, gradients and special values: checked against a float64 reference, finite
differences and torch, on both sides of each width where the way changes. Each way must also give a row the same
bits wherever it lies, which matgrad.parallel's promise rests on (tests/test_parallel.py checks the ops).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from matgrad.ops import softmax as sm
from tests.helpers import check_op, torch

WIDTHS = [1, 2, 5, sm._SHORT, sm._SHORT + 1, 23, sm._WINDOW, sm._WINDOW + 1, sm._EINSUM_LONGEST + 1]


def _reference(x: np.ndarray, log: bool) -> np.ndarray:
    """softmax or log_softmax over the last axis, in float64."""
    z = x.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return z - lse if log else np.exp(z - lse)


@pytest.mark.parametrize("k", WIDTHS)
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_short_rows_values_and_gradient(k, log, dtype):
    rng = np.random.default_rng(k)
    x = (rng.standard_normal((3, 7, k)) * 4).astype(dtype)
    fn = F.log_softmax if log else F.softmax
    t = mg.tensor(x, requires_grad=True)
    y = fn(t, dim=-1)
    assert y.dtype == t.dtype and y.shape == x.shape
    # float32: a few roundings of values of size ~1 (log: up to ~20); float64: the same at 1e-16
    tol = dict(rtol=2e-6, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(y.numpy(), _reference(x, log), **tol)
    dy = rng.standard_normal(x.shape)
    y.backward(mg.tensor(dy.astype(dtype)))
    p = np.exp(_reference(x, True))
    want = dy - p * dy.sum(-1, keepdims=True) if log else p * (dy - (dy * p).sum(-1, keepdims=True))
    np.testing.assert_allclose(t.grad.numpy(), want, **(dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else tol))


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, sm._SHORT), (2, sm._SHORT + 1), (3, 2, 23), (2, sm._WINDOW + 1)])
def test_short_rows_gradcheck_and_torch(shape):
    tf = None if torch is None else torch.nn.functional
    check_op(lambda x: F.softmax(x, dim=-1), shape, torch_fn=tf and (lambda x: tf.softmax(x, dim=-1)))
    check_op(lambda x: F.log_softmax(x, dim=-1), shape, torch_fn=tf and (lambda x: tf.log_softmax(x, dim=-1)))
    check_op(lambda x: F.softmax(x.transpose(0, -1), dim=-1), shape[::-1],  # a strided view's rows
             torch_fn=tf and (lambda x: tf.softmax(x.transpose(0, -1), dim=-1)))


@pytest.mark.parametrize("width", [4, sm._SHORT + 1, sm._WINDOW + 1])
def test_short_rows_special_values_as_torch(width):
    if torch is None:
        pytest.skip("torch is not installed")
    inf, nan = np.inf, np.nan
    rows = [[0.0, -inf, 1.0, -inf], [-inf, -inf, -inf, -inf], [inf, 0.0, 1.0, 2.0], [nan, 0.0, 1.0, 2.0],
            [1e30, -1e30, 0.0, 3.0], [88.0, 89.0, 90.0, -90.0]]
    rows = [(r * width)[:width] for r in rows]  # each row repeated out to `width` values: each way's max and sums
    x = np.array(rows, np.float32)
    for fn in ("softmax", "log_softmax"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # inf - inf gives nan quietly, as in PyTorch: no NumPy RuntimeWarning
            got = getattr(F, fn)(mg.tensor(x), dim=-1).numpy()
        want = getattr(torch.nn.functional, fn)(torch.tensor(x), dim=-1).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, equal_nan=True, err_msg=fn)
        assert np.array_equal(np.isnan(got), np.isnan(want)) and np.array_equal(np.isinf(got), np.isinf(want))


def test_which_rows_take_which_reduction():
    x32 = np.zeros((4, sm._WINDOW), np.float32)
    assert sm._rows(x32, -1, sm._WINDOW) and sm._rows(x32, 1, sm._WINDOW) and sm._rows(np.zeros((4, 2, 3)), 2, 3)
    assert not sm._rows(np.zeros((4, sm._WINDOW + 1), np.float32), -1, sm._WINDOW)  # longer rows: the next way
    assert not sm._rows(x32, 0, sm._WINDOW)  # not the last axis
    assert not sm._rows(x32.astype(np.float16), -1, sm._WINDOW)  # NumPy's float16 sum accumulates in float32
    assert not sm._rows(np.zeros((4, 0), np.float32), -1, sm._WINDOW)  # nothing to reduce


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_window_max_is_the_max(dtype):
    rng = np.random.default_rng(7)
    for k in range(2, sm._WINDOW + 1):
        x = rng.standard_normal((3, 11, k)).astype(dtype)
        x[0, 0, rng.integers(k)] = np.nan  # a nan anywhere in a row is its max, as np.max's
        x[0, 1] = -np.inf
        x[1, 2, :] = np.round(x[1, 2, :])  # ties
        x[2, 3, :] = np.inf
        want = np.max(x, axis=-1, keepdims=True)
        for scratch in (None, np.empty_like(x)):
            got = sm._window_max(x, scratch)
            assert got.shape == want.shape
            np.testing.assert_array_equal(got, want, err_msg=f"k={k}")
    x = rng.standard_normal((5, 7)).astype(np.float32)
    scratch = np.empty_like(x)
    m = sm._window_max(x, scratch)
    scratch[...] = 1e30  # the caller's scratch is free once the max is made: it holds no part of it
    np.testing.assert_array_equal(m, x.max(axis=-1, keepdims=True))


def test_by_columns_is_the_reduction():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 5, 9)).astype(np.float32)
    for view in (x, x[:, ::2], x.transpose(1, 0, 2)):  # contiguous and strided layouts
        np.testing.assert_array_equal(sm._by_columns(np.maximum, view), view.max(axis=-1, keepdims=True))
        np.testing.assert_allclose(sm._by_columns(np.add, view), view.sum(axis=-1, keepdims=True), rtol=1e-6,
                                   atol=1e-6)
        np.testing.assert_array_equal(sm._row_max(view, -1), view.max(axis=-1, keepdims=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 3, 16, 23, 64, 257, sm._EINSUM_LONGEST])
def test_row_sums_are_the_sums_and_the_same_wherever_a_row_lies(dtype, k):
    rng = np.random.default_rng(k)
    rows = 3 if k > 1000 else 301
    x = (rng.standard_normal((rows, k)) * rng.choice([1e-3, 1, 1e3], size=(rows, 1))).astype(dtype)
    y = rng.standard_normal((rows, k)).astype(dtype)
    eps = np.finfo(dtype).eps
    scale = np.abs(x).sum(-1, keepdims=True)
    for other, want in ((None, x.astype(np.float64).sum(-1, keepdims=True)),
                        (y, (x.astype(np.float64) * y).sum(-1, keepdims=True))):
        whole = sm._row_sum(x, -1, other)
        assert whole.shape == (rows, 1) and whole.dtype == dtype
        # a sum's error is at most its length's roundings of the sum of |terms| (here ~1e-6 of it in float32)
        bound = k * eps * (scale if other is None else np.abs(x * y).sum(-1, keepdims=True))
        assert np.all(np.abs(whole - want) <= bound)
        for lo, hi in ((0, 1), (1, 2), (rows // 3, rows - 1), (rows - 1, rows)):  # slices, single rows, offsets
            part = sm._row_sum(x[lo:hi], -1, None if other is None else other[lo:hi])
            assert part.tobytes() == whole[lo:hi].tobytes()
        shifted = np.empty(x.size + 1, dtype)[1:].reshape(x.shape)  # a row starting off SIMD alignment
        shifted[...] = x
        assert sm._row_sum(shifted, -1, other).tobytes() == whole.tobytes()
