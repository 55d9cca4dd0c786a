"""PyTorch's implementation switches on the optimizers (foreach, fused, capturable, differentiable) and Adam's
decoupled_weight_decay: accepted where PyTorch's class takes them, stored in param_groups and state_dict as
PyTorch stores them, checked as PyTorch checks them, and the same steps whichever is set."""
from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest

import matgrad as mg
from matgrad import optim
from tests.optim.compare import gradient, initial_arrays

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")

NAMES = ["SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "RMSprop", "Rprop", "ASGD"]
FLAGS = ("foreach", "fused", "capturable", "differentiable")
# the flags each class takes in PyTorch 2.13 (test_flags_are_the_ones_pytorch_takes checks this table)
TAKES = {
    "SGD": {"foreach", "fused", "differentiable"},
    "Adam": {"foreach", "fused", "capturable", "differentiable"},
    "AdamW": {"foreach", "fused", "capturable", "differentiable"},
    "Adagrad": {"foreach", "fused", "differentiable"},
    "Adadelta": {"foreach", "capturable", "differentiable"},
    "Adamax": {"foreach", "capturable", "differentiable"},
    "NAdam": {"foreach", "capturable", "differentiable"},
    "RAdam": {"foreach", "capturable", "differentiable"},
    "RMSprop": {"foreach", "capturable", "differentiable"},
    "Rprop": {"foreach", "capturable", "differentiable"},
    "ASGD": {"foreach", "capturable", "differentiable"},
}
FUSED = [n for n in NAMES if "fused" in TAKES[n]]


def _params(dtype=np.float64):
    return [mg.tensor(a, requires_grad=True) for a in initial_arrays(dtype)]


def _tparams(dtype=np.float64):
    return [torch.tensor(a, requires_grad=True) for a in initial_arrays(dtype)]


def _run(opt, params, steps, start=0):
    for k in range(start, start + steps):
        for i, p in enumerate(params):
            if isinstance(p, mg.Tensor):
                p.grad = gradient(p.array, k, i)
            else:
                p.grad = torch.from_numpy(gradient(p.detach().numpy(), k, i))
        opt.step()


def _values(params):
    return [p.array.copy() if isinstance(p, mg.Tensor) else p.detach().numpy().copy() for p in params]


def _kwargs_of(fn):
    return {p.name for p in inspect.signature(fn).parameters.values()}


@pytest.mark.parametrize("name", NAMES)
def test_flags_are_the_ones_pytorch_takes(name):
    assert _kwargs_of(getattr(optim, name).__init__) & set(FLAGS) == TAKES[name]
    if torch is not None:
        assert _kwargs_of(getattr(torch.optim, name).__init__) & set(FLAGS) == TAKES[name]


_FLAG_CASES = {"defaults": {}, "foreach": {"foreach": True}, "no-foreach": {"foreach": False}, "fused": {"fused": True},
               "no-fused": {"fused": False}}


@needs_torch
@pytest.mark.parametrize("name,flags", [pytest.param(name, flags, id=f"{name}-{case}") for name in NAMES
                                        for case, flags in _FLAG_CASES.items() if set(flags) <= TAKES[name]])
def test_param_groups_and_defaults_are_pytorchs(name, flags):
    opt = getattr(optim, name)([{"params": _params()[:1]}, {"params": _params()[1:], "lr": 0.02}], **flags)
    topt = getattr(torch.optim, name)([{"params": _tparams()[:1]}, {"params": _tparams()[1:], "lr": 0.02}], **flags)
    assert opt.defaults == topt.defaults
    assert list(opt.defaults) == list(topt.defaults)
    sd, tsd = opt.state_dict()["param_groups"], topt.state_dict()["param_groups"]
    for g, tg in zip(sd, tsd):
        assert list(g) == list(tg)  # the same keys in the same order: a saved dict reads the same
        assert g == tg


@needs_torch
@pytest.mark.parametrize("name", NAMES)
def test_steps_are_the_same_whatever_the_flags(name):
    """foreach and fused pick a kernel in PyTorch, not the math: each setting steps as PyTorch's."""
    settings = [{"foreach": False}, {"foreach": True}] + ([{"fused": True}] if "fused" in TAKES[name] else [])
    kwargs = {"lr": 0.05}
    if name == "Adagrad":
        kwargs["lr_decay"] = 0.01
    plain = _params()
    _run(getattr(optim, name)(plain, **kwargs), plain, 6)
    for flags in settings:
        mine, theirs = _params(), _tparams()
        _run(getattr(optim, name)(mine, **kwargs, **flags), mine, 6)
        _run(getattr(torch.optim, name)(theirs, **kwargs, **flags), theirs, 6)
        # PyTorch's kernels round in their own order: float64 rounding, a few steps' worth. Its foreach ASGD
        # regroups the update as p - eta·(g + lambd·p) with eta a float32 scalar multiplied in, so it differs
        # from its own single-tensor path (which matgrad follows) by about 1e-8 relative after these steps.
        rtol = 1e-6 if (name, flags) == ("ASGD", {"foreach": True}) else 1e-10
        for a, b, c in zip(_values(mine), _values(theirs), _values(plain)):
            np.testing.assert_array_equal(a, c)  # one implementation here: bit for bit the same
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12, err_msg=f"{name} {flags}")


@pytest.mark.parametrize("name", FUSED)
def test_fused_with_foreach_or_differentiable_is_refused_as_pytorch(name):
    cls = getattr(optim, name)
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together."):
        cls(_params(), fused=True, foreach=True)
    with pytest.raises(RuntimeError, match="`fused` does not support `differentiable`"):
        cls(_params(), fused=True, differentiable=True)
    cls(_params(), fused=True, foreach=False)  # only both True is refused
    cls(_params(), fused=False, foreach=True)
    if torch is not None:  # PyTorch's own behaviour, the model for the above
        tcls = getattr(torch.optim, name)
        with pytest.raises(RuntimeError, match="cannot be `True` together"):
            tcls(_tparams(), fused=True, foreach=True)
        with pytest.raises(RuntimeError, match="does not support `differentiable`"):
            tcls(_tparams(), fused=True, differentiable=True)
        tcls(_tparams(), fused=True, foreach=False)


@pytest.mark.parametrize("name", FUSED)
def test_fused_needs_floating_point_parameters_at_step(name):
    p = mg.tensor([1, 2, 3])  # an integer "parameter" with a gradient set by hand, as PyTorch allows
    opt = getattr(optim, name)([p], fused=True)  # accepted until a step, as in PyTorch
    p.grad = mg.tensor([1, 1, 1])
    with pytest.raises(RuntimeError, match="`fused=True` requires all the params to be floating point"):
        opt.step()
    if torch is not None:
        t = torch.tensor([1, 2, 3])
        topt = getattr(torch.optim, name)([t], fused=True)
        t.grad = torch.tensor([1, 1, 1])
        with pytest.raises(RuntimeError, match="`fused=True` requires all the params to be floating point"):
            topt.step()


@pytest.mark.parametrize("name", [n for n in NAMES if "capturable" in TAKES[n]])
def test_capturable_needs_an_accelerator_as_pytorch(name):
    params = _params()
    opt = getattr(optim, name)(params, capturable=True)
    opt.step()  # no gradients: nothing is looked at, as in PyTorch
    params[0].grad = np.ones_like(params[0].array)
    with pytest.raises(AssertionError, match="capturable=True"):
        opt.step()
    np.testing.assert_array_equal(params[0].array, initial_arrays()[0])  # nothing changed
    if torch is not None:
        tparams = _tparams()
        topt = getattr(torch.optim, name)(tparams, capturable=True)
        tparams[0].grad = torch.ones_like(tparams[0])
        with pytest.raises(AssertionError, match="capturable=True"):
            topt.step()


@pytest.mark.parametrize("name", NAMES)
def test_differentiable_is_refused_clearly(name):
    with pytest.raises(NotImplementedError, match=r"differentiable=True\) is not supported"):
        getattr(optim, name)(_params(), differentiable=True)
    opt = getattr(optim, name)(_params(), differentiable=False)
    assert opt.param_groups[0]["differentiable"] is False


@pytest.mark.parametrize("name", NAMES)
def test_differentiable_from_a_group_or_a_state_dict_is_refused_at_step(name):
    params = _params()
    opt = getattr(optim, name)([{"params": params[:1]}, {"params": params[1:], "differentiable": True}])
    params[1].grad = np.ones_like(params[1].array)
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        opt.step()
    fresh = _params()
    opt = getattr(optim, name)(fresh)
    saved = opt.state_dict()
    saved["param_groups"][0]["differentiable"] = True
    opt.load_state_dict(saved)
    fresh[0].grad = np.ones_like(fresh[0].array)
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        opt.step()


@needs_torch
@pytest.mark.parametrize("name", NAMES)
def test_a_pytorch_state_dict_with_the_flags_loads_and_continues(name, tmp_path):
    flags = {"foreach": True}
    tparams = _tparams()
    topt = getattr(torch.optim, name)(tparams, lr=0.05, **flags)
    _run(topt, tparams, 3)
    torch.save(topt.state_dict(), tmp_path / "opt.pt")
    mine = [mg.tensor(v, requires_grad=True) for v in _values(tparams)]
    opt = getattr(optim, name)(mine, lr=9.0)
    opt.load_state_dict(mg.load(tmp_path / "opt.pt"))
    assert opt.param_groups[0]["foreach"] is True and opt.param_groups[0]["lr"] == 0.05
    assert {k: v for k, v in opt.param_groups[0].items() if k != "params"} == \
        {k: v for k, v in topt.param_groups[0].items() if k != "params"}
    _run(opt, mine, 3, start=3)
    _run(topt, tparams, 3, start=3)
    for a, b in zip(_values(mine), _values(tparams)):
        # ASGD/NAdam: PyTorch's load casts its float32 scalar state to the parameter's dtype, so from then on it
        # rounds those less than matgrad, which keeps them in float32 (as an uninterrupted PyTorch run)
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


@needs_torch
@pytest.mark.parametrize("name", NAMES)
def test_an_older_state_dict_without_the_flags_loads_as_in_pytorch(name):
    """A checkpoint from before the flags existed: the missing options come back as PyTorch's __setstate__
    fills them in (SGD's fused as False, the others' as None)."""
    tparams = _tparams()
    topt = getattr(torch.optim, name)(tparams, lr=0.05)
    _run(topt, tparams, 2)
    old = copy.deepcopy(topt.state_dict())
    for group in old["param_groups"]:
        for key in (*FLAGS, "decoupled_weight_decay"):
            group.pop(key, None)
    mine = [mg.tensor(v, requires_grad=True) for v in _values(tparams)]
    opt = getattr(optim, name)(mine)
    state = {"state": {i: {k: v.numpy() for k, v in s.items()} for i, s in old["state"].items()},
             "param_groups": copy.deepcopy(old["param_groups"])}
    opt.load_state_dict(state)
    again = getattr(torch.optim, name)(_tparams())
    again.load_state_dict(old)
    assert {k: v for k, v in opt.param_groups[0].items() if k != "params"} == \
        {k: v for k, v in again.param_groups[0].items() if k != "params"}


@needs_torch
@pytest.mark.parametrize("decay", [0.0, 0.1])
def test_adam_decoupled_weight_decay_is_adamw(decay):
    kwargs = dict(lr=0.05, weight_decay=decay, amsgrad=True)
    a, w, t = _params(), _params(), _tparams()
    _run(optim.Adam(a, decoupled_weight_decay=True, **kwargs), a, 8)
    _run(optim.AdamW(w, **kwargs), w, 8)
    _run(torch.optim.Adam(t, decoupled_weight_decay=True, foreach=False, **kwargs), t, 8)
    for x, y, z in zip(_values(a), _values(w), _values(t)):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_allclose(x, z, rtol=1e-10, atol=1e-12)
    if decay:  # and coupled decay really is another update
        c = _params()
        _run(optim.Adam(c, **kwargs), c, 8)
        assert not np.allclose(_values(c)[0], _values(a)[0])


@needs_torch
def test_decoupled_weight_decay_per_group_and_adamw_keeps_it_on_load():
    params, tparams = _params(), _tparams()
    groups = [{"params": params[:1]}, {"params": params[1:], "decoupled_weight_decay": True}]
    tgroups = [{"params": tparams[:1]}, {"params": tparams[1:], "decoupled_weight_decay": True}]
    _run(optim.Adam(groups, lr=0.05, weight_decay=0.1), params, 5)
    _run(torch.optim.Adam(tgroups, lr=0.05, weight_decay=0.1, foreach=False), tparams, 5)
    for x, z in zip(_values(params), _values(tparams)):
        np.testing.assert_allclose(x, z, rtol=1e-10, atol=1e-12)

    adam = optim.Adam(_params(), weight_decay=0.1)
    adamw = optim.AdamW(_params())
    adamw.load_state_dict(adam.state_dict())  # Adam's False does not turn AdamW into Adam, as in PyTorch
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True
    tadamw = torch.optim.AdamW(_tparams())
    tadamw.load_state_dict(torch.optim.Adam(_tparams(), weight_decay=0.1).state_dict())
    assert tadamw.param_groups[0]["decoupled_weight_decay"] is True


def test_positional_foreach_lands_where_pytorch_puts_it():
    """Adagrad, Adadelta, Adamax, ASGD and RMSprop take foreach (and more) positionally in PyTorch."""
    p = _params()
    assert optim.Adagrad(p, 0.1, 0.0, 0.0, 0.0, 1e-10, True).defaults["foreach"] is True
    assert optim.Adadelta(p, 1.0, 0.9, 1e-6, 0.0, True).defaults["foreach"] is True
    assert optim.Adamax(p, 2e-3, (0.9, 0.999), 1e-8, 0.0, True).defaults["foreach"] is True
    asgd = optim.ASGD(p, 0.01, 1e-4, 0.75, 1e6, 0.0, True, True)
    assert asgd.defaults["foreach"] is True and asgd.defaults["maximize"] is True
    rms = optim.RMSprop(p, 0.01, 0.99, 1e-8, 0.0, 0.0, False, False, True, True)
    assert rms.defaults["foreach"] is True and rms.defaults["maximize"] is True
