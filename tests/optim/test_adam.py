"""Adam against PyTorch step for step, by hand, in place, and on a tiny MLP's real gradients."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import optim
from tests.optim.compare import assert_matches_torch, check_in_place, initial_arrays

CASES = [
    dict(lr=1e-3),
    dict(lr=0.1),
    dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.05, betas=(0.3, 0.5)),  # beta1 < 0.5: lerp takes its other branch
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.05, amsgrad=True),
    dict(lr=0.05, amsgrad=True, weight_decay=0.01, maximize=True),
    dict(lr=2.0, amsgrad=True),
]


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_matches_torch_float64(kwargs):
    assert_matches_torch(optim.Adam, kwargs, steps=10)


@pytest.mark.parametrize("kwargs", CASES[1::3], ids=str)
def test_matches_torch_float32_stays_float32(kwargs):
    assert_matches_torch(optim.Adam, kwargs, steps=10, dtype=np.float32)


def test_per_group_options_match_torch():
    groups = [{"lr": 0.2, "amsgrad": True}, {"betas": (0.5, 0.9), "weight_decay": 0.1}]
    assert_matches_torch(optim.Adam, dict(lr=0.01), steps=8, groups=groups)


def test_hand_computed_first_step():
    p = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    g = np.array([0.5, -1.0])
    p.grad = g.copy()
    opt = optim.Adam([p], lr=0.01)
    opt.step()
    # m = 0.1·g, v = 0.001·g², so m/(1−β1) = g and √(v/(1−β2)) = |g|
    expected = np.array([1.0, 2.0]) - 0.01 * g / (np.abs(g) + 1e-8)
    np.testing.assert_allclose(p.array, expected, rtol=1e-12)
    np.testing.assert_allclose(opt.state[p]["exp_avg"], 0.1 * g, rtol=1e-12)
    np.testing.assert_allclose(opt.state[p]["exp_avg_sq"], 0.001 * g * g, rtol=1e-12)
    assert opt.state[p]["step"] == 1


@pytest.mark.parametrize("amsgrad", [False, True])
def test_steps_in_place(amsgrad):
    params = [mg.tensor(a, requires_grad=True) for a in initial_arrays(np.float32)]
    opt = optim.Adam(params, lr=0.1, amsgrad=amsgrad, weight_decay=0.01)
    check_in_place(opt, params)
    keys = {"exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if amsgrad else set())
    assert keys <= set(opt.state[params[0]])
    assert all(opt.state[params[0]][k].dtype == np.float32 for k in keys)


def test_tiny_mlp_real_gradients_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((16, 5)), rng.standard_normal((16, 1))
    init = [rng.standard_normal((5, 8)) * 0.5, np.zeros(8), rng.standard_normal((8, 1)) * 0.5, np.zeros(1)]

    def loss_of(lib, w1, b1, w2, b2, xs, ys):
        h = lib.tanh(xs @ w1 + b1)
        return ((h @ w2 + b2 - ys) ** 2).mean()

    ps = [mg.tensor(a.copy(), dtype=mg.float64, requires_grad=True) for a in init]
    ts = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = optim.Adam(ps, lr=0.05, amsgrad=True)
    topt = torch.optim.Adam(ts, lr=0.05, amsgrad=True, foreach=False)
    xm, ym = mg.tensor(x, dtype=mg.float64), mg.tensor(y, dtype=mg.float64)
    xt, yt = torch.tensor(x), torch.tensor(y)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        topt.zero_grad()
        loss, tloss = loss_of(mg, *ps, xm, ym), loss_of(torch, *ts, xt, yt)
        loss.backward()
        tloss.backward()
        opt.step()
        topt.step()
        losses.append(loss.item())
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-10)
        for p, t in zip(ps, ts):
            np.testing.assert_allclose(p.array, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=-1e-3), "learning rate"),
    (dict(betas=(1.0, 0.999)), "beta1"),
    (dict(betas=(0.9, -0.1)), "beta2"),
    (dict(eps=-1e-8), "epsilon"),
    (dict(weight_decay=-0.1), "weight_decay"),
])
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optim.Adam([mg.tensor([1.0], requires_grad=True)], **kwargs)
