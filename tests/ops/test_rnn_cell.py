"""The fused LSTM cell update: the composed formula's values and gradients, first and second order."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.ops.rnn_cell import lstm_cell_update
from tests.helpers import check_op


def composed(g, c):
    hs = c.shape[1]
    i, f = mg.sigmoid(g[:, :hs]), mg.sigmoid(g[:, hs:2 * hs])
    gg, o = mg.tanh(g[:, 2 * hs:3 * hs]), mg.sigmoid(g[:, 3 * hs:])
    c2 = f * c + i * gg
    return mg.cat([o * mg.tanh(c2), c2], 1)


def torch_cell(g, c):
    torch = pytest.importorskip("torch")
    i, f, gg, o = g.chunk(4, 1)
    c2 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
    return torch.cat([torch.sigmoid(o) * torch.tanh(c2), c2], 1)


def test_fused_cell_gradchecks_and_matches_torch():
    check_op(lambda g, c: lstm_cell_update(g, c), (3, 8), (3, 2), torch_fn=torch_cell)


def test_fused_cell_equals_the_composed_formula():
    rng = np.random.default_rng(0)
    g = mg.tensor(rng.normal(size=(4, 12)), dtype=mg.float64, requires_grad=True)
    c = mg.tensor(rng.normal(size=(4, 3)), dtype=mg.float64, requires_grad=True)
    w = mg.tensor(rng.normal(size=(4, 6)), dtype=mg.float64)
    (lstm_cell_update(g, c) * w).sum().backward()
    gg, gc = g.grad.array.copy(), c.grad.array.copy()
    g.grad = c.grad = None
    (composed(g, c) * w).sum().backward()
    np.testing.assert_allclose(gg, g.grad.array, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gc, c.grad.array, rtol=1e-12, atol=1e-14)
