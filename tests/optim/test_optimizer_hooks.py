"""Optimizer hooks: step pre/post (own and global), state_dict and load_state_dict hooks, against PyTorch."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

import matgrad as mg
import matgrad.optim as optim
from matgrad.optim import optimizer as optimizer_module


def _lib(name):
    if name == "matgrad":
        return mg, optim, optimizer_module
    torch = pytest.importorskip("torch")
    return torch, torch.optim, importlib.import_module("torch.optim.optimizer")


def _describe(opt, args, kwargs):
    """What a hook saw, comparable across libraries: args as names, kwargs as keys."""
    return tuple("opt" if a is opt else type(a).__name__ for a in args), sorted(kwargs)


def _run(lib_name, opt_name):
    lib, opt_lib, opt_mod = _lib(lib_name)
    p = lib.nn.Parameter(lib.tensor(np.array([1.0, -2.0])))
    opt = getattr(opt_lib, opt_name)([p], lr=0.1)
    events = []
    handles = [
        opt_mod.register_optimizer_step_pre_hook(lambda o, a, k: events.append(("global_pre",) + _describe(o, a, k))),
        opt_mod.register_optimizer_step_post_hook(lambda o, a, k: events.append(("global_post",) + _describe(o, a, k))),
        opt.register_step_pre_hook(lambda o, a, k: events.append(("pre",) + _describe(o, a, k))),
        opt.register_step_post_hook(lambda o, a, k: events.append(("post",) + _describe(o, a, k))),
        opt.register_state_dict_pre_hook(lambda o: events.append(("sd_pre", o is opt))),
        opt.register_state_dict_post_hook(lambda o, sd: events.append(("sd_post", sorted(sd)))),
        opt.register_load_state_dict_pre_hook(lambda o, sd: events.append(("load_pre", sorted(sd)))),
        opt.register_load_state_dict_post_hook(lambda o: events.append(("load_post", o is opt))),
    ]
    try:
        p.grad = lib.tensor(np.array([0.5, 0.25]))
        opt.step()
        events.append("step with closure")
        opt.step(closure=lambda: lib.tensor(1.0))
        sd = opt.state_dict()
        opt.load_state_dict(sd)
        for h in handles:
            h.remove()
        events.append("removed")
        opt.step()
        opt.load_state_dict(opt.state_dict())
    finally:
        for h in handles:
            h.remove()
    return events, p.detach().numpy().copy()


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_hooks_run_in_torchs_order_with_torchs_arguments(opt_name):
    pytest.importorskip("torch")
    ours, ours_p = _run("matgrad", opt_name)
    theirs, theirs_p = _run("torch", opt_name)
    assert ours == theirs
    assert ours[0] == ("global_pre", ("opt",), [])
    np.testing.assert_allclose(ours_p, theirs_p, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("lib_name", ["matgrad", "torch"])
def test_pre_hook_may_replace_args(lib_name):
    lib, opt_lib, _ = _lib(lib_name)
    p = lib.nn.Parameter(lib.tensor(np.array([1.0])))
    opt = opt_lib.SGD([p], lr=0.5)
    p.grad = lib.tensor(np.array([1.0]))
    calls = []

    def closure():
        calls.append(1)
        return lib.tensor(3.0)

    opt.register_step_pre_hook(lambda o, a, k: (a, {"closure": closure}))
    loss = opt.step()
    assert calls == [1] and float(loss) == 3.0
    np.testing.assert_allclose(p.detach().numpy(), [0.5])


@pytest.mark.parametrize("lib_name", ["matgrad", "torch"])
def test_pre_hook_bad_return_is_an_error(lib_name):
    lib, opt_lib, _ = _lib(lib_name)
    p = lib.nn.Parameter(lib.tensor(np.array([1.0])))
    opt = opt_lib.SGD([p], lr=0.5)
    opt.register_step_pre_hook(lambda o, a, k: 3)
    with pytest.raises(RuntimeError, match="must return None or a tuple of \\(new_args, new_kwargs\\), but got 3"):
        opt.step()


@pytest.mark.parametrize("lib_name", ["matgrad", "torch"])
def test_state_dict_hooks_may_replace_dicts_and_prepend(lib_name):
    lib, opt_lib, _ = _lib(lib_name)
    p = lib.nn.Parameter(lib.tensor(np.array([1.0])))
    opt = opt_lib.SGD([p], lr=0.5)
    order = []
    opt.register_state_dict_pre_hook(lambda o: order.append("a"))
    opt.register_state_dict_pre_hook(lambda o: order.append("b"), prepend=True)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "note": 1})
    sd = opt.state_dict()
    assert order == ["b", "a"] and sd["note"] == 1

    def lower_lr(o, sd):
        sd = dict(sd)
        sd["param_groups"] = [{**g, "lr": 0.125} for g in sd["param_groups"]]
        return sd

    opt.register_load_state_dict_pre_hook(lower_lr)
    given = opt.state_dict()
    opt.load_state_dict(given)
    assert opt.param_groups[0]["lr"] == 0.125 and given["param_groups"][0]["lr"] == 0.5


def test_handles_remove_and_work_as_context_managers():
    p = mg.nn.Parameter(mg.tensor([1.0]))
    opt = optim.SGD([p], lr=0.5)
    seen = []
    with opt.register_step_post_hook(lambda o, a, k: seen.append(1)):
        opt.step()
    opt.step()
    with optimizer_module.register_optimizer_step_pre_hook(lambda o, a, k: seen.append(2)):
        opt.step()
    opt.step()
    assert seen == [1, 2]


@pytest.mark.parametrize("lib_name", ["matgrad", "torch"])
def test_subclass_calling_super_step_runs_hooks_twice_like_torch(lib_name):
    lib, opt_lib, _ = _lib(lib_name)
    calls = []

    class Mine(opt_lib.SGD):
        def step(self, closure=None):
            return super().step(closure)

    p = lib.nn.Parameter(lib.tensor(np.array([1.0])))
    opt_lib.SGD([p], lr=0.1)  # wraps SGD.step; Mine.step is wrapped too, so super().step() runs them again
    opt = Mine([p], lr=0.1)
    opt.register_step_pre_hook(lambda o, a, k: calls.append(type(o).__name__))
    p.grad = lib.tensor(np.array([1.0]))
    opt.step()
    assert calls == ["Mine", "Mine"]
