"""Loss modules against torch.nn's, with buffers for weights."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn

torch = pytest.importorskip("torch")


def _run(mine, theirs, x, t, target_float=True):
    mx = mg.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ml = mine(mx, mg.tensor(t))
    tl = theirs(tx, torch.tensor(t))
    np.testing.assert_allclose(ml.array, tl.detach().numpy(), rtol=1e-10, atol=1e-12)
    ml.sum().backward()
    tl.sum().backward()
    np.testing.assert_allclose(mx.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,kwargs", [("MSELoss", {}), ("L1Loss", {}), ("SmoothL1Loss", {"beta": 0.3}),
                                         ("HuberLoss", {"delta": 0.5})])
def test_regression_modules(name, kwargs, reduction):
    rng = np.random.default_rng(0)
    _run(getattr(nn, name)(reduction=reduction, **kwargs),
         getattr(torch.nn, name)(reduction=reduction, **kwargs),
         rng.standard_normal((4, 3)), rng.standard_normal((4, 3)))


def test_bce_modules():
    rng = np.random.default_rng(1)
    w = rng.uniform(0.5, 2, 3)
    p = rng.uniform(0.05, 0.95, (4, 3))
    y = rng.uniform(0, 1, (4, 3))
    _run(nn.BCELoss(weight=mg.tensor(w)), torch.nn.BCELoss(weight=torch.tensor(w)), p, y)
    pw = rng.uniform(0.5, 2, 3)
    _run(nn.BCEWithLogitsLoss(pos_weight=mg.tensor(pw), reduction="sum"),
         torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw), reduction="sum"), p * 10 - 5, y)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_nll_modules(reduction):
    rng = np.random.default_rng(2)
    w = rng.uniform(0.5, 2, 4)
    x = rng.standard_normal((6, 4))
    t = np.array([0, 3, 1, 2, 1, 3])
    kw = dict(weight=w, ignore_index=3, reduction=reduction)
    _run(nn.CrossEntropyLoss(**{**kw, "weight": mg.tensor(w)}, label_smoothing=0.15),
         torch.nn.CrossEntropyLoss(**{**kw, "weight": torch.tensor(w)}, label_smoothing=0.15), x, t)
    _run(nn.NLLLoss(**{**kw, "weight": mg.tensor(w)}),
         torch.nn.NLLLoss(**{**kw, "weight": torch.tensor(w)}), x, t)


def test_loss_weights_are_buffers_in_state_dict():
    ce = nn.CrossEntropyLoss(weight=mg.tensor([1.0, 2.0]))
    tce = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0]))
    assert list(ce.state_dict()) == list(tce.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=mg.ones(2)).state_dict()) == ["pos_weight"]
    assert nn.MSELoss().state_dict() == {}
    ce.double()
    assert ce.weight.dtype == np.float64


def test_loss_reprs_and_bad_reduction():
    assert repr(nn.MSELoss()) == repr(torch.nn.MSELoss())
    with pytest.raises(ValueError, match="reduction must be"):
        nn.L1Loss(reduction="avg")
