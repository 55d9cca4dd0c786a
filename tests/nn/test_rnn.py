"""nn.RNN / LSTM / GRU and the cells against PyTorch with shared weights (outputs, final states and the
gradients of inputs, initial states and every weight), plus finite-difference gradchecks."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
from matgrad.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from tests.helpers import assert_close

torch = pytest.importorskip("torch")


def _pair(cls_name, *args, dtype="float64", **kwargs):
    theirs = getattr(torch.nn, cls_name)(*args, **kwargs)
    ours = getattr(nn, cls_name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    tsd = theirs.state_dict()
    assert list(ours.state_dict()) == list(tsd)
    if dtype == "float64":
        theirs, ours = theirs.double(), ours.double()
        tsd = theirs.state_dict()
    for k, v in ours.state_dict().items():
        assert tuple(v.shape) == tuple(tsd[k].shape), k
    ours.load_state_dict({k: v.numpy() for k, v in tsd.items()})
    return ours, theirs


def _flatten(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flatten(o)]
    return [out]


def _compare(ours, theirs, arrays, call, rtol=1e-10, atol=1e-12):
    """call(module, tensors) → output structure; compares outputs and every gradient."""
    mx = [mg.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    mo, to = _flatten(call(ours, mx, mg)), _flatten(call(theirs, tx, torch))
    assert len(mo) == len(to)
    rng = np.random.default_rng(7)
    loss, tloss = 0, 0
    for i, (a, b) in enumerate(zip(mo, to)):
        assert tuple(a.shape) == tuple(b.shape), (i, a.shape, b.shape)
        assert_close(a.array, b.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"output {i}")
        s = rng.standard_normal(tuple(b.shape)).astype(arrays[0].dtype)
        loss = loss + (a * mg.tensor(s)).sum()
        tloss = tloss + (b * torch.tensor(s)).sum()
    loss.backward()
    tloss.backward()
    for i, (a, b) in enumerate(zip(mx, tx)):
        assert_close(a.grad.array, b.grad.numpy(), rtol=rtol * 10, atol=atol * 10, err_msg=f"grad of input {i}")
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(p.grad.array, tp.grad.numpy(), rtol=rtol * 10, atol=atol * 10, err_msg=name)


CONFIGS = [
    ("RNN", dict()), ("RNN", dict(nonlinearity="relu")), ("RNN", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict()), ("LSTM", dict(num_layers=2)), ("LSTM", dict(bidirectional=True)),
    ("LSTM", dict(num_layers=2, bidirectional=True, batch_first=True)), ("LSTM", dict(bias=False)),
    ("LSTM", dict(proj_size=3)), ("LSTM", dict(proj_size=2, num_layers=2, bidirectional=True)),
    ("GRU", dict()), ("GRU", dict(num_layers=2, bidirectional=True)), ("GRU", dict(bias=False, batch_first=True)),
]
IDS = [f"{c}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for c, kw in CONFIGS]


def _states(cls, kw, B, H=5, unbatched=False):
    L = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    hp = kw.get("proj_size", 0) or H
    h = (L, hp) if unbatched else (L, B, hp)
    c = (L, H) if unbatched else (L, B, H)
    return [h, c] if cls == "LSTM" else [h]


def _call(cls, with_state):
    def call(m, xs, lib):
        if not with_state:
            return m(xs[0])
        return m(xs[0], (xs[1], xs[2]) if cls == "LSTM" else xs[1])
    return call


@pytest.mark.parametrize("cls, kw", CONFIGS, ids=IDS)
@pytest.mark.parametrize("with_state", [False, True])
def test_matches_torch_float64(cls, kw, with_state):
    ours, theirs = _pair(cls, 4, 5, **kw)
    rng = np.random.default_rng(0)
    T, B = 6, 3
    shapes = [(B, T, 4) if kw.get("batch_first") else (T, B, 4)]
    if with_state:
        shapes += _states(cls, kw, B)
    arrays = [rng.standard_normal(s) for s in shapes]
    _compare(ours, theirs, arrays, _call(cls, with_state))


@pytest.mark.parametrize("cls, kw", CONFIGS[::2], ids=IDS[::2])
def test_unbatched_input(cls, kw):
    ours, theirs = _pair(cls, 4, 5, **kw)
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((6, 4))] + [rng.standard_normal(s) for s in _states(cls, kw, 0, unbatched=True)]
    _compare(ours, theirs, arrays[:1], _call(cls, False))
    ours.zero_grad()
    theirs.zero_grad()
    _compare(ours, theirs, arrays, _call(cls, True))


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_float32_default(cls):
    ours, theirs = _pair(cls, 4, 5, num_layers=2, dtype="float32")
    x = np.random.default_rng(2).standard_normal((7, 3, 4)).astype(np.float32)
    out = ours(mg.tensor(x))[0]
    assert out.dtype == mg.float32
    _compare(ours, theirs, [x], _call(cls, False), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls, kw", CONFIGS, ids=IDS)
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequences(cls, kw, enforce_sorted):
    ours, theirs = _pair(cls, 4, 5, **kw)
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    B, T = 4, 5
    bf = kw.get("batch_first", False)
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((B, T, 4) if bf else (T, B, 4))] + [rng.standard_normal(s)
                                                                     for s in _states(cls, kw, B)]

    def call(m, xs, lib):
        utils = torch.nn.utils.rnn if lib is torch else nn.utils.rnn
        p = utils.pack_padded_sequence(xs[0], lengths, batch_first=bf, enforce_sorted=enforce_sorted)
        hx = None if len(xs) == 1 else ((xs[1], xs[2]) if cls == "LSTM" else xs[1])
        out, h = m(p, hx)
        assert isinstance(out, utils.PackedSequence)
        padded, lens = utils.pad_packed_sequence(out, batch_first=bf)
        assert list(lens.tolist()) == lengths
        return out.data, padded, h

    _compare(ours, theirs, arrays[:1], call)
    ours.zero_grad()
    theirs.zero_grad()
    _compare(ours, theirs, arrays, call)


def test_dropout_between_layers():
    m = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = mg.randn(5, 2, 3)
    m.eval()
    a, b = m(x)[0], m(x)[0]
    assert np.array_equal(a.array, b.array)
    m.train()
    mg.manual_seed(0)
    c = m(x)[0]
    mg.manual_seed(0)
    d = m(x)[0]
    assert np.array_equal(c.array, d.array) and not np.allclose(c.array, a.array)
    with pytest.warns(UserWarning, match="dropout"):
        nn.GRU(3, 4, dropout=0.2)


def test_init_distribution_and_seed():
    mg.manual_seed(0)
    a = nn.LSTM(3, 16)
    mg.manual_seed(0)
    b = nn.LSTM(3, 16)
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.array, q.array)
        assert np.abs(p.array).max() <= 0.25
    assert a.weight_ih_l0.dtype == mg.float32


@pytest.mark.parametrize("cls, kw", [("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu", bias=False)),
                                     ("LSTMCell", {}), ("LSTMCell", dict(bias=False)), ("GRUCell", {}),
                                     ("GRUCell", dict(bias=False))])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(cls, kw, batched):
    ours, theirs = _pair(cls, 4, 5, **kw)
    rng = np.random.default_rng(4)
    pre = (3,) if batched else ()
    x = rng.standard_normal(pre + (4,))
    states = [rng.standard_normal(pre + (5,)) for _ in range(2 if cls == "LSTMCell" else 1)]
    _compare(ours, theirs, [x], lambda m, xs, lib: m(xs[0]))
    ours.zero_grad()
    theirs.zero_grad()
    _compare(ours, theirs, [x] + states,
             lambda m, xs, lib: m(xs[0], tuple(xs[1:]) if cls == "LSTMCell" else xs[1]))


def test_bad_input_messages():
    m = nn.LSTM(4, 5, num_layers=2)
    with pytest.raises(ValueError, match=r"2D or 3D, got 4D.*\(1, 2, 3, 4\)"):
        m(mg.randn(1, 2, 3, 4))
    with pytest.raises(RuntimeError, match=r"input_size. Expected 4, got 3"):
        m(mg.randn(6, 2, 3))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 2, 5\), got \[1, 2, 5\].*h_0"):
        m(mg.randn(6, 2, 4), (mg.zeros(1, 2, 5), mg.zeros(2, 2, 5)))
    with pytest.raises(RuntimeError, match=r"hidden\[1\] size \(2, 2, 5\), got \[2, 3, 5\].*c_0"):
        m(mg.randn(6, 2, 4), (mg.zeros(2, 2, 5), mg.zeros(2, 3, 5)))
    with pytest.raises(RuntimeError, match=r"unbatched 2-D input, hx should also be 2-D"):
        nn.GRU(4, 5)(mg.randn(6, 4), mg.zeros(1, 1, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 3, 5\), got \[1, 2, 5\].*hx"):
        nn.GRU(4, 5)(mg.randn(6, 3, 4), mg.zeros(1, 2, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(3, 5\), got \[2, 5\]"):
        nn.GRUCell(4, 5)(mg.randn(3, 4), mg.zeros(2, 5))
    with pytest.raises(ValueError, match="proj_size"):
        nn.GRU(4, 5, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller"):
        nn.LSTM(4, 5, proj_size=5)


def _f64(cls, *args, **kw):
    mg.manual_seed(0)
    m = getattr(nn, cls)(*args, **kw).double()
    return m


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_gradcheck_first_order(cls):
    m = _f64(cls, 2, 3, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(5)
    x = mg.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h0 = mg.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    c0 = mg.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)

    def f(x, h0, c0):
        out, h = m(x, (h0, c0) if cls == "LSTM" else h0)
        return (out, h[0], h[1]) if cls == "LSTM" else (out, h)

    assert mg.gradcheck(f, (x, h0, c0))
    # gradients with respect to weights (gradcheck perturbs the parameter in place)
    assert mg.gradcheck(lambda w: m(x)[0], (m.weight_hh_l0,))
    assert mg.gradcheck(lambda w: m(x)[0], (m.weight_ih_l1_reverse,))


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_gradgradcheck_tiny(cls):
    m = _f64(cls, 2, 2)
    rng = np.random.default_rng(6)
    x = mg.tensor(rng.standard_normal((3, 1, 2)), requires_grad=True)
    h0 = mg.tensor(rng.standard_normal((1, 1, 2)), requires_grad=True)
    hx = (lambda h: (h, h * 0.5)) if cls == "LSTM" else (lambda h: h)
    assert mg.gradgradcheck(lambda x, h: m(x, hx(h))[0], (x, h0))
    assert mg.gradgradcheck(lambda w: m(x)[0], (m.weight_hh_l0,))


@pytest.mark.parametrize("cls", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cell_gradcheck(cls):
    m = _f64(cls, 3, 4)
    rng = np.random.default_rng(8)
    x = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    h = mg.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    if cls == "LSTMCell":
        fn = lambda x, h: m(x, (h, h * 2.0))  # noqa: E731
    else:
        fn = lambda x, h: m(x, h)  # noqa: E731
    assert mg.gradcheck(fn, (x, h))
    assert mg.gradgradcheck(fn, (x, h))


def test_lstm_trains_on_packed_and_padded_roundtrip():
    m = nn.GRU(2, 3, batch_first=True)
    x = mg.randn(3, 4, 2, requires_grad=True)
    p = pack_padded_sequence(x, mg.tensor([2, 4, 1]), batch_first=True, enforce_sorted=False)
    out, h = m(p)
    padded, lens = pad_packed_sequence(out, batch_first=True, total_length=5)
    assert padded.shape == (3, 5, 3) and lens.tolist() == [2, 4, 1]
    assert np.all(padded.array[0, 2:] == 0) and np.all(padded.array[2, 1:] == 0)
    np.testing.assert_allclose(h.array[0], padded.array[np.arange(3), np.array([1, 3, 0])], rtol=1e-6)
    padded.sum().backward()
    assert np.all(x.grad.array[0, 2:] == 0) and np.any(x.grad.array[0, :2] != 0)
