"""The Optimizer base: groups, zero_grad, closures, state_dict round trips and clear errors."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import matgrad as mg
from matgrad import optim
from tests.optim.compare import gradient, initial_arrays

ALL = [
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (optim.Adam, dict(lr=0.05, amsgrad=True)),
    (optim.AdamW, dict(lr=0.05)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
]
IDS = [cls.__name__ for cls, _ in ALL]


def _params(dtype=np.float64):
    return [mg.tensor(a, requires_grad=True) for a in initial_arrays(dtype)]


def _run(opt, params, steps, start=0):
    for k in range(start, start + steps):
        for i, p in enumerate(params):
            p.grad = gradient(p.array, k, i)
        opt.step()


def _groups(params):
    return [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.02}]


@pytest.mark.parametrize("cls, kwargs", ALL, ids=IDS)
def test_state_dict_round_trip_continues_identically(cls, kwargs):
    params = _params()
    opt = cls(_groups(params), **kwargs)
    _run(opt, params, 3)
    saved = copy.deepcopy(opt.state_dict())
    saved_values = [p.array.copy() for p in params]
    _run(opt, params, 5, start=3)

    fresh = [mg.tensor(v, requires_grad=True) for v in saved_values]
    opt2 = cls(_groups(fresh), lr=123.0)  # options come back from the state dict
    opt2.load_state_dict(saved)
    assert opt2.param_groups[1]["lr"] == 0.02
    _run(opt2, fresh, 5, start=3)
    for p, q in zip(params, fresh):
        np.testing.assert_array_equal(p.array, q.array)


@pytest.mark.parametrize("cls, kwargs", ALL, ids=IDS)
def test_loaded_state_is_a_copy(cls, kwargs):
    params = _params()
    opt = cls(params, **kwargs)
    _run(opt, params, 2)
    saved = opt.state_dict()
    opt2 = cls(_params(), **kwargs)
    opt2.load_state_dict(saved)
    for key, value in opt2.state_dict()["state"][0].items():
        if isinstance(value, np.ndarray):
            assert value is not saved["state"][0][key]
            np.testing.assert_array_equal(value, saved["state"][0][key])


@pytest.mark.parametrize("cls, kwargs", ALL, ids=IDS)
def test_state_dict_layout_matches_torch(cls, kwargs):
    torch = pytest.importorskip("torch")
    params = _params()
    tparams = [torch.tensor(p.array.copy(), requires_grad=True) for p in params]
    opt = cls(_groups(params), foreach=False, **kwargs)
    topt = getattr(torch.optim, cls.__name__)(_groups(tparams), foreach=False, **kwargs)
    for p, t in zip(params, tparams):
        p.grad = np.ones_like(p.array)
        t.grad = torch.ones_like(t)
    opt.step()
    topt.step()
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    assert set(sd["state"]) == set(tsd["state"]) == {0, 1}
    for i in sd["state"]:
        tkeys = {k for k, v in tsd["state"][i].items() if v is not None}
        assert set(sd["state"][i]) == tkeys
        for k, v in sd["state"][i].items():
            np.testing.assert_allclose(np.asarray(v, dtype=float), tsd["state"][i][k].numpy(), rtol=1e-12)
    for g, tg in zip(sd["param_groups"], tsd["param_groups"]):
        assert list(g) == list(tg)  # every key PyTorch saves (foreach, fused, capturable...), in its order
        assert all(g[k] == tg[k] for k in g if k != "params")


def test_state_dict_survives_a_checkpoint_file(tmp_path):
    from matgrad.training.checkpoint import load_checkpoint, save_checkpoint

    params = _params(np.float32)
    opt = optim.Adam(params, lr=0.05)
    _run(opt, params, 3)
    save_checkpoint(tmp_path / "ck.npz", {"w": params[0]}, optimizer=opt.state_dict())
    opt2 = optim.Adam([mg.tensor(p.array.copy(), requires_grad=True) for p in params])
    opt2.load_state_dict(load_checkpoint(tmp_path / "ck.npz")["optimizer"])
    assert opt2.param_groups[0]["lr"] == 0.05
    state = opt2.state_dict()["state"][1]
    assert state["step"] == 3 and state["exp_avg"].dtype == np.float32
    np.testing.assert_array_equal(state["exp_avg_sq"], opt.state[params[1]]["exp_avg_sq"])


def test_load_casts_state_to_the_parameter_dtype():
    params = _params(np.float64)
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    _run(opt, params, 1)
    p32 = _params(np.float32)
    opt32 = optim.SGD(p32, lr=0.1, momentum=0.9)
    opt32.load_state_dict(opt.state_dict())
    assert opt32.state[p32[0]]["momentum_buffer"].dtype == np.float32


def test_load_mismatches_are_clear_errors():
    params = _params()
    opt = optim.Adam(params, lr=0.1)
    _run(opt, params, 1)
    saved = opt.state_dict()
    with pytest.raises(ValueError, match="saved state has 1 parameter groups but this optimizer has 2"):
        optim.Adam(_groups(_params())).load_state_dict(saved)
    with pytest.raises(ValueError, match="has 2 parameters but this optimizer's has 1"):
        optim.Adam(_params()[:1]).load_state_dict(saved)
    swapped = [mg.tensor(a.T.copy() if a.ndim == 2 else a, requires_grad=True) for a in initial_arrays()]
    with pytest.raises(ValueError, match=r"has shape \(3, 4\) but its parameter has shape \(4, 3\)"):
        optim.Adam(swapped).load_state_dict(saved)
    with pytest.raises(ValueError, match="different optimizer"):
        optim.Adam(_params()).load_state_dict(optim.SGD(_params(), lr=0.1).state_dict())
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"w": 1})


def test_param_groups_take_defaults_and_own_options():
    a, b = _params()
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0.0
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["momentum"] == 0.9
    c = mg.tensor([1.0], requires_grad=True)
    opt.add_param_group({"params": [c], "lr": 0.3})
    c.grad = np.array([1.0], np.float32)
    opt.step()
    np.testing.assert_allclose(c.array, [0.7], rtol=1e-6)


def test_zero_grad():
    params = _params()
    opt = optim.SGD(params, lr=0.1)
    for p in params:
        p.grad = np.ones_like(p.array)
    grad = params[0].grad
    opt.zero_grad(set_to_none=False)
    assert params[0].grad is grad and not grad.any()
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_step_with_closure_returns_loss_and_uses_fresh_gradients():
    w = mg.tensor([3.0], dtype=mg.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with mg.no_grad():  # the closure still records its graph
        loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(w.array, [3.0 - 0.25 * 6.0])


def test_step_records_no_graph():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    w.grad = np.ones(2, np.float32)
    optim.Adam([w], lr=0.1).step()
    assert w.grad_fn is None and w.is_leaf


def test_bad_parameters_are_clear_errors():
    a, b = _params()
    with pytest.raises(ValueError, match="learning rate"):
        optim.Adam([a], lr=-1.0)
    with pytest.raises(ValueError, match="learning rate .* group 1"):
        optim.SGD([{"params": [a]}, {"params": [b], "lr": -0.1}], lr=0.1)
    with pytest.raises(ValueError, match="appears twice"):
        optim.SGD([a, b, a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [b, a]}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="wrap it in a list"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD([{"params": {a}}], lr=0.1)
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(RuntimeError, match="different size"):  # refused when assigned, as PyTorch
        a.grad = np.ones(5)
    a.data = np.zeros((2, 2), a.dtype)  # the parameter swapped for another shape: step says so
    a.grad = np.ones((2, 2), a.dtype)
    a.data = np.zeros(3, a.dtype)
    with pytest.raises(ValueError, match=r"gradient of shape \(2, 2\)"):
        opt.step()


def test_exports():
    assert {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Optimizer", "lr_scheduler"} <= set(optim.__all__)
    assert optim.lr_scheduler.StepLR.__module__ == "matgrad.optim.lr_scheduler"
    assert "SGD" in repr(optim.SGD(_params(), lr=0.1))


@pytest.mark.parametrize("cls", [cls for cls, _ in ALL], ids=IDS)
def test_step_never_changes_the_gradient(cls):
    params = _params(np.float32)
    kwargs = dict(lr=0.1, weight_decay=0.1, maximize=True)
    if cls is optim.SGD:
        kwargs.update(momentum=0.9, nesterov=True)
    opt = cls(params, **kwargs)
    for k in range(3):
        for i, p in enumerate(params):
            p.grad = gradient(p.array, k, i)
        grads = [p.grad.array.copy() for p in params]
        opt.step()
        for p, g in zip(params, grads):
            np.testing.assert_array_equal(p.grad, g)
            assert p.dtype == np.float32
