"""Indexing, sorting, sampling and tensor facts (issue 14): the op table's rows for the
differentiable ones (float64 finite differences, first and second order, and PyTorch's
values and gradients), and value-and-dtype comparisons with PyTorch for the rest.
"""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import check_op, compare_torch

torch = pytest.importorskip("torch")

ROWS = []


def row(id_, fn, *shapes, **opts):
    ROWS.append(pytest.param(fn, shapes, opts, id=id_))


def both(fn_of_lib):
    """fn for matgrad and torch_fn for torch from one lambda taking the library as first argument."""
    return dict(fn=lambda *a: fn_of_lib(mg, *a), torch_fn=lambda *a: fn_of_lib(torch, *a))


def brow(id_, fn_of_lib, *shapes, **opts):
    f = both(fn_of_lib)
    ROWS.append(pytest.param(f["fn"], shapes, {"torch_fn": f["torch_fn"], **opts}, id=id_))


DUP = [[0, 0, 2, 3], [1, 1, 1, 0], [3, 0, 2, 2]]  # repeated indices along dim 1 of a (3, 4)
PERM = [[2, 0, 1, 3], [0, 3, 2, 1], [1, 2, 3, 0]]  # no repeats: scatter is deterministic
TIES = np.array([[1.0, 3.0, 3.0, 2.0, 3.0], [0.5, 0.5, -1.0, 0.5, 2.0], [4.0, 4.0, 4.0, 4.0, 4.0]])

# --- gather / scatter / index ops (repeated indices add up in the backward) --------------
brow("gather_dup", lambda L, a: a.gather(1, L.tensor(DUP)), (3, 4))
brow("gather_dim0", lambda L, a: L.gather(a, 0, L.tensor([[2, 0], [2, 2], [1, 0]])), (3, 4))
brow("gather_negdim_small", lambda L, a: a.gather(-1, L.tensor([[1], [0]])), (3, 4))
brow("gather_3d", lambda L, a: a.gather(1, L.tensor([[[0, 1]], [[2, 2]]])), (2, 3, 2))
brow("take_along_dim", lambda L, a: L.take_along_dim(a, L.tensor([[0], [2], [1]]), 1), (3, 4))
brow("scatter_src", lambda L, a, s: a.scatter(1, L.tensor(PERM), s), (3, 4), (3, 4))
# torch's own backward fails for a src larger than the index: compare with the used block cut out
row("scatter_src_larger", lambda a, s: mg.scatter(a, 0, mg.tensor([[2, 0, 1]]), s), (3, 4), (2, 5),
    torch_fn=lambda a, s: torch.scatter(a, 0, torch.tensor([[2, 0, 1]]), s[:1, :3]))
brow("scatter_value", lambda L, a: a.scatter(1, L.tensor([[0], [3], [1]]), 2.5), (3, 4))
brow("scatter_add_dup", lambda L, a, s: a.scatter_add(1, L.tensor(DUP), s), (3, 4), (3, 4))
brow("scatter_add_dim0", lambda L, a, s: L.scatter_add(a, 0, L.tensor([[0, 0, 0, 0], [2, 0, 2, 0]]), s),
     (3, 4), (2, 4))
brow("index_select_rep", lambda L, a: a.index_select(0, L.tensor([2, 0, 2, 2])), (3, 4))
brow("index_select_neg", lambda L, a: L.index_select(a, -1, L.tensor([3, 1])), (2, 3, 4))
brow("index_select_empty", lambda L, a: a.index_select(1, L.tensor([], dtype=L.int64)), (3, 4))
brow("index_add_dup", lambda L, a, s: a.index_add(1, L.tensor([0, 2, 0]), s), (3, 4), (3, 3))
brow("index_add_alpha", lambda L, a, s: L.index_add(a, 0, L.tensor([1, 1]), s, alpha=-2.0), (3, 4), (2, 4))
brow("index_fill", lambda L, a: a.index_fill(1, L.tensor([0, 3]), -1.0), (3, 4))
brow("masked_select", lambda L, a: a.masked_select(L.tensor([[True, False, True, False]] * 3)), (3, 4))
brow("masked_select_bcast_mask", lambda L, a: L.masked_select(a, L.tensor([False, True, True, False])), (3, 4))
brow("masked_select_bcast_input", lambda L, a: L.masked_select(a, L.tensor([[True], [False], [True]])), (4,))
brow("masked_select_empty", lambda L, a: a.masked_select(L.zeros(3, 4, dtype=L.bool)), (3, 4))
brow("masked_scatter", lambda L, a, s: a.masked_scatter(L.tensor([[True, False, True, True]] * 3), s),
     (3, 4), (10,))
# the in-place forms on a copy, recorded through Tensor._modify
brow("scatter_add_", lambda L, a, s: a.clone().scatter_add_(1, L.tensor(DUP), s), (3, 4), (3, 4))
brow("scatter_", lambda L, a, s: (a * 1).scatter_(1, L.tensor(PERM), s), (3, 4), (3, 4))
brow("index_add_", lambda L, a, s: a.clone().index_add_(0, L.tensor([2, 2]), s), (3, 4), (2, 4))
brow("index_fill_", lambda L, a: a.clone().index_fill_(0, L.tensor([1]), 3.0), (3, 4))
brow("masked_scatter_", lambda L, a, s: a.clone().masked_scatter_(L.tensor([True, False, True, False]), s),
     (3, 4), (7,))

# --- sorting and order statistics ---------------------------------------------------------
brow("sort", lambda L, a: L.sort(a)[0], (3, 5))
brow("sort_desc_dim0", lambda L, a: a.sort(0, descending=True).values, (4, 3))
brow("topk", lambda L, a: L.topk(a, 2).values, (3, 5))
brow("topk_smallest_dim0", lambda L, a: a.topk(3, dim=0, largest=False)[0], (4, 3))
brow("kthvalue", lambda L, a: a.kthvalue(2, 1).values, (3, 5))
brow("median_all", lambda L, a: a.median(), (3, 5))
brow("median_even", lambda L, a: L.median(a), (4,))
brow("median_dim", lambda L, a: a.median(1).values, (3, 4))
brow("median_dim_keep", lambda L, a: L.median(a, 0, keepdim=True)[0], (3, 4))
brow("mode", lambda L, a: a.mode(1).values, np.round(TIES[:2] * 3) / 3 + np.arange(5) / 7, second=False)
brow("quantile_scalar", lambda L, a: L.quantile(a, 0.3), (3, 5))
brow("quantile_dim", lambda L, a: a.quantile(0.75, dim=1), (3, 5))
brow("quantile_vec_keep", lambda L, a: L.quantile(a, L.tensor([0.1, 0.5, 1.0], dtype=L.float64), dim=0,
                                                  keepdim=True), (4, 3))
brow("quantile_vec_all_keep", lambda L, a: a.quantile(L.tensor([0.25, 0.6], dtype=L.float64), keepdim=True), (3, 4))
for mode_ in ("lower", "higher", "midpoint", "nearest"):
    brow(f"quantile_{mode_}", lambda L, a, m=mode_: L.quantile(a, L.tensor([0.2, 0.5, 0.9], dtype=L.float64), dim=1,
                                                               interpolation=m), (3, 6))

# --- views by position, shape helpers ---------------------------------------------------
brow("narrow", lambda L, a: a.narrow(1, 1, 2), (3, 4))
brow("narrow_neg", lambda L, a: L.narrow(a, 0, -2, 2), (3, 4))
brow("select", lambda L, a: a.select(1, -1), (3, 4, 2))
brow("select_fn", lambda L, a: L.select(a, 0, 1), (3, 4))
brow("unflatten", lambda L, a: a.unflatten(1, (2, -1)), (3, 6))
brow("unflatten_fn", lambda L, a: L.unflatten(a, -1, (3, 2)), (2, 6))
brow("unfold", lambda L, a: a.unfold(1, 3, 2), (2, 7))
brow("unfold_overlap_dim0", lambda L, a: a.unfold(0, 2, 1), (4, 3))
brow("unfold_3d", lambda L, a: a.unfold(-1, 2, 3), (2, 3, 8))
brow("split_with_sizes", lambda L, a: a.split_with_sizes([1, 3, 2], dim=1), (3, 6))
brow("split_with_sizes_fn", lambda L, a: L.split_with_sizes(a, [2, 1]), (3, 4))
brow("meshgrid_ij", lambda L, a, b: L.meshgrid(a, b, indexing="ij"), (3,), (4,))
brow("meshgrid_xy", lambda L, a, b, c: L.meshgrid([a, b, c], indexing="xy"), (3,), (4,), (2,))
brow("broadcast_tensors", lambda L, a, b, c: L.broadcast_tensors(a, b, c), (3, 1), (4,), ())

# --- shape, joining, indexing (movedim ... scatter_reduce) ---------------------------------
SR_IDX = [[0, 1, 0, 1], [2, 2, 2, 0]]  # scatter_reduce along dim 1 of a (2, 3): repeats, and a place left alone
brow("movedim", lambda L, a: L.movedim(a, (0, 1), (2, 0)), (2, 3, 4))
brow("moveaxis_method", lambda L, a: a.moveaxis(-1, 0), (2, 3, 4))
brow("ravel_T", lambda L, a: L.ravel(a.T), (3, 4))
brow("tile", lambda L, a: L.tile(a, (2, 1, 3)), (2, 3))
brow("tile_short", lambda L, a: a.tile((2,)), (2, 3))
brow("atleast_3d", lambda L, a, b: L.atleast_3d(a, b), (3,), (2, 3))
brow("hstack", lambda L, a, b: L.hstack([a, b]), (2, 3), (2, 1))
brow("hstack_1d", lambda L, a, b: L.hstack((a, b)), (3,), ())
brow("vstack", lambda L, a, b: L.vstack([a, b]), (3,), (2, 3))
brow("dstack", lambda L, a, b: L.dstack([a, b]), (2, 3), (2, 3, 2))
brow("column_stack", lambda L, a, b: L.column_stack([a, b]), (3,), (3, 2))
brow("tensor_split_n", lambda L, a: L.tensor_split(a, 3, dim=1), (2, 7))
brow("tensor_split_idx", lambda L, a: a.tensor_split([1, -2, 9], 1), (2, 7))
brow("hsplit", lambda L, a: L.hsplit(a, [2]), (3, 4))
brow("vsplit", lambda L, a: a.vsplit(3), (3, 4))
brow("dsplit", lambda L, a: L.dsplit(a, 2), (2, 1, 4))
brow("fliplr", lambda L, a: L.fliplr(a), (3, 4))
brow("flipud", lambda L, a: a.flipud(), (3, 4))
brow("rot90", lambda L, a: L.rot90(a), (3, 4))
brow("rot90_k3_dims", lambda L, a: a.rot90(3, (2, 0)), (2, 3, 4))
brow("rot90_k2_neg", lambda L, a: L.rot90(a, -2, [1, 0]), (3, 4))
brow("take", lambda L, a: L.take(a, L.tensor([[0, -1], [5, 5]])), (3, 4))
brow("clone", lambda L, a: L.clone(a) * a, (3,))
brow("diag_embed", lambda L, a: L.diag_embed(a), (2, 3))
brow("diag_embed_dims", lambda L, a: L.diag_embed(a, offset=-1, dim1=0, dim2=2), (2, 3))
brow("diagflat", lambda L, a: L.diagflat(a, 1), (2, 2))
brow("block_diag", lambda L, a, b, c: L.block_diag(a, b, c), (2, 2), (3,), ())
brow("cartesian_prod", lambda L, a, b: L.cartesian_prod(a, b), (2,), (3,))
brow("combinations", lambda L, a: L.combinations(a, 2), (4,))
brow("combinations_repl", lambda L, a: L.combinations(a, r=3, with_replacement=True), (3,))
# torch 2.13's own vander fails in backward (an in-place change inside it): compare with its powers stacked
row("vander", lambda a: mg.vander(a), (4,), torch_fn=lambda a: torch.stack([a ** (3 - j) for j in range(4)], 1))
row("vander_zero", lambda a: mg.vander(a, N=4, increasing=True), np.array([0.0, 1.5, -2.0]),
    torch_fn=lambda a: torch.stack([a ** j for j in range(4)], 1))
brow("index_copy", lambda L, a, s: a.index_copy(1, L.tensor([3, 0]), s), (3, 4), (3, 2))
brow("index_copy_", lambda L, a, s: a.clone().index_copy_(0, L.tensor([2]), s), (3, 4), (1, 4))
brow("select_scatter", lambda L, a, s: L.select_scatter(a, s, 1, -1), (3, 4), (3,))
brow("slice_scatter", lambda L, a, s: L.slice_scatter(a, s, 1, 1, None, 2), (3, 4), (3, 2))
brow("put_accumulate", lambda L, a, s: a.clone().put_(L.tensor([0, 5, 5]), s, accumulate=True), (2, 3), (3,))
brow("put", lambda L, a, s: a.put(L.tensor([-1, 2]), s), (2, 3), (2,))
brow("index_put_", lambda L, a, s: a.clone().index_put_((L.tensor([0, 2]), L.tensor([1, 1])), s), (3, 3), (2,))
brow("index_put_acc", lambda L, a, s: a.index_put((L.tensor([0, 0]),), s, accumulate=True), (3, 3), (3,))
brow("fill_diagonal_", lambda L, a: (a * 1).fill_diagonal_(2.0, wrap=True), (7, 3))
for _r in ("sum", "prod", "mean", "amax", "amin"):
    for _inc in (True, False):
        brow(f"scatter_reduce_{_r}_{_inc}", lambda L, a, s, r=_r, inc=_inc: a.scatter_reduce(
            1, L.tensor(SR_IDX), s, r, include_self=inc), (2, 3), (2, 4))
brow("scatter_reduce_prod_zeros", lambda L, a, s: L.scatter_reduce(a, 0, L.tensor([0, 0, 1, 1]), s, "prod"),
     np.array([0.0, 2.0, 7.0]), np.array([0.0, 3.0, 0.5, 2.0]), second=False)
brow("scatter_reduce_", lambda L, a, s: a.clone().scatter_reduce_(1, L.tensor(SR_IDX), s, "amax"), (2, 3), (2, 4))
brow("square_", lambda L, a: (a * 1).square_(), (3, 4))
brow("abs_", lambda L, a: (a * 1).abs_(), (3, 4))
brow("log_", lambda L, a: (a * 1).log_(), (3, 4), positive=True)
brow("sqrt_", lambda L, a: (a * 1).sqrt_(), (3, 4), positive=True)


@pytest.mark.parametrize("fn, shapes, opts", ROWS)
def test_op(fn, shapes, opts):
    check_op(fn, *shapes, **opts)


# Ties: not differentiable there (finite differences break the tie), so values and gradients against torch only.
# (topk and kthvalue leave ties in the order torch's selection algorithm happens to leave them; matgrad takes
# the lower index: see test_topk_ties_take_the_lower_index_and_route_the_gradient_there.)
TIE_ROWS = [
    ("sort_ties_stable", lambda L, a: L.sort(a, dim=1, stable=True).values),
    ("sort_ties_desc", lambda L, a: a.sort(dim=1, descending=True, stable=True).values),
    ("sort_ties_dim0", lambda L, a: L.sort(a.T, dim=0, stable=True)[0]),
    ("median_ties", lambda L, a: a.median(1).values),
    ("median_all_ties", lambda L, a: a.median()),
    ("mode_ties", lambda L, a: a.mode(1).values),
    ("quantile_ties", lambda L, a: L.quantile(a, 0.4, dim=1)),
]


@pytest.mark.parametrize("fn", [pytest.param(f, id=i) for i, f in TIE_ROWS])
def test_ties_as_torch(fn):
    compare_torch(lambda a: fn(mg, a), [TIES], lambda a: fn(torch, a))


# --- the indices and the non-differentiable ops: values and dtypes equal to PyTorch's ------------
def _same(got, want):
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
        return
    w = want.numpy()
    assert got.array.dtype == w.dtype, (got.array.dtype, w.dtype)
    assert got.shape == tuple(want.shape)
    np.testing.assert_allclose(got.array, w, rtol=1e-6, equal_nan=True)


INTS = np.array([[3, 1, 2, 1, 3, 0], [5, 5, 2, 2, 7, 7]])
FLOATS = np.array([[0.5, -1.0, 2.0, 0.5, np.nan, 3.0], [1.0, 1.0, -2.0, 0.0, 4.0, 4.0]], dtype=np.float32)

COMPARE = [
    ("argsort", lambda L, x: L.argsort(x, dim=1, stable=True), INTS),
    ("argsort_desc", lambda L, x: x.argsort(dim=0, descending=True, stable=True), INTS),
    ("sort_indices", lambda L, x: L.sort(x, stable=True), INTS),
    ("sort_nan", lambda L, x: L.sort(x, dim=1, stable=True), FLOATS),
    ("sort_nan_desc", lambda L, x: L.sort(x, dim=1, descending=True, stable=True), FLOATS),
    ("sort_bool", lambda L, x: L.sort(x > 2, stable=True), INTS),
    ("sort_0d", lambda L, x: L.sort(x[0, 0]), INTS),
    ("topk_indices", lambda L, x: L.topk(x.double(), 2, dim=0), INTS),
    ("median_indices", lambda L, x: L.median(x, 1), INTS),
    ("median_nan", lambda L, x: L.median(x, 1), FLOATS),
    ("median_global_nan", lambda L, x: L.median(x), FLOATS),
    ("median_global_int", lambda L, x: L.median(x), INTS),
    ("mode_indices", lambda L, x: L.mode(x, 1), INTS),
    ("mode_dim0", lambda L, x: x.mode(0, keepdim=True), INTS),
    ("kthvalue_indices", lambda L, x: x.kthvalue(4, 1), INTS),
    ("kthvalue_nan", lambda L, x: x[:1].kthvalue(4, 1), FLOATS),  # NaN counts as the largest, as in sort
    ("kthvalue_nan_last", lambda L, x: x[:1].kthvalue(6, 1), FLOATS),  # (row 0: its other values have no ties)
    ("quantile_nan", lambda L, x: L.quantile(x, 0.5, dim=1), FLOATS),
    ("unique", lambda L, x: L.unique(x), INTS),
    ("unique_all", lambda L, x: L.unique(x, return_inverse=True, return_counts=True), INTS),
    ("unique_inverse", lambda L, x: x.unique(sorted=True, return_inverse=True), INTS),
    ("unique_dim0", lambda L, x: L.unique(L.cat([x, x[:1]]), dim=0, return_inverse=True, return_counts=True), INTS),
    ("unique_dim1", lambda L, x: L.unique(x, dim=1, return_counts=True), INTS),
    ("unique_float", lambda L, x: L.unique(x[1], return_counts=True), FLOATS),
    ("unique_consecutive", lambda L, x: L.unique_consecutive(x[1], return_inverse=True, return_counts=True), INTS),
    ("bincount", lambda L, x: L.bincount(x[0]), INTS),
    ("bincount_minlength", lambda L, x: x[1].bincount(minlength=10), INTS),
    ("bincount_w32", lambda L, x: L.bincount(x[0], weights=L.arange(6).float()), INTS),
    ("bincount_w64", lambda L, x: L.bincount(x[0], weights=L.arange(6).double()), INTS),
    ("bincount_wint", lambda L, x: L.bincount(x[0], weights=L.arange(6)), INTS),
    ("bincount_empty", lambda L, x: L.bincount(x[0, :0], minlength=3), INTS),
    ("histc", lambda L, x: L.histc(x.float(), bins=4, min=0, max=6), INTS),
    ("histc_range", lambda L, x: x.double().histc(bins=5), INTS),
    ("histc_const", lambda L, x: L.histc(L.ones(3), bins=4), INTS),
    ("histc_outside", lambda L, x: L.histc(x.float(), bins=3, min=1, max=4), INTS),
    ("count_nonzero", lambda L, x: L.count_nonzero(x - 2), INTS),
    ("count_nonzero_dim", lambda L, x: (x - 2).count_nonzero(dim=1), INTS),
    ("count_nonzero_dims", lambda L, x: L.count_nonzero(x.float(), dim=(0, 1)), INTS),
    ("gather_int", lambda L, x: x.gather(1, L.tensor([[0, 5], [1, 1]])), INTS),
    ("gather_index_int32", lambda L, x: x.gather(1, L.tensor([[0, 5], [1, 1]], dtype=L.int32)), INTS),
    ("scatter_add_int", lambda L, x: L.zeros(2, 4, dtype=L.int64).scatter_add(1, x % 4, x), INTS),
    ("scatter_reduce_add", lambda L, x: x.scatter(1, L.tensor([[0, 0], [1, 1]]), L.tensor([[1, 2], [3, 4]]),
                                                  reduce="add"), INTS),
    ("scatter_reduce_mul", lambda L, x: x.scatter(1, L.tensor([[0, 0], [1, 1]]), 3, reduce="multiply"), INTS),
    ("index_fill_neg", lambda L, x: x.index_fill(1, L.tensor([-1]), 9), INTS),
    ("masked_select_int", lambda L, x: L.masked_select(x, x > 2), INTS),
    ("logspace", lambda L, x: L.logspace(-2, 2, 5), INTS),
    ("logspace_base", lambda L, x: L.logspace(0, 3, 4, base=2.0, dtype=L.float64), INTS),
    ("logspace_one", lambda L, x: L.logspace(1, 5, 1), INTS),
    ("meshgrid_int", lambda L, x: L.meshgrid(x[0], x[1, :3], indexing="xy"), INTS),
    ("narrow_int", lambda L, x: x.narrow(1, 2, 3), INTS),
    ("unfold_int", lambda L, x: x.unfold(1, 2, 2), INTS),
    ("unfold_size0", lambda L, x: x.unfold(1, 0, 1), INTS),
    ("broadcast_shapes", lambda L, x: L.tensor(L.broadcast_shapes((3, 1), (4,), 1)), INTS),
]


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
@pytest.mark.parametrize("fn, data", [pytest.param(f, d, id=i) for i, f, d in COMPARE])
def test_matches_torch(fn, data):
    got = fn(mg, mg.tensor(data))
    want = fn(torch, torch.tensor(data))
    _same(got, want)


def test_sort_of_ties_is_stable_like_torch_on_large_rows():
    """Beyond a few elements torch.sort(stable=False) stops being stable: matgrad is stable always."""
    a = np.random.default_rng(0).integers(0, 4, size=(3, 500))
    _same(mg.sort(mg.tensor(a), 1), torch.sort(torch.tensor(a), dim=1, stable=True))
    _same(mg.sort(mg.tensor(a), 1, descending=True), torch.sort(torch.tensor(a), dim=1, descending=True, stable=True))


def test_topk_ties_take_the_lower_index_and_route_the_gradient_there():
    """torch.topk orders tied values as its selection algorithm leaves them; matgrad takes the lower index first.

    The values agree with torch's; the gradient of each tie group adds up to the same.
    """
    a = torch.tensor(TIES, requires_grad=True)
    x = mg.tensor(TIES, requires_grad=True)
    for k, largest in ((1, True), (2, True), (3, False), (5, True)):
        got, want = x.topk(k, largest=largest), a.topk(k, largest=largest)
        np.testing.assert_array_equal(got.values.array, want.values.detach().numpy())
        idx = got.indices.array
        np.testing.assert_array_equal(np.take_along_axis(TIES, idx, 1), got.values.array)
        for r in range(3):  # ties: lower index first
            row_vals = got.values.array[r]
            for j in range(k - 1):
                if row_vals[j] == row_vals[j + 1]:
                    assert idx[r, j] < idx[r, j + 1]
    got = x.topk(3)
    got.values.sum().backward()
    a.topk(3).values.sum().backward()
    for r in range(3):
        for v in np.unique(TIES[r]):
            sel = TIES[r] == v
            assert x.grad.array[r][sel].sum() == pytest.approx(a.grad.numpy()[r][sel].sum())


def test_median_and_mode_pick_torch_indices_among_ties():
    rng = np.random.default_rng(1)
    for _ in range(30):
        a = rng.integers(0, 3, size=(4, int(rng.integers(1, 12))))
        _same(mg.median(mg.tensor(a), 1), torch.median(torch.tensor(a), 1))
        _same(mg.mode(mg.tensor(a), 1), torch.mode(torch.tensor(a), 1))


def test_global_median_shares_the_gradient_among_ties():
    data = np.array([1.0, 2.0, 2.0, 0.0, 2.0, 5.0])
    x, a = mg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    x.median().backward()
    a.median().backward()
    np.testing.assert_allclose(x.grad.array, a.grad.numpy())


def test_scatter_reduce_add_forward_matches_and_has_no_gradient_as_torch():
    x = mg.zeros(2, 3, dtype=mg.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="not implemented"):
        x.scatter(1, mg.tensor([[0]]), 2.0, reduce="multiply")
    with mg.no_grad():
        out = x.scatter(1, mg.tensor([[0, 0]]), mg.ones(1, 2, dtype=mg.float64), reduce="add")
    np.testing.assert_array_equal(out.array, [[2, 0, 0], [0, 0, 0]])


def test_in_place_index_ops_change_the_tensor_itself():
    x = mg.zeros(3, 4)
    view = x
    x.index_add_(0, mg.tensor([0, 0, 2]), mg.ones(3, 4))
    x.index_fill_(1, mg.tensor([1]), -1.0)
    x.scatter_(1, mg.tensor([[3], [3], [3]]), 7.0)
    x.scatter_add_(0, mg.tensor([[1, 1, 1, 1]]), mg.full((1, 4), 0.5))
    x.masked_scatter_(mg.tensor([False, False, True, False]), mg.tensor([10.0, 20.0, 30.0]))
    t = torch.zeros(3, 4)
    t.index_add_(0, torch.tensor([0, 0, 2]), torch.ones(3, 4))
    t.index_fill_(1, torch.tensor([1]), -1.0)
    t.scatter_(1, torch.tensor([[3], [3], [3]]), 7.0)
    t.scatter_add_(0, torch.tensor([[1, 1, 1, 1]]), torch.full((1, 4), 0.5))
    t.masked_scatter_(torch.tensor([False, False, True, False]), torch.tensor([10.0, 20.0, 30.0]))
    assert view is x
    np.testing.assert_array_equal(x.array, t.numpy())
    assert x._version == 5


def test_in_place_on_a_leaf_that_requires_grad_is_refused():
    w = mg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w.scatter_add_(0, mg.tensor([0]), mg.ones(1))
    with pytest.raises(RuntimeError, match="leaf"):
        w.uniform_()
    with mg.no_grad():
        w.uniform_(-1, 1)  # as an init does
    assert (w.array >= -1).all() and (w.array < 1).all()


# --- bad input: PyTorch's kind of error, with the shapes --------------------------------------
ERRORS = [
    ("gather_range", lambda L: L.zeros(2, 3).gather(1, L.tensor([[5]])), RuntimeError, "out of bounds"),
    ("gather_range_as_index_error", lambda L: L.zeros(2, 3).gather(1, L.tensor([[5]])) if L is mg else L.zeros(2)[3],
     IndexError, "out of bounds"),
    ("gather_negative", lambda L: L.zeros(2, 3).gather(1, L.tensor([[-1]])), RuntimeError, "out of bounds"),
    ("gather_dim", lambda L: L.zeros(2, 3).gather(3, L.tensor([[0]])), IndexError, "range"),
    ("gather_ndim", lambda L: L.zeros(2, 3).gather(1, L.tensor([0])), RuntimeError, "same number of dimensions"),
    ("gather_float_index", lambda L: L.zeros(2, 3).gather(1, L.tensor([[0.0]])), RuntimeError, "int64"),
    ("gather_too_big", lambda L: L.zeros(2, 3).gather(1, L.zeros(3, 1, dtype=L.int64)), RuntimeError, "dimension 0"),
    ("scatter_dtype", lambda L: L.zeros(2, 3).scatter(1, L.tensor([[0]]), L.ones(1, 1, dtype=L.float64)),
     RuntimeError, "dtype"),
    ("scatter_add_range", lambda L: L.zeros(2, 3).scatter_add(0, L.tensor([[2]]), L.ones(1, 1)), RuntimeError,
     "out of bounds"),
    ("index_select_range", lambda L: L.zeros(2, 3).index_select(1, L.tensor([3])), RuntimeError, "out of"),
    ("index_select_vector", lambda L: L.zeros(2, 3).index_select(1, L.tensor([[0]])), IndexError, "vector"),
    ("index_add_shape", lambda L: L.zeros(2, 3).index_add(0, L.tensor([0]), L.ones(2, 3)), RuntimeError, "source"),
    ("masked_select_shape", lambda L: L.masked_select(L.zeros(2, 3), L.tensor([True, False])), RuntimeError,
     r"size|shape"),
    ("masked_scatter_short", lambda L: L.zeros(3).masked_scatter(L.tensor([True, True, True]), L.ones(2)),
     RuntimeError, r"source|elements"),
    ("topk_k", lambda L: L.topk(L.zeros(5), 6), RuntimeError, "out of range"),
    ("sort_dim", lambda L: L.sort(L.zeros(2, 3), 2), IndexError, "range"),
    ("quantile_q", lambda L: L.quantile(L.zeros(3), 1.5), RuntimeError, r"\[0, 1\]"),
    ("quantile_int", lambda L: L.quantile(L.zeros(3, dtype=L.int64), 0.5), RuntimeError, "float"),
    ("bincount_neg", lambda L: L.bincount(L.tensor([0, -1])), RuntimeError, "non-negative"),
    ("bincount_2d", lambda L: L.bincount(L.zeros(2, 2, dtype=L.int64)), RuntimeError, "1-d"),
    ("narrow_long", lambda L: L.zeros(3, 4).narrow(1, 3, 2), RuntimeError, "exceeds dimension size"),
    ("select_range", lambda L: L.zeros(3, 4).select(1, 4), IndexError, "out of range"),
    ("unflatten_sizes", lambda L: L.zeros(3, 4).unflatten(1, (3, 2)), RuntimeError, "multiply up"),
    ("unfold_size", lambda L: L.zeros(3, 4).unfold(1, 5, 1), RuntimeError, "size"),
    ("split_with_sizes", lambda L: L.zeros(3, 4).split_with_sizes([1, 1]), RuntimeError, "sum exactly"),
    ("multinomial_3d", lambda L: L.multinomial(L.ones(2, 2, 2), 1), RuntimeError, "dim"),
    ("multinomial_negative", lambda L: L.multinomial(L.tensor([1.0, -1.0]), 1), RuntimeError, "element < 0"),
    ("multinomial_too_many", lambda L: L.multinomial(L.tensor([1.0, 1.0]), 3), RuntimeError, "n_sample"),
    ("multinomial_sum0", lambda L: L.multinomial(L.tensor([0.0, 0.0]), 1), RuntimeError, "sum of probabilities"),
    ("bernoulli_p", lambda L: L.bernoulli(L.tensor([1.5])), RuntimeError, "p_in"),
    ("normal_std", lambda L: L.normal(L.zeros(2), -1.0), RuntimeError, "std >= 0.0"),
    ("H_3d", lambda L: L.zeros(2, 3, 4).H, RuntimeError, "matrices"),
]


@pytest.mark.parametrize("fn, exc, pattern", [pytest.param(f, e, p, id=i) for i, f, e, p in ERRORS])
def test_errors_as_torch(fn, exc, pattern):
    with pytest.raises(exc) as theirs:
        fn(torch)
    del theirs
    with pytest.raises(exc, match=pattern):
        fn(mg)


# --- sampling: distributions, shapes, dtypes and seeded reproducibility ------------------------------
def test_multinomial_with_replacement_follows_the_weights():
    mg.manual_seed(0)
    w = mg.tensor([[1.0, 0.0, 3.0], [0.0, 5.0, 5.0]])
    s = mg.multinomial(w, 20000, replacement=True)
    assert s.dtype == mg.int64 and s.shape == (2, 20000)
    f0 = np.bincount(s.array[0], minlength=3) / 20000
    f1 = np.bincount(s.array[1], minlength=3) / 20000
    np.testing.assert_allclose(f0, [0.25, 0, 0.75], atol=0.02)
    np.testing.assert_allclose(f1, [0, 0.5, 0.5], atol=0.02)
    assert mg.multinomial(mg.tensor([0.2, 0.8]), 3, True).shape == (3,)


def test_multinomial_without_replacement_draws_each_category_once():
    mg.manual_seed(1)
    s = mg.tensor([1.0, 2.0, 3.0, 4.0, 0.0]).multinomial(4)
    assert sorted(s.tolist()) == [0, 1, 2, 3]
    firsts = np.array([mg.multinomial(mg.tensor([1.0, 9.0]), 1).item() for _ in range(2000)])
    assert abs(firsts.mean() - 0.9) < 0.03  # the first draw follows the weights


def test_multinomial_without_replacement_draws_zero_weights_last_as_torch():
    for _ in range(20):
        s = mg.multinomial(mg.tensor([0.0, 1.0, 0.0, 2.0]), 4)
        assert sorted(s.tolist()[:2]) == [1, 3] and sorted(s.tolist()) == [0, 1, 2, 3]


def test_sampling_is_reproducible_with_seed_and_generator():
    def draws(gen=None):
        return [mg.multinomial(mg.ones(5), 3, generator=gen).array,
                mg.bernoulli(mg.full((4,), 0.5), generator=gen).array,
                mg.normal(mg.zeros(3), mg.ones(3), generator=gen).array,
                mg.empty(3).uniform_(generator=gen).array, mg.empty(3).normal_(generator=gen).array,
                mg.empty(3).random_(10, generator=gen).array, mg.empty(3).bernoulli_(0.3, generator=gen).array]

    mg.manual_seed(5)
    a = draws()
    mg.manual_seed(5)
    b = draws()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    g1, g2 = mg.Generator().manual_seed(3), mg.Generator().manual_seed(3)
    mg.manual_seed(7)
    c = draws(g1)
    mg.manual_seed(8)  # the global stream does not matter to a generator's draws
    d = draws(g2)
    for x, y in zip(c, d):
        np.testing.assert_array_equal(x, y)


def test_bernoulli_and_normal_forms_shapes_dtypes_and_moments():
    mg.manual_seed(2)
    p = mg.full((20000,), 0.3, dtype=mg.float64)
    b = mg.bernoulli(p)
    assert b.dtype == mg.float64 and set(np.unique(b.array)) <= {0.0, 1.0}
    assert abs(b.array.mean() - 0.3) < 0.02
    assert abs(mg.bernoulli(mg.zeros(20000), p=0.7).array.mean() - 0.7) < 0.02
    n = mg.normal(mg.full((20000,), 2.0), 3.0)
    assert n.dtype == mg.float32 and abs(n.array.mean() - 2) < 0.1 and abs(n.array.std() - 3) < 0.1
    n = mg.normal(1.0, mg.full((2, 10000), 0.5, dtype=mg.float64))
    assert n.dtype == mg.float64 and n.shape == (2, 10000) and abs(n.array.std() - 0.5) < 0.05
    n = mg.normal(mg.zeros(3, 1), mg.ones(4))
    assert n.shape == (3, 4)
    n = mg.normal(-1.0, 2.0, size=(3, 5))
    assert n.shape == (3, 5) and n.dtype == mg.float32
    assert mg.normal(0.0, 1.0, (2,), dtype=mg.float64).dtype == mg.float64


def test_samples_carry_a_zero_gradient_as_torch():
    m = mg.zeros(3, requires_grad=True)
    out = mg.normal(m, 1.0)
    assert out.requires_grad == torch.normal(torch.zeros(3, requires_grad=True), 1.0).requires_grad
    out.sum().backward()
    np.testing.assert_array_equal(m.grad.array, np.zeros(3))


def test_in_place_fillers_ranges_and_dtypes():
    mg.manual_seed(3)
    u = mg.empty(10000, dtype=mg.float64).uniform_(-2, 3)
    assert u.dtype == mg.float64 and u.array.min() >= -2 and u.array.max() < 3 and abs(u.array.mean() - 0.5) < 0.1
    u = mg.zeros(1000).uniform_(**{"from": 4, "to": 5})
    assert u.array.min() >= 4
    n = mg.zeros(10000).normal_(1.0, 0.5)
    assert abs(n.array.mean() - 1) < 0.05 and abs(n.array.std() - 0.5) < 0.05
    r = mg.zeros(10000, dtype=mg.int64).random_(3, 7)
    assert set(np.unique(r.array)) == {3, 4, 5, 6} and r.dtype == mg.int64
    r = mg.zeros(1000).random_(4)
    assert set(np.unique(r.array)) == {0.0, 1.0, 2.0, 3.0}
    r = mg.zeros(1000).random_()
    assert r.array.max() <= 2**24 and r.array.min() >= 0 and r.array.max() > 4
    b = mg.zeros(10000).bernoulli_(mg.full((10000,), 0.25))
    assert abs(b.array.mean() - 0.25) < 0.02
    e = mg.zeros(10000, dtype=mg.float64).exponential_(2.0)
    assert e.array.min() >= 0 and abs(e.array.mean() - 0.5) < 0.03
    x = mg.zeros(2, 3)
    assert x.uniform_() is x


# --- tensor facts ---------------------------------------------------------------------------------
def test_tensor_facts_as_torch():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x, t = mg.tensor(a), torch.tensor(a)
    assert x.nelement() == t.nelement() and x.ndimension() == t.ndimension()
    assert x.element_size() == t.element_size()
    assert mg.tensor([1, 2]).element_size() == 8 and mg.tensor([True]).element_size() == 1
    assert x.stride() == t.stride() and x.stride(1) == t.stride(1) and x.stride(-1) == 1
    assert x.transpose(0, 2).stride() == t.transpose(0, 2).stride()
    assert x[:, ::2].stride() == t[:, ::2].stride()
    assert x.expand(3, 2, 3, 4).stride() == t.expand(3, 2, 3, 4).stride()
    assert x.is_contiguous() and not x.transpose(0, 1).is_contiguous()
    assert x.transpose(0, 1).contiguous().is_contiguous()
    assert x.data_ptr() == x.array.ctypes.data and x.data_ptr() == x.detach().data_ptr()
    m = mg.tensor(a[0])
    np.testing.assert_array_equal(m.H.array, t[0].H.numpy())
    np.testing.assert_array_equal(x.mH.array, t.mH.numpy())
    assert not x.is_complex() and mg.is_floating_point(x) and not mg.is_floating_point(mg.tensor([1]))
    assert not mg.is_complex(x)


def test_size_is_a_tuple_like_torch_size():
    x = mg.zeros(2, 3, 4)
    s = x.size()
    assert isinstance(s, mg.Size) and isinstance(s, tuple)
    assert s == (2, 3, 4) and s == x.shape and repr(s) == repr(torch.zeros(2, 3, 4).size())
    assert isinstance(s[1:], mg.Size) and s[1:] == (3, 4) and s[-1] == 4
    assert s.numel() == 24 and mg.Size([2, 3]).numel() == 6
    assert isinstance(s + (5,), mg.Size) and (1,) + s == (1, 2, 3, 4)
    assert x.size(1) == 3 and x.size(-1) == 4
    assert mg.zeros(mg.Size([2, 2])).shape == (2, 2)
    import pickle

    assert pickle.loads(pickle.dumps(s)) == s and isinstance(pickle.loads(pickle.dumps(s)), mg.Size)


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor",
                                  "ByteTensor", "HalfTensor", "ShortTensor", "CharTensor"])
def test_legacy_constructors(name):
    M, T = getattr(mg, name), getattr(torch, name)
    for args in (([1, 0, 2],), ([[1, 2], [3, 4]],), (2, 3), ((2, 3),), ()):
        got, want = M(*args), T(*args)
        assert got.array.dtype == want.numpy().dtype and got.shape == tuple(want.shape)
        if args and not isinstance(args[0], int) and isinstance(args[0], list):
            np.testing.assert_array_equal(got.array, want.numpy())
    assert M(mg.Size([3])).shape == (3,)
    assert isinstance(M([1]), M) and not isinstance(mg.tensor([1.0], dtype=mg.float64 if name != "DoubleTensor"
                                                              else mg.float32), M)
    assert M(mg.tensor([1, 2])).shape == (2,)


def test_meshgrid_without_indexing_warns_and_is_ij():
    with pytest.warns(UserWarning):
        g = mg.meshgrid(mg.arange(2), mg.arange(3))
    assert g[0].shape == (2, 3)


def test_gather_backward_is_no_dense_one_hot():
    """gather's backward scatters dy at the index (np.add.at), its cost following the index, not x's size times it."""
    x = mg.zeros(1000, 1000, requires_grad=True)
    idx = mg.tensor(np.zeros((1000, 1), dtype=np.int64))
    y = x.gather(1, idx)
    assert type(y.grad_fn).__name__ == "Gather"
    y.sum().backward()
    assert x.grad.array[:, 0].sum() == 1000 and x.grad.array.sum() == 1000
