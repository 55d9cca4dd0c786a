"""SGD against PyTorch step for step, by hand, and in place."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import optim
from tests.optim.compare import assert_matches_torch, check_in_place, initial_arrays

CASES = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.1, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.1, momentum=0.5, weight_decay=0.01),
    dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True),
    dict(lr=1.5, momentum=0.9),  # large: the iterates blow up, and must blow up identically
    dict(lr=1e-4, weight_decay=1e-3),
]


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_matches_torch_float64(kwargs):
    assert_matches_torch(optim.SGD, kwargs, steps=10)


@pytest.mark.parametrize("kwargs", CASES[1:6:2], ids=str)
def test_matches_torch_float32_stays_float32(kwargs):
    assert_matches_torch(optim.SGD, kwargs, steps=10, dtype=np.float32)


def test_per_group_options_match_torch():
    groups = [{"lr": 0.2, "momentum": 0.9}, {"weight_decay": 0.1, "nesterov": True, "momentum": 0.5}]
    assert_matches_torch(optim.SGD, dict(lr=0.05), steps=8, groups=groups)


def test_hand_computed_momentum():
    p = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.array([0.5, -1.0])
    opt.step()  # buf = g;  p = p − 0.1·g
    np.testing.assert_allclose(p.array, [0.95, 2.1], rtol=1e-15)
    p.grad = np.array([0.5, -1.0])
    opt.step()  # buf = 0.9·g + g = 1.9·g
    np.testing.assert_allclose(p.array, [0.95 - 0.095, 2.1 + 0.19], rtol=1e-15)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [0.95, -1.9], rtol=1e-15)


def test_plain_sgd_hand_computed_with_weight_decay_and_maximize():
    p = mg.tensor([1.0, -2.0], dtype=mg.float64, requires_grad=True)
    p.grad = np.array([0.5, 0.5])
    optim.SGD([p], lr=0.1, weight_decay=0.2, maximize=True).step()
    # g = −grad + 0.2·p = [−0.3, −0.9];  p − 0.1·g
    np.testing.assert_allclose(p.array, [1.03, -1.91], rtol=1e-15)


def test_steps_in_place():
    params = [mg.tensor(a, requires_grad=True) for a in initial_arrays(np.float32)]
    opt = optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True)
    check_in_place(opt, params)
    assert opt.state[params[0]]["momentum_buffer"].dtype == np.float32


def test_float32_with_numpy_float64_lr_stays_float32():
    p = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=np.float64(0.1), momentum=np.float64(0.9))
    for _ in range(2):
        p.grad = np.full(3, 0.5, np.float32)
        opt.step()
    assert p.dtype == np.float32 and opt.state[p]["momentum_buffer"].dtype == np.float32


def test_skips_parameters_without_grad():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0], requires_grad=True)
    a.grad = np.array([1.0, 1.0], np.float32)
    optim.SGD([a, b], lr=0.5, momentum=0.9).step()
    np.testing.assert_allclose(a.array, [0.5, 1.5])
    np.testing.assert_array_equal(b.array, [3.0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=-0.1), "learning rate"),
    (dict(lr=0.1, momentum=-0.5), "momentum"),
    (dict(lr=0.1, weight_decay=-1.0), "weight_decay"),
    (dict(lr=0.1, nesterov=True), "Nesterov"),
    (dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
])
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optim.SGD([mg.tensor([1.0], requires_grad=True)], **kwargs)


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_blas_update_path_matches_torch(kwargs, monkeypatch):
    """The one-pass BLAS update (used for large parameters) follows torch as closely as NumPy's."""
    from matgrad import blas

    if blas._kernels() is None:
        pytest.skip("this NumPy has no OpenBLAS with axpy/axpby")
    monkeypatch.setattr(blas, "MIN_SIZE", 0)
    assert_matches_torch(optim.SGD, kwargs, steps=10)
    assert_matches_torch(optim.SGD, kwargs, steps=10, dtype=np.float32)


@pytest.mark.parametrize("size", [8, 20_000])  # NumPy's path and (with OpenBLAS) the one-pass BLAS update
def test_momentum_reads_the_learning_rate_at_each_step(size):
    """lr set between steps (as a scheduler does, also as a 0-d Tensor) is the one each step uses."""
    rng = np.random.default_rng(5)
    p0 = rng.standard_normal(size)
    grads = [rng.standard_normal(size) for _ in range(3)]
    p = mg.tensor(p0.copy(), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.25)
    expected, buf = p0.copy(), None
    for k, lr in enumerate((0.1, 0.05, mg.tensor(0.02))):
        opt.param_groups[0]["lr"] = lr
        p.grad = grads[k].copy()
        opt.step()
        buf = grads[k].copy() if buf is None else 0.9 * buf + 0.75 * grads[k]
        expected -= float(lr) * buf
        np.testing.assert_allclose(p.array, expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(p.grad.array, grads[k])  # the gradient itself is never changed
