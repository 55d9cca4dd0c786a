"""The fused LSTM cell update and time step: the composed formulas' values and gradients, first and second order."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.ops.rnn_cell import lstm_cell_update, lstm_step
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


def torch_step(x, h, c, w, b):
    torch = pytest.importorskip("torch")
    g = torch.cat([x, h], 1) @ w.T + b
    return torch_cell(g, c)


def test_lstm_step_gradchecks_and_matches_torch():
    # x (3, 2), h and c (3, 2), weight (8, 4), bias (8,): every input's gradient, first and second order
    check_op(lambda x, h, c, w, b: lstm_step(x, h, c, w, b), (3, 2), (3, 2), (3, 2), (8, 4), (8,),
             torch_fn=torch_step)
    check_op(lambda x, h, c, w: lstm_step(x, h, c, w), (3, 2), (3, 2), (3, 2), (8, 4), use_torch=False)
    # a projected h (nn.LSTM's proj_size): h (3, 1) against c (3, 2), weight (8, 2 + 1)
    check_op(lambda x, h, c, w, b: lstm_step(x, h, c, w, b), (3, 2), (3, 1), (3, 2), (8, 3), (8,),
             torch_fn=torch_step)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lstm_step_is_cat_linear_and_the_cell_bit_for_bit(dtype):
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=s).astype(dtype) for s in ((5, 3), (5, 4), (5, 4), (16, 7), (16,))]
    w_out = mg.tensor(rng.normal(size=(5, 8)).astype(dtype))
    got = []
    for fused in (True, False):
        ts = [mg.tensor(a, requires_grad=True) for a in arrays]
        x, h, c, w, b = ts
        y = lstm_step(x, h, c, w, b) if fused else lstm_cell_update(mg.nn.functional.linear(mg.cat([x, h], 1), w, b), c)
        (y * w_out).sum().backward()
        got.append([y.numpy()] + [t.grad.numpy() for t in ts])
    for a, b in zip(*got):
        np.testing.assert_array_equal(a, b)


def test_lstm_step_says_which_shapes_are_wrong():
    with pytest.raises(RuntimeError, match=r"lstm_step: expected .* weight \(4H, F \+ P\)"):
        lstm_step(mg.zeros(2, 3), mg.zeros(2, 4), mg.zeros(2, 4), mg.zeros(16, 6))
