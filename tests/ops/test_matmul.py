"""matgrad/ops/matmul.py and ops/linear.py: a (*, k) operand times a (k, m) matrix as ONE product over its rows.

np.matmul would run one small GEMM per leading index; the ops take the rows as one matrix instead (`_rows`).
These check that the values and gradients are those of the batched product, for every layout the rows can
come in (contiguous, a transposed view, no rows at all, k = 0), in float64 against finite differences and torch.
"""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.backend import numpy_ns
from matgrad.ops.linear import linear
from tests.helpers import check_op

SHAPES = [((2, 3, 4), (4, 5)), ((2, 3, 2, 4), (4, 5)), ((1, 1, 4), (4, 1)), ((0, 3, 4), (4, 5)),
          ((2, 3, 0), (0, 5)), ((2, 0, 4), (4, 3))]


def _batched(a: np.ndarray, b: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """y, dA and dB as NumPy's batched matmul gives them, dB summed over the batch by hand."""
    y = np.matmul(a, b)
    da = np.matmul(dy, b.T)
    db = np.matmul(np.swapaxes(a, -1, -2), dy).reshape(int(np.prod(a.shape[:-2])), *b.shape).sum(axis=0)
    return y, da, db


@pytest.mark.parametrize("ashape,bshape", SHAPES)
@pytest.mark.parametrize("view", [False, True])
def test_rows_product_is_the_batched_product(ashape, bshape, view):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(ashape)
    if view:  # the same values reached through a transposed view: the rows are then not one block
        a = np.ascontiguousarray(np.swapaxes(a, 0, 1)).swapaxes(0, 1) if len(ashape) > 2 else a
    b = rng.standard_normal(bshape)
    y_ref, da_ref, db_ref = _batched(a, b, dy := rng.standard_normal(ashape[:-1] + bshape[1:]))
    ta, tb = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    y = ta @ tb
    assert y.shape == y_ref.shape and y.array.flags.c_contiguous
    np.testing.assert_allclose(y.array, y_ref, rtol=1e-12, atol=1e-12)
    y.backward(mg.tensor(dy))
    assert ta.grad.shape == ashape and tb.grad.shape == bshape
    np.testing.assert_allclose(ta.grad.numpy(), da_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), db_ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ashape,bshape", [((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (4, 2))])
def test_rows_product_gradcheck_and_torch(ashape, bshape):
    check_op(lambda a, b: a @ b, ashape, bshape)
    check_op(lambda a, b: a.transpose(0, 1) @ b, ashape, bshape)  # a view whose rows need a copy


def test_rows_product_float32_agrees_with_batched():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((64, 16, 64)).astype(np.float32)
    b = rng.standard_normal((64, 96)).astype(np.float32)
    y = (mg.tensor(a) @ mg.tensor(b)).numpy()
    ref = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert y.dtype == np.float32
    # 64 products of N(0, 1) terms: |y| ~ 8, float32 rounding ~ 64 · 6e-8 · 8 at worst, whatever the kernel's order
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("xshape", [(2, 3, 2, 4), (0, 3, 4), (3, 2, 0)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_rows_as_one_product(xshape, bias):
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal(xshape), rng.standard_normal((3, xshape[-1])), rng.standard_normal(3)
    ts = [mg.tensor(v, requires_grad=True) for v in (x, w, b)]
    y = linear(ts[0], ts[1], ts[2] if bias else None)
    ref = x @ w.T + (b if bias else 0)
    assert y.shape == xshape[:-1] + (3,) and y.array.flags.c_contiguous
    np.testing.assert_allclose(y.array, ref, rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    y.backward(mg.tensor(dy))
    rows = int(np.prod(xshape[:-1]))  # explicit: -1 cannot be solved for when there are no elements
    rows_x, rows_dy = x.reshape(rows, xshape[-1]), dy.reshape(rows, 3)
    np.testing.assert_allclose(ts[0].grad.numpy(), dy @ w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ts[1].grad.numpy(), rows_dy.T @ rows_x, rtol=1e-12, atol=1e-12)
    if bias:
        np.testing.assert_allclose(ts[2].grad.numpy(), rows_dy.sum(0), rtol=1e-12, atol=1e-12)


def test_linear_rows_gradcheck_and_torch():
    torch_linear = lambda x, w, b: __import__("torch").nn.functional.linear(x, w, b)  # noqa: E731
    check_op(lambda x, w, b: linear(x, w, b), (2, 3, 2, 4), (3, 4), (3,), torch_fn=torch_linear)
    check_op(lambda x, w, b: linear(x.transpose(0, 2), w, b), (4, 3, 2), (3, 4), (3,),
             torch_fn=lambda x, w, b: torch_linear(x.transpose(0, 2), w, b))


def test_rows_make_one_two_dimensional_product_each(monkeypatch):
    """The point of _rows: forward and backward call BLAS on matrices, never np.matmul's per-sequence batch."""
    ndims = []
    real = np.matmul

    def spy(a, b, *args, **kwargs):
        ndims.append((np.ndim(a), np.ndim(b)))
        return real(a, b, *args, **kwargs)

    monkeypatch.setattr(np, "matmul", spy)  # the forwards'
    monkeypatch.setattr(numpy_ns, "matmul", spy)  # the backwards' (engine's namespace)
    x = mg.randn(8, 5, 6, requires_grad=True)
    w, b = mg.randn(7, 6, requires_grad=True), mg.randn(7, requires_grad=True)
    linear(x, w, b).sum().backward()
    (x @ mg.randn(6, 3, requires_grad=True)).sum().backward()
    # six matrix products, and db as ones·dY (ops/linear.py _column_sums): never a batch of products
    assert sorted(ndims) == [(1, 2)] + [(2, 2)] * 6, ndims
