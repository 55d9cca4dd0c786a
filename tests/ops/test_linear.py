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
