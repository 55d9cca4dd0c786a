"""x[index] takes everything NumPy does; values match NumPy, gradients pass gradcheck."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import check_op

INDICES = [
    (slice(1, None),), (slice(None, None, -1),), (slice(-1, 0, -2),), (2,), (-1,),
    (None,), (Ellipsis, 1), (1, Ellipsis, None), (slice(None), None, 2),
    ([0, 0, 3],), ([[0, 1], [3, 3]],), (np.array([0, 2, 0]), slice(None), np.array([1, 1, 0])),
    (slice(None), [2, 0, 2]), (np.array([True, False, True, True]),), (Ellipsis, [0, -1]),
    (1, [0, 0], slice(None, None, -1)),
]


@pytest.mark.parametrize("index", INDICES, ids=[repr(i) for i in INDICES])
def test_getitem_matches_numpy_and_gradchecks(index):
    a = np.arange(60.0).reshape(4, 3, 5)
    idx = index[0] if len(index) == 1 else index
    np.testing.assert_array_equal(mg.tensor(a)[idx].array, a[idx])
    check_op(lambda x: x[idx], (4, 3, 5), second=False, use_torch=False)


def test_bool_mask_tensor_and_tensor_indices():
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x[x > 2.5]
    np.testing.assert_array_equal(y.array, [3.0, 4.0, 5.0])
    z = x[mg.tensor([1, 1, 0])]
    assert z.shape == (3, 3)
    (y.sum() + z.sum()).backward()
    np.testing.assert_array_equal(x.grad, [[1, 1, 1], [3, 3, 3]])


def test_setitem_under_no_grad_and_on_plain_tensors():
    x = mg.zeros(2, 3)
    x[0, 1:] = 5.0
    x[mg.tensor([1])] = mg.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x.array, [[0, 5, 5], [1, 2, 3]])


def test_iteration_and_len():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3 and rows[2].tolist() == [5.0, 6.0]
    with pytest.raises(TypeError):
        len(mg.tensor(1.0))


PUT_CASES = [
    ((4, 3), (slice(1, 3),), (2, 3)),          # a block, values of its shape
    ((4, 3), (slice(None), 1), (1,)),          # a column, one value broadcast down it
    ((4, 3), ([0, 2], [1, 2]), (2,)),          # advanced indices
    ((2, 3, 4), (Ellipsis,), (4,)),            # everything (copy_), broadcast from the last dim
]


@pytest.mark.parametrize("xshape, index, vshape", PUT_CASES)
def test_index_put_gradchecks_and_matches_torch(xshape, index, vshape):
    """y = x with y[idx] = v (what x[idx] = v records): dx = dy zeroed at idx, dv = dy[idx] summed to v."""
    from matgrad.ops.indexing import index_put

    idx = index[0] if len(index) == 1 else index

    def torch_fn(x, v):
        y = x.clone()
        y[idx] = v
        return y

    check_op(lambda x, v: index_put(x, idx, v), xshape, vshape, torch_fn=torch_fn)


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 0, 3)])
def test_nonzero_and_argwhere_match_torch(shape):
    torch = pytest.importorskip("torch")
    a = (np.arange(int(np.prod(shape))).reshape(shape) % 3 == 1).astype(np.float32)
    mine, theirs = mg.tensor(a), torch.tensor(a)
    assert mine.nonzero().tolist() == theirs.nonzero().tolist() and mine.nonzero().dtype == mg.int64
    assert [t.tolist() for t in mg.nonzero(mine, as_tuple=True)] == [
        t.tolist() for t in torch.nonzero(theirs, as_tuple=True)]
    assert mg.argwhere(mine).tolist() == torch.argwhere(theirs).tolist()
