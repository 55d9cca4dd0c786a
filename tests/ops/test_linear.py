"""matgrad/ops/linear.py: the fused linear op against x @ W.T + b, finite differences and torch."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.ops.linear import Linear, linear
from tests.helpers import check_op


@pytest.mark.parametrize("xshape,out", [((5, 4), 3), ((4,), 3), ((2, 3, 4), 3),
                                        ((5, 4), 70), ((64, 4), 65), ((65, 4), 70)])
def test_linear_equals_matmul_plus_bias(xshape, out):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal(xshape), rng.standard_normal((out, 4)), rng.standard_normal(out)
    ts = [mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in (x, w, b)]
    us = [mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in (x, w, b)]
    fused = linear(*ts)
    composed = us[0] @ us[1].T + us[2]
    assert fused.grad_fn.name == "Linear"
    assert fused.array.flags.c_contiguous
    np.testing.assert_allclose(fused.array, composed.array, rtol=1e-12)
    seed = mg.tensor(rng.standard_normal(fused.shape), dtype=mg.float64)
    (fused * seed).sum().backward()
    (composed * seed).sum().backward()
    for t, u in zip(ts, us):
        np.testing.assert_allclose(t.grad, u.grad, rtol=1e-12)


def test_linear_gradcheck_and_torch():
    check_op(lambda x, w, b: linear(x, w, b), (3, 4), (2, 4), (2,),
             torch_fn=lambda x, w, b: __import__("torch").nn.functional.linear(x, w, b))
    check_op(lambda x, w: linear(x, w), (2, 2, 4), (3, 4),
             torch_fn=lambda x, w: __import__("torch").nn.functional.linear(x, w))


def test_linear_by_hand():
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    w = mg.tensor([[3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    b = mg.tensor([0.5, -0.5], requires_grad=True)
    y = linear(x, w, b)
    assert y.tolist() == [[11.5, 16.5]]
    y.backward(mg.tensor([[1.0, 2.0]]))
    assert x.grad.tolist() == [[13.0, 16.0]]  # dy·W
    assert w.grad.tolist() == [[1.0, 2.0], [2.0, 4.0]]  # dyᵀ·x
    assert b.grad.tolist() == [1.0, 2.0]


def test_linear_keeps_float32_and_skips_unneeded_grads():
    x = mg.randn(8, 4)  # no grad: dx is never computed
    w = mg.randn(3, 4, requires_grad=True)
    y = Linear.apply(x, w)
    y.sum().backward()
    assert y.dtype == np.float32 and w.grad.dtype == np.float32
    assert x.grad is None


def test_linear_dtype_mismatch_is_explained():
    with pytest.raises(RuntimeError, match="float64 but weight is float32"):
        linear(mg.randn(2, 4, dtype=mg.float64), mg.randn(3, 4))


# --- the forward product's layout rule (ops/linear.py _affine; measured by benchmarks/bench_linear.py) ------

@pytest.fixture
def out_major(monkeypatch):
    """The out-major rule on, whatever kernel this machine's OpenBLAS runs; a spy counting its uses."""
    from matgrad.ops import linear as lin

    monkeypatch.setattr(lin.blas, "corename", lambda: "skylakex")
    used = []
    real = lin._out_major

    def spy(x, w):
        taken = real(x, w)
        used.append(taken)
        return taken
    monkeypatch.setattr(lin, "_out_major", spy)
    return used


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("rows", [1, 8, 64])
def test_out_major_product_is_linear(out_major, rows, bias):
    rng = np.random.default_rng(rows)
    x = rng.standard_normal((rows, 784)).astype(np.float32)
    w = rng.standard_normal((130, 784)).astype(np.float32)
    b = rng.standard_normal(130).astype(np.float32) if bias else None
    y = linear(mg.tensor(x), mg.tensor(w), None if b is None else mg.tensor(b)).numpy()
    assert out_major == [True]
    assert y.dtype == np.float32 and y.flags.c_contiguous and y.shape == (rows, 130)
    ref = x.astype(np.float64) @ w.T.astype(np.float64) + (0 if b is None else b)
    # float32 sums of 784 products of N(0, 1) terms: |y| ~ 28, rounding ~ 784 · 6e-8 · 28 at worst
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=2e-3)


def test_out_major_rule_keeps_rows_elsewhere(out_major):
    from matgrad.ops.linear import _OUT_MAJOR_IN, _OUT_MAJOR_OUT, _OUT_MAJOR_ROWS

    most = _OUT_MAJOR_ROWS["skylakex"]  # the fixture's kernel
    cases = [((most + 1, _OUT_MAJOR_IN), (_OUT_MAJOR_OUT, _OUT_MAJOR_IN), np.float32),  # many rows
             ((4, _OUT_MAJOR_IN - 1), (_OUT_MAJOR_OUT, _OUT_MAJOR_IN - 1), np.float32),  # a narrow input
             ((4, _OUT_MAJOR_IN), (_OUT_MAJOR_OUT - 1, _OUT_MAJOR_IN), np.float32),  # few outputs
             ((4, _OUT_MAJOR_IN), (_OUT_MAJOR_OUT, _OUT_MAJOR_IN), np.float64),  # float64 (not faster)
             ((2, most // 2 + 1, _OUT_MAJOR_IN), (_OUT_MAJOR_OUT, _OUT_MAJOR_IN), np.float32)]  # 3-D, many rows
    for xs, ws, dtype in cases:
        linear(mg.zeros(*xs, dtype=mg.float32 if dtype == np.float32 else mg.float64),
               mg.zeros(*ws, dtype=mg.float32 if dtype == np.float32 else mg.float64))
    assert out_major == [False] * len(cases)
    linear(mg.zeros(4, _OUT_MAJOR_IN), mg.zeros(_OUT_MAJOR_OUT, _OUT_MAJOR_IN))
    assert out_major[-1] is True
    linear(mg.zeros(2, 4, _OUT_MAJOR_IN), mg.zeros(_OUT_MAJOR_OUT, _OUT_MAJOR_IN))  # a 3-D input counts its rows
    assert out_major[-1] is True


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_out_major_fused_activation_has_linears_bits(out_major, activation):
    """LinearActivation shares Linear's product, so fusing (as Sequential does on a GPU) changes no bit."""
    from matgrad.ops.linear import linear_activation

    rng = np.random.default_rng(1)
    x = mg.tensor(rng.standard_normal((16, 600)).astype(np.float32), requires_grad=True)
    w = mg.tensor(rng.standard_normal((200, 600)).astype(np.float32) / 25, requires_grad=True)
    b = mg.tensor(rng.standard_normal(200).astype(np.float32), requires_grad=True)
    fused = linear_activation(x, w, b, activation)
    plain = getattr(mg, activation)(linear(x, w, b))
    assert out_major == [True, True]
    np.testing.assert_array_equal(fused.numpy(), plain.numpy())
    g = mg.tensor(rng.standard_normal((16, 200)).astype(np.float32))
    grads_fused = mg.autograd.grad(fused, (x, w, b), g)
    grads_plain = mg.autograd.grad(plain, (x, w, b), g)
    for a, c in zip(grads_fused, grads_plain):
        np.testing.assert_array_equal(a.numpy(), c.numpy())


def test_out_major_against_torch(out_major):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((32, 784)).astype(np.float32)
    w = (rng.standard_normal((1024, 784)) / 28).astype(np.float32)
    b = rng.standard_normal(1024).astype(np.float32)
    xm, wm, bm = (mg.tensor(a, requires_grad=True) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ym, yt = linear(xm, wm, bm), torch.nn.functional.linear(xt, wt, bt)
    assert out_major == [True]
    np.testing.assert_allclose(ym.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal((32, 1024)).astype(np.float32)
    ym.backward(mg.tensor(g))
    yt.backward(torch.tensor(g))
    for a, t in ((xm, xt), (wm, wt), (bm, bt)):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kernel, most", [("skylakex", 64), ("haswell", 32), ("zen", 0), ("cooperlake", 0),
                                          ("armv8", 0), ("", 0)])
def test_out_major_rule_only_on_measured_kernels(monkeypatch, kernel, most):
    """Each measured kernel up to its own row count (SkylakeX 64, Haswell 32); every other kernel keeps rows."""
    from matgrad.ops import linear as lin

    monkeypatch.setattr(lin.blas, "corename", lambda: kernel)
    w = np.zeros((128, 784), np.float32)
    rows = (1, 16, 17, 32, 33, 64, 65)
    assert [lin._out_major(np.zeros((r, 784), np.float32), w) for r in rows] == [r <= most for r in rows]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [0, 1, 2, 7, 64, 2048])
def test_column_sums_are_db(dtype, rows):
    """db = Σ_rows dY as a product with ones: the sum to rounding, a fresh array of its own (a leaf's .grad
    takes it and later adds into it), the cached ones left untouched."""
    from matgrad.ops.linear import _column_sums, _ones

    rng = np.random.default_rng(rows)
    dy = (rng.standard_normal((rows, 33)) * rng.choice([1e-3, 1, 1e3], size=(rows, 1))).astype(dtype)
    got = _column_sums(np, dy)
    want = dy.astype(np.float64).sum(axis=0)
    assert got.shape == (33,) and got.dtype == dtype and got.flags.writeable and got.flags.owndata
    bound = max(rows, 1) * np.finfo(dtype).eps * np.abs(dy).sum(axis=0)  # n roundings of Σ|dy| at most
    assert np.all(np.abs(got - want) <= bound)
    first = got.copy()
    got += 1  # in place, as a .grad accumulates: the next call's ones are still ones
    assert _column_sums(np, dy).tobytes() == first.tobytes()
    if rows > 1:
        assert not _ones(rows, np.dtype(dtype)).flags.writeable


def test_column_sums_elsewhere_are_numpys_sum():
    from matgrad.ops.linear import _column_sums

    half = np.arange(12, dtype=np.float16).reshape(4, 3)  # float16: NumPy's sum (it accumulates in float32)
    np.testing.assert_array_equal(_column_sums(np, half), half.sum(axis=0))
    ints = np.arange(12).reshape(4, 3)
    np.testing.assert_array_equal(_column_sums(np, ints), ints.sum(axis=0))
    strided = np.arange(24, dtype=np.float32).reshape(4, 6)[:, ::2]  # a view: the product reads it as it lies
    np.testing.assert_array_equal(_column_sums(np, strided), strided.sum(axis=0))
