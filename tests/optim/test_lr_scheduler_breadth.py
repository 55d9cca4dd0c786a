"""ConstantLR, PolynomialLR, MultiplicativeLR, CosineAnnealingWarmRestarts, SequentialLR,
ChainedScheduler and CyclicLR: learning rates (and momenta) against PyTorch's, by hand, and
through state_dict."""
from __future__ import annotations

import copy
import math
import warnings

import pytest

import matgrad as mg
from matgrad import optim
from matgrad.optim import lr_scheduler as sched

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


def _opt(lib, name="SGD", **kwargs):
    if lib is mg:
        a, b = mg.tensor([1.0], requires_grad=True), mg.tensor([2.0], requires_grad=True)
        return getattr(optim, name)([{"params": [a]}, {"params": [b], "lr": 0.3}], lr=0.1, **kwargs)
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    return getattr(torch.optim, name)([{"params": [a]}, {"params": [b], "lr": 0.3}], lr=0.1, **kwargs)


BUILDERS = {
    "ConstantLR": lambda S, o: S.ConstantLR(o, factor=0.25, total_iters=4),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o, total_iters=10, power=2.0),
    "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, [lambda e: 0.95, lambda e: 1 - 0.01 * e]),
    "CAWR-Tmult2": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01),
    "CAWR": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=4),
    "SequentialLR": lambda S, o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5),
                                                    S.CosineAnnealingLR(o, T_max=10), S.ExponentialLR(o, 0.9)],
                                                milestones=[5, 12]),
    "SequentialLR-closed-forms": lambda S, o: S.SequentialLR(
        o, [S.ConstantLR(o, factor=0.5, total_iters=3), S.StepLR(o, 3, 0.5), S.PolynomialLR(o, total_iters=6)],
        milestones=[4, 11]),
    "ChainedScheduler": lambda S, o: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=5),
                                                         S.ExponentialLR(o, gamma=0.9)]),
    "CyclicLR": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=4, step_size_down=3),
    "CyclicLR-triangular2": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="triangular2"),
    "CyclicLR-exp_range": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range",
                                                  gamma=0.9),
}


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _sequence(lib, build, steps=30, opt_name="SGD", epochs=None):
    opt = _opt(lib, opt_name, **({"momentum": 0.9} if opt_name == "SGD" else {}))
    s = build(sched if lib is mg else torch.optim.lr_scheduler, opt)
    lrs, moms = [list(s.get_last_lr())], [_momenta(opt)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's step(epoch) deprecation
        for k in range(steps):
            opt.step()
            s.step(*([] if epochs is None else [epochs[k]]))
            lrs.append(list(s.get_last_lr()))
            moms.append(_momenta(opt))
    return lrs, moms


@needs_torch
@pytest.mark.parametrize("name", list(BUILDERS))
def test_sequence_matches_torch(name):
    mine, theirs = _sequence(mg, BUILDERS[name]), _sequence(torch, BUILDERS[name])
    assert mine == theirs  # the same formulas in the same order: equal to the last bit
    assert len({tuple(lr) for lr in mine[0]}) > 1  # the schedule moved


@needs_torch
@pytest.mark.parametrize("name", ["CAWR-Tmult2", "CAWR"])
def test_warm_restarts_fractional_epochs_match_torch(name):
    epochs = [0.5, 1.25, 2.0, 3.7, 4.1, 7.9, 9.0, 10.5, 20.3, 21.0, 50.2, 1.5]
    mine = _sequence(mg, BUILDERS[name], len(epochs), epochs=epochs)
    assert mine == _sequence(torch, BUILDERS[name], len(epochs), epochs=epochs)


@needs_torch
def test_cyclic_momentum_drives_adam_beta1_as_torch():
    build = BUILDERS["CyclicLR"]
    mine = _sequence(mg, build, 15, opt_name="Adam")
    assert mine == _sequence(torch, build, 15, opt_name="Adam")
    assert min(m[0] for m in mine[1]) < 0.9 - 1e-3


def test_hand_computed_values():
    opt = _opt(mg)
    s = sched.ConstantLR(opt, factor=0.5, total_iters=2)
    got = [s.get_last_lr()[0]]
    for _ in range(3):
        s.step()
        got.append(s.get_last_lr()[0])
    assert got == pytest.approx([0.05, 0.05, 0.1, 0.1])

    opt = _opt(mg)
    s = sched.PolynomialLR(opt, total_iters=4, power=2.0)
    got = [s.get_last_lr()[0]]
    for _ in range(5):
        s.step()
        got.append(s.get_last_lr()[0])
    assert got == pytest.approx([0.1 * (1 - t / 4) ** 2 for t in (0, 1, 2, 3, 4)] + [0.0], abs=1e-15)

    opt = _opt(mg)
    s = sched.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    got = [s.get_last_lr()[0]]
    for _ in range(6):
        s.step()
        got.append(s.get_last_lr()[0])
    cos = [0.05 * (1 + math.cos(math.pi * c / t)) for c, t in [(0, 2), (1, 2), (0, 4), (1, 4), (2, 4), (3, 4), (0, 8)]]
    assert got == pytest.approx(cos)

    opt = _opt(mg, momentum=0.9)
    s = sched.CyclicLR(opt, base_lr=0.0, max_lr=1.0, step_size_up=2, mode="triangular2")
    got = [s.get_last_lr()[0]]
    for _ in range(8):
        s.step()
        got.append(s.get_last_lr()[0])
    assert got == pytest.approx([0, 0.5, 1, 0.5, 0, 0.25, 0.5, 0.25, 0])


@pytest.mark.parametrize("name", ["ConstantLR", "CAWR-Tmult2", "SequentialLR", "ChainedScheduler", "CyclicLR"])
def test_state_dict_round_trip_continues_identically(name):
    opt = _opt(mg, momentum=0.9)
    s = BUILDERS[name](sched, opt)
    for _ in range(7):
        s.step()
    saved, groups = copy.deepcopy(s.state_dict()), copy.deepcopy(opt.state_dict())
    later = []
    for _ in range(8):
        s.step()
        later.append(list(s.get_last_lr()))
    opt2 = _opt(mg, momentum=0.9)
    s2 = BUILDERS[name](sched, opt2)
    opt2.load_state_dict(groups)
    s2.load_state_dict(saved)
    again = []
    for _ in range(8):
        s2.step()
        again.append(list(s2.get_last_lr()))
    assert again == later
    assert "optimizer" not in saved


def test_bad_arguments():
    opt = _opt(mg)
    with pytest.raises(ValueError, match="factor"):
        sched.ConstantLR(opt, factor=1.5)
    with pytest.raises(ValueError, match="T_0"):
        sched.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="T_mult"):
        sched.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="milestones"):
        sched.SequentialLR(opt, [sched.ConstantLR(opt), sched.ConstantLR(opt)], milestones=[])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        sched.ChainedScheduler([sched.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="same optimizer"):
        sched.ChainedScheduler([sched.ConstantLR(opt), sched.ConstantLR(_opt(mg))])
    with pytest.raises(ValueError, match="momentum"):
        sched.CyclicLR(_opt(mg, "Adagrad"), base_lr=0.01, max_lr=0.1)
