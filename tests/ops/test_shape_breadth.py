"""Shape, joining, indexing and creation functions (movedim ... vander): index-valued results, dtypes,
views that share memory, in-place methods and their version counters, edge cases and errors.

Each test states its expected values; where PyTorch is installed it is compared as well."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg

try:
    import torch
except ImportError:  # the comparisons skip cleanly without PyTorch
    torch = None


def _same(got, want):
    """matgrad's result equals the explicit `want` (values, shape and, for arrays, dtype)."""
    if isinstance(want, (tuple, list)) and not isinstance(want, np.ndarray):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
        return
    w = np.asarray(want)
    assert got.shape == w.shape, (got.shape, w.shape)
    if isinstance(want, np.ndarray):
        assert got.array.dtype == w.dtype, (got.array.dtype, w.dtype)
    np.testing.assert_array_equal(got.array, w)


def _as_torch(fn):
    """Where PyTorch is installed: fn(torch) must equal fn(matgrad) in values, shapes and dtypes."""
    if torch is None:
        return
    got, want = fn(mg), fn(torch)
    got, want = (got, want) if isinstance(want, (tuple, list)) else ((got,), (want,))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.array.dtype == w.numpy().dtype and g.shape == tuple(w.shape)
        np.testing.assert_array_equal(g.array, w.numpy())


I64 = np.int64


# --- index-valued functions ------------------------------------------------------------------
def test_searchsorted_and_bucketize():
    s, v = mg.tensor([1, 3, 5, 7, 9]), mg.tensor([[3, 6, 9], [3, 6, 9]])
    _same(mg.searchsorted(s, v), np.array([[1, 3, 4]] * 2, I64))
    _same(mg.searchsorted(s, v, right=True), np.array([[2, 3, 5]] * 2, I64))
    _same(mg.searchsorted(s, v, side="right"), np.array([[2, 3, 5]] * 2, I64))
    _same(mg.searchsorted(s, 5), np.array(2, I64))
    _same(mg.searchsorted(s, v, out_int32=True), np.array([[1, 3, 4]] * 2, np.int32))
    _same(mg.searchsorted(mg.tensor([[1.0, 3, 5], [2, 4, 6]]), mg.tensor([[2.0, 5], [1, 7]])),
          np.array([[1, 2], [0, 3]], I64))
    _same(mg.searchsorted(mg.tensor([5, 1, 3]), mg.tensor([2, 4]), sorter=mg.tensor([1, 2, 0])), np.array([1, 2], I64))
    _same(mg.searchsorted(mg.tensor([]), mg.tensor([2.0])), np.array([0], I64))
    _same(mg.bucketize(v, s), np.array([[1, 3, 4]] * 2, I64))
    _same(mg.bucketize(v, s, right=True), np.array([[2, 3, 5]] * 2, I64))
    _same(mg.bucketize(mg.tensor(4), s), np.array(2, I64))
    _as_torch(lambda L: (L.searchsorted(L.tensor([1.0, 2, 2, 3]), L.tensor([[2.0, 0.5], [3, 4]]), right=True),
                         L.bucketize(L.tensor([[2, 8], [0, 9]]), L.tensor([1, 3, 5, 7, 9]), out_int32=True)))


@pytest.mark.parametrize("call, error, match", [
    (lambda: mg.searchsorted(mg.tensor([1, 3]), mg.tensor([3]), right=True, side="left"), RuntimeError,
     "side and right can't be set to opposites"),
    (lambda: mg.searchsorted(mg.tensor([1, 3]), mg.tensor([3]), side="middle"), RuntimeError, "side can only be"),
    (lambda: mg.searchsorted(mg.ones(2, 3), mg.ones(3, 2)), RuntimeError, "first N-1 dimensions"),
    (lambda: mg.searchsorted(mg.ones(2, 3), mg.tensor(1.0)), RuntimeError, "scalar only when"),
    (lambda: mg.searchsorted(mg.tensor([1.0, 3]), mg.tensor([2.0]), sorter=mg.tensor([0, 5])), RuntimeError,
     "sorter index out of range"),
    (lambda: mg.bucketize(mg.tensor([1]), mg.ones(2, 2)), RuntimeError, "boundaries tensor must be 1 dimension"),
])
def test_searchsorted_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_isin():
    _same(mg.isin(mg.tensor([[1, 2], [3, 4]]), mg.tensor([2, 3])), np.array([[False, True], [True, False]]))
    _same(mg.isin(mg.tensor([1, 2]), 2), np.array([False, True]))
    _same(mg.isin(3, mg.tensor([1, 3])), np.array(True))
    _same(mg.isin(mg.tensor([1.0, 2.0]), mg.tensor([2]), invert=True), np.array([True, False]))
    _same(mg.isin(mg.tensor([1.5, 2.0]), mg.tensor([2])), np.array([False, True]))
    _as_torch(lambda L: L.isin(L.tensor([[1, 5], [3, 4]]), L.tensor([5, 3, 3]), invert=True))


def test_unravel_index():
    _same(mg.unravel_index(mg.tensor([4, 1]), (2, 3)), (np.array([1, 0], I64), np.array([1, 1], I64)))
    _same(mg.unravel_index(mg.tensor(5), mg.Size([2, 3])), (np.array(1, I64), np.array(2, I64)))
    _same(mg.unravel_index(mg.tensor([4]), 6), (np.array([4], I64),))
    # as PyTorch: an index is taken modulo the number of elements
    _same(mg.unravel_index(mg.tensor([6, 7, -1]), (2, 3)), (np.array([0, 0, 1], I64), np.array([0, 1, 2], I64)))
    with pytest.raises(TypeError, match="integer dtype"):
        mg.unravel_index(mg.tensor([1.0]), (2, 3))
    _as_torch(lambda L: L.unravel_index(L.tensor([[0, 23], [7, -7]]), (2, 3, 4)))


def test_tril_triu_indices():
    _same(mg.tril_indices(3, 3), np.array([[0, 1, 1, 2, 2, 2], [0, 0, 1, 0, 1, 2]], I64))
    _same(mg.triu_indices(3, 4, 1), np.array([[0, 0, 0, 1, 1, 2], [1, 2, 3, 2, 3, 3]], I64))
    _same(mg.tril_indices(3, 2, -1), np.array([[1, 2, 2], [0, 0, 1]], I64))
    _same(mg.triu_indices(2, 2, -5), np.array([[0, 0, 1, 1], [0, 1, 0, 1]], I64))
    assert mg.tril_indices(0, 0).shape == (2, 0) and mg.tril_indices(3, 3, dtype=mg.int32).dtype == mg.int32
    _as_torch(lambda L: (L.tril_indices(4, 3, 1), L.triu_indices(3, 5, -1), L.triu_indices(1, 0)))


def test_combinations_cartesian_prod_vander_values():
    t = mg.tensor([1, 2, 3])
    _same(mg.combinations(t), np.array([[1, 2], [1, 3], [2, 3]], I64))
    _same(mg.combinations(t, r=1), np.array([[1], [2], [3]], I64))
    assert mg.combinations(t, r=3, with_replacement=True).shape == (10, 3)
    assert mg.combinations(mg.tensor([1, 2]), r=3).shape == (0, 3) and mg.combinations(t, r=0).shape == (0,)
    _same(mg.cartesian_prod(mg.tensor([1, 2]), mg.tensor([3, 4, 5])),
          np.array([[1, 3], [1, 4], [1, 5], [2, 3], [2, 4], [2, 5]], I64))
    _same(mg.vander(t), np.array([[1, 1, 1], [4, 2, 1], [9, 3, 1]], I64))
    _same(mg.vander(mg.tensor([1, 2], dtype=mg.int32), N=0), np.zeros((2, 0), I64))
    _same(mg.vander(mg.tensor([1.0, 2.0, 3.0]), N=2, increasing=True), np.array([[1, 1], [1, 2], [1, 3]], np.float32))
    _as_torch(lambda L: (L.combinations(L.tensor([4, 5, 6, 7]), 3), L.vander(L.tensor([True, False])),
                         L.cartesian_prod(L.tensor([1, 2]), L.tensor([3]), L.tensor([5, 6]))))
    with pytest.raises(RuntimeError, match="non-negative"):
        mg.combinations(t, r=-1)
    with pytest.raises(RuntimeError, match="1D vector"):
        mg.cartesian_prod(mg.ones(2, 2))
    with pytest.raises(RuntimeError, match="one-dimensional"):
        mg.vander(mg.ones(2, 2))


# --- shapes and joins ----------------------------------------------------------------------------
def test_atleast_hstack_vstack_dstack_column_stack_shapes():
    assert mg.atleast_1d(mg.tensor(1.0)).shape == (1,) and mg.atleast_2d(mg.ones(3)).shape == (1, 3)
    assert mg.atleast_3d(mg.ones(3)).shape == (1, 3, 1) and mg.atleast_3d(mg.ones(2, 3)).shape == (2, 3, 1)
    assert [t.shape for t in mg.atleast_1d(mg.tensor(1.0), mg.tensor(2.0))] == [(1,), (1,)]
    assert isinstance(mg.atleast_2d([mg.tensor(1.0)]), tuple)
    _same(mg.hstack([mg.tensor(1.0), mg.tensor(2.0)]), np.array([1, 2], np.float32))
    assert mg.vstack([mg.ones(3), mg.ones(3)]).shape == (2, 3) and mg.row_stack([mg.ones(3)]).shape == (1, 3)
    assert mg.dstack([mg.ones(3), mg.ones(3)]).shape == (1, 3, 2)
    _same(mg.column_stack([mg.tensor([1, 2]), mg.tensor([[3, 4], [5, 6]])]), np.array([[1, 3, 4], [2, 5, 6]], I64))
    assert mg.column_stack([mg.tensor(1.0), mg.tensor(2.0)]).shape == (1, 2)
    _same(mg.hstack([mg.tensor([1]), mg.tensor([2.5])]), np.array([1.0, 2.5], np.float32))  # common dtype
    _same(mg.tile(mg.tensor([1, 2]), (2, 2)), np.array([[1, 2, 1, 2], [1, 2, 1, 2]], I64))
    assert mg.tile(mg.ones(2, 3), (2,)).shape == (2, 6) and mg.tile(mg.ones(2), (0,)).shape == (0,)
    _same(mg.ravel(mg.tensor([[1, 2], [3, 4]]).T), np.array([1, 3, 2, 4], I64))


def test_tensor_split_sections_and_indices():
    x = mg.arange(7)
    _same(mg.tensor_split(x, 3), ([0, 1, 2], [3, 4], [5, 6]))
    _same(mg.tensor_split(x, [1, 5]), ([0], [1, 2, 3, 4], [5, 6]))
    _same(mg.tensor_split(x, [5, 1]), ([0, 1, 2, 3, 4], np.zeros(0, I64), [1, 2, 3, 4, 5, 6]))
    _same(mg.tensor_split(x, [-2, 10]), ([0, 1, 2, 3, 4], [5, 6], np.zeros(0, I64)))
    _same(mg.tensor_split(x, mg.tensor(3)), ([0, 1, 2], [3, 4], [5, 6]))
    _same(mg.tensor_split(x, mg.tensor([2, 3])), ([0, 1], [2], [3, 4, 5, 6]))
    assert [p.shape for p in mg.tensor_split(mg.ones(2, 5), 2, dim=-1)] == [(2, 3), (2, 2)]
    _same(mg.hsplit(mg.arange(6), 3), ([0, 1], [2, 3], [4, 5]))
    assert [p.shape for p in mg.hsplit(mg.ones(2, 3), [1])] == [(2, 1), (2, 2)]
    assert [p.shape for p in mg.vsplit(mg.ones(4, 2), 2)] == [(2, 2), (2, 2)]
    assert [p.shape for p in mg.dsplit(mg.ones(1, 2, 4), [3])] == [(1, 2, 3), (1, 2, 1)]
    _as_torch(lambda L: L.tensor_split(L.arange(24).reshape(2, 3, 4), [1, -1], dim=2))


@pytest.mark.parametrize("call, error, match", [
    (lambda: mg.tensor_split(mg.ones(3), 0), RuntimeError, "number of sections must be larger than 0"),
    (lambda: mg.tensor_split(mg.tensor(3.0), 1), RuntimeError, "at least a 1-dimensional tensor"),
    (lambda: mg.tensor_split(mg.ones(3), mg.tensor([[1]])), RuntimeError, "zero-dimensional or one-dimensional"),
    (lambda: mg.tensor_split(mg.ones(3), 2, dim=1), IndexError, "Dimension out of range"),
    (lambda: mg.hsplit(mg.arange(7), 3), RuntimeError, "not divisible by the split_size 3"),
    (lambda: mg.vsplit(mg.ones(3), 1), RuntimeError, "at least 2 dimension"),
    (lambda: mg.dsplit(mg.ones(2, 3), 1), RuntimeError, "at least 3 dimension"),
    (lambda: mg.movedim(mg.ones(2, 3, 4), (0, 0), (1, 2)), RuntimeError, "repeated dim in `source`"),
    (lambda: mg.movedim(mg.ones(2, 3, 4), (0, 1), (1,)), RuntimeError, "same number of dims"),
    (lambda: mg.movedim(mg.ones(2, 3), 2, 0), IndexError, "out of range"),
    (lambda: mg.rot90(mg.ones(3)), RuntimeError, "expected total dims >= 2"),
    (lambda: mg.rot90(mg.ones(2, 3), 1, [0, 0]), RuntimeError, "rotation dims to be different"),
    (lambda: mg.rot90(mg.ones(2, 3), 1, [0]), RuntimeError, "total rotation dims == 2"),
    (lambda: mg.fliplr(mg.ones(3)), RuntimeError, "Input must be >= 2-d"),
    (lambda: mg.flipud(mg.tensor(1.0)), RuntimeError, "Input must be >= 1-d"),
    (lambda: mg.take(mg.ones(2, 3), mg.tensor([6])), IndexError, "index 6 is out of range"),
    (lambda: mg.take(mg.ones(2), mg.tensor([0.0])), RuntimeError, "Expected a long tensor"),
    (lambda: mg.tile(mg.ones(2), (-1,)), RuntimeError, "negative dimension"),
    (lambda: mg.block_diag(mg.ones(1, 1, 1)), RuntimeError, "2 or fewer dimensions"),
    (lambda: mg.diag_embed(mg.ones(2), 0, 0, 0), RuntimeError, "cannot be identical"),
])
def test_shape_errors_name_what_was_wrong(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_rot90_flip_take_values():
    x = mg.tensor([[0, 1, 2], [3, 4, 5]])
    _same(mg.rot90(x), np.array([[2, 5], [1, 4], [0, 3]], I64))
    _same(mg.rot90(x, -1, [1, 0]), np.array([[2, 5], [1, 4], [0, 3]], I64))
    _same(mg.rot90(x, 2), np.array([[5, 4, 3], [2, 1, 0]], I64))
    _same(x.rot90(5), mg.rot90(x).array)
    _same(mg.fliplr(x), np.array([[2, 1, 0], [5, 4, 3]], I64))
    _same(mg.flipud(x), np.array([[3, 4, 5], [0, 1, 2]], I64))
    _same(mg.take(x, mg.tensor([[0, -1], [2, 3]])), np.array([[0, 5], [2, 3]], I64))
    _same(x.take(mg.tensor(4)), np.array(4, I64))
    _as_torch(lambda L: (L.rot90(L.arange(24).reshape(2, 3, 4), 3, [2, 1]), L.rot90(L.arange(6).reshape(2, 3), 0)))


def test_block_diag_diag_embed_diagflat_values():
    got = mg.block_diag(mg.ones(2, 2), mg.tensor(5.0), mg.tensor([2.0, 2.0, 2.0]), mg.ones(0, 2))
    want = np.zeros((4, 8), np.float32)
    want[:2, :2], want[2, 2], want[3, 3:6] = 1, 5, 2
    _same(got, want)
    assert mg.block_diag(mg.ones(1, 1, dtype=mg.int64), mg.ones(1, 1)).dtype == mg.float32
    assert mg.block_diag().shape == (1, 0)
    _same(mg.diag_embed(mg.tensor([1, 2]), offset=1), np.array([[0, 1, 0], [0, 0, 2], [0, 0, 0]], I64))
    assert mg.diag_embed(mg.ones(2, 3), 0, 0, 2).shape == (3, 2, 3)
    _same(mg.diagflat(mg.tensor([[1, 2], [3, 4]])), np.diag([1, 2, 3, 4]).astype(I64))
    _same(mg.diagflat(mg.tensor(3.0)), np.array([[3.0]], np.float32))
    _as_torch(lambda L: (L.diag_embed(L.arange(6).reshape(2, 3), -1, 0, 2), L.diagflat(L.arange(3), -2)))


# --- views share memory; copies do not -----------------------------------------------------------
def test_views_share_memory_as_torch():
    x = mg.zeros(2, 3, 4)
    mg.movedim(x, 0, -1)[1, 2, 0] = 7.0  # a view: the base sees it
    assert x[0, 1, 2].item() == 7.0
    x.moveaxis(2, 0)[0, 0, 0] = 5.0
    assert x[0, 0, 0].item() == 5.0
    a = mg.zeros(6)
    mg.tensor_split(a, 3)[1][0] = 1.0
    mg.hsplit(a, [4])[1][1] = 2.0
    mg.ravel(a)[0] = 3.0  # contiguous: ravel is a view
    assert a.tolist() == [3.0, 0.0, 1.0, 0.0, 0.0, 2.0]
    m = mg.zeros(2, 3)
    mg.atleast_3d(m)[1, 2, 0] = 4.0
    assert m[1, 2].item() == 4.0
    # copies: PyTorch's flip, fliplr, rot90, ravel of a non-contiguous tensor, take, tile, hstack, clone
    for copy in (lambda: mg.flip(m, (0,)), lambda: mg.fliplr(m), lambda: mg.flipud(m), lambda: mg.rot90(m, 0),
                 lambda: mg.rot90(m), lambda: mg.ravel(m.T), lambda: mg.take(m, mg.tensor([0, 1])),
                 lambda: mg.tile(m, (1,)), lambda: mg.hstack([m]), lambda: mg.clone(m), lambda: m.clone(),
                 lambda: mg.flip(mg.zeros(1, 1), (0, 1))):
        c = copy()
        c.array[...] = -1
        assert m.array.min() == 0.0, "a copy shared memory with its input"


# --- out-of-place writes and their in-place forms --------------------------------------------------
def test_index_copy_select_scatter_slice_scatter():
    x = mg.zeros(3, 4)
    _same(x.index_copy(1, mg.tensor([3, 0]), mg.ones(3, 2)), np.array([[1, 0, 0, 1]] * 3, np.float32))
    assert x.array.max() == 0  # out of place
    _same(mg.select_scatter(x, mg.ones(4), 0, -1), np.array([[0] * 4, [0] * 4, [1] * 4], np.float32))
    _same(mg.slice_scatter(x, mg.ones(3, 2), 1, 1, 4, 2), np.array([[0, 1, 0, 1]] * 3, np.float32))
    _same(mg.slice_scatter(x, mg.ones(1, 4), start=2), np.array([[0] * 4, [0] * 4, [1] * 4], np.float32))
    y = mg.zeros(3, 4)
    assert y.index_copy_(0, mg.tensor([1]), mg.full((1, 4), 2.0)) is y and y._version == 1
    assert y.sum().item() == 8.0
    with pytest.raises(IndexError, match=r"Number of indices \(2\) should be equal to source.size\(dim\) \(3\)"):
        x.index_copy(1, mg.tensor([3, 0]), mg.ones(3, 3))
    with pytest.raises(IndexError, match="index 4 is out of bounds"):
        x.index_copy(1, mg.tensor([4, 0]), mg.ones(3, 2))
    with pytest.raises(RuntimeError, match="expected src to have a size equal to the slice"):
        mg.select_scatter(x, mg.ones(3), 0, 0)
    with pytest.raises(RuntimeError, match="src size = \\[3, 3\\], slice size = \\[3, 2\\]"):
        mg.slice_scatter(x, mg.ones(3, 3), 1, 0, 2)
    _as_torch(lambda L: (L.zeros(2, 3, dtype=L.int64).index_copy(0, L.tensor([1]), L.tensor([[4, 5, 6]])),
                         L.slice_scatter(L.zeros(4, 2), L.ones(2, 2), 0, -3, -1)))


def test_index_copy_gives_no_gradient_to_overwritten_places():
    x = mg.ones(2, 3, dtype=mg.float64, requires_grad=True)
    s = mg.ones(2, 1, dtype=mg.float64, requires_grad=True)
    (x.index_copy(1, mg.tensor([1]), s) * mg.tensor([[1.0, 2.0, 3.0]], dtype=mg.float64)).sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 3.0]] * 2 and s.grad.tolist() == [[2.0], [2.0]]


def test_put_index_put_fill_diagonal_in_place():
    y = mg.zeros(2, 3)
    assert y.put_(mg.tensor([0, 5, 5]), mg.tensor([1.0, 2, 3]), accumulate=True) is y
    assert y.tolist() == [[1.0, 0, 0], [0, 0, 5.0]] and y._version == 1
    y.put_(mg.tensor([-1]), mg.tensor([9.0]))
    assert y[1, 2].item() == 9.0 and y._version == 2
    assert mg.ones(2, 3).put(mg.tensor([1]), mg.tensor([5.0])).tolist() == [[1, 5, 1], [1, 1, 1]]
    z = mg.zeros(3, 3)
    z.index_put_((mg.tensor([0, 0]), mg.tensor([1, 1])), mg.tensor([1.0, 2.0]), accumulate=True)
    z.index_put_((mg.tensor([2]),), mg.tensor(7.0))
    assert z.tolist() == [[0, 3, 0], [0, 0, 0], [7, 7, 7]] and z._version == 2
    assert mg.ones(2, 3).index_put((mg.tensor([1]),), mg.tensor(5.0)).tolist() == [[1, 1, 1], [5, 5, 5]]
    d = mg.zeros(7, 3)
    assert d.fill_diagonal_(5, wrap=True) is d and d._version == 1
    want = np.zeros((7, 3), np.float32)
    np.fill_diagonal(want, 5, wrap=True)
    assert want[4, 0] == 5 and want[3].sum() == 0
    _same(d, want)
    assert mg.zeros(7, 3).fill_diagonal_(5).array[4:].sum() == 0  # no wrap: the diagonal stops
    cube = mg.zeros(2, 2, 2).fill_diagonal_(1)
    assert cube[0, 0, 0].item() == 1 and cube[1, 1, 1].item() == 1 and cube.sum().item() == 2
    with pytest.raises(IndexError, match="index 6 is out of range"):
        mg.zeros(2, 3).put_(mg.tensor([6]), mg.tensor([9.0]))
    with pytest.raises(RuntimeError, match="same number of elements"):
        mg.zeros(2, 3).put_(mg.tensor([1, 2]), mg.tensor([9.0]))
    with pytest.raises(RuntimeError, match="all dimensions of input must be of equal length"):
        mg.zeros(2, 3, 3).fill_diagonal_(1)
    with pytest.raises(RuntimeError, match="dimensions must larger than 1"):
        mg.zeros(3).fill_diagonal_(1)

    def program(L):
        a = L.zeros(4, 4, dtype=L.int64)
        a.fill_diagonal_(3)
        a.put_(L.tensor([1, 1]), L.tensor([2, 5]), accumulate=True)
        a.index_put_((L.tensor([3]), L.tensor([0])), L.tensor([8]), accumulate=True)
        return a
    _as_torch(program)


def test_inplace_unary_methods_and_versions():
    x = mg.tensor([4.0, 9.0])
    assert x.sqrt_() is x and x.tolist() == [2.0, 3.0] and x._version == 1
    x.square_()
    x.log_()
    assert x._version == 3
    np.testing.assert_allclose(x.array, np.log([4.0, 9.0]), rtol=1e-6)
    y = mg.tensor([-1.5, 2.0])
    view = y[:1]
    y.abs_()
    assert view.tolist() == [1.5] and y._version == 1
    leaf = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        leaf.sqrt_()
    # a backward that needs a value changed in place since says so
    w = mg.tensor([2.0, 3.0], requires_grad=True)
    h = w * 1
    out = (h * h).sum()
    h.square_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


# --- scatter_reduce: every reduce, include_self, dtypes, ties ---------------------------------------
X4, IDX, SRC = [1.0, 2.0, 3.0, 4.0], [0, 1, 0, 1, 2], [5.0, 1.0, 5.0, 2.0, 0.0]
EXPECTED = {
    ("sum", True): [11, 5, 3, 4], ("sum", False): [10, 3, 0, 4],
    ("prod", True): [25, 4, 0, 4], ("prod", False): [25, 2, 0, 4],
    ("mean", True): [11 / 3, 5 / 3, 1.5, 4], ("mean", False): [5, 1.5, 0, 4],
    ("amax", True): [5, 2, 3, 4], ("amax", False): [5, 2, 0, 4],
    ("amin", True): [1, 1, 0, 4], ("amin", False): [5, 1, 0, 4],
}


@pytest.mark.parametrize("reduce, include_self", list(EXPECTED))
def test_scatter_reduce_values(reduce, include_self):
    got = mg.tensor(X4).scatter_reduce(0, mg.tensor(IDX), mg.tensor(SRC), reduce, include_self=include_self)
    np.testing.assert_allclose(got.array, EXPECTED[reduce, include_self], rtol=1e-6)
    _as_torch(lambda L: L.tensor(X4).scatter_reduce(0, L.tensor(IDX), L.tensor(SRC), reduce,
                                                    include_self=include_self))


def test_scatter_reduce_integers_and_errors():
    xi = mg.tensor([1, 2, 3, 4])
    _same(xi.scatter_reduce(0, mg.tensor(IDX), mg.tensor([5, 1, 5, 2, 0]), "mean"), np.array([3, 1, 1, 4], I64))
    _same(mg.tensor([-1, 2]).scatter_reduce(0, mg.tensor([0, 0]), mg.tensor([-4, 0]), "mean"),
          np.array([-2, 2], I64))  # floor division, as PyTorch
    _same(xi.scatter_reduce(0, mg.tensor([0, 0]), mg.tensor([7, 9]), "amax", include_self=False),
          np.array([9, 2, 3, 4], I64))
    y = mg.tensor(X4)
    assert y.scatter_reduce_(0, mg.tensor(IDX), mg.tensor(SRC), "sum") is y and y._version == 1
    assert y.tolist() == [11, 5, 3, 4]
    with pytest.raises(RuntimeError, match="reduce argument must be either sum, prod, mean, amax or amin"):
        y.scatter_reduce(0, mg.tensor(IDX), mg.tensor(SRC), "max")
    with pytest.raises(RuntimeError, match="index 7 is out of bounds"):
        y.scatter_reduce(0, mg.tensor([7]), mg.tensor([1.0]), "sum")
    with pytest.raises(RuntimeError, match="dtype"):
        y.scatter_reduce(0, mg.tensor([1]), mg.tensor([1]), "sum")
    _as_torch(lambda L: L.tensor([[1, -2], [3, 0]]).scatter_reduce(1, L.tensor([[1, 1], [0, 0]]),
                                                                    L.tensor([[5, -7], [3, 3]]), "prod"))


def _grads(reduce, include_self, x, index, src):
    xt = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    st = mg.tensor(src, dtype=mg.float64, requires_grad=True)
    xt.scatter_reduce(0, mg.tensor(index), st, reduce, include_self=include_self).sum().backward()
    return xt.grad.tolist(), st.grad.tolist()


def test_scatter_reduce_ties_split_the_gradient_evenly():
    # x[0] = 3 and two src values 3 tie for the max at place 0: a third each
    gx, gs = _grads("amax", True, [3.0, 1.0], [0, 0, 1], [3.0, 3.0, 0.5])
    np.testing.assert_allclose(gx, [1 / 3, 1.0])
    np.testing.assert_allclose(gs, [1 / 3, 1 / 3, 0.0])
    gx, gs = _grads("amin", True, [0.5, 1.0], [0, 0, 1], [0.5, 2.0, 1.0])
    np.testing.assert_allclose(gx, [0.5, 0.5])
    np.testing.assert_allclose(gs, [0.5, 0.0, 0.5])
    if torch is not None:
        xt = torch.tensor([3.0, 1.0], dtype=torch.float64, requires_grad=True)
        st = torch.tensor([3.0, 3.0, 0.5], dtype=torch.float64, requires_grad=True)
        xt.scatter_reduce(0, torch.tensor([0, 0, 1]), st, "amax").sum().backward()
        np.testing.assert_allclose(xt.grad.numpy(), [1 / 3, 1.0])
        np.testing.assert_allclose(st.grad.numpy(), [1 / 3, 1 / 3, 0.0])


def test_scatter_reduce_ties_without_self_count_only_src():
    """include_self=False: x's value is no candidate, so the two tied src values get half each (and the
    gradients at a place sum to 1). PyTorch 2.13 still counts x in the tie there and gives 1/3 each (README)."""
    gx, gs = _grads("amax", False, [3.0, 1.0], [0, 0, 1], [3.0, 3.0, 0.5])
    np.testing.assert_allclose(gx, [0.0, 0.0])
    np.testing.assert_allclose(gs, [0.5, 0.5, 1.0])


def test_scatter_reduce_prod_gradient_with_zeros():
    # place 0: x=0, src 0 and 3 (two zeros: no gradient anywhere); place 1: x=2, src 0 and 2 (one zero)
    gx, gs = _grads("prod", True, [0.0, 2.0, 7.0], [0, 0, 1, 1], [0.0, 3.0, 0.0, 2.0])
    assert gx == [0.0, 0.0, 1.0] and gs == [0.0, 0.0, 4.0, 0.0]
    gx, gs = _grads("prod", False, [5.0, 2.0], [0, 0], [2.0, 3.0])
    assert gx == [0.0, 1.0] and gs == [3.0, 2.0]


# --- creation ------------------------------------------------------------------------------------
def test_like_factories_exist_and_keep_shape_and_dtype():
    x = mg.zeros(3, 4, dtype=mg.float64)
    for f in (mg.empty_like, mg.zeros_like, mg.ones_like, mg.rand_like, mg.randn_like):
        y = f(x)
        assert y.shape == (3, 4) and y.dtype == mg.float64
    assert mg.full_like(x, 2.5).array.max() == 2.5
    r = mg.randint_like(x, 5)
    assert r.dtype == mg.float64 and r.shape == (3, 4) and 0 <= r.array.min() and r.array.max() < 5
    r = mg.randint_like(mg.zeros(100, dtype=mg.int64), 2, 5)
    assert r.dtype == mg.int64 and 2 <= r.array.min() and r.array.max() < 5
    assert mg.empty_like(x, dtype=mg.int32).dtype == mg.int32
    c = mg.clone(x)
    assert c.shape == x.shape and c.array is not x.array
