"""Shape and join ops: PyTorch's argument forms, results equal to NumPy's."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg

A = np.arange(24.0).reshape(2, 3, 4)


def test_reshape_view_argument_forms():
    x = mg.tensor(A)
    for y in (x.reshape(4, 6), x.reshape((4, 6)), x.view(4, -1), mg.reshape(x, (4, 6))):
        np.testing.assert_array_equal(y.array, A.reshape(4, 6))


def test_transpose_permute_T():
    x = mg.tensor(A)
    np.testing.assert_array_equal(x.transpose(0, -1).array, A.swapaxes(0, 2))
    np.testing.assert_array_equal(x.permute(2, 0, 1).array, A.transpose(2, 0, 1))
    np.testing.assert_array_equal(x.permute((2, 0, 1)).array, A.transpose(2, 0, 1))
    np.testing.assert_array_equal(x[0].T.array, A[0].T)
    np.testing.assert_array_equal(x.mT.array, A.swapaxes(-1, -2))
    assert mg.tensor([1.0, 2.0]).T.shape == (2,)


def test_squeeze_unsqueeze_flatten_expand():
    x = mg.zeros(1, 3, 1)
    assert x.squeeze().shape == (3,)
    assert x.squeeze(0).shape == (3, 1) and x.squeeze(1).shape == (1, 3, 1)
    assert x.squeeze((0, 2)).shape == (3,)
    assert x.unsqueeze(0).shape == (1, 1, 3, 1) and x.unsqueeze(-1).shape == (1, 3, 1, 1)
    assert mg.zeros(2, 3, 4).flatten(1).shape == (2, 12)
    assert mg.zeros(2, 3, 4).flatten(0, 1).shape == (6, 4)
    assert mg.tensor(5.0).flatten().shape == (1,)
    assert mg.zeros(3, 1).expand(2, 3, 4).shape == (2, 3, 4)
    assert mg.zeros(3, 1).expand(-1, 5).shape == (3, 5)


def test_cat_stack_split_chunk_pad():
    a, b = mg.tensor(A[0]), mg.tensor(A[1])
    np.testing.assert_array_equal(mg.cat([a, b], dim=1).array, np.concatenate([A[0], A[1]], 1))
    np.testing.assert_array_equal(mg.concat((a, b)).array, np.concatenate([A[0], A[1]]))
    np.testing.assert_array_equal(mg.stack([a, b], -1).array, np.stack([A[0], A[1]], -1))
    parts = mg.tensor(np.arange(7.0)).split(3)
    assert [p.tolist() for p in parts] == [[0, 1, 2], [3, 4, 5], [6]]
    parts = mg.split(mg.tensor(np.arange(7.0)), [2, 5])
    assert [p.shape for p in parts] == [(2,), (5,)]
    assert [c.shape for c in mg.zeros(5, 2).chunk(3)] == [(2, 2), (2, 2), (1, 2)]
    p = mg.pad(mg.ones(2, 2), (1, 0, 2, 1), value=7.0)
    assert p.shape == (5, 3) and p.array[0, 0] == 7.0 and p.array[2, 1] == 1.0
    np.testing.assert_array_equal(mg.pad(mg.tensor([1.0, 2.0, 3.0]), (-1, 1)).array, [2.0, 3.0, 0.0])


def test_split_grad_flows_to_every_piece():
    x = mg.tensor(np.arange(5.0), requires_grad=True)
    a, b = x.split([2, 3])
    (a.sum() * 2 + b.sum() * 3).backward()
    np.testing.assert_array_equal(x.grad, [2, 2, 3, 3, 3])


def test_stack_and_cat_grads():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    (mg.stack([a, b, a]) * mg.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    np.testing.assert_array_equal(a.grad, [4.0, 4.0])
    np.testing.assert_array_equal(b.grad, [2.0, 2.0])


def test_zero_size_dims_behave_as_pytorch():
    e = mg.zeros(2, 0, 3)
    assert e.flatten().shape == (0,) and e.flatten(1).shape == (2, 0)
    assert [p.shape for p in e.split(2, dim=1)] == [(2, 0, 3)]
    assert [p.shape for p in e.chunk(3, dim=1)] == [(2, 0, 3)] * 3
    assert e.softmax(-1).shape == (2, 0, 3) and e.log_softmax(1).shape == (2, 0, 3)
    values, indices = e.max(2)
    assert values.shape == (2, 0) and indices.shape == (2, 0)
    assert e.amax(0).shape == (0, 3)
    with pytest.raises(ValueError, match="empty"):
        e.max(1)
