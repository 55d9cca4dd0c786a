"""nn.utils.rnn: pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence against PyTorch,
values and gradients."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.nn.utils import rnn as mrnn
from tests.helpers import assert_close

torch = pytest.importorskip("torch")
trnn = torch.nn.utils.rnn


def _seqs(lengths, tail=(3,), seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((n,) + tail) for n in lengths]
    return ([mg.tensor(a, requires_grad=True) for a in arrays], [torch.tensor(a, requires_grad=True) for a in arrays])


def _backward_same(m_out, t_out, m_in, t_in):
    seed = np.random.default_rng(9).standard_normal(tuple(t_out.shape))
    (m_out * mg.tensor(seed)).sum().backward()
    (t_out * torch.tensor(seed)).sum().backward()
    for a, b in zip(m_in, t_in):
        assert_close(a.grad.array, b.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_side):
    ms, ts = _seqs([2, 4, 1], tail=(2, 3))
    a = mrnn.pad_sequence(ms, batch_first=batch_first, padding_value=-1.5, padding_side=padding_side)
    b = trnn.pad_sequence(ts, batch_first=batch_first, padding_value=-1.5, padding_side=padding_side)
    assert a.shape == tuple(b.shape)
    np.testing.assert_array_equal(a.array, b.detach().numpy())
    _backward_same(a, b, ms, ts)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths, enforce_sorted", [([4, 3, 3, 1], True), ([1, 4, 3, 2], False),
                                                     ([3, 3, 3, 3], False)])
def test_pack_and_pad_roundtrip(batch_first, lengths, enforce_sorted):
    ms, ts = _seqs(lengths)
    mpad = mrnn.pad_sequence(ms, batch_first=batch_first)
    tpad = trnn.pad_sequence(ts, batch_first=batch_first)
    mp = mrnn.pack_padded_sequence(mpad, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    tp = trnn.pack_padded_sequence(tpad, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(mp.data.array, tp.data.detach().numpy())
    assert mp.batch_sizes.tolist() == tp.batch_sizes.tolist()
    for a, b in ((mp.sorted_indices, tp.sorted_indices), (mp.unsorted_indices, tp.unsorted_indices)):
        assert (a is None) == (b is None) and (a is None or a.tolist() == b.tolist())
    mout, mlen = mrnn.pad_packed_sequence(mp, batch_first=batch_first, padding_value=2.0, total_length=6)
    tout, tlen = trnn.pad_packed_sequence(tp, batch_first=batch_first, padding_value=2.0, total_length=6)
    np.testing.assert_array_equal(mout.array, tout.detach().numpy())
    assert mlen.tolist() == tlen.tolist() and mlen.dtype == mg.int64
    _backward_same(mout, tout, ms, ts)


def test_pack_sequence_and_unpack():
    ms, ts = _seqs([2, 5, 3])
    mp, tp = mrnn.pack_sequence(ms, enforce_sorted=False), trnn.pack_sequence(ts, enforce_sorted=False)
    np.testing.assert_array_equal(mp.data.array, tp.data.detach().numpy())
    back = mrnn.unpack_sequence(mp)
    assert [b.shape for b in back] == [(2, 3), (5, 3), (3, 3)]
    for b, m in zip(back, ms):
        np.testing.assert_array_equal(b.array, m.array)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        mrnn.pack_sequence(ms)
    assert isinstance(mp, tuple) and mp._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")


def test_gradcheck_through_pack_and_pad():
    x = mg.tensor(np.random.default_rng(1).standard_normal((4, 3, 2)), requires_grad=True)

    def f(x):
        p = mrnn.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
        return mrnn.pad_packed_sequence(p)[0] * 2.0

    assert mg.gradcheck(f, (x,))
    assert mg.gradgradcheck(lambda x: f(x) ** 2, (x,))


def test_bad_lengths():
    x = mg.zeros(4, 2, 3)
    with pytest.raises(ValueError, match="expected `lengths` of 2"):
        mrnn.pack_padded_sequence(x, [4, 3, 1])
    with pytest.raises(RuntimeError, match="greater than 0"):
        mrnn.pack_padded_sequence(x, [4, 0])
    with pytest.raises(RuntimeError, match="exceeds the 4 time steps"):
        mrnn.pack_padded_sequence(x, [5, 1])
    with pytest.raises(RuntimeError, match="pad_sequence: sequence 1 has shape"):
        mrnn.pad_sequence([mg.zeros(2, 3), mg.zeros(2, 4)])


def test_import_paths():
    import matgrad
    from matgrad.nn.utils.rnn import PackedSequence, pad_sequence  # noqa: F401
    assert matgrad.nn.utils.rnn.pack_padded_sequence is mrnn.pack_padded_sequence
