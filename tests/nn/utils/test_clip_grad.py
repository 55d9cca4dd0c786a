"""clip_grad_norm_ and clip_grad_value_ against torch.nn.utils."""
from __future__ import annotations

import math

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
from matgrad.nn.utils import clip_grad_norm_, clip_grad_value_


def _params_with_grads(grads):
    ps = []
    for g in grads:
        p = nn.Parameter(mg.zeros(*g.shape, dtype=mg.float64))
        p.grad = g.copy()
        ps.append(p)
    return ps


GRADS = [np.array([3.0, -4.0]), np.array([[12.0]]), np.array([0.5, -0.25, 1.0])]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [1.0, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    mine = _params_with_grads(GRADS)
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in GRADS]
    for t, g in zip(theirs, GRADS):
        t.grad = torch.tensor(g)
    total = clip_grad_norm_(mine, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-12)
    for p, t in zip(mine, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_by_hand():
    p = _params_with_grads([np.array([3.0, 4.0])])
    total = clip_grad_norm_(p, 1.0)
    assert total.item() == 5.0
    np.testing.assert_allclose(p[0].grad, [0.6, 0.8], rtol=1e-5)
    q = _params_with_grads([np.array([0.3, 0.4])])[0]
    clip_grad_norm_(q, 1.0)  # a single tensor works too; below the limit: unchanged (up to 1e-6)
    np.testing.assert_allclose(q.grad, [0.3, 0.4], rtol=1e-5)
    assert clip_grad_norm_([nn.Parameter(mg.zeros(2))], 1.0).item() == 0.0  # no grads


def test_clip_grad_norm_nonfinite():
    p = _params_with_grads([np.array([np.inf, 1.0])])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert math.isinf(clip_grad_norm_(p, 1.0).item())


def test_clip_grad_value():
    p = _params_with_grads([np.array([-3.0, 0.2, 5.0])])
    assert clip_grad_value_(p, 1.0) is None
    np.testing.assert_array_equal(p[0].grad, [-1.0, 0.2, 1.0])


def test_clip_in_a_training_step_keeps_float32():
    lin = nn.Linear(4, 2)
    (lin(mg.randn(8, 4) * 100) ** 2).sum().backward()
    total = clip_grad_norm_(lin.parameters(), 0.5)
    assert total.dtype == np.float32 and total.item() > 0.5
    norm = math.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum()) for p in lin.parameters()))
    assert norm == pytest.approx(0.5, rel=1e-4)
    assert lin.weight.grad.dtype == np.float32
