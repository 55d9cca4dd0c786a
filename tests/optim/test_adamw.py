"""AdamW (decoupled weight decay) against PyTorch and by hand."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import optim
from tests.optim.compare import assert_matches_torch, check_in_place, initial_arrays

CASES = [
    dict(),  # default weight_decay = 1e-2
    dict(lr=0.1, weight_decay=0.1),
    dict(lr=0.05, weight_decay=0.5, amsgrad=True),
    dict(lr=0.05, betas=(0.4, 0.9), weight_decay=0.0),
    dict(lr=0.05, weight_decay=0.1, maximize=True),
    dict(lr=3.0, weight_decay=0.1),
]


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_matches_torch_float64(kwargs):
    assert_matches_torch(optim.AdamW, kwargs, steps=10)


@pytest.mark.parametrize("kwargs", CASES[1:3], ids=str)
def test_matches_torch_float32_stays_float32(kwargs):
    assert_matches_torch(optim.AdamW, kwargs, steps=10, dtype=np.float32)


def test_per_group_options_match_torch():
    assert_matches_torch(optim.AdamW, dict(lr=0.05), steps=8, groups=[{"weight_decay": 0.0}, {"lr": 0.3}])


def test_default_weight_decay_and_hand_computed_step():
    p = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    opt = optim.AdamW([p], lr=0.01)
    assert opt.defaults["weight_decay"] == 1e-2
    g = np.array([0.5, -1.0])
    p.grad = g.copy()
    opt.step()
    # decay first, on the weights: p·(1 − lr·wd); then Adam's first step lr·g/(|g| + eps)
    expected = np.array([1.0, 2.0]) * (1 - 0.01 * 0.01) - 0.01 * g / (np.abs(g) + 1e-8)
    np.testing.assert_allclose(p.array, expected, rtol=1e-12)
    np.testing.assert_allclose(opt.state[p]["exp_avg"], 0.1 * g, rtol=1e-12)  # the decay never enters m


def test_differs_from_adam_with_l2():
    runs = []
    for cls in (optim.Adam, optim.AdamW):
        p = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
        opt = cls([p], lr=0.1, weight_decay=0.5)
        for _ in range(3):
            p.grad = np.array([0.1, -0.2])
            opt.step()
        runs.append(p.array.copy())
    assert np.abs(runs[0] - runs[1]).max() > 1e-3


def test_steps_in_place():
    params = [mg.tensor(a, requires_grad=True) for a in initial_arrays(np.float32)]
    check_in_place(optim.AdamW(params, lr=0.1, amsgrad=True), params)
