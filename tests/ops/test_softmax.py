"""matgrad/ops/softmax.py: softmax and log_softmax over short last axes, which reduce by columns (`_SHORT`).

Both ways (rows, columns) must give softmax's values, gradients and special values: checked against a float64
reference, finite differences and torch, on both sides of the width where the way changes.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from matgrad.ops import softmax as sm
from tests.helpers import check_op, torch

WIDTHS = [1, 2, 5, sm._SHORT, sm._SHORT + 1]


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


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, sm._SHORT), (2, sm._SHORT + 1)])
def test_short_rows_gradcheck_and_torch(shape):
    tf = None if torch is None else torch.nn.functional
    check_op(lambda x: F.softmax(x, dim=-1), shape, torch_fn=tf and (lambda x: tf.softmax(x, dim=-1)))
    check_op(lambda x: F.log_softmax(x, dim=-1), shape, torch_fn=tf and (lambda x: tf.log_softmax(x, dim=-1)))
    check_op(lambda x: F.softmax(x.transpose(0, -1), dim=-1), shape[::-1],  # a strided view's rows
             torch_fn=tf and (lambda x: tf.softmax(x.transpose(0, -1), dim=-1)))


@pytest.mark.parametrize("long", [False, True])
def test_short_rows_special_values_as_torch(long):
    if torch is None:
        pytest.skip("torch is not installed")
    inf, nan = np.inf, np.nan
    rows = [[0.0, -inf, 1.0, -inf], [-inf, -inf, -inf, -inf], [inf, 0.0, 1.0, 2.0], [nan, 0.0, 1.0, 2.0],
            [1e30, -1e30, 0.0, 3.0], [88.0, 89.0, 90.0, -90.0]]
    if long:  # each row repeated out to one element more than the column path takes: NumPy's row reductions
        rows = [(r * sm._SHORT)[:sm._SHORT + 1] for r in rows]
    x = np.array(rows, np.float32)
    for fn in ("softmax", "log_softmax"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # inf - inf gives nan quietly, as in PyTorch: no NumPy RuntimeWarning
            got = getattr(F, fn)(mg.tensor(x), dim=-1).numpy()
        want = getattr(torch.nn.functional, fn)(torch.tensor(x), dim=-1).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, equal_nan=True, err_msg=fn)
        assert np.array_equal(np.isnan(got), np.isnan(want)) and np.array_equal(np.isinf(got), np.isinf(want))


def test_which_rows_reduce_by_columns():
    x32 = np.zeros((4, sm._SHORT), np.float32)
    assert sm._short(x32, -1) and sm._short(x32, 1) and sm._short(np.zeros((4, 2, 3)), 2)
    assert not sm._short(np.zeros((4, sm._SHORT + 1), np.float32), -1)  # long rows: NumPy's reduction
    assert not sm._short(x32, 0)  # not the last axis
    assert not sm._short(x32.astype(np.float16), -1)  # NumPy's float16 sum accumulates in float32
    assert not sm._short(np.zeros((4, 0), np.float32), -1)  # nothing to fold


def test_by_columns_is_the_reduction():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 5, 9)).astype(np.float32)
    for view in (x, x[:, ::2], x.transpose(1, 0, 2)):  # contiguous and strided layouts
        np.testing.assert_array_equal(sm._by_columns(np.maximum, view), view.max(axis=-1, keepdims=True))
        np.testing.assert_allclose(sm._by_columns(np.add, view), view.sum(axis=-1, keepdims=True), rtol=1e-6,
                                   atol=1e-6)
