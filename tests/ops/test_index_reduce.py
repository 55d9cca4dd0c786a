"""index_reduce (torch.index_reduce, Tensor.index_reduce, Tensor.index_reduce_): 'prod', 'mean', 'amax', 'amin',
with and without include_self, along every dim: values and gradients against finite differences (float64) and
PyTorch (where installed), ties of amax/amin shared as PyTorch shares them, and PyTorch's errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import check_op, compare_torch

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")
REDUCES = ("prod", "mean", "amax", "amin")


def _torch_index_reduce(x, dim, index, s, reduce, include_self):
    with warnings.catch_warnings():  # "index_reduce() is in beta"
        warnings.simplefilter("ignore", UserWarning)
        return torch.index_reduce(x, dim, torch.tensor(index), s, reduce, include_self=include_self)


CASES = [  # (self shape, dim, index, source shape)
    ((3, 2), 0, [0, 2, 0, 2], (4, 2)),
    ((3, 4), 1, [3, 1, 3], (3, 3)),
    ((2, 3, 4), -1, [0, 0, 3, 1, 0], (2, 3, 5)),
    ((4,), 0, [1, 1, 2], (3,)),
    ((3, 2), 0, [], (0, 2)),  # nothing to reduce: input comes out as it is
]


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("shape,dim,index,src", CASES)
def test_index_reduce_gradcheck_and_torch(shape, dim, index, src, reduce, include_self):
    idx = np.array(index, dtype=np.int64)
    check_op(lambda x, s: mg.index_reduce(x, dim, idx, s, reduce, include_self=include_self), shape, src,
             torch_fn=lambda x, s: _torch_index_reduce(x, dim, idx, s, reduce, include_self), second=False)


@pytest.mark.parametrize("reduce", ["prod", "mean"])
def test_index_reduce_second_order(reduce):
    idx = mg.tensor([0, 2, 0])
    check_op(lambda x, s: x.index_reduce(1, idx, s, reduce), (2, 3), (2, 3), second=True, use_torch=False)


@needs_torch
@pytest.mark.parametrize("reduce", ["amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_ties_share_the_gradient_as_torch(reduce, include_self):
    # ties among source's values, and (with include_self) between input's value and source's
    x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    s = np.array([[2.0, 2.0], [7.0, 1.0], [2.0, 9.0], [0.5, 6.0], [5.0, 0.5]])
    if not include_self:
        x = x + 100.0 * (1 if reduce == "amin" else -1)  # input's excluded values never tie with the result
    index = np.array([0, 2, 0, 2, 2])
    compare_torch(lambda a, b: mg.index_reduce(a, 0, index, b, reduce, include_self=include_self), [x, s],
                  torch_fn=lambda a, b: _torch_index_reduce(a, 0, index, b, reduce, include_self))


def test_index_reduce_amax_tie_values_and_split():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=mg.float64, requires_grad=True)
    s = mg.tensor([[2.0, 2.0], [7.0, 1.0], [2.0, 9.0], [0.5, 6.0]], dtype=mg.float64, requires_grad=True)
    out = mg.index_reduce(x, 0, mg.tensor([0, 2, 0, 2]), s, "amax")
    np.testing.assert_array_equal(out.array, [[2.0, 9.0], [3.0, 4.0], [7.0, 6.0]])
    out.backward(mg.arange(1.0, 7.0, dtype=mg.float64).reshape(3, 2))
    # out[0, 0] = 2 twice in source: half each; out[2, 1] = 6 in input and in source: half each
    np.testing.assert_array_equal(x.grad.array, [[0.0, 0.0], [3.0, 4.0], [0.0, 3.0]])
    np.testing.assert_array_equal(s.grad.array, [[0.5, 0.0], [5.0, 0.0], [0.5, 2.0], [0.0, 3.0]])


def test_index_reduce_excluded_self_does_not_take_a_share():
    # include_self=False leaves input's 6 out of out[2, 1] = max(1, 6): source's 6 alone made it, so it gets the
    # whole gradient (finite differences agree). PyTorch 2.13 counts the excluded 6 as a tie and gives source 3.
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=mg.float64, requires_grad=True)
    s = mg.tensor([[2.0, 2.0], [7.0, 1.0], [2.0, 9.0], [0.5, 6.0]], dtype=mg.float64, requires_grad=True)
    index = mg.tensor([0, 2, 0, 2])
    fn = lambda a, b: mg.index_reduce(a, 0, index, b, "amax", include_self=False)  # noqa: E731
    fn(x, s).backward(mg.arange(1.0, 7.0, dtype=mg.float64).reshape(3, 2))
    assert s.grad.array[3, 1] == 6.0 and x.grad.array[2, 1] == 0.0
    assert mg.gradcheck(fn, [x, s])


def test_index_reduce_integer_mean_floors_and_empty_slots_stay():
    x = mg.tensor([-1, 5, 0, 8])
    got = mg.index_reduce(x, 0, mg.tensor([0, 0, 1]), mg.tensor([-4, 0, 2]), "mean")
    assert got.tolist() == [-2, 3, 0, 8]  # (-1 - 4 + 0) / 3 rounds down, as PyTorch
    got = mg.index_reduce(x, 0, mg.tensor([0, 0, 1]), mg.tensor([-4, 0, 2]), "mean", include_self=False)
    assert got.tolist() == [-2, 2, 0, 8]
    if torch is not None:
        want = _torch_index_reduce(torch.tensor([-1, 5, 0, 8]), 0, [0, 0, 1], torch.tensor([-4, 0, 2]), "mean", False)
        assert got.tolist() == want.tolist()


def test_index_reduce_method_in_place_and_0d():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = x.index_reduce_(0, mg.tensor([1, 1]), mg.tensor([[2.0, 3.0], [4.0, 5.0]]), "prod")
    assert y is x and x.tolist() == [[1.0, 2.0], [24.0, 60.0]]
    assert x.index_reduce(0, mg.tensor([0]), mg.tensor([[0.5, 0.5]]), "amin").tolist() == [[0.5, 0.5], [24.0, 60.0]]
    assert mg.index_reduce(mg.tensor(2.0), 0, mg.tensor([0]), mg.tensor(3.0), "prod").item() == 6.0
    assert mg.index_reduce(mg.tensor(2.0), 0, mg.tensor(0), mg.tensor(3.0), "prod").shape == ()
    # on a graph the in-place form carries source's gradient
    s = mg.tensor([[2.0, 3.0]], dtype=mg.float64, requires_grad=True)
    z = mg.ones(2, 2, dtype=mg.float64) * 5
    z.index_reduce_(0, mg.tensor([1]), s, "mean")
    z.sum().backward()
    np.testing.assert_array_equal(s.grad.array, [[0.5, 0.5]])
    leaf = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.index_reduce_(0, mg.tensor([0]), mg.ones(1), "prod")


@pytest.mark.parametrize("call,error,match", [
    (lambda x: mg.index_reduce(x, 0, mg.tensor([0, 2]), mg.ones(2, 2), "sum"), RuntimeError,
     "one of prod, mean, amax or amin but got sum"),
    (lambda x: mg.index_reduce(x, 0, mg.tensor([[0, 2]]), mg.ones(2, 2), "mean"), IndexError,
     "supposed to be a vector"),
    (lambda x: mg.index_reduce(x, 0, mg.tensor([0, 3]), mg.ones(2, 2), "mean"), IndexError, "out of bounds"),
    (lambda x: mg.index_reduce(x, 0, mg.tensor([0, -1]), mg.ones(2, 2), "mean"), IndexError, "out of bounds"),
    (lambda x: mg.index_reduce(x, 0, mg.tensor([0, 1, 0]), mg.ones(2, 2), "mean"), RuntimeError,
     r"Number of indices \(3\) should be equal to source.size\(dim\): \(2\)"),
    (lambda x: mg.index_reduce(x, 0, mg.tensor([0, 1]), mg.ones(2, 2, dtype=mg.float64), "mean"), RuntimeError,
     "must have the same scalar type"),
    (lambda x: mg.index_reduce(x, 0, mg.tensor([0.0, 1.0]), mg.ones(2, 2), "mean"), RuntimeError, "dtype"),
    (lambda x: mg.index_reduce(x, 2, mg.tensor([0, 1]), mg.ones(2, 2), "mean"), IndexError, "out of range"),
    (lambda x: mg.index_reduce(x, 0, mg.tensor([0, 1]), mg.ones(2, 1), "mean"), RuntimeError,
     "source tensor shape must match self tensor shape"),
    (lambda x: mg.index_reduce(mg.ones(2), 0, mg.tensor([1]), mg.tensor(3.0), "prod"), RuntimeError,
     "source tensor shape must match self tensor shape"),
])
def test_index_reduce_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(mg.ones(3, 2))


@pytest.mark.parametrize("reduce", REDUCES)
def test_index_reduce_on_the_test_device(cuda, reduce):
    x = mg.arange(1.0, 13.0, dtype=mg.float64).reshape(3, 4)
    s = mg.tensor(np.random.default_rng(0).standard_normal((3, 3)))
    index = mg.tensor([3, 0, 3])
    xd, sd = x.to(cuda).requires_grad_(), s.to(cuda).requires_grad_()
    xc, sc = x.requires_grad_(), s.requires_grad_()
    a, b = mg.index_reduce(xd, 1, index, sd, reduce), mg.index_reduce(xc, 1, index, sc, reduce)
    assert a.device.type == "cuda"
    np.testing.assert_allclose(a.cpu().array, b.array, rtol=1e-12)
    a.sum().backward()
    b.sum().backward()
    np.testing.assert_allclose(xd.grad.cpu().array, xc.grad.array, rtol=1e-12)
    np.testing.assert_allclose(sd.grad.cpu().array, sc.grad.array, rtol=1e-12)
