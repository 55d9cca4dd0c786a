"""The LSTM cell's elementwise part as one op, and a whole LSTM time step as one op.

    i, f, o = σ(g_i), σ(g_f), σ(g_o);  ĝ = tanh(g_g);  c' = f·c + i·ĝ;  h' = o·tanh(c')

Composed from sigmoid, tanh, slices, products and sums, one time step is about a dozen graph
nodes, and each gate slice's backward writes a zero array the size of all four gates. As one
op it is one node and one gate-sized gradient per step. Measured in one process, interleaved
(an LSTM forward + backward, input 28, hidden 128, sequence 28, batch 128, 1 BLAS thread, on the
2-core AMD EPYC under load): 249 ms against 326 ms composed, a median ratio of 0.79, faster in 10
of 12 rounds.

`LSTMStep` takes the step's gate product into the same node: g = [x, h]·Wᵀ + b, then the cell, where
nn.LSTM made three nodes (cat, Linear, the cell) with the same arithmetic.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _autocast
from ..autograd.op import Op
from ..tensor import Tensor, as_tensor
from .linear import _affine


def _sigmoid(xp, x):
    return 1 / (1 + xp.exp(-x))


def _cell_forward(node: Op, g: Any, c: Any) -> Any:
    """[h', c'] from gates g (N, 4H) and c (N, H); keeps the activations and tanh(c') on `node` for its backward."""
    hs = c.shape[1]
    act = np.empty_like(g)
    np.negative(g[:, :2 * hs], out=act[:, :2 * hs])  # σ for i and f, tanh for ĝ, σ for o
    np.negative(g[:, 3 * hs:], out=act[:, 3 * hs:])
    np.exp(act[:, :2 * hs], out=act[:, :2 * hs])
    np.exp(act[:, 3 * hs:], out=act[:, 3 * hs:])
    act[:, :2 * hs] += 1
    act[:, 3 * hs:] += 1
    np.reciprocal(act[:, :2 * hs], out=act[:, :2 * hs])
    np.reciprocal(act[:, 3 * hs:], out=act[:, 3 * hs:])
    np.tanh(g[:, 2 * hs:3 * hs], out=act[:, 2 * hs:3 * hs])
    i, f, gg, o = act[:, :hs], act[:, hs:2 * hs], act[:, 2 * hs:3 * hs], act[:, 3 * hs:]
    out = np.empty_like(c, shape=(c.shape[0], 2 * hs), dtype=np.result_type(g.dtype, c.dtype))
    c_new = out[:, hs:]
    np.multiply(f, c, out=c_new)
    c_new += i * gg
    tc = np.tanh(c_new)
    np.multiply(o, tc, out=out[:, :hs])
    node.act, node.tc = act, tc
    return out


def _cell_backward(node: Op, dy: Any, g: Any, c: Any) -> tuple[Any, Any]:
    """(dg, dc) of the cell at `node`, from the activations its forward kept; under create_graph from the
    gates recomputed from g, a Tensor of the graph."""
    xp = node.xp
    hs = c.shape[1]
    dh, dc_new = dy[:, :hs], dy[:, hs:]
    if xp.plain:
        act, tc = node.act, node.tc
        i, f, gg, o = act[:, :hs], act[:, hs:2 * hs], act[:, 2 * hs:3 * hs], act[:, 3 * hs:]
        dc = dh * o * (1 - tc * tc)
        dc += dc_new
        dg = np.empty_like(act)
        np.multiply(dc * gg, i * (1 - i), out=dg[:, :hs])
        np.multiply(dc * c, f * (1 - f), out=dg[:, hs:2 * hs])
        np.multiply(dc * i, 1 - gg * gg, out=dg[:, 2 * hs:3 * hs])
        np.multiply(dh * tc, o * (1 - o), out=dg[:, 3 * hs:])
        return dg, dc * f
    i, f = _sigmoid(xp, g[:, :hs]), _sigmoid(xp, g[:, hs:2 * hs])
    gg, o = xp.tanh(g[:, 2 * hs:3 * hs]), _sigmoid(xp, g[:, 3 * hs:])
    tc = xp.tanh(f * c + i * gg)
    dc = dc_new + dh * o * (1 - tc * tc)
    shape = tuple(g.shape)
    pieces = (dc * gg * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - gg * gg), dh * tc * o * (1 - o))
    dg = None
    for k, piece in enumerate(pieces):
        part = xp.index_add(shape, (slice(None), slice(k * hs, (k + 1) * hs)), piece, True)
        dg = part if dg is None else dg + part
    return dg, dc * f


class LSTMCellUpdate(Op):
    """[h', c'] from gates g (i f g o) and c.  dg_o = dh'·tanh(c')·o(1-o), dc = dC·f, dC = dc' + dh'·o·(1-tanh²c').

    dg_i = dC·ĝ·i(1-i), dg_f = dC·c·f(1-f), dg_g = dC·i·(1-ĝ²). g is (N, 4H) in PyTorch's gate order, c (N, H).
    """

    def forward(self, g, c):
        return _cell_forward(self, g, c)

    def backward(self, dy):
        g, c = self.inputs
        return _cell_backward(self, dy, g, c)

    def release(self) -> None:
        super().release()
        self.act = self.tc = None


class LSTMStep(Op):
    """[h', c'] = the cell (LSTMCellUpdate) of g = [x, h]·Wᵀ + b and c.  d[x, h] = dg·W, dW = dgᵀ·[x, h],
    db = Σ_rows dg; dg and dc as the cell's.

    x (N, F), h (N, P), c (N, H), W = [W_ih, W_hh] (4H, F + P), b (4H,) or None; P = H, or nn.LSTM's
    proj_size. The product and the bias are Linear's (one product with K = F + P), so the numbers are those of
    cat, Linear and the cell as three nodes.
    """

    def forward(self, x, h, c, w, b=None):
        xh = np.concatenate((x, h), axis=1)  # on the arrays' device
        self.xh = xh  # for dW
        return _cell_forward(self, _affine(xh, w, b), c)

    def backward(self, dy):
        xp = self.xp
        x, h, c, w = self.inputs[:4]
        need = self.needs_input_grad
        n_in = x.shape[1]
        if xp.plain:
            dg, dc = _cell_backward(self, dy, None, c)
            dxh = xp.matmul(dg, w) if need[0] or need[1] else None
            dw = xp.matmul(xp.swapaxes(dg, 0, 1), self.xh) if need[3] else None
            dx = dxh[:, :n_in] if need[0] else None
            dh = dxh[:, n_in:] if need[1] else None
        else:  # create_graph: g on the graph, from the inputs as Tensors
            w_x, w_h = w[:, :n_in], w[:, n_in:]
            g = xp.matmul(x, xp.swapaxes(w_x, 0, 1)) + xp.matmul(h, xp.swapaxes(w_h, 0, 1))
            if len(need) > 4:
                g = g + self.inputs[4]
            dg, dc = _cell_backward(self, dy, g, c)
            dx = xp.matmul(dg, w_x) if need[0] else None
            dh = xp.matmul(dg, w_h) if need[1] else None
            dw = None
            if need[3]:
                dgt, shape = xp.swapaxes(dg, 0, 1), tuple(w.shape)
                dw = (xp.index_add(shape, (slice(None), slice(0, n_in)), xp.matmul(dgt, x), True)
                      + xp.index_add(shape, (slice(None), slice(n_in, None)), xp.matmul(dgt, h), True))
        if not need[2]:
            dc = None
        if len(need) == 4:
            return dx, dh, dc, dw
        return dx, dh, dc, dw, (xp.sum(dg, axis=0) if need[4] else None)

    def release(self) -> None:
        super().release()
        self.act = self.tc = self.xh = None


def lstm_cell_update(gates: Tensor, c: Tensor) -> Tensor:
    """[h', c'] (N, 2H) from the gate pre-activations (N, 4H, PyTorch's order i f g o) and c (N, H)."""
    return LSTMCellUpdate.apply(gates, c)


def lstm_step(x: Any, h: Any, c: Any, weight: Any, bias: Any = None) -> Tensor:
    """[h', c'] (N, 2H) of one LSTM time step: the cell of [x, h]·weightᵀ + bias and c, weight = [W_ih, W_hh]
    (4H, F + P) for x (N, F), h (N, P), c (N, H). Under autocast x, h, weight and bias are lowered, as torch's
    linear layers lower them."""
    if _autocast.on:
        x, h, weight, bias = _autocast.cast(_autocast.LOWER, x, h, weight, bias)
    x, h, c, w = as_tensor(x), as_tensor(h), as_tensor(c), as_tensor(weight)
    hs = c.shape[1]
    if (x.ndim != 2 or h.ndim != 2 or c.ndim != 2 or not x.shape[0] == h.shape[0] == c.shape[0]
            or w.shape != (4 * hs, x.shape[1] + h.shape[1])):
        raise RuntimeError(f"lstm_step: expected x (N, F), h (N, P), c (N, H) and weight (4H, F + P); got x "
                           f"{tuple(x.shape)}, h {tuple(h.shape)}, c {tuple(c.shape)}, weight {tuple(w.shape)}")
    if bias is None:
        return LSTMStep.apply(x, h, c, w)
    return LSTMStep.apply(x, h, c, w, as_tensor(bias))
