"""matgrad/ops/loss.py: each fused loss against its composed twin, first and second order."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from matgrad.ops import loss as L

REDUCTIONS = ["mean", "sum", "none"]


def _coef(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, shape)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_equals_log_softmax_then_nll(reduction):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 2))
    a = _coef((4, 3, 2))
    xa = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    xb = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    fused = L.CrossEntropy.apply(xa, coef=a, axis=1, reduction=reduction, denom=2.5)
    composed = L.NLL.apply(mg.log_softmax(xb, dim=1), coef=a, axis=1, reduction=reduction, denom=2.5)
    np.testing.assert_allclose(fused.array, composed.array, rtol=1e-12)
    fused.sum().backward()
    composed.sum().backward()
    np.testing.assert_allclose(xa.grad, xb.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_first_and_second_order(reduction):
    a = _coef((3, 4))
    x = mg.tensor(np.random.default_rng(1).standard_normal((3, 4)), dtype=mg.float64, requires_grad=True)
    fn = lambda t: L.CrossEntropy.apply(t, coef=a, axis=1, reduction=reduction, denom=3.0)  # noqa: E731
    assert mg.gradcheck(fn, [x])
    assert mg.gradgradcheck(fn, [x])


def test_nll_first_and_second_order():
    a = _coef((5,))
    x = mg.tensor(np.random.default_rng(2).standard_normal(5), dtype=mg.float64, requires_grad=True)
    fn = lambda t: L.NLL.apply(t, coef=a, axis=0, reduction="mean", denom=2.0)  # noqa: E731
    assert mg.gradcheck(fn, [x])
    assert mg.gradgradcheck(fn, [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_equals_composed_formula(reduction):
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, (4, 3))
    y = rng.uniform(0, 1, (4, 3))
    w = rng.uniform(0.5, 2, (3,))
    pa = mg.tensor(p, dtype=mg.float64, requires_grad=True)
    pb = mg.tensor(p, dtype=mg.float64, requires_grad=True)
    ya = mg.tensor(y, dtype=mg.float64)
    fused = L.BinaryCrossEntropy.apply(pa, ya, weight=w, reduction=reduction, denom=12)
    elem = -(ya * mg.log(pb) + (1 - ya) * mg.log(1 - pb)) * mg.tensor(w, dtype=mg.float64)
    composed = {"mean": elem.mean(), "sum": elem.sum(), "none": elem}[reduction]
    np.testing.assert_allclose(fused.array, composed.array, rtol=1e-12)
    fused.sum().backward()
    composed.sum().backward()
    np.testing.assert_allclose(pa.grad, pb.grad, rtol=1e-10)


def test_bce_first_and_second_order_in_both_inputs():
    rng = np.random.default_rng(4)
    p = mg.tensor(rng.uniform(0.1, 0.9, 6), dtype=mg.float64, requires_grad=True)
    y = mg.tensor(rng.uniform(0, 1, 6), dtype=mg.float64, requires_grad=True)
    fn = lambda a, b: L.BinaryCrossEntropy.apply(a, b, weight=None, reduction="mean", denom=6)  # noqa: E731
    assert mg.gradcheck(fn, [p, y])
    assert mg.gradgradcheck(fn, [p, y])


def test_bce_saturated_probabilities_give_torchs_clamped_values():
    p = mg.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    y = mg.tensor([1.0, 0.0, 0.0, 1.0])
    loss = L.BinaryCrossEntropy.apply(p, y, weight=None, reduction="none", denom=4)
    np.testing.assert_array_equal(loss.array, [100.0, 100.0, 0.0, 0.0])  # log clamped at -100
    loss.sum().backward()
    np.testing.assert_allclose(p.grad, [-1e12, 1e12, 0.0, 0.0], rtol=1e-6)  # (p-y)/max(p(1-p), 1e-12)


@pytest.mark.parametrize("pos_weight", [None, np.array([0.5, 2.0, 3.0])])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_equals_sigmoid_then_bce(pos_weight, reduction):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3)) * 2
    y = rng.uniform(0, 1, (4, 3))
    xa = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    xb = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    yt = mg.tensor(y, dtype=mg.float64)
    fused = L.BCEWithLogits.apply(xa, yt, weight=None, pos_weight=pos_weight, reduction=reduction, denom=12)
    s = mg.sigmoid(xb)
    q = 1.0 if pos_weight is None else mg.tensor(pos_weight, dtype=mg.float64)
    elem = -(q * yt * mg.log(s) + (1 - yt) * mg.log(1 - s))
    composed = {"mean": elem.mean(), "sum": elem.sum(), "none": elem}[reduction]
    np.testing.assert_allclose(fused.array, composed.array, rtol=1e-10)
    fused.sum().backward()
    composed.sum().backward()
    np.testing.assert_allclose(xa.grad, xb.grad, rtol=1e-9)


def test_bce_with_logits_first_and_second_order_in_both_inputs():
    rng = np.random.default_rng(6)
    x = mg.tensor(rng.standard_normal(5), dtype=mg.float64, requires_grad=True)
    y = mg.tensor(rng.uniform(0, 1, 5), dtype=mg.float64, requires_grad=True)
    pw = np.full(5, 1.5)
    fn = lambda a, b: L.BCEWithLogits.apply(a, b, weight=None, pos_weight=pw, reduction="sum", denom=5)  # noqa: E731
    assert mg.gradcheck(fn, [x, y])
    assert mg.gradgradcheck(fn, [x, y])


def test_losses_are_single_nodes():
    x = mg.randn(4, 3, requires_grad=True)
    assert F.cross_entropy(x, mg.tensor([0, 1, 2, 0])).grad_fn.name == "CrossEntropy"
    assert F.binary_cross_entropy_with_logits(x, mg.ones(4, 3)).grad_fn.name == "BCEWithLogits"
    assert F.binary_cross_entropy(mg.sigmoid(x), mg.ones(4, 3)).grad_fn.name == "BinaryCrossEntropy"
