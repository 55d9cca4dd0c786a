"""Adafactor against PyTorch step for step, its factored state, and loading PyTorch's state_dict."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import optim
from tests.optim.compare import assert_matches_torch, check_in_place, gradient, initial_arrays

CASES = [
    dict(),
    dict(lr=0.1),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.05, maximize=True),
    dict(lr=0.05, eps=(1e-6, 1e-2), d=1.5, beta2_decay=-0.5),
    dict(lr=2.0, eps=(None, 0.0)),  # rho = 1/sqrt(t) takes over from lr
]


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_matches_torch_float64(kwargs):
    assert_matches_torch(optim.Adafactor, kwargs, steps=10)


@pytest.mark.parametrize("kwargs", CASES[1::2], ids=str)
def test_matches_torch_float32_stays_float32(kwargs):
    assert_matches_torch(optim.Adafactor, kwargs, steps=10, dtype=np.float32)


def test_per_group_options_match_torch():
    assert_matches_torch(optim.Adafactor, dict(lr=0.01), steps=8,
                         groups=[{"lr": 0.2, "d": 2.0}, {"weight_decay": 0.1, "beta2_decay": -0.6}])


def _run(opt, params, steps, start, lib):
    for k in range(start, start + steps):
        for i, p in enumerate(params):
            arr = p.detach().numpy() if lib == "torch" else p.array
            g = gradient(arr, k, i)
            if lib == "torch":
                import torch

                p.grad = torch.from_numpy(g)
            else:
                p.grad = g
        opt.step()


def test_batched_matrices_state_shapes_and_loading_torchs_state_dict():
    torch = pytest.importorskip("torch")
    arrays = [np.random.default_rng(0).standard_normal(s) for s in ((2, 3, 4), (5,), (3, 2))]
    tparams = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    topt = torch.optim.Adafactor(tparams, lr=0.05, weight_decay=0.01, foreach=False)
    _run(topt, tparams, 3, 0, "torch")
    tsd = topt.state_dict()
    params = [mg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tparams]
    opt = optim.Adafactor(params, lr=0.5)
    opt.load_state_dict({"state": {i: {k: mg.tensor(v.numpy()) for k, v in s.items()} for i, s in tsd["state"].items()},
                         "param_groups": tsd["param_groups"]})
    assert opt.param_groups[0]["lr"] == 0.05 and opt.state[params[0]]["step"] == 3.0
    assert opt.state[params[0]]["row_var"].shape == (2, 3, 1) and opt.state[params[0]]["col_var"].shape == (2, 1, 4)
    assert set(opt.state[params[1]]) == {"step", "variance"}
    for i, p in enumerate(params):  # the same keys, values and shapes as PyTorch's
        assert list(opt.state[p]) == list(tsd["state"][i])
        for k, v in tsd["state"][i].items():
            np.testing.assert_array_equal(np.asarray(opt.state[p][k]), v.numpy(), err_msg=k)
    _run(topt, tparams, 4, 3, "torch")
    _run(opt, params, 4, 3, "matgrad")
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.array, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    # our own state_dict round trip, into a fresh optimizer, continues identically
    sd = opt.state_dict()
    copies = [mg.tensor(p.array.copy(), requires_grad=True) for p in params]
    opt2 = optim.Adafactor(copies)
    opt2.load_state_dict(sd)
    assert opt2.state[copies[0]]["row_var"] is not opt.state[params[0]]["row_var"]  # fresh buffers
    _run(opt, params, 2, 7, "matgrad")
    _run(opt2, copies, 2, 7, "matgrad")
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(p.array, q.array)
    bad = {"state": {0: {**sd["state"][0], "row_var": np.zeros((2, 4, 1))}}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match=r"state\[0\]\['row_var'\] has shape \(2, 4, 1\)"):
        opt2.load_state_dict(bad)


def test_hand_computed_first_step_of_a_vector():
    p = mg.tensor([3.0, 4.0], dtype=mg.float64, requires_grad=True)
    g = np.array([0.5, -1.0])
    p.grad = g.copy()
    optim.Adafactor([p], lr=0.01).step()
    # β2 weight 1^-0.8 = 1: V = g², so u = sign(g), RMS(u) = 1; α = max(1e-3, RMS(p) = √12.5)·min(0.01, 1)
    np.testing.assert_allclose(p.array, np.array([3.0, 4.0]) - 0.01 * np.sqrt(12.5) * np.sign(g), rtol=1e-12)


def test_steps_in_place_and_float32_state():
    params = [mg.tensor(a, requires_grad=True) for a in initial_arrays(np.float32)]
    opt = optim.Adafactor(params, lr=0.1, weight_decay=0.01)
    check_in_place(opt, params)
    assert opt.state[params[0]]["row_var"].dtype == np.float32 and opt.state[params[1]]["variance"].dtype == np.float32


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-1.0), "Learning rate should be >= 0 but is: -1.0"),
    (dict(beta2_decay=0.5), "beta2_decay should be <= 0 but is: 0.5"),
    (dict(eps=(-1.0, 1e-3)), "epsilon1 should be >= 0 but is: -1.0"),
    (dict(eps=(None, -1.0)), "epsilon2 should be >= 0 but is: -1.0"),
    (dict(d=0.5), "Clipping threshold d should be >= 1 but is: 0.5"),
    (dict(weight_decay=-0.1), "weight_decay should be >= 0 but is: -0.1"),
])
def test_errors_as_torch(kwargs, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=message):
        torch.optim.Adafactor([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match=message):
        optim.Adafactor([mg.zeros(2, requires_grad=True)], **kwargs)


def test_on_the_test_device_equals_the_cpu():
    from matgrad import devices
    from tests.devices.conftest import fake_backend
    from tests.devices.fake_cupy import ndarray

    before = devices.set_cuda_backend(fake_backend())
    try:
        dev = devices.device("cuda", 0)
        arrays = [np.random.default_rng(0).standard_normal(s) for s in ((2, 3, 4), (5,))]
        host = [mg.tensor(a.copy(), requires_grad=True) for a in arrays]
        ondev = [mg.tensor(a.copy()).to(dev).requires_grad_() for a in arrays]
        opts = [optim.Adafactor(ps, lr=0.05, weight_decay=0.01) for ps in (host, ondev)]
        for k in range(3):
            for i, (h, d) in enumerate(zip(host, ondev)):
                g = gradient(h.array, k, i)
                h.grad, d.grad = g, mg.tensor(g).to(dev)
            for o in opts:
                o.step()
        for h, d in zip(host, ondev):
            assert isinstance(d.array, ndarray)
            np.testing.assert_allclose(d.array.get(), h.array, rtol=1e-12, atol=1e-14)
        assert isinstance(opts[1].state[ondev[0]]["row_var"], ndarray)
        assert isinstance(opts[1].state[ondev[1]]["variance"], ndarray)
    finally:
        devices.restore_cuda_backend(before)
