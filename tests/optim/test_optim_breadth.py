"""NAdam, RAdam, Adamax, Adadelta, Rprop, ASGD and LBFGS: against PyTorch step for step, by hand,
in place, through state_dicts (torch's loads into matgrad's and back), and their bad options."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import matgrad as mg
from matgrad import optim
from tests.optim.compare import assert_matches_torch, check_in_place, gradient, initial_arrays

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")

CASES = [
    (optim.NAdam, dict(lr=0.05)),
    (optim.NAdam, dict(lr=0.05, betas=(0.3, 0.9), weight_decay=0.1, momentum_decay=0.01, maximize=True)),
    (optim.NAdam, dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    (optim.RAdam, dict(lr=0.05)),  # rho_t > 5 from step 6: both branches
    (optim.RAdam, dict(lr=0.05, betas=(0.5, 0.6), weight_decay=0.1, maximize=True)),
    (optim.RAdam, dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    (optim.Adamax, dict(lr=0.05)),
    (optim.Adamax, dict(lr=0.05, betas=(0.3, 0.8), weight_decay=0.1, maximize=True)),
    (optim.Adadelta, dict()),
    (optim.Adadelta, dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.1, maximize=True)),
    (optim.Rprop, dict(lr=0.05)),
    (optim.Rprop, dict(lr=0.05, etas=(0.3, 1.7), step_sizes=(1e-3, 0.2), maximize=True)),
    (optim.ASGD, dict(lr=0.05)),
    (optim.ASGD, dict(lr=0.05, lambd=0.1, alpha=0.5, t0=3, weight_decay=0.1, maximize=True)),  # averaging starts
]
IDS = [f"{cls.__name__}-{kw}" for cls, kw in CASES]


@pytest.mark.parametrize("cls, kwargs", CASES, ids=IDS)
def test_matches_torch_float64(cls, kwargs):
    assert_matches_torch(cls, kwargs, steps=12)


@pytest.mark.parametrize("cls, kwargs", CASES[1::2], ids=IDS[1::2])
def test_matches_torch_float32_stays_float32(cls, kwargs):
    assert_matches_torch(cls, kwargs, steps=12, dtype=np.float32)


@pytest.mark.parametrize("cls", [optim.NAdam, optim.RAdam, optim.Adadelta, optim.Rprop, optim.ASGD])
def test_per_group_options_match_torch(cls):
    assert_matches_torch(cls, dict(lr=0.05), steps=8, groups=[{"lr": 0.2}, {"weight_decay": 0.1}]
                         if cls is not optim.Rprop else [{"lr": 0.2}, {"etas": (0.4, 1.5)}])


def _one(values, dtype=mg.float64):
    p = mg.tensor(values, dtype=dtype, requires_grad=True)
    return p


def test_hand_computed_first_steps():
    g = np.array([0.5, -2.0])
    # Adamax: m = 0.1·g, u = |g| + eps, p −= lr/(1 − 0.9)·m/u = lr·sign(g) (up to eps)
    p = _one([1.0, 2.0])
    p.grad = g.copy()
    optim.Adamax([p], lr=0.1).step()
    np.testing.assert_allclose(p.array, [1.0 - 0.1, 2.0 + 0.1], rtol=1e-7)
    # RAdam: rho_1 < 5, so the unrectified step p −= lr·m/(1 − β1) = lr·g
    p = _one([1.0, 2.0])
    p.grad = g.copy()
    optim.RAdam([p], lr=0.1).step()
    np.testing.assert_allclose(p.array, [1.0 - 0.05, 2.0 + 0.2], rtol=1e-12)
    # Rprop: first step p −= lr·sign(g); the step size stays lr (g·prev = 0)
    p = _one([1.0, 2.0])
    p.grad = g.copy()
    opt = optim.Rprop([p], lr=0.1)
    opt.step()
    np.testing.assert_allclose(p.array, [0.9, 2.1], rtol=1e-12)
    p.grad = np.array([0.5, 3.0])  # same sign, then a flip: ×1.2 and ×0.5 (and no move there)
    opt.step()
    np.testing.assert_allclose(opt.state[p]["step_size"], [0.12, 0.05], rtol=1e-12)
    np.testing.assert_allclose(p.array, [0.78, 2.1], rtol=1e-12)
    # Adadelta: Δ = √eps / √(0.1·g² + eps)·g
    p = _one([1.0, 2.0])
    p.grad = g.copy()
    optim.Adadelta([p]).step()
    np.testing.assert_allclose(p.array, [1.0, 2.0] - np.sqrt(1e-6) / np.sqrt(0.1 * g * g + 1e-6) * g, rtol=1e-12)
    # ASGD: p = p·(1 − λ·lr) − lr·g; the average equals p while μ = 1
    p = _one([1.0, 2.0])
    p.grad = g.copy()
    opt = optim.ASGD([p], lr=0.1, lambd=0.5)
    opt.step()
    eta = float(np.float32(0.1))  # torch keeps eta in a float32 scalar tensor
    expected = np.array([1.0, 2.0]) * (1 - 0.5 * eta) - eta * g
    np.testing.assert_allclose(p.array, expected, rtol=1e-12)
    np.testing.assert_array_equal(opt.state[p]["ax"], p.array)
    assert opt.state[p]["eta"] == pytest.approx(0.1 / (1 + 0.5 * 0.1) ** 0.75, rel=1e-7)


@pytest.mark.parametrize("cls, kwargs", CASES[::2], ids=IDS[::2])
def test_steps_in_place_and_keep_dtype(cls, kwargs):
    params = [mg.tensor(a, requires_grad=True) for a in initial_arrays(np.float32)]
    opt = cls(params, **kwargs)
    check_in_place(opt, params)
    assert all(v.dtype == np.float32 for v in opt.state[params[0]].values() if isinstance(v, np.ndarray))


def _run(opt, params, steps, start=0):
    for k in range(start, start + steps):
        for i, p in enumerate(params):
            p.grad = gradient(p.array, k, i)
        opt.step()


@pytest.mark.parametrize("cls, kwargs", CASES[::2], ids=IDS[::2])
def test_state_dict_round_trip_continues_identically(cls, kwargs):
    params = [mg.tensor(a, requires_grad=True) for a in initial_arrays()]
    opt = cls(params, **kwargs)
    _run(opt, params, 3)
    saved = copy.deepcopy(opt.state_dict())
    values = [p.array.copy() for p in params]
    _run(opt, params, 4, start=3)
    fresh = [mg.tensor(v, requires_grad=True) for v in values]
    opt2 = cls(fresh, lr=123.0)
    opt2.load_state_dict(saved)
    _run(opt2, fresh, 4, start=3)
    for p, q in zip(params, fresh):
        np.testing.assert_array_equal(p.array, q.array)


def _to_torch(obj):
    """A matgrad state_dict with its arrays and numbers as torch tensors where torch keeps tensors."""
    if isinstance(obj, dict):
        return {k: (torch.tensor(float(v)) if k in ("step", "mu_product", "eta", "mu")
                    else _to_torch(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_torch(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(obj.copy())
    return obj


@needs_torch
@pytest.mark.parametrize("cls, kwargs", CASES[::2], ids=IDS[::2])
def test_torch_state_dict_loads_into_matgrad_and_back(cls, kwargs, tmp_path):
    arrays = initial_arrays()
    params = [mg.tensor(a.copy(), requires_grad=True) for a in arrays]
    tparams = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    opt = cls(params, foreach=False, **kwargs)
    topt = getattr(torch.optim, cls.__name__)(tparams, foreach=False, **kwargs)
    for k in range(3):
        for i, (p, t) in enumerate(zip(params, tparams)):
            p.grad = gradient(p.array, k, i)
            t.grad = torch.from_numpy(gradient(t.detach().numpy(), k, i))
        opt.step()
        topt.step()
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert set(sd["state"][0]) == {k for k, v in tsd["state"][0].items() if v is not None}
    for key, value in sd["state"][0].items():
        np.testing.assert_allclose(np.asarray(value, dtype=float), tsd["state"][0][key].numpy(), rtol=1e-12)
    assert sd["param_groups"][0] == tsd["param_groups"][0]  # the same keys (foreach, capturable...), same values
    assert list(sd["param_groups"][0]) == list(tsd["param_groups"][0])  # in PyTorch's order

    torch.save(tsd, tmp_path / "opt.pt")  # torch's → matgrad's (through a .pt file, as a user would)
    mine = cls([mg.tensor(t.detach().numpy().copy(), requires_grad=True) for t in tparams], lr=9.0)
    mine.load_state_dict(mg.load(tmp_path / "opt.pt"))
    theirs = getattr(torch.optim, cls.__name__)([t.detach().clone().requires_grad_() for t in tparams], lr=9.0)
    theirs.load_state_dict(_to_torch(copy.deepcopy(opt.state_dict())))  # matgrad's → torch's
    mp, tp = mine.param_groups[0]["params"], theirs.param_groups[0]["params"]
    for k in range(3, 6):  # the loaded ones and the uninterrupted ones step on together
        for ps in (mp, tp, params, tparams):
            for i, p in enumerate(ps):
                a = p.array if isinstance(p, mg.Tensor) else p.detach().numpy()
                p.grad = gradient(a, k, i) if isinstance(p, mg.Tensor) else torch.from_numpy(gradient(a, k, i))
        for o in (mine, theirs, opt, topt):
            o.step()
    for p, q, t, u in zip(mp, tp, params, tparams):
        np.testing.assert_allclose(p.array, u.detach().numpy(), rtol=1e-10, atol=1e-12)
        # torch's load_state_dict casts mu_product, eta and mu to the parameter's dtype (float64
        # here), so from then on it rounds them less than an uninterrupted run: 1e-8 relative
        np.testing.assert_allclose(q.detach().numpy(), t.array, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("cls, kwargs, match", [
    (optim.NAdam, dict(lr=-1.0), "learning rate"),
    (optim.NAdam, dict(betas=(1.0, 0.9)), "beta1"),
    (optim.NAdam, dict(momentum_decay=-1.0), "momentum_decay"),
    (optim.RAdam, dict(betas=(0.9, 1.5)), "beta2"),
    (optim.Adamax, dict(eps=-1.0), "epsilon"),
    (optim.Adamax, dict(weight_decay=-1.0), "weight_decay"),
    (optim.Adadelta, dict(rho=1.5), "rho"),
    (optim.Rprop, dict(etas=(1.2, 0.5)), "eta"),
    (optim.ASGD, dict(weight_decay=-0.1), "weight_decay"),
    (optim.LBFGS, dict(lr=-1.0), "learning rate"),
    (optim.LBFGS, dict(line_search_fn="armijo"), "line_search_fn"),
])
def test_bad_options(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls([mg.tensor([1.0], requires_grad=True)], **kwargs)


# --- LBFGS ---------------------------------------------------------------------------------------

def _rosenbrock(x):
    return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


def _lbfgs_run(lib, x0, dtype, steps, **kwargs):
    if lib == "torch":
        x = torch.tensor(x0, dtype=dtype, requires_grad=True)
        opt = torch.optim.LBFGS([x], **kwargs)
    else:
        x = mg.tensor(x0, dtype=dtype, requires_grad=True)
        opt = optim.LBFGS([x], **kwargs)

    def closure():
        opt.zero_grad()
        loss = _rosenbrock(x)
        loss.backward()
        return loss

    path, losses = [], []
    for _ in range(steps):
        loss = opt.step(closure)
        losses.append(float(loss.detach() if lib == "torch" else loss))
        path.append(x.detach().numpy().copy() if lib == "torch" else x.array.copy())
    return path, losses, opt, x


@needs_torch
@pytest.mark.parametrize("kwargs", [dict(lr=0.1, history_size=5, max_iter=10),
                                    dict(lr=1, history_size=3, line_search_fn="strong_wolfe")], ids=str)
def test_lbfgs_rosenbrock_iterates_match_torch_float64(kwargs):
    x0 = np.array([-1.5, 2.0, 0.5, -0.3])
    mine, mine_losses, opt, x = _lbfgs_run("mg", x0, mg.float64, 6, **kwargs)
    theirs, their_losses, topt, tx = _lbfgs_run("torch", x0, torch.float64, 6, **kwargs)
    for k, (a, b) in enumerate(zip(mine, theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"step {k}")
    np.testing.assert_allclose(mine_losses, their_losses, rtol=1e-9)
    assert mine_losses[-1] < mine_losses[0]
    state, tstate = opt.state[x], topt.state[tx]
    assert set(state) == set(tstate)
    assert (state["func_evals"], state["n_iter"]) == (tstate["func_evals"], tstate["n_iter"])


@needs_torch
def test_lbfgs_float32_without_line_search_matches_torch():
    x0 = np.array([-1.5, 2.0, 0.5, -0.3])
    mine, _, _, x = _lbfgs_run("mg", x0, mg.float32, 3, lr=0.1, history_size=5, max_iter=10)
    theirs, _, _, _ = _lbfgs_run("torch", x0, torch.float32, 3, lr=0.1, history_size=5, max_iter=10)
    assert x.array.dtype == np.float32
    np.testing.assert_allclose(mine[-1], theirs[-1], rtol=1e-4, atol=1e-5)


def test_lbfgs_solves_a_quadratic_and_restores_its_state():
    a = np.diag([1.0, 4.0, 9.0])
    b = np.array([1.0, -2.0, 3.0])
    x = mg.tensor(np.zeros(3), dtype=mg.float64, requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe", max_iter=50)

    def closure():
        opt.zero_grad()
        loss = 0.5 * (x * (mg.tensor(a) @ x)).sum() - (mg.tensor(b) * x).sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(x.array, np.linalg.solve(a, b), rtol=1e-6)
    saved = copy.deepcopy(opt.state_dict())
    opt2 = optim.LBFGS([mg.tensor(x.array.copy(), requires_grad=True)], line_search_fn="strong_wolfe")
    opt2.load_state_dict(saved)
    assert opt2.state_dict()["state"][0]["n_iter"] == saved["state"][0]["n_iter"] > 0
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [x]}, {"params": [mg.tensor([1.0], requires_grad=True)]}])
