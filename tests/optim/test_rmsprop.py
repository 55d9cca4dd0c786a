"""RMSprop against PyTorch and by hand."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import optim
from tests.optim.compare import assert_matches_torch, check_in_place, initial_arrays

CASES = [
    dict(),
    dict(lr=0.05, alpha=0.9),
    dict(lr=0.01, alpha=0.3),  # 1 − alpha > 0.5: the other lerp branch when centered
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.01, centered=True),
    dict(lr=0.01, alpha=0.3, centered=True, momentum=0.5),
    dict(lr=0.01, weight_decay=0.1, momentum=0.9, maximize=True),
    dict(lr=1.0, eps=1e-3, momentum=0.9),
]


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_matches_torch_float64(kwargs):
    assert_matches_torch(optim.RMSprop, kwargs, steps=10)


# not the alpha=0.3 centered case: √(s − ḡ²) cancels, and PyTorch's fused (FMA) lerp rounds
# differently from NumPy's two roundings, which that cancellation lifts above float32 tolerance
@pytest.mark.parametrize("kwargs", CASES[3:5] + CASES[6:], ids=str)
def test_matches_torch_float32_stays_float32(kwargs):
    assert_matches_torch(optim.RMSprop, kwargs, steps=10, dtype=np.float32)


def test_per_group_options_match_torch():
    groups = [{"centered": True, "momentum": 0.9}, {"alpha": 0.5, "weight_decay": 0.1}]
    assert_matches_torch(optim.RMSprop, dict(lr=0.02), steps=8, groups=groups)


def test_hand_computed_first_step():
    p = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    g = np.array([0.5, -1.0])
    p.grad = g.copy()
    optim.RMSprop([p], lr=0.01, alpha=0.99).step()
    # s = 0.01·g², p −= lr·g/(√s + eps)
    expected = np.array([1.0, 2.0]) - 0.01 * g / (np.sqrt(0.01 * g * g) + 1e-8)
    np.testing.assert_allclose(p.array, expected, rtol=1e-12)


def test_steps_in_place():
    params = [mg.tensor(a, requires_grad=True) for a in initial_arrays(np.float32)]
    opt = optim.RMSprop(params, lr=0.01, momentum=0.9, centered=True)
    check_in_place(opt, params)
    assert {"square_avg", "momentum_buffer", "grad_avg"} <= set(opt.state[params[1]])


def test_bad_alpha():
    with pytest.raises(ValueError, match="alpha"):
        optim.RMSprop([mg.tensor([1.0], requires_grad=True)], alpha=-0.1)
