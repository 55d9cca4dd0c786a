"""Recurrent layers with PyTorch's API, weights and gate order: RNN, LSTM, GRU and their cells.

Built from matgrad's differentiable ops, so higher-order gradients and the explainer come from the graph.
Each step does one gate product [x_t, h]·[W_ih, W_hh]ᵀ + b (the GRU two, since its reset gate scales
h's). An LSTM or GRU direction whose sequences are all as long is one node (ops/rnn_cell.py's LSTMSequence
and GRUSequence, backprop through time inside it); otherwise each LSTM step is one node (LSTMStep) and each
GRU step a few.

    lstm = nn.LSTM(28, 128, num_layers=2, batch_first=True)
    out, (h_n, c_n) = lstm(x)          # x (B, T, 28) → out (B, T, 128), h_n, c_n (2, B, 128)

Gates (PyTorch's order and formulas):
    LSTM  i, f, g, o:  c' = σ(f)·c + σ(i)·tanh(g),   h' = σ(o)·tanh(c')   (h' · W_hrᵀ with proj_size)
    GRU   r, z, n:     n = tanh(W_in x + b_in + σ(r)·(W_hn h + b_hn)),   h' = (1 − σ(z))·n + σ(z)·h
    RNN               h' = tanh(W_ih x + b_ih + W_hh h + b_hh)   (or relu)
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from .. import _autocast, memory
from ..creation import as_tensor, zeros
from ..ops.activation import relu, sigmoid, tanh
from ..ops.join import cat, split, stack
from ..ops.rnn_cell import gru_sequence, lstm_sequence, lstm_step
from ..ops.scatter import index_select
from ..ops.shape import reshape, squeeze, transpose, unsqueeze
from ..tensor import Tensor, get_default_dtype
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter, _place
from .utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _shape(t: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in t.shape)


# --- one direction of one layer ---------------------------------------------------------------

def _run_direction(mode: str, steps: list[Tensor], bs: list[int], h0: Tensor, c0: Tensor | None, w_ih: Tensor,
                   w_hh: Tensor, bias: Tensor | None, b_hh: Tensor | None, w_hr: Tensor | None, reverse: bool
                   ) -> tuple[list[Tensor], Tensor, Tensor | None]:
    """Run the recurrence over the per-step inputs `steps[t]` (bs[t], F).

    One fused gate product per step, [x_t, h] · [W_ih, W_hh]ᵀ + b: for the LSTM in one node with the cell
    (ops/rnn_cell.py's LSTMStep), for the RNN a Linear node with its bias (GRU: x_t·W_ihᵀ + b_ih and
    h·W_hhᵀ + b_hh apart, since its reset gate scales the second). Projecting each step's input here,
    rather than the whole sequence up front and slicing it, keeps the backward linear in the sequence
    length: each slice's gradient is a zero array of the whole projection, T of them.

    bs[t] sequences are running at step t (decreasing: a PackedSequence's batch_sizes). The
    forward direction drops finished rows and keeps their last state; the reverse direction
    starts each row from its h0 at its own last step. Returns the per-step outputs in time
    order, and the final h and c of every row.
    """
    T = len(steps)
    order = range(T - 1, -1, -1) if reverse else range(T)
    w_cat = cat([w_ih, w_hh], 1) if mode != "GRU" else None  # (G·H, F + H), as a Linear's weight
    outs: list[Tensor | None] = [None] * T
    done_h: list[Tensor] = []
    done_c: list[Tensor] = []
    if reverse:
        n0 = bs[T - 1] if T else 0
        h, c = h0[:n0] if n0 != h0.shape[0] else h0, None
        if c0 is not None:
            c = c0[:n0] if n0 != c0.shape[0] else c0
    else:
        h, c = h0, c0
    for t in order:
        n = bs[t]
        rows = h.shape[0]
        if n < rows:  # forward: sequences n.. end here
            done_h.append(h[n:])
            h = h[:n]
            if c is not None:
                done_c.append(c[n:])
                c = c[:n]
        elif n > rows:  # reverse: sequences rows..n start here
            h = cat([h, h0[rows:n]], 0)
            if c is not None:
                c = cat([c, c0[rows:n]], 0)
        x = steps[t]
        if mode == "LSTM":
            hs = c.shape[1]
            hc = lstm_step(x, h, c, w_cat, bias)  # the gate product and the cell as one node (ops/rnn_cell.py)
            h, c = hc[:, :hs], hc[:, hs:]
            if w_hr is not None:
                h = F.linear(h, w_hr)
        elif mode == "GRU":
            hs = h.shape[1]
            x = F.linear(x, w_ih, bias)
            gh = F.linear(h, w_hh, b_hh)
            rz = sigmoid(x[:, :2 * hs] + gh[:, :2 * hs])
            z = rz[:, hs:]
            nn_ = tanh(x[:, 2 * hs:] + rz[:, :hs] * gh[:, 2 * hs:])
            h = nn_ + z * (h - nn_)
        else:
            g = F.linear(cat([x, h], 1), w_cat, bias)
            h = tanh(g) if mode == "RNN_TANH" else relu(g)
        outs[t] = h
    if done_h:
        h = cat([h] + done_h[::-1], 0)
        if c is not None:
            c = cat([c] + done_c[::-1], 0)
    return outs, h, c  # type: ignore[return-value]


def _whole_sequence(flat: Tensor, bs: list[int], B: int, h0: Tensor, c0: Tensor | None, w_ih: Tensor) -> bool:
    """Whether an LSTM or GRU direction can run as one node: every sequence as long (no PackedSequence of several
    lengths), a batch, NumPy arrays of one dtype, no autocast (which lowers each step's products)."""
    c = h0 if c0 is None else c0
    return (bool(bs) and B > 0 and bs.count(B) == len(bs) and not _autocast.on
            and type(flat.array) is np.ndarray and type(h0.array) is np.ndarray and type(c.array) is np.ndarray
            and flat.dtype == h0.dtype == c.dtype == w_ih.dtype)


def _lstm_direction(flat: Tensor, bs: list[int], B: int, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor,
                    bias: Tensor | None, reverse: bool) -> tuple[Tensor, Tensor, Tensor]:
    """One LSTM direction over time-major rows `flat` (T·B, F) as one node (ops/rnn_cell.py's LSTMSequence,
    the same steps as _run_direction's LSTMStep nodes): (the outputs (T·B, H), h_n, c_n)."""
    rows = len(bs) * B
    seq = lstm_sequence(flat, h0, c0, cat([w_ih, w_hh], 1), bias, steps=len(bs), reverse=reverse)
    h_last = seq[:B] if reverse else seq[rows - B:rows]  # the h of the last step run
    return seq[:rows], h_last, seq[rows:]


def _gru_direction(flat: Tensor, bs: list[int], B: int, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
                   b_hh: Tensor | None, reverse: bool) -> tuple[Tensor, Tensor]:
    """One GRU direction over time-major rows `flat` (T·B, F) as one node (ops/rnn_cell.py's GRUSequence, the
    steps _run_direction makes): (the outputs (T·B, H), h_n)."""
    rows = len(bs) * B
    seq = gru_sequence(flat, h0, w_ih, w_hh, b_ih, b_hh, steps=len(bs), reverse=reverse)
    return seq, (seq[:B] if reverse else seq[rows - B:rows])


class RNNBase(Module):
    """The multi-layer, optionally bidirectional recurrence shared by RNN, LSTM and GRU."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             f"element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=2)
        for name, v in (("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError(f"proj_size has to be smaller than hidden_size (got proj_size={proj_size}, "
                             f"hidden_size={hidden_size})")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        gate = _GATES[mode] * hidden_size
        real_h = proj_size if proj_size > 0 else hidden_size
        D = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(D):
                layer_in = input_size if layer == 0 else real_h * D
                sfx = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate, layer_in)), ("weight_hh", (gate, real_h))]
                if bias:
                    shapes += [("bias_ih", (gate,)), ("bias_hh", (gate,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                names = []
                for base, shape in shapes:
                    setattr(self, base + sfx, Parameter(memory.empty(shape, dt)))
                    names.append(base + sfx)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()
        _place(self, device)  # PyTorch's device=: made on the host (same draws), then moved

    def reset_parameters(self) -> None:
        """Every weight and bias U(±1/√hidden_size), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    @property
    def _flat_weights(self) -> list[Tensor]:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op (cuDNN's weight layout does not apply)."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # --- checks with PyTorch's messages, naming the argument and both shapes -----------------

    def _check_hidden(self, hx: Tensor, expected: tuple[int, ...], arg: str) -> None:
        if _shape(hx) != expected:
            raise RuntimeError(f"{type(self).__name__}: Expected hidden size {expected}, got {list(_shape(hx))} "
                               f"(argument {arg} has shape {_shape(hx)}, expected {expected})")

    def forward(self, input: Any, hx: Any = None) -> Any:
        name = type(self).__name__
        is_lstm = self.mode == "LSTM"
        D = 2 if self.bidirectional else 1
        real_h = self.proj_size if self.proj_size > 0 else self.hidden_size
        w0 = getattr(self, self._flat_weights_names[0])
        packed = isinstance(input, PackedSequence)
        unbatched = False
        if packed:
            data = as_tensor(input.data)
            bs = [int(b) for b in as_tensor(input.batch_sizes).tolist()]  # host ints, whatever the device
            sorted_idx, unsorted_idx = input.sorted_indices, input.unsorted_indices
            if data.ndim != 2:
                raise RuntimeError(f"{name}: input must have 2 dimensions, got {data.ndim} (the PackedSequence's "
                                   f"data has shape {_shape(data)}, expected (sum of lengths, {self.input_size}))")
            B = bs[0] if bs else 0
        else:
            x = as_tensor(input)
            if x.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {x.ndim}D instead (input has shape "
                                 f"{_shape(x)}, expected (L, N, {self.input_size}), "
                                 f"(N, L, {self.input_size}) with batch_first, or (L, {self.input_size}))")
            unbatched = x.ndim == 2
            if unbatched:
                x = unsqueeze(x, 1)
            elif self.batch_first:
                x = transpose(x, 0, 1)
            T, B = x.shape[0], x.shape[1]
            if T == 0:  # PyTorch's check (an empty batch, B = 0, is fine)
                raise RuntimeError(f"{name}: Expected sequence length to be larger than 0 in RNN (input has shape "
                                   f"{_shape(as_tensor(input))}); leave out empty sequences")
            data = x
            bs = [B] * T
            sorted_idx = unsorted_idx = None
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {data.shape[-1]} (input has shape {_shape(data)})")
        if data.dtype != w0.dtype:
            raise ValueError(f"RNN input dtype ({data.dtype}) does not match weight dtype ({w0.dtype}). Convert "
                             f"input: input.to({w0.dtype}), or convert model: model.to({data.dtype})")
        h_shape = (self.num_layers * D, B, real_h)
        c_shape = (self.num_layers * D, B, self.hidden_size)
        h0 = c0 = None
        if hx is not None:
            if is_lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise TypeError(f"{name}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
                h0, c0 = as_tensor(hx[0]), as_tensor(hx[1])
            else:
                if isinstance(hx, (tuple, list)):
                    raise TypeError(f"{name}: hx must be a Tensor, got {type(hx).__name__}")
                h0 = as_tensor(hx)
            for t_, arg in ((h0, "h_0"), (c0, "c_0")):
                if t_ is None:
                    continue
                if unbatched and t_.ndim != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {t_.ndim}-D tensor "
                                       f"({arg} has shape {_shape(t_)}, input {_shape(input)})")
                if not unbatched and t_.ndim != 3:
                    raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {t_.ndim}-D tensor "
                                       f"({arg} has shape {_shape(t_)}, input {_shape(data)})")
            if unbatched:
                h0 = unsqueeze(h0, 1)
                c0 = unsqueeze(c0, 1) if c0 is not None else None
            self._check_hidden(h0, h_shape, "h_0" if is_lstm else "hx")
            if c0 is not None:
                if _shape(c0) != c_shape:
                    raise RuntimeError(f"{name}: Expected hidden[1] size {c_shape}, got {list(_shape(c0))} "
                                       f"(argument c_0 has shape {_shape(c0)}, expected {c_shape})")
            if sorted_idx is not None:
                h0 = index_select(h0, 1, sorted_idx)
                c0 = index_select(c0, 1, sorted_idx) if c0 is not None else None
        else:
            h0 = zeros(h_shape, dtype=data.dtype, device=data.device)
            c0 = zeros(c_shape, dtype=data.dtype, device=data.device) if is_lstm else None

        flat = data if packed else reshape(data, (len(bs) * B, self.input_size))
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            dir_outs = []
            for d in range(D):
                k = layer * D + d
                params = dict(zip([n.rsplit("_l", 1)[0] for n in self._all_weights[k]],
                                  [getattr(self, n) for n in self._all_weights[k]]))
                w_ih, w_hh = params["weight_ih"], params["weight_hh"]
                b_ih, b_hh = params.get("bias_ih"), params.get("bias_hh")
                bias = None if b_ih is None else (b_ih if self.mode == "GRU" else b_ih + b_hh)
                w_hr = params.get("weight_hr")
                if self.mode in ("LSTM", "GRU") and w_hr is None and _whole_sequence(flat, bs, B, h0, c0, w_ih):
                    if self.mode == "LSTM":
                        outs_flat, hn, cn = _lstm_direction(flat, bs, B, h0[k], c0[k], w_ih, w_hh, bias, d == 1)
                        c_n.append(cn)
                    else:
                        outs_flat, hn = _gru_direction(flat, bs, B, h0[k], w_ih, w_hh, b_ih, b_hh, d == 1)
                    dir_outs.append(outs_flat)
                    h_n.append(hn)
                    continue
                steps = list(split(flat, bs, 0)) if bs else []
                outs, hn, cn = _run_direction(
                    self.mode, steps, bs, h0[k], c0[k] if c0 is not None else None, w_ih, w_hh, bias,
                    b_hh if self.mode == "GRU" else None, w_hr, reverse=d == 1)
                dir_outs.append(cat(outs, 0) if outs else zeros((0, real_h), dtype=data.dtype, device=data.device))
                h_n.append(hn)
                if cn is not None:
                    c_n.append(cn)
            flat = dir_outs[0] if D == 1 else cat(dir_outs, 1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                flat = F.dropout(flat, self.dropout, True)
        hn_t = stack(h_n, 0)
        cn_t = stack(c_n, 0) if is_lstm else None
        if unsorted_idx is not None:
            hn_t = index_select(hn_t, 1, unsorted_idx)
            cn_t = index_select(cn_t, 1, unsorted_idx) if cn_t is not None else None
        if packed:
            output: Any = PackedSequence(flat, input.batch_sizes, sorted_idx, unsorted_idx)
        else:
            out = reshape(flat, (len(bs), B, D * real_h))
            if unbatched:
                out = squeeze(out, 1)
                hn_t = squeeze(hn_t, 1)
                cn_t = squeeze(cn_t, 1) if cn_t is not None else None
            elif self.batch_first:
                out = transpose(out, 0, 1)
            output = out
        return (output, (hn_t, cn_t)) if is_lstm else (output, hn_t)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh) (nonlinearity='relu' for ReLU).

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
    dropout=0.0, bidirectional=False) — PyTorch's arguments (also positionally).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if len(args) > 3:  # (input_size, hidden_size, num_layers, nonlinearity, bias, ...)
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's gates i, f, g, o; returns output, (h_n, c_n).

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's gates r, z, n; returns output, h_n.

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# --- cells -------------------------------------------------------------------------------------

class RNNCellBase(Module):
    """One step: weight_ih (G·H, input_size), weight_hh (G·H, hidden_size), bias_ih, bias_hh (G·H,)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        self.weight_ih = Parameter(memory.empty((num_chunks * hidden_size, input_size), dt))
        self.weight_hh = Parameter(memory.empty((num_chunks * hidden_size, hidden_size), dt))
        if bias:
            self.bias_ih = Parameter(np.empty((num_chunks * hidden_size,), dtype=dt))
            self.bias_hh = Parameter(np.empty((num_chunks * hidden_size,), dtype=dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()
        _place(self, device)  # PyTorch's device=: made on the host (same draws), then moved

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input: Any, hx: Any, n_states: int) -> tuple[Tensor, list[Tensor], bool]:
        name = type(self).__name__
        x = as_tensor(input)
        if x.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {x.ndim}D instead (input has shape "
                             f"{_shape(x)}, expected (N, {self.input_size}) or ({self.input_size},))")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got {x.shape[-1]} expected "
                               f"{self.input_size} (input has shape {_shape(x)})")
        unbatched = x.ndim == 1
        if unbatched:
            x = unsqueeze(x, 0)
        B = x.shape[0]
        if hx is None:
            states = [zeros((B, self.hidden_size), dtype=x.dtype, device=x.device) for _ in range(n_states)]
        else:
            hs = list(hx) if n_states == 2 else [hx]
            if n_states == 2 and len(hs) != 2:
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0)")
            states = []
            for i, s in enumerate(hs):
                s = as_tensor(s)
                arg = ("h_0", "c_0")[i] if n_states == 2 else "hx"
                want = (self.hidden_size,) if unbatched else (B, self.hidden_size)
                if _shape(s) != want:
                    raise RuntimeError(f"{name}: Expected hidden size {want}, got {list(_shape(s))} (argument {arg} "
                                       f"has shape {_shape(s)}, input has shape {_shape(input)})")
                states.append(unsqueeze(s, 0) if unbatched else s)
        if _autocast.on:  # CUDA autocast casts every argument of torch's cells; CPU autocast only their products'
            states = list(_autocast.cast(_autocast.LOWER_CUDA, *states))
        return x, states, unbatched

    def _gates(self, x: Tensor, h: Tensor, merge_bias: bool) -> tuple[Tensor, Tensor]:
        w_ih, w_hh, b_ih, b_hh = self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh
        if _autocast.on:  # torch's cells are linear layers under autocast: x, h, weights and biases lowered
            x, h, w_ih, w_hh, b_ih, b_hh = _autocast.cast(_autocast.LOWER, x, h, w_ih, w_hh, b_ih, b_hh)
        gi = x @ transpose(w_ih, 0, 1)
        gh = h @ transpose(w_hh, 0, 1)
        if b_ih is not None:
            if merge_bias:
                gi = gi + (b_ih + b_hh)
            else:
                gi, gh = gi + b_ih, gh + b_hh
        return gi, gh


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Any, hx: Any = None) -> Tensor:
        x, (h,), unbatched = self._prepare(input, hx, 1)
        gi, gh = self._gates(x, h, True)
        g = gi + gh
        h = tanh(g) if self.nonlinearity == "tanh" else relu(g)
        return squeeze(h, 0) if unbatched else h


class LSTMCell(RNNCellBase):
    """(h', c') from (x, (h, c)) with PyTorch's gates i, f, g, o."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Tensor]:
        x, (h, c), unbatched = self._prepare(input, hx, 2)
        gi, gh = self._gates(x, h, True)
        g = gi + gh
        hs = self.hidden_size
        s = sigmoid(g)
        c = s[:, hs:2 * hs] * c + s[:, :hs] * tanh(g[:, 2 * hs:3 * hs])
        h = s[:, 3 * hs:] * tanh(c)
        if unbatched:
            return squeeze(h, 0), squeeze(c, 0)
        return h, c


class GRUCell(RNNCellBase):
    """h' from (x, h) with PyTorch's gates r, z, n."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Any, hx: Any = None) -> Tensor:
        x, (h,), unbatched = self._prepare(input, hx, 1)
        gi, gh = self._gates(x, h, False)
        hs = self.hidden_size
        rz = sigmoid(gi[:, :2 * hs] + gh[:, :2 * hs])
        n = tanh(gi[:, 2 * hs:] + rz[:, :hs] * gh[:, 2 * hs:])
        h = n + rz[:, hs:] * (h - n)
        return squeeze(h, 0) if unbatched else h
