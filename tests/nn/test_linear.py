"""Linear and Identity, and the seed recipe end to end against PyTorch."""
from __future__ import annotations

import math

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
import matgrad.nn.functional as F


def test_linear_shapes_and_default_init_bounds():
    lin = nn.Linear(400, 30)
    assert lin.weight.shape == (30, 400) and lin.bias.shape == (30,)
    assert lin.weight.dtype == np.float32
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=√5) gives U(±1/√fan_in)
    assert np.abs(lin.weight.array).max() <= bound
    assert np.abs(lin.weight.array).max() > 0.95 * bound
    assert lin.weight.array.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    assert np.abs(lin.bias.array).max() <= bound
    assert nn.Linear(3, 2, bias=False).bias is None
    assert nn.Linear(3, 2, dtype=mg.float64).weight.dtype == np.float64


def test_linear_is_reproducible_under_manual_seed():
    mg.manual_seed(5)
    a = nn.Linear(3, 2)
    mg.manual_seed(5)
    b = nn.Linear(3, 2)
    np.testing.assert_array_equal(a.weight.array, b.weight.array)


def test_linear_matches_torch_with_copied_weights():
    torch = pytest.importorskip("torch")
    tl = torch.nn.Linear(5, 3).double()
    ml = nn.Linear(5, 3).double()
    ml.load_state_dict({k: v.detach().numpy() for k, v in tl.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 4, 5))
    mx, tx = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    my, ty = ml(mx), tl(tx)
    np.testing.assert_allclose(my.array, ty.detach().numpy(), rtol=1e-12)
    (my * my).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(ml.weight.grad, tl.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ml.bias.grad, tl.bias.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(mx.grad, tx.grad.numpy(), rtol=1e-10)


def test_identity():
    x = mg.randn(2)
    assert nn.Identity(54, unused="x")(x) is x


def _seed_mlp(mod):
    model = mod.Sequential(mod.Linear(784, 1024), mod.ReLU(), mod.Linear(1024, 10), mod.Sigmoid())
    for m in model:
        if isinstance(m, mod.Linear):
            mod.init.xavier_uniform_(m.weight)
            mod.init.zeros_(m.bias)
    return model


def test_seed_recipe_trains_exactly_like_torch():
    torch = pytest.importorskip("torch")
    model, tmodel = _seed_mlp(nn), _seed_mlp(torch.nn)
    tmodel.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (32, 784)).astype(np.float32)
    labels = rng.integers(0, 10, 32)
    y = F.one_hot(mg.tensor(labels), 10).float()
    ty = torch.nn.functional.one_hot(torch.tensor(labels), 10).float()
    for _ in range(3):
        loss = F.binary_cross_entropy(model(mg.tensor(x)), y)
        tloss = torch.nn.functional.binary_cross_entropy(tmodel(torch.tensor(x)), ty)
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-5)
        model.zero_grad()
        tmodel.zero_grad()
        loss.backward()
        tloss.backward()
        with mg.no_grad():
            for p in model.parameters():
                p.data -= 0.5 * p.grad
        with torch.no_grad():
            for p in tmodel.parameters():
                p -= 0.5 * p.grad
    for (k, v), tv in zip(model.state_dict().items(), tmodel.state_dict().values()):
        np.testing.assert_allclose(v.array, tv.numpy(), rtol=1e-4, atol=1e-6, err_msg=k)
