"""Muon against PyTorch (step for step) and against its definition (SVD, hand-computed steps)."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import matgrad as mg
from matgrad import optim
from matgrad.optim.muon import adjusted_lr, zeropower_via_newtonschulz
from tests.helpers import assert_close
from tests.optim import compare
from tests.optim.compare import check_in_place, gradient

SHAPES = ((5, 3), (4, 6), (4, 4))  # tall (run transposed), wide, square

CASES = [
    dict(lr=0.02),
    dict(lr=0.05, nesterov=False),
    dict(lr=0.05, momentum=0.0, weight_decay=0.0),
    dict(lr=0.05, momentum=0.6, weight_decay=0.3, adjust_lr_fn="original"),
    dict(lr=0.1, adjust_lr_fn="match_rms_adamw"),
    dict(lr=0.05, ns_coefficients=(2.0, -1.5, 0.5), ns_steps=3),
    dict(lr=0.05, ns_steps=0),
    dict(lr=0.05, eps=100.0),  # the norm is clamped up to eps: the update is U/eps, not U/‖U‖
]


def _arrays(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def run_matgrad(arrays, kwargs, steps=10, groups=None):
    return compare.run_matgrad(optim.Muon, arrays, kwargs, steps, groups)


def run_torch(torch, arrays, kwargs, steps=10, groups=None):
    params = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    opt = torch.optim.Muon(compare._groups(params, groups), **kwargs)
    out = []
    for k in range(steps):
        for i, p in enumerate(params):
            p.grad = torch.from_numpy(gradient(p.detach().numpy(), k, i))
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out


@pytest.fixture
def torch_full_precision(monkeypatch):
    """torch, with Muon's cast of the update to bfloat16 (`.bfloat16()`) made a copy in the update's own dtype.

    torch.optim.Muon runs Newton–Schulz in bfloat16, which matgrad has not; with the cast removed, torch's own
    code computes what matgrad computes, so the two must agree to the parameter dtype's rounding.
    """
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.Tensor, "bfloat16", lambda self: self.clone())
    return torch


def _assert_trajectories(mine, theirs, arrays, dtype, rtol, atol, what):
    for k, (ps, ts) in enumerate(zip(mine, theirs)):
        for i, (p, t) in enumerate(zip(ps, ts)):
            assert p.dtype == np.dtype(dtype), f"step {k} param {i}: dtype became {p.dtype}"
            assert_close(p, t, rtol=rtol, atol=atol, err_msg=f"{what} step {k} param {i}")
    for a, p in zip(arrays, mine[-1]):  # every parameter moved: a no-op optimizer cannot pass
        assert np.abs(p - a).max() > 1e-2


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_matches_torch_float64(torch_full_precision, kwargs):
    arrays = _arrays()
    mine, theirs = run_matgrad(arrays, kwargs), run_torch(torch_full_precision, arrays, kwargs)
    _assert_trajectories(mine, theirs, arrays, np.float64, 1e-12, 1e-13, f"Muon({kwargs})")


@pytest.mark.parametrize("kwargs", [CASES[0], CASES[1], CASES[4]], ids=str)
def test_matches_torch_float32_stays_float32(torch_full_precision, kwargs):
    arrays = _arrays(np.float32)
    mine, theirs = run_matgrad(arrays, kwargs), run_torch(torch_full_precision, arrays, kwargs)
    _assert_trajectories(mine, theirs, arrays, np.float32, 2e-5, 2e-6, f"Muon({kwargs})")


def test_per_group_options_match_torch(torch_full_precision):
    arrays = _arrays()
    kwargs = dict(lr=0.05)
    groups = [{"weight_decay": 0.0}, {"lr": 0.1, "nesterov": False}, {"adjust_lr_fn": "match_rms_adamw"}]
    mine = run_matgrad(arrays, kwargs, groups=groups)
    theirs = run_torch(torch_full_precision, arrays, kwargs, groups=groups)
    _assert_trajectories(mine, theirs, arrays, np.float64, 1e-12, 1e-13, "Muon per group")


@pytest.mark.parametrize("kwargs", [CASES[0], CASES[4]], ids=str)
def test_agrees_with_bfloat16_torch_to_bfloat16_rounding(kwargs):
    # unpatched torch rounds the iteration to bfloat16 (8 significant bits): each update is off by ~1%
    # of itself, so over the run the parameters differ by a few % of how far they moved
    torch = pytest.importorskip("torch")
    arrays = _arrays()
    mine, theirs = run_matgrad(arrays, kwargs), run_torch(torch, arrays, kwargs)
    for i, a in enumerate(arrays):
        moved = np.abs(mine[-1][i] - a).max()
        assert moved > 1e-2
        np.testing.assert_allclose(mine[-1][i], theirs[-1][i], rtol=0, atol=0.05 * moved)


def test_newton_schulz_converges_to_polar_factor():
    # the cubic (1.5, -0.5, 0) converges to U·Vᵀ exactly; the transposed (tall) case too
    rng = np.random.default_rng(3)
    for shape in ((4, 7), (7, 4)):
        u, _, vt = np.linalg.svd(rng.standard_normal(shape), full_matrices=False)
        g = u @ np.diag([2.0, 1.0, 0.5, 0.3]) @ vt
        got = zeropower_via_newtonschulz(g, (1.5, -0.5, 0.0), 60, 1e-7)
        np.testing.assert_allclose(got, u @ vt, atol=1e-10)


def test_default_quintic_brings_singular_values_near_one():
    g = np.random.default_rng(4).standard_normal((6, 10))
    s = np.linalg.svd(zeropower_via_newtonschulz(g, (3.4445, -4.775, 2.0315), 5, 1e-7), compute_uv=False)
    assert s.min() > 0.5 and s.max() < 1.5, s  # not exactly 1: torch's documented S' ~ U(0.5, 1.5)


def test_adjusted_lr():
    assert adjusted_lr(0.1, None, (8, 2)) == pytest.approx(0.1 * 2.0)
    assert adjusted_lr(0.1, "original", (2, 8)) == pytest.approx(0.1)
    assert adjusted_lr(0.1, "match_rms_adamw", (2, 8)) == pytest.approx(0.1 * 0.2 * np.sqrt(8))


def test_hand_computed_first_step():
    p0 = np.array([[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0]])
    g = np.array([[0.5, -1.0, 0.2], [0.3, 0.1, -0.4]])
    p = mg.tensor(p0.copy(), requires_grad=True)
    opt = optim.Muon([p], lr=0.1, weight_decay=0.2, momentum=0.9, nesterov=True, ns_coefficients=(1.5, -0.5, 0.0),
                     ns_steps=60, adjust_lr_fn="match_rms_adamw")
    p.grad = g.copy()
    opt.step()
    buf = 0.1 * g  # lerp(0, g, 1 − 0.9)
    u, _, vt = np.linalg.svd(g + 0.9 * (buf - g), full_matrices=False)  # nesterov: lerp(g, buf, 0.9)
    expected = p0 * (1 - 0.1 * 0.2) - 0.1 * 0.2 * np.sqrt(3) * (u @ vt)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], buf, rtol=1e-12)
    np.testing.assert_allclose(p.array, expected, rtol=1e-10, atol=1e-12)


def test_state_dict_round_trip_continues_the_run():
    arrays = _arrays()
    a = [mg.tensor(x.copy(), requires_grad=True) for x in arrays]
    opt_a = optim.Muon(a, lr=0.05, nesterov=False, adjust_lr_fn="match_rms_adamw")
    for k in range(3):
        for i, p in enumerate(a):
            p.grad = gradient(p.array, k, i)
        opt_a.step()
    saved = copy.deepcopy(opt_a.state_dict())
    assert set(saved["state"][0]) == {"momentum_buffer"}
    assert set(saved["param_groups"][0]) == {"lr", "weight_decay", "momentum", "nesterov", "ns_coefficients", "eps",
                                             "ns_steps", "adjust_lr_fn", "params"}
    b = [mg.tensor(p.array.copy(), requires_grad=True) for p in a]
    opt_b = optim.Muon(b)  # other options: load_state_dict restores them
    opt_b.load_state_dict(saved)
    assert opt_b.param_groups[0]["adjust_lr_fn"] == "match_rms_adamw" and opt_b.param_groups[0]["lr"] == 0.05
    for k in range(3, 6):
        for params in (a, b):
            for i, p in enumerate(params):
                p.grad = gradient(p.array, k, i)
        opt_a.step()
        opt_b.step()
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(pa.array, pb.array)


def test_state_dict_matches_torch_layout():
    torch = pytest.importorskip("torch")
    p, t = mg.tensor(_arrays()[0], requires_grad=True), torch.tensor(_arrays()[0], requires_grad=True)
    mine, theirs = optim.Muon([p], lr=0.02), torch.optim.Muon([t], lr=0.02)
    p.grad, t.grad = gradient(p.array, 0, 0), torch.from_numpy(gradient(p.array, 0, 0))
    mine.step()
    theirs.step()
    sd, tsd = mine.state_dict(), theirs.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    assert set(sd["state"][0]) == set(tsd["state"][0])
    np.testing.assert_allclose(sd["state"][0]["momentum_buffer"], tsd["state"][0]["momentum_buffer"], rtol=1e-14)


def test_steps_in_place_and_keeps_dtype():
    params = [mg.tensor(a, requires_grad=True) for a in _arrays(np.float32)]
    check_in_place(optim.Muon(params, lr=0.1), params)
    h = mg.tensor(_arrays(np.float16)[0], requires_grad=True)
    opt = optim.Muon([h], lr=0.1)
    h.grad = gradient(h.array, 0, 0)
    before = h.array.copy()
    opt.step()
    assert h.dtype == mg.float16 and not np.array_equal(h.array, before)


def test_parameters_without_gradient_are_left_alone():
    p, q = (mg.tensor(a, requires_grad=True) for a in _arrays()[:2])
    opt = optim.Muon([p, q], lr=0.1)
    before = q.array.copy()
    p.grad = gradient(p.array, 0, 0)
    opt.step()
    np.testing.assert_array_equal(q.array, before)
    assert q not in opt.state


@pytest.mark.parametrize("shape", [(4,), (2, 3, 4), ()])
def test_only_2d_parameters(shape):
    with pytest.raises(ValueError, match="only supports 2D parameters"):
        optim.Muon([mg.zeros(shape, requires_grad=True)])
    opt = optim.Muon([mg.zeros((2, 3), requires_grad=True)])
    with pytest.raises(ValueError, match="only supports 2D parameters"):
        opt.add_param_group({"params": [mg.zeros(shape, requires_grad=True)]})


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=-1.0), "learning rate"),
    (dict(momentum=-0.1), "momentum"),
    (dict(weight_decay=-0.1), "weight_decay"),
    (dict(adjust_lr_fn="rms"), "adjust_lr_fn"),
    (dict(ns_steps=100), "less than 100"),
    (dict(ns_coefficients=(1.0, 2.0)), "exactly 3"),
], ids=str)
def test_bad_options(kwargs, match):
    # torch raises ValueError for each (ns_steps and ns_coefficients at the first step; matgrad at once)
    with pytest.raises(ValueError, match=match):
        optim.Muon([mg.zeros((2, 3), requires_grad=True)], **kwargs)


def test_no_foreach_argument():
    with pytest.raises(TypeError):
        optim.Muon([mg.zeros((2, 3), requires_grad=True)], foreach=True)  # torch.optim.Muon takes none either
