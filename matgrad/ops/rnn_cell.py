"""The LSTM cell's elementwise part as one op, a whole LSTM time step as one op, and a whole LSTM or GRU
sequence as one op.

    i, f, o = σ(g_i), σ(g_f), σ(g_o);  ĝ = tanh(g_g);  c' = f·c + i·ĝ;  h' = o·tanh(c')

Composed from sigmoid, tanh, slices, products and sums, one time step is about a dozen graph
nodes, and each gate slice's backward writes a zero array the size of all four gates. As one
op it is one node and one gate-sized gradient per step. Measured in one process, interleaved
(an LSTM forward + backward, input 28, hidden 128, sequence 28, batch 128, 1 BLAS thread, on the
2-core AMD EPYC under load): 249 ms against 326 ms composed, a median ratio of 0.79, faster in 10
of 12 rounds.

`LSTMStep` takes the step's gate product into the same node: g = [x, h]·Wᵀ + b, then the cell, where
nn.LSTM made three nodes (cat, Linear, the cell) with the same arithmetic.

`LSTMSequence` runs every step of one direction in one node, as cuDNN's and oneDNN's RNNs do: no graph
machinery per step, and the backward's weight and input gradients are each one product over all T·N rows
instead of T products the engine adds up. nn.LSTM takes it wherever every sequence is as long. `ab.py
10c7e8d --seq --only-extra --rounds 15` (the lstm step: hidden 128, sequence 28, batch 128; 2-core AMD EPYC
Zen 5, OpenBLAS 0.3.31 on its Haswell kernel): 0.831 on two threads, 0.861 on one, 15 of 15 rounds faster.
`GRUSequence` does the same for nn.GRU, whose steps were eight nodes each: the same step with GRU(28, 128)
against the code before (a scratch harness exporting it as ab.py does, 15 rounds): 0.682 on two threads,
0.776 on one; each in its own process, 14.4-15.1 ms a step against PyTorch's 15.5-16.5.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _autocast
from ..autograd.op import Op
from ..kernels import ignoring
from ..tensor import Tensor, as_tensor
from .activation import _logistic
from .linear import _affine, _column_sums


def _sigmoid(xp, x):
    return 1 / (1 + xp.exp(-x))


def _gates(a: Any, hs: int, k: int = 4) -> Any:
    """(N, kH) gates as a (k, N, H) view: gate j's block, a[:, jH:(j+1)H], at index j."""
    return a.reshape(a.shape[0], k, hs).transpose(1, 0, 2)


# The activations are kept gate-major, (4, N, H): each gate a contiguous block (GRUSequence keeps r and z so
# too). NumPy runs a pass over a column slice of (N, 4H) row by row, one inner loop of H per row; over a
# block, one loop. The same ufuncs on the same values in the same order: the same bits as before. Measured
# on a 2-core AMD EPYC Zen 5, NumPy 2.4.6, scipy-openblas 0.3.31 (SkylakeX kernel), float32: the cell alone
# at N = H = 128 on one thread, forward 142 -> 94 µs and backward 105 -> 69 µs (medians of 15); bench_seq's
# LSTM step against the column slices (ab.py --seq, 15 rounds) 0.883 on two threads and 0.878 on one, the
# same step with nn.GRU 0.966 and 0.959.
def _cell(g: Any, c: Any, act: Any, h_new: Any, c_new: Any, tc: Any = None) -> Any:
    """The cell's forward into given arrays: act (4, N, H) the gate activations i, f, ĝ, o, h_new and c_new
    (N, H); returns tanh(c') (into `tc` when given)."""
    g4 = _gates(g, c.shape[1])
    sig, o = act[:2], act[3]  # σ for i and f, tanh for ĝ, σ for o
    np.negative(g4[:2], out=sig)
    np.negative(g4[3], out=o)
    np.exp(sig, out=sig)
    np.exp(o, out=o)
    sig += 1
    o += 1
    np.reciprocal(sig, out=sig)
    np.reciprocal(o, out=o)
    np.tanh(g4[2], out=act[2])
    i, f, gg = act[0], act[1], act[2]
    np.multiply(f, c, out=c_new)
    tc = np.multiply(i, gg, out=tc)  # i·ĝ, in the room tanh(c') fills next
    c_new += tc
    np.tanh(c_new, out=tc)
    np.multiply(o, tc, out=h_new)
    return tc


def _cell_forward(node: Op, g: Any, c: Any) -> Any:
    """[h', c'] from gates g (N, 4H) and c (N, H); keeps the activations and tanh(c') on `node` for its backward."""
    n, hs = c.shape
    act = np.empty_like(g, shape=(4, n, hs))  # gate-major (see _cell)
    out = np.empty_like(c, shape=(n, 2 * hs), dtype=np.result_type(g.dtype, c.dtype))
    node.tc = _cell(g, c, act, out[:, :hs], out[:, hs:])
    node.act = act
    return out


def _sigmoid_slope(s: Any, out: Any) -> Any:
    """σ' = s·(1 - s) from σ's output s, into `out`."""
    np.subtract(1, s, out=out)
    out *= s
    return out


def _cell_grads(act: Any, tc: Any, dh: Any, dc_new: Any, c: Any, dg: Any) -> Any:
    """The cell's backward on the kept activations act (4, N, H): dg (N, 4H) written into `dg`; returns
    dc = dC·f. dc_new may be None (no gradient reaches c'). Each gate's dg is (upstream·x)·slope, through
    two scratch arrays a and b."""
    i, f, gg, o = act[0], act[1], act[2], act[3]
    dg4 = _gates(dg, c.shape[1])
    dc = np.multiply(dh, o)  # dC = dh'·o·(1 - tanh²c') + dc'
    a, b = np.empty_like(dc), np.empty_like(dc)
    np.multiply(tc, tc, out=a)
    dc *= np.subtract(1, a, out=a)
    if dc_new is not None:
        dc += dc_new
    np.multiply(np.multiply(dc, gg, out=a), _sigmoid_slope(i, b), out=dg4[0])  # dg_i = dC·ĝ·i(1-i)
    np.multiply(np.multiply(dc, c, out=a), _sigmoid_slope(f, b), out=dg4[1])  # dg_f = dC·c·f(1-f)
    np.multiply(gg, gg, out=b)
    np.multiply(np.multiply(dc, i, out=a), np.subtract(1, b, out=b), out=dg4[2])  # dg_g = dC·i·(1-ĝ²)
    np.multiply(np.multiply(dh, tc, out=a), _sigmoid_slope(o, b), out=dg4[3])  # dg_o = dh'·tanh(c')·o(1-o)
    dc *= f
    return dc


def _cell_backward(node: Op, dy: Any, g: Any, c: Any) -> tuple[Any, Any]:
    """(dg, dc) of the cell at `node`, from the activations its forward kept; under create_graph from the
    gates recomputed from g, a Tensor of the graph."""
    xp = node.xp
    n, hs = c.shape
    dh, dc_new = dy[:, :hs], dy[:, hs:]
    if xp.plain:
        dg = np.empty_like(node.act, shape=(n, 4 * hs))
        return dg, _cell_grads(node.act, node.tc, dh, dc_new, c, dg)
    return _cell_grads_graph(xp, dh, dc_new, g, c)


def _cell_grads_graph(xp: Any, dh: Any, dc_new: Any, g: Any, c: Any) -> tuple[Any, Any]:
    """_cell_grads under create_graph: the gates recomputed from g on the graph; (dg, dc), Tensors."""
    hs = c.shape[1]
    i, f = _sigmoid(xp, g[:, :hs]), _sigmoid(xp, g[:, hs:2 * hs])
    gg, o = xp.tanh(g[:, 2 * hs:3 * hs]), _sigmoid(xp, g[:, 3 * hs:])
    tc = xp.tanh(f * c + i * gg)
    dc = dh * o * (1 - tc * tc)
    if dc_new is not None:
        dc = dc_new + dc
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
        return dx, dh, dc, dw, (_column_sums(xp, dg) if need[4] else None)

    def release(self) -> None:
        super().release()
        self.act = self.tc = self.xh = None


class LSTMSequence(Op):
    """[h_1 … h_T, c_T] = LSTMStep over every step.  dh_{t-1} = dg_t·W_h, dX = dG·W_x, dW = dGᵀ·[X, H₋₁], db = Σ dG.

    Backprop through time inside one node: each dg_t from the cell's backward (as LSTMStep's), the
    recurrence's dh_{t-1} step by step, then dX, dW and db over every step at once.

    x (T·N, F) the steps' inputs, time-major; h0, c0 (N, H); W = [W_ih, W_hh] (4H, F + H); b (4H,) or None.
    The output (T·N + N, H) holds h_t in rows t·N … t·N + N − 1 (time order, whichever way the steps run)
    and the final c in the last N rows. `reverse` runs the steps from T − 1 down to 0.

    Each step's forward is LSTMStep's, on the same arrays in the same order: the outputs are its bits.
    The backward's weight gradient is one product over all T·N rows where T LSTMSteps give T products
    the engine then adds up, and the input gradient one product: equal up to the order of the sums.
    """

    def forward(self, x, h0, c0, w, b=None, *, steps, reverse=False):
        self.steps, self.reverse = steps, reverse
        n, hs = c0.shape
        n_in = x.shape[1]
        dtype = np.result_type(x.dtype, h0.dtype, c0.dtype, w.dtype)
        xh = np.empty((steps, n, n_in + hs), dtype)  # each step's [x_t, h_{t-1}], kept for dW
        xh[:, :, :n_in] = x.reshape(steps, n, n_in)
        act = np.empty((steps, 4, n, hs), dtype)  # each step's gate-major (see _cell)
        cs = np.empty((steps, n, hs), dtype)
        tcs = np.empty((steps, n, hs), dtype)
        out = np.empty((steps * n + n, hs), dtype)
        hseq = out[:steps * n].reshape(steps, n, hs)
        h, c = h0, c0
        for t in range(steps - 1, -1, -1) if reverse else range(steps):
            xh[t, :, n_in:] = h
            _cell(_affine(xh[t], w, b), c, act[t], hseq[t], cs[t], tcs[t])
            h, c = hseq[t], cs[t]
        out[steps * n:] = c
        self.xh, self.act, self.cs, self.tcs = xh, act, cs, tcs
        return out

    def backward(self, dy):
        xp = self.xp
        x, h0, c0, w = self.inputs[:4]
        need = self.needs_input_grad
        if not xp.plain:
            return self._graph_backward(dy, x, h0, c0, w, self.inputs[4] if len(need) > 4 else None)
        steps, reverse = self.steps, self.reverse
        n, hs = c0.shape
        n_in = x.shape[1]
        act, cs, tcs = self.act, self.cs, self.tcs
        dys = dy[:steps * n].reshape(steps, n, hs)
        dc = dy[steps * n:]
        w_h = w[:, n_in:]
        dgs = np.empty((steps, n, 4 * hs), act.dtype)
        dh = None
        order = range(steps) if reverse else range(steps - 1, -1, -1)  # the forward's steps, newest first
        last = order[-1]
        for t in order:
            prev = t + 1 if reverse else t - 1
            c_prev = c0 if prev < 0 or prev >= steps else cs[prev]
            d = dys[t] if dh is None else dys[t] + dh
            dc = _cell_grads(act[t], tcs[t], d, dc, c_prev, dgs[t])
            dh = np.matmul(dgs[t], w_h) if t != last or need[1] else None  # dh_{t-1} = dg_t·W_h
        dg = dgs.reshape(steps * n, 4 * hs)
        dx = np.matmul(dg, w[:, :n_in]) if need[0] else None
        dw = np.matmul(dg.T, self.xh.reshape(steps * n, n_in + hs)) if need[3] else None
        grads = (dx, dh if need[1] else None, dc if need[2] else None, dw)
        if len(need) == 4:
            return grads
        return (*grads, _column_sums(np, dg) if need[4] else None)

    def _graph_backward(self, dy, x, h0, c0, w, b):
        """The backward under create_graph: the steps' gates recomputed from the inputs on the graph, then
        each step's LSTMStep backward formulas, so the gradients can be differentiated again."""
        xp = self.xp
        steps, reverse = self.steps, self.reverse
        n, hs = c0.shape
        n_in = x.shape[1]
        w_x, w_h = w[:, :n_in], w[:, n_in:]
        rows = [slice(t * n, (t + 1) * n) for t in range(steps)]
        order = list(range(steps - 1, -1, -1) if reverse else range(steps))
        gates, c_prev, h_prev = [None] * steps, [None] * steps, [None] * steps
        h, c = h0, c0
        for t in order:  # the forward again, on the graph
            g = xp.matmul(x[rows[t]], xp.swapaxes(w_x, 0, 1)) + xp.matmul(h, xp.swapaxes(w_h, 0, 1))
            if b is not None:
                g = g + b
            gates[t], c_prev[t], h_prev[t] = g, c, h
            i, f = _sigmoid(xp, g[:, :hs]), _sigmoid(xp, g[:, hs:2 * hs])
            c = f * c + i * xp.tanh(g[:, 2 * hs:3 * hs])
            h = _sigmoid(xp, g[:, 3 * hs:]) * xp.tanh(c)
        dc = dy[steps * n:]
        dh = dx = dw = db = None
        x_shape, w_shape = tuple(x.shape), tuple(w.shape)
        for t in reversed(order):
            d = dy[rows[t]] if dh is None else dy[rows[t]] + dh
            dg, dc = _cell_grads_graph(xp, d, dc, gates[t], c_prev[t])
            dh = xp.matmul(dg, w_h)
            dgt = xp.swapaxes(dg, 0, 1)
            parts = [xp.index_add(w_shape, (slice(None), slice(0, n_in)), xp.matmul(dgt, x[rows[t]]), True),
                     xp.index_add(w_shape, (slice(None), slice(n_in, None)), xp.matmul(dgt, h_prev[t]), True)]
            if self.needs_input_grad[0]:
                part = xp.index_add(x_shape, (rows[t], slice(None)), xp.matmul(dg, w_x), True)
                dx = part if dx is None else dx + part
            for part in parts:
                dw = part if dw is None else dw + part
            db = xp.sum(dg, axis=0) if db is None else db + xp.sum(dg, axis=0)
        need = self.needs_input_grad
        grads = (dx, dh if need[1] else None, dc if need[2] else None, dw if need[3] else None)
        return grads if len(need) == 4 else (*grads, db if need[4] else None)

    def release(self) -> None:
        super().release()
        self.act = self.cs = self.tcs = self.xh = None


class GRUSequence(Op):
    """[h_1 … h_T] = nn.GRU's steps.  dh_{t-1} = dh_t·z + dG_h·W_hh, dX = dG_x·W_ih, dW_ih = dG_xᵀ·X, dW_hh = dG_hᵀ·H₋₁.

    Each step: [r, z] = σ(g_x + g_h) over the first 2H gates, n = tanh(g_x,n + r·g_h,n), h' = n + z·(h − n),
    with g_x = x_t·W_ihᵀ + b_ih (every step's in one product up front) and g_h = h·W_hhᵀ + b_hh. Backward:
    dn = dh'·(1 − z), dz = dh'·(h − n), da = dn·(1 − n²); dG_x = [dr·r(1 − r), dz·z(1 − z), da],
    dG_h = [the same, da·r], dr = da·g_h,n; db_ih and db_hh the sums of dG_x and dG_h.

    x (T·N, F) time-major, h0 (N, H), W_ih (3H, F), W_hh (3H, H), b_ih and b_hh (3H,) or neither. The
    output (T·N, H) holds h_t in rows t·N … t·N + N − 1, whichever way the steps run (`reverse`).
    """

    @ignoring(over="ignore")  # e⁻ᵃ = inf for very negative a, and 1/(1+inf) is exactly 0: right
    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, steps, reverse=False):
        self.steps, self.reverse = steps, reverse
        n, hs = h0.shape
        gx = _affine(x, w_ih, b_ih).reshape(steps, n, 3 * hs)
        out = np.empty((steps * n, hs), gx.dtype)
        hseq = out.reshape(steps, n, hs)
        rz = np.empty((steps, 2, n, hs), gx.dtype)  # r and z gate-major, as the LSTM's (see _cell)
        nn = np.empty((steps, n, hs), gx.dtype)
        ghn = np.empty((steps, n, hs), gx.dtype)
        h = h0
        for t in range(steps - 1, -1, -1) if reverse else range(steps):
            gh = _affine(h, w_hh, b_hh)
            gx3, gh3 = _gates(gx[t], hs, 3), _gates(gh, hs, 3)
            _logistic(np.add(gx3[:2], gh3[:2], out=rz[t]), out=rz[t])
            ghn[t] = gh3[2]
            np.multiply(rz[t, 0], ghn[t], out=nn[t])
            nn[t] += gx3[2]
            np.tanh(nn[t], out=nn[t])
            np.subtract(h, nn[t], out=hseq[t])  # h' = n + z·(h − n)
            hseq[t] *= rz[t, 1]
            hseq[t] += nn[t]
            h = hseq[t]
        self.rz, self.nn, self.ghn, self.hseq = rz, nn, ghn, hseq
        return out

    def _h_prev(self, h0):
        """Every step's h_{t-1} (T, N, H), in time order."""
        hseq = self.hseq
        h_prev = np.empty_like(hseq)
        if self.reverse:
            h_prev[:-1], h_prev[-1] = hseq[1:], h0
        else:
            h_prev[1:], h_prev[0] = hseq[:-1], h0
        return h_prev

    def backward(self, dy):
        xp = self.xp
        x, h0, w_ih, w_hh = self.inputs[:4]
        need = self.needs_input_grad
        if not xp.plain:
            return self._graph_backward(dy, x, h0, w_ih, w_hh, *self.inputs[4:])
        steps, reverse = self.steps, self.reverse
        n, hs = h0.shape
        rz, nn, ghn = self.rz, self.nn, self.ghn
        h_prev = self._h_prev(h0)
        dys = dy.reshape(steps, n, hs)
        dgx = np.empty((steps, n, 3 * hs), rz.dtype)
        dgh = np.empty_like(dgx)
        a, b, da = np.empty_like(h_prev[0]), np.empty_like(h_prev[0]), np.empty_like(h_prev[0])  # scratch
        dh = None
        order = range(steps) if reverse else range(steps - 1, -1, -1)  # the forward's steps, newest first
        last = order[-1]
        for t in order:
            d = dys[t] if dh is None else dys[t] + dh
            r, z, n_t = rz[t, 0], rz[t, 1], nn[t]
            dgx3, dgh3 = _gates(dgx[t], hs, 3), _gates(dgh[t], hs, 3)
            np.subtract(1, z, out=a)
            np.multiply(n_t, n_t, out=b)
            np.multiply(np.multiply(d, a, out=a), np.subtract(1, b, out=b), out=da)  # da = dn·(1 − n²)
            dgx3[2] = da
            np.multiply(da, r, out=dgh3[2])
            np.multiply(np.multiply(da, ghn[t], out=a), _sigmoid_slope(r, b), out=dgx3[0])  # dr·r(1 − r)
            np.subtract(h_prev[t], n_t, out=a)
            np.multiply(np.multiply(d, a, out=a), _sigmoid_slope(z, b), out=dgx3[1])  # dz·z(1 − z)
            dgh3[:2] = dgx3[:2]
            if t != last or need[1]:  # dh_{t-1} = dh'·z + dG_h·W_hh
                dh = d * z
                dh += np.matmul(dgh[t], w_hh)
        gx, gh = dgx.reshape(steps * n, 3 * hs), dgh.reshape(steps * n, 3 * hs)
        grads = (np.matmul(gx, w_ih) if need[0] else None, dh if need[1] else None,
                 np.matmul(gx.T, x) if need[2] else None,
                 np.matmul(gh.T, h_prev.reshape(steps * n, hs)) if need[3] else None)
        if len(need) == 4:
            return grads
        return (*grads, _column_sums(np, gx) if need[4] else None, _column_sums(np, gh) if need[5] else None)

    def _graph_backward(self, dy, x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
        """The backward under create_graph: the steps recomputed from the inputs on the graph, then the
        formulas above as graph ops, so the gradients can be differentiated again."""
        xp = self.xp
        steps, reverse = self.steps, self.reverse
        n, hs = h0.shape
        rows = [slice(t * n, (t + 1) * n) for t in range(steps)]
        order = list(range(steps - 1, -1, -1) if reverse else range(steps))
        saved: list[Any] = [None] * steps
        h = h0
        for t in order:  # the forward again, on the graph
            gx = xp.matmul(x[rows[t]], xp.swapaxes(w_ih, 0, 1))
            gh = xp.matmul(h, xp.swapaxes(w_hh, 0, 1))
            if b_ih is not None:
                gx, gh = gx + b_ih, gh + b_hh
            r = _sigmoid(xp, gx[:, :hs] + gh[:, :hs])
            z = _sigmoid(xp, gx[:, hs:2 * hs] + gh[:, hs:2 * hs])
            n_t = xp.tanh(gx[:, 2 * hs:] + r * gh[:, 2 * hs:])
            saved[t] = (h, r, z, n_t, gh[:, 2 * hs:])
            h = n_t + z * (h - n_t)
        dh = dx = dw_ih = dw_hh = db_ih = db_hh = None
        shape = (n, 3 * hs)
        for t in reversed(order):
            h_prev, r, z, n_t, ghn = saved[t]
            d = dy[rows[t]] if dh is None else dy[rows[t]] + dh
            da = d * (1 - z) * (1 - n_t * n_t)
            drz = (da * ghn * r * (1 - r), d * (h_prev - n_t) * z * (1 - z))
            both = [xp.index_add(shape, (slice(None), slice(k * hs, (k + 1) * hs)), p, True) for k, p in enumerate(drz)]
            gx = both[0] + both[1] + xp.index_add(shape, (slice(None), slice(2 * hs, None)), da, True)
            gh = both[0] + both[1] + xp.index_add(shape, (slice(None), slice(2 * hs, None)), da * r, True)
            dh = d * z + xp.matmul(gh, w_hh)
            part = xp.index_add(tuple(x.shape), (rows[t], slice(None)), xp.matmul(gx, w_ih), True)
            pieces = (part, xp.matmul(xp.swapaxes(gx, 0, 1), x[rows[t]]), xp.matmul(xp.swapaxes(gh, 0, 1), h_prev),
                      xp.sum(gx, axis=0), xp.sum(gh, axis=0))
            dx, dw_ih, dw_hh, db_ih, db_hh = (p if acc is None else acc + p for acc, p in
                                              zip((dx, dw_ih, dw_hh, db_ih, db_hh), pieces))
        need = self.needs_input_grad
        grads = tuple(g if k else None for g, k in zip((dx, dh, dw_ih, dw_hh, db_ih, db_hh), need))
        return grads

    def release(self) -> None:
        super().release()
        self.rz = self.nn = self.ghn = self.hseq = None


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


def lstm_sequence(x: Any, h0: Any, c0: Any, weight: Any, bias: Any = None, *, steps: int,
                  reverse: bool = False) -> Tensor:
    """[h_1 … h_T, c_T] (T·N + N, H) of an LSTM over a whole sequence, one node (LSTMSequence): x (T·N, F)
    time-major, h0 and c0 (N, H), weight = [W_ih, W_hh] (4H, F + H), bias (4H,) or None; one dtype throughout."""
    x, h0, c0, w = as_tensor(x), as_tensor(h0), as_tensor(c0), as_tensor(weight)
    n, hs = (int(c0.shape[0]), int(c0.shape[1])) if c0.ndim == 2 else (0, 0)
    if (x.ndim != 2 or h0.ndim != 2 or c0.ndim != 2 or h0.shape != c0.shape or steps < 1 or n < 1
            or x.shape[0] != steps * n or w.shape != (4 * hs, x.shape[1] + hs)
            or (bias is not None and tuple(as_tensor(bias).shape) != (4 * hs,))):
        raise RuntimeError(f"lstm_sequence: expected x (steps·N, F) with steps={steps}, h0 and c0 (N, H) with N ≥ 1, "
                           f"weight (4H, F + H) and bias (4H,); got x {tuple(x.shape)}, h0 {tuple(h0.shape)}, c0 "
                           f"{tuple(c0.shape)}, weight {tuple(w.shape)}"
                           + ("" if bias is None else f", bias {tuple(as_tensor(bias).shape)}"))
    dtypes = {t.dtype for t in (x, h0, c0, w)} | ({as_tensor(bias).dtype} if bias is not None else set())
    if len(dtypes) != 1:
        raise TypeError("lstm_sequence: x, h0, c0, weight and bias must share one dtype, got "
                        f"{sorted(map(str, dtypes))}; convert them with .to(dtype)")
    if bias is None:
        return LSTMSequence.apply(x, h0, c0, w, steps=steps, reverse=reverse)
    return LSTMSequence.apply(x, h0, c0, w, as_tensor(bias), steps=steps, reverse=reverse)


def gru_sequence(x: Any, h0: Any, weight_ih: Any, weight_hh: Any, bias_ih: Any = None, bias_hh: Any = None, *,
                 steps: int, reverse: bool = False) -> Tensor:
    """[h_1 … h_T] (T·N, H) of a GRU over a whole sequence, one node (GRUSequence): x (T·N, F) time-major,
    h0 (N, H), weight_ih (3H, F), weight_hh (3H, H), both biases (3H,) or neither; one dtype throughout."""
    x, h0, w_ih, w_hh = as_tensor(x), as_tensor(h0), as_tensor(weight_ih), as_tensor(weight_hh)
    biases = () if bias_ih is None and bias_hh is None else tuple(b if b is None else as_tensor(b)
                                                                   for b in (bias_ih, bias_hh))
    n, hs = (int(h0.shape[0]), int(h0.shape[1])) if h0.ndim == 2 else (0, 0)
    if (x.ndim != 2 or h0.ndim != 2 or steps < 1 or n < 1 or x.shape[0] != steps * n
            or w_ih.shape != (3 * hs, x.shape[1]) or w_hh.shape != (3 * hs, hs)
            or any(b is None or tuple(b.shape) != (3 * hs,) for b in biases)):
        raise RuntimeError(f"gru_sequence: expected x (steps·N, F) with steps={steps}, h0 (N, H) with N ≥ 1, "
                           f"weight_ih (3H, F), weight_hh (3H, H) and both biases (3H,) or neither; got x "
                           f"{tuple(x.shape)}, h0 {tuple(h0.shape)}, weight_ih {tuple(w_ih.shape)}, weight_hh "
                           f"{tuple(w_hh.shape)}" + "".join(f", bias {b if b is None else tuple(b.shape)}"
                                                            for b in biases))
    dtypes = {t.dtype for t in (x, h0, w_ih, w_hh, *biases)}
    if len(dtypes) != 1:
        raise TypeError("gru_sequence: x, h0, the weights and the biases must share one dtype, got "
                        f"{sorted(map(str, dtypes))}; convert them with .to(dtype)")
    return GRUSequence.apply(x, h0, w_ih, w_hh, *biases, steps=steps, reverse=reverse)
