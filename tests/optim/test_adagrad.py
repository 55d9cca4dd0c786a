"""Adagrad against PyTorch and by hand."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import optim
from tests.optim.compare import assert_matches_torch, check_in_place, initial_arrays

CASES = [
    dict(),
    dict(lr=0.1),
    dict(lr=0.1, lr_decay=0.05),
    dict(lr=0.1, initial_accumulator_value=0.5),
    dict(lr=0.1, weight_decay=0.1, maximize=True),
    dict(lr=5.0, eps=1e-6),
]


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_matches_torch_float64(kwargs):
    assert_matches_torch(optim.Adagrad, kwargs, steps=10)


@pytest.mark.parametrize("kwargs", CASES[2:4], ids=str)
def test_matches_torch_float32_stays_float32(kwargs):
    assert_matches_torch(optim.Adagrad, kwargs, steps=10, dtype=np.float32)


def test_per_group_options_match_torch():
    # a group's own initial_accumulator_value is ignored, in PyTorch as here
    groups = [{"lr_decay": 0.1}, {"lr": 0.5, "initial_accumulator_value": 1.0, "eps": 1e-3}]
    assert_matches_torch(optim.Adagrad, dict(lr=0.1), steps=8, groups=groups)


def test_hand_computed_two_steps():
    p = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    opt = optim.Adagrad([p], lr=0.1, lr_decay=0.5, initial_accumulator_value=1.0, eps=0.0)
    assert opt.state[p]["sum"].tolist() == [1.0]  # filled at construction, as torch
    p.grad = np.array([2.0])
    opt.step()  # s = 1 + 4 = 5;  p = 1 − 0.1·2/√5
    first = 1 - 0.1 * 2 / np.sqrt(5)
    np.testing.assert_allclose(p.array, [first], rtol=1e-14)
    p.grad = np.array([1.0])
    opt.step()  # clr = 0.1/(1 + 0.5);  s = 6
    np.testing.assert_allclose(p.array, [first - 0.1 / 1.5 / np.sqrt(6)], rtol=1e-14)


def test_steps_in_place():
    params = [mg.tensor(a, requires_grad=True) for a in initial_arrays(np.float32)]
    check_in_place(optim.Adagrad(params, lr=0.1), params)


def test_bad_initial_accumulator_value():
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        optim.Adagrad([mg.tensor([1.0], requires_grad=True)], initial_accumulator_value=-1.0)
