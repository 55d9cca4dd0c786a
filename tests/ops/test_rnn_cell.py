"""The fused LSTM cell update and time step: the composed formulas' values and gradients, first and second order."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.ops.rnn_cell import gru_sequence, lstm_cell_update, lstm_sequence, lstm_step
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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_cell_on_strided_gates_and_a_strided_upstream(dtype):
    """The cell keeps its gates gate-major, (4, N, H): gates laid out column-major (read through a copy) and an
    upstream gradient that is a column slice give the bits of contiguous ones, forward and backward."""
    rng = np.random.default_rng(2)
    g, c = rng.normal(size=(5, 12)).astype(dtype), rng.normal(size=(5, 3)).astype(dtype)
    up = rng.normal(size=(5, 9)).astype(dtype)
    got = []
    for strided in (True, False):
        gt = mg.from_numpy(np.asfortranarray(g) if strided else g.copy()).requires_grad_()
        assert gt.array.flags.c_contiguous is not strided
        ct = mg.tensor(c, requires_grad=True)
        y = lstm_cell_update(gt, ct)
        y.backward(mg.from_numpy(up[:, 2:8] if strided else up[:, 2:8].copy()))  # from_numpy keeps the slice
        got.append([y.numpy(), gt.grad.numpy(), ct.grad.numpy()])
    for a, b in zip(*got):
        np.testing.assert_array_equal(a, b)


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


def torch_sequence(steps, reverse):
    """lstm_sequence's output, [h_1 … h_T, c_T] stacked as rows, by torch's own step-by-step formulas."""
    def fn(x, h, c, w, b=None):
        torch = pytest.importorskip("torch")
        n = h.shape[0]
        hs = [None] * steps
        for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
            g = torch.cat([x[t * n:(t + 1) * n], h], 1) @ w.T
            hc = torch_cell(g if b is None else g + b, c)
            h, c = hc[:, :c.shape[1]], hc[:, c.shape[1]:]
            hs[t] = h
        return torch.cat(hs + [c], 0)
    return fn


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_sequence_gradchecks_and_matches_torch(reverse):
    # 3 steps of 2 rows: x (6, 2), h0 and c0 (2, 3), weight (12, 2 + 3), bias (12,); first and second order
    check_op(lambda x, h, c, w, b: lstm_sequence(x, h, c, w, b, steps=3, reverse=reverse),
             (6, 2), (2, 3), (2, 3), (12, 5), (12,), torch_fn=torch_sequence(3, reverse))
    check_op(lambda x, h, c, w: lstm_sequence(x, h, c, w, steps=3, reverse=reverse), (6, 2), (2, 3), (2, 3), (12, 5),
             torch_fn=torch_sequence(3, reverse))


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lstm_sequence_is_lstm_steps(dtype, reverse):
    """The same outputs as one LSTMStep node per step, bit for bit; the gradients up to the order of their sums
    (one product over every step where the steps' products are added up one by one)."""
    rng = np.random.default_rng(2)
    steps, n, f, hs = 5, 4, 3, 6
    arrays = [rng.normal(size=s).astype(dtype) for s in ((steps * n, f), (n, hs), (n, hs), (4 * hs, f + hs), (4 * hs,))]
    w_out = mg.tensor(rng.normal(size=(steps * n + n, hs)).astype(dtype))
    got = []
    for whole in (True, False):
        ts = [mg.tensor(a, requires_grad=True) for a in arrays]
        x, h, c, w, b = ts
        if whole:
            y = lstm_sequence(x, h, c, w, b, steps=steps, reverse=reverse)
        else:
            outs = [None] * steps
            for t in range(steps - 1, -1, -1) if reverse else range(steps):
                hc = lstm_step(x[t * n:(t + 1) * n], h, c, w, b)
                h, c = hc[:, :hs], hc[:, hs:]
                outs[t] = h
            y = mg.cat(outs + [c], 0)
        (y * w_out).sum().backward()
        got.append([y.numpy()] + [t.grad.numpy() for t in ts])
    np.testing.assert_array_equal(got[0][0], got[1][0])
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for a, b in zip(got[0][1:], got[1][1:]):
        np.testing.assert_allclose(a, b, **tol)


def test_lstm_sequence_gradients_of_some_inputs_only():
    rng = np.random.default_rng(3)
    x, h, c, w = (mg.tensor(rng.normal(size=s), requires_grad=r) for s, r in
                  (((4, 2), False), ((2, 3), True), ((2, 3), False), ((12, 5), True)))
    lstm_sequence(x, h, c, w, steps=2).sum().backward()
    assert x.grad is None and c.grad is None and h.grad.shape == (2, 3) and w.grad.shape == (12, 5)


def test_lstm_sequence_says_what_is_wrong():
    with pytest.raises(RuntimeError, match=r"lstm_sequence: expected x \(steps·N, F\) with steps=3"):
        lstm_sequence(mg.zeros(4, 2), mg.zeros(2, 3), mg.zeros(2, 3), mg.zeros(12, 5), steps=3)
    with pytest.raises(RuntimeError, match=r"weight \(4H, F \+ H\)"):
        lstm_sequence(mg.zeros(4, 2), mg.zeros(2, 3), mg.zeros(2, 3), mg.zeros(12, 4), steps=2)
    with pytest.raises(TypeError, match="one dtype"):
        lstm_sequence(mg.zeros(4, 2), mg.zeros(2, 3), mg.zeros(2, 3, dtype=mg.float64), mg.zeros(12, 5), steps=2)


def _node_names(t):
    seen, stack, names = set(), [t.grad_fn], set()
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen or not hasattr(n, "parent_fns"):
            continue
        seen.add(id(n))
        names.add(type(n).__name__)
        stack.extend(n.parent_fns)
    return names


@pytest.mark.parametrize("lengths, node", [([3, 3], "LSTMSequence"), ([3, 2], "LSTMStep")])
def test_nn_lstm_runs_a_direction_as_one_node_where_every_sequence_is_as_long(lengths, node):
    from matgrad.nn.utils.rnn import pack_padded_sequence
    mg.manual_seed(0)
    lstm = mg.nn.LSTM(2, 3, bidirectional=True)
    out, _ = lstm(pack_padded_sequence(mg.randn(3, 2, 2), lengths))
    names = _node_names(out.data)
    other = "LSTMStep" if node == "LSTMSequence" else "LSTMSequence"
    assert node in names and other not in names
    out, (h, c) = lstm(mg.randn(4, 2, 2))  # unpacked: one node per direction
    assert "LSTMSequence" in _node_names(out) and "LSTMStep" not in _node_names(out) | _node_names(c)
    assert "LSTMStep" in _node_names(mg.nn.LSTM(2, 3, proj_size=1)(mg.randn(4, 2, 2))[0])  # h projected each step
    assert "GRUSequence" in _node_names(mg.nn.GRU(2, 3)(mg.randn(4, 2, 2))[0])


def torch_gru_sequence(steps, reverse):
    """gru_sequence's output, h_1 … h_T stacked as rows, by torch.nn.GRU's formulas step by step."""
    def fn(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
        torch = pytest.importorskip("torch")
        n, hs = h.shape
        outs = [None] * steps
        for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
            gx, gh = x[t * n:(t + 1) * n] @ w_ih.T, h @ w_hh.T
            if b_ih is not None:
                gx, gh = gx + b_ih, gh + b_hh
            r, z = torch.sigmoid(gx[:, :hs] + gh[:, :hs]), torch.sigmoid(gx[:, hs:2 * hs] + gh[:, hs:2 * hs])
            n_t = torch.tanh(gx[:, 2 * hs:] + r * gh[:, 2 * hs:])
            h = (1 - z) * n_t + z * h
            outs[t] = h
        return torch.cat(outs, 0)
    return fn


@pytest.mark.parametrize("reverse", [False, True])
def test_gru_sequence_gradchecks_and_matches_torch(reverse):
    # 3 steps of 2 rows: x (6, 2), h0 (2, 3), weight_ih (9, 2), weight_hh (9, 3), biases (9,); first and second order
    check_op(lambda x, h, wi, wh, bi, bh: gru_sequence(x, h, wi, wh, bi, bh, steps=3, reverse=reverse),
             (6, 2), (2, 3), (9, 2), (9, 3), (9,), (9,), torch_fn=torch_gru_sequence(3, reverse))
    check_op(lambda x, h, wi, wh: gru_sequence(x, h, wi, wh, steps=3, reverse=reverse), (6, 2), (2, 3), (9, 2),
             (9, 3), torch_fn=torch_gru_sequence(3, reverse))


def test_gru_sequence_says_what_is_wrong():
    with pytest.raises(RuntimeError, match=r"gru_sequence: expected .* weight_hh \(3H, H\)"):
        gru_sequence(mg.zeros(4, 2), mg.zeros(2, 3), mg.zeros(9, 2), mg.zeros(9, 2), steps=2)
    with pytest.raises(RuntimeError, match="both biases"):
        gru_sequence(mg.zeros(4, 2), mg.zeros(2, 3), mg.zeros(9, 2), mg.zeros(9, 3), mg.zeros(9), steps=2)
    with pytest.raises(TypeError, match="one dtype"):
        gru_sequence(mg.zeros(4, 2), mg.zeros(2, 3, dtype=mg.float64), mg.zeros(9, 2), mg.zeros(9, 3), steps=2)


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_a_whole_sequence_node_equals_the_steps(cls):
    """nn.LSTM and nn.GRU as one node per direction against one node per step (a PackedSequence of equal lengths
    forced through the per-step path): the same outputs and gradients, up to the order of the sums."""
    import matgrad.nn.rnn as rnn_module
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, 3, 4))
    got = []
    for whole in (True, False):
        mg.manual_seed(0)
        m = getattr(mg.nn, cls)(4, 5, num_layers=2, bidirectional=True).double()
        xt = mg.tensor(x, requires_grad=True)
        keep = rnn_module._whole_sequence
        if not whole:
            rnn_module._whole_sequence = lambda *args: False
        try:
            out, h = m(xt)
        finally:
            rnn_module._whole_sequence = keep
        states = h if cls == "LSTM" else (h,)
        (out.sum() + sum((s * s).sum() for s in states)).backward()
        grads = [p.grad.numpy() for p in m.parameters()]
        got.append([out.numpy(), *(s.numpy() for s in states), xt.grad.numpy(), *grads])
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
