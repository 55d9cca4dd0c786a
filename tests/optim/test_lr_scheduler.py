"""Learning-rate schedulers: sequences against PyTorch's, by hand, and through state_dict."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import matgrad as mg
from matgrad import optim
from matgrad.optim import lr_scheduler as sched

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")

SCHEDULERS = [
    ("StepLR", dict(step_size=4, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 7, 7, 20], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10)),  # 30 steps: down, up and down again
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
    ("LinearLR", dict(start_factor=0.25, end_factor=1.0, total_iters=8)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.1, total_iters=12)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=30)),
    ("OneCycleLR", dict(max_lr=[0.5, 2.0], total_steps=30, anneal_strategy="linear")),
    ("OneCycleLR", dict(max_lr=0.8, epochs=3, steps_per_epoch=10, three_phase=True, pct_start=0.25)),
    ("OneCycleLR", dict(max_lr=0.8, total_steps=30, cycle_momentum=False, div_factor=10.0)),
]


def _mine(opt_name, opt_kwargs):
    a, b = mg.tensor([1.0], requires_grad=True), mg.tensor([2.0], requires_grad=True)
    return getattr(optim, opt_name)([{"params": [a]}, {"params": [b], "lr": 0.3}], **opt_kwargs)


def _theirs(opt_name, opt_kwargs):
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    return getattr(torch.optim, opt_name)([{"params": [a]}, {"params": [b], "lr": 0.3}], **opt_kwargs)


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _sequence(opt, scheduler, steps, metrics=None):
    """(lrs, momenta) after construction and after each step."""
    lrs, moms = [scheduler.get_last_lr()], [_momenta(opt)]
    for k in range(steps):
        opt.step()
        scheduler.step(*([] if metrics is None else [metrics[k]]))
        lrs.append(list(scheduler.get_last_lr()))
        moms.append(_momenta(opt))
    return lrs, moms


@needs_torch
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
@pytest.mark.parametrize("name, kwargs", SCHEDULERS, ids=[f"{n}-{k}" for n, k in SCHEDULERS])
def test_sequence_matches_torch(name, kwargs, opt_name):
    opt_kwargs = dict(lr=0.1, momentum=0.9) if opt_name == "SGD" else dict(lr=0.1)
    steps = 29 if name == "OneCycleLR" else 30  # OneCycleLR may not step past total_steps
    opt, topt = _mine(opt_name, opt_kwargs), _theirs(opt_name, opt_kwargs)
    mine = _sequence(opt, getattr(sched, name)(opt, **kwargs), steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _sequence(topt, getattr(torch.optim.lr_scheduler, name)(topt, **kwargs), steps)
    np.testing.assert_allclose(np.array(mine[0]), np.array(theirs[0]), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(np.array(mine[1], float), np.array(theirs[1], float), rtol=1e-13)
    assert len(set(map(tuple, mine[0]))) > 2  # the schedule changed the lr


@needs_torch
@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(patience=2, factor=0.5),
    dict(mode="max", patience=1, threshold=0.05, cooldown=2),
    dict(patience=0, threshold=0.1, threshold_mode="abs", min_lr=[0.02, 0.05]),
    dict(mode="max", patience=3, threshold_mode="abs", threshold=0.0, min_lr=1e-3, eps=1e-3),
], ids=str)
def test_reduce_on_plateau_matches_torch(kwargs):
    rng = np.random.default_rng(0)
    metrics = list(np.concatenate([np.linspace(1, 0.5, 8), 0.5 + 0.02 * rng.standard_normal(32)]))
    opt, topt = _mine("SGD", dict(lr=0.1)), _theirs("SGD", dict(lr=0.1))
    mine = _sequence(opt, sched.ReduceLROnPlateau(opt, **kwargs), 40, metrics)
    theirs = _sequence(topt, torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs), 40, metrics)
    np.testing.assert_allclose(np.array(mine[0]), np.array(theirs[0]), rtol=1e-13)
    assert len(set(map(tuple, mine[0]))) > 1


def test_step_lr_by_hand():
    opt = _mine("SGD", dict(lr=1.0))
    s = sched.StepLR(opt, step_size=2, gamma=0.1)
    lrs = []
    for _ in range(5):
        opt.step()
        s.step()
        lrs.append(s.get_last_lr()[0])
    np.testing.assert_allclose(lrs, [1.0, 0.1, 0.1, 0.01, 0.01])
    assert s.last_epoch == 5 and opt.param_groups[0]["initial_lr"] == 1.0


def test_cosine_by_hand_matches_closed_form():
    opt = _mine("SGD", dict(lr=1.0))
    s = sched.CosineAnnealingLR(opt, T_max=6, eta_min=0.1)
    for t in range(1, 13):
        s.step()
        expected = 0.1 + 0.9 * (1 + math.cos(math.pi * t / 6)) / 2
        assert s.get_last_lr()[0] == pytest.approx(expected, rel=1e-12)


def test_one_cycle_by_hand():
    opt = _mine("SGD", dict(lr=0.1, momentum=0.9))
    s = sched.OneCycleLR(opt, max_lr=1.0, total_steps=11, pct_start=0.2, anneal_strategy="linear")
    assert s.get_last_lr()[0] == pytest.approx(0.04)  # max_lr / div_factor
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)
    s.step()  # end of the rise (step 1 = 0.2·11 − 1.2 … linear up to step 1.2)
    for _ in range(9):
        s.step()
    assert s.get_last_lr()[0] == pytest.approx(0.04 / 1e4)  # the minimum, at the last step
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)
    with pytest.raises(ValueError, match="total_steps"):
        s.step()
        s.step()


def test_reduce_on_plateau_by_hand():
    opt = _mine("SGD", dict(lr=1.0))
    s = sched.ReduceLROnPlateau(opt, patience=2, factor=0.5, min_lr=0.3)
    lrs = []
    for m in [5, 4, 4, 4, 4, 4, 4, 4, 4, mg.tensor(1.0)]:
        s.step(m)
        lrs.append(s.get_last_lr()[0])
    # two bad epochs are tolerated; the third halves lr; min_lr stops it at 0.3 (group 0)
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3]
    with pytest.raises(TypeError, match="metric"):
        s.step("low")


def test_state_dict_round_trip_continues_identically():
    for make in (lambda o: sched.CosineAnnealingLR(o, T_max=9, eta_min=0.01),
                 lambda o: sched.StepLR(o, step_size=3, gamma=0.5),
                 lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=20)):
        opt = _mine("Adam", dict(lr=0.1))
        s = make(opt)
        for _ in range(7):
            s.step()
        saved_opt, saved = opt.state_dict(), s.state_dict()
        rest = []
        for _ in range(8):
            s.step()
            rest.append(s.get_last_lr())
        opt2 = _mine("Adam", dict(lr=0.1))
        opt2.load_state_dict(saved_opt)
        s2 = make(opt2)
        s2.load_state_dict(saved)
        rest2 = []
        for _ in range(8):
            s2.step()
            rest2.append(s2.get_last_lr())
        assert rest2 == rest, type(s).__name__


def test_resume_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(_mine("SGD", dict(lr=0.1)), step_size=2, last_epoch=4)


@pytest.mark.parametrize("make, error, match", [
    (lambda o: sched.StepLR(o, step_size=0), ValueError, "step_size"),
    (lambda o: sched.LinearLR(o, start_factor=0.0), ValueError, "start_factor"),
    (lambda o: sched.OneCycleLR(o, max_lr=1.0), ValueError, "total_steps"),
    (lambda o: sched.OneCycleLR(o, max_lr=[1.0], total_steps=5), ValueError, "one per parameter group"),
    (lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=5, anneal_strategy="exp"), ValueError, "anneal"),
    (lambda o: sched.ReduceLROnPlateau(o, factor=1.5), ValueError, "factor"),
    (lambda o: sched.ReduceLROnPlateau(o, mode="up"), ValueError, "mode"),
    (lambda o: sched.StepLR("not an optimizer", step_size=2), TypeError, "Optimizer"),
])
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make(_mine("SGD", dict(lr=0.1)))


def test_one_cycle_needs_momentum_to_cycle():
    with pytest.raises(ValueError, match="cycle_momentum"):
        sched.OneCycleLR(_mine("Adagrad", dict(lr=0.1)), max_lr=1.0, total_steps=10)


def test_lambda_lr_matches_torch_and_hand_values():
    import matgrad as mg
    from matgrad import optim

    p = mg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.5)
    sched = optim.lr_scheduler.LambdaLR(opt, lambda e: 0.9 ** e)
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(lrs, [0.5 * 0.9 ** e for e in range(5)])
    assert "lr_lambdas" not in sched.state_dict()
