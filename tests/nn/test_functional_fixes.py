"""Regression tests against torch 2.13 for fixes in nn.functional: embedding_bag (include_last_offset, empty
offsets, scale_grad_by_freq, sparse), embedding's scale_grad_by_freq and sparse, the elu family on integer
tensors, layer_norm's error type, and integer tensors with Python ints out of their dtype's range."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
import matgrad.nn.functional as F
from tests.helpers import assert_close

torch = pytest.importorskip("torch")
TF = torch.nn.functional

W = np.random.default_rng(0).standard_normal((6, 3))
IDX = np.array([0, 1, 2, 3, 4, 5, 1])  # 7 entries


def _bag_both(idx, offsets, mode, psw=False, **kw):
    """F.embedding_bag of both libraries (float64): outputs and the gradients of weight and per_sample_weights."""
    rng = np.random.default_rng(1)
    p = rng.standard_normal(np.shape(idx)) if psw else None
    res = []
    for lib, fn in ((mg, F.embedding_bag), (torch, TF.embedding_bag)):
        w = lib.tensor(W, requires_grad=True)
        ps = None if p is None else lib.tensor(p, requires_grad=True)
        off = None if offsets is None else lib.tensor(np.asarray(offsets, dtype=np.int64))
        out = fn(lib.tensor(np.asarray(idx)), w, off, mode=mode, per_sample_weights=ps, **kw)
        seed = np.random.default_rng(2).standard_normal(tuple(out.shape))
        (out * lib.tensor(seed)).sum().backward()
        res.append((out, w.grad, None if ps is None else ps.grad))
    return res


def _agree(mine, theirs):
    (out, wg, pg), (tout, twg, tpg) = mine, theirs
    assert out.shape == tuple(tout.shape)
    assert_close(out.array, tout.detach().numpy(), rtol=1e-12)
    assert_close(wg.array, twg.numpy(), rtol=1e-12)
    if tpg is not None:
        assert_close(pg.array, tpg.numpy(), rtol=1e-12)


# --- embedding_bag: include_last_offset -----------------------------------------------------------------------
@pytest.mark.parametrize("mode, psw", [("sum", False), ("sum", True), ("mean", False), ("max", False)])
@pytest.mark.parametrize("offsets", [[0, 2, 4], [0, 2, 7], [0, 2, 2], [0, 3], [0, 0], [0, 5, 2], [0, -1],
                                     [0, 0, 2, 5]])
@pytest.mark.parametrize("padding_idx", [None, 1])
def test_include_last_offset_puts_the_rest_in_the_last_bag(mode, psw, offsets, padding_idx):
    # torch's CPU kernel: the last bag runs from offsets[-2] to the end of input, whatever offsets[-1] says
    _agree(*_bag_both(IDX, offsets, mode, psw, include_last_offset=True, padding_idx=padding_idx))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_include_last_offset_module(mode):
    ours = nn.EmbeddingBag.from_pretrained(mg.tensor(W), freeze=False, mode=mode, include_last_offset=True)
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(W), freeze=False, mode=mode, include_last_offset=True)
    y, ty = ours(mg.tensor(IDX), mg.tensor([0, 3, 4])), theirs(torch.tensor(IDX), torch.tensor([0, 3, 4]))
    assert_close(y.array, ty.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    ty.sum().backward()
    assert_close(ours.weight.grad.array, theirs.weight.grad.numpy(), rtol=1e-12)


# --- embedding_bag: no bags ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_empty_offsets_give_no_bags(mode):
    # torch 2.13 returns (0, d) for float32 sum/mean and crashes (segfault) for float64 or max, so the values
    # are checked here, not against torch: no bags, and a zero gradient that reaches weight
    for offsets, ilo in (([], False), ([0], True)):
        w = mg.tensor(W, requires_grad=True)
        out = F.embedding_bag(mg.tensor(IDX), w, mg.tensor(np.array(offsets, dtype=np.int64)), mode=mode,
                              include_last_offset=ilo)
        assert out.shape == (0, 3) and out.dtype == mg.float64
        out.sum().backward()
        np.testing.assert_array_equal(w.grad.array, np.zeros_like(W))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_empty_input_and_offsets_match_torch(mode):
    _agree(*_bag_both(np.array([], dtype=np.int64), [], mode))
    _agree(*_bag_both(np.array([], dtype=np.int64), [0, 0], mode))
    _agree(*_bag_both(np.array([], dtype=np.int64), [0, 0], mode, include_last_offset=True))


@pytest.mark.parametrize("offsets, ilo, words", [
    ([], True, "at least one offset"), ([1, 3], False, r"offsets\[0\] has to be 0"),
    ([0, 3, 9], False, "can not be greater than input's length 7"),
    ([0, 2, 9], True, "can not be greater than input's length 7"),
])
def test_bad_offsets_are_runtime_errors_as_torch(offsets, ilo, words):
    off = np.array(offsets, dtype=np.int64)
    with pytest.raises(RuntimeError, match=words):
        F.embedding_bag(mg.tensor(IDX), mg.tensor(W), mg.tensor(off), include_last_offset=ilo)
    with pytest.raises(RuntimeError):
        TF.embedding_bag(torch.tensor(IDX), torch.tensor(W), torch.tensor(off), include_last_offset=ilo)


def test_per_sample_weights_must_have_the_input_shape():
    with pytest.raises(ValueError, match="same shape as the input"):
        F.embedding_bag(mg.tensor(IDX), mg.tensor(W), mg.tensor([0, 2]), mode="sum", per_sample_weights=mg.ones(8))
    with pytest.raises(ValueError):
        TF.embedding_bag(torch.tensor(IDX), torch.tensor(W), torch.tensor([0, 2]), mode="sum",
                         per_sample_weights=torch.ones(8))


# --- embedding_bag: scale_grad_by_freq and sparse -----------------------------------------------------------------
def _scaled_reference(idx, offsets, mode, psw, padding_idx, ilo=False):
    """torch's F.embedding(scale_grad_by_freq=True) summed per bag: the documented definition, exactly."""
    w = torch.tensor(W, requires_grad=True)
    flat = torch.tensor(np.asarray(idx).reshape(-1))
    rows = TF.embedding(flat, w, padding_idx=padding_idx, scale_grad_by_freq=True)
    if psw is not None:
        rows = rows * torch.tensor(psw.reshape(-1, 1))
    if offsets is None:
        starts = np.arange(np.shape(idx)[0]) * np.shape(idx)[1]
    else:
        starts = np.asarray(offsets)[:-1] if ilo else np.asarray(offsets)
    bag = np.searchsorted(starts, np.arange(flat.shape[0]), side="right") - 1
    keep = np.ones(flat.shape[0], bool) if padding_idx is None else flat.numpy() != padding_idx
    outs = []
    for b in range(len(starts)):
        sel = torch.tensor(np.flatnonzero((bag == b) & keep))
        s = rows[sel].sum(0)
        outs.append(s / max(len(sel), 1) if mode == "mean" else s)
    out = torch.stack(outs)
    seed = np.random.default_rng(2).standard_normal(tuple(out.shape))
    (out * torch.tensor(seed)).sum().backward()
    return out, w.grad


@pytest.mark.parametrize("mode, psw", [("sum", False), ("sum", True), ("mean", False)])
@pytest.mark.parametrize("padding_idx", [None, 4])
@pytest.mark.parametrize("idx, offsets, ilo", [
    (np.array([0, 1, 1, 1, 4, 5, 1, 4]), [0, 3, 5], False),  # unsorted, repeats: torch's CPU kernel miscounts
    (np.array([0, 1, 1, 1, 4, 5, 1, 4]), [0, 3, 5, 6], True),
    (np.array([[2, 2, 3], [3, 0, 2]]), None, False),
])
def test_scale_grad_by_freq_divides_by_each_index_count(mode, psw, padding_idx, idx, offsets, ilo):
    p = np.random.default_rng(1).standard_normal(idx.shape) if psw else None
    w = mg.tensor(W, requires_grad=True)
    out = F.embedding_bag(mg.tensor(idx), w, None if offsets is None else mg.tensor(offsets), mode=mode,
                          scale_grad_by_freq=True, per_sample_weights=None if p is None else mg.tensor(p),
                          include_last_offset=ilo, padding_idx=padding_idx)
    (out * mg.tensor(np.random.default_rng(2).standard_normal(out.shape))).sum().backward()
    tout, tgrad = _scaled_reference(idx, offsets, mode, p, padding_idx, ilo)
    assert_close(out.array, tout.detach().numpy(), rtol=1e-12)
    assert_close(w.grad.array, tgrad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("mode, psw", [("sum", False), ("sum", True), ("mean", False)])
def test_scale_grad_by_freq_matches_torch_embedding_bag_where_its_counts_are_right(mode, psw):
    # every index twice: torch's CPU kernel divides by some present index's count, which is then the right one
    _agree(*_bag_both(np.array([3, 0, 3, 5, 0, 5]), [0, 2, 3], mode, psw, scale_grad_by_freq=True))


def test_scale_grad_by_freq_module():
    ours = nn.EmbeddingBag.from_pretrained(mg.tensor(W), freeze=False, mode="sum", scale_grad_by_freq=True)
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(W), freeze=False, mode="sum",
                                                   scale_grad_by_freq=True)
    assert repr(ours) == repr(theirs)
    idx = np.array([[1, 3, 1], [5, 3, 5]])  # every index twice (see above)
    ours(mg.tensor(idx)).sum().backward()
    theirs(torch.tensor(idx)).sum().backward()
    assert_close(ours.weight.grad.array, theirs.weight.grad.numpy(), rtol=1e-12)


def test_max_mode_rejects_scale_grad_by_freq_and_sparse_as_torch():
    for kw in ({"scale_grad_by_freq": True}, {"sparse": True}):
        with pytest.raises(ValueError, match="max mode does not support"):
            F.embedding_bag(mg.tensor(IDX), mg.tensor(W), mg.tensor([0, 2]), mode="max", **kw)
        with pytest.raises(ValueError, match="max mode does not support"):
            TF.embedding_bag(torch.tensor(IDX), torch.tensor(W), torch.tensor([0, 2]), mode="max", **kw)


@pytest.mark.parametrize("call", [
    lambda: F.embedding_bag(mg.tensor(IDX), mg.tensor(W), mg.tensor([0, 2]), mode="sum", sparse=True),
    lambda: F.embedding_bag(mg.tensor(IDX), mg.tensor(W), mg.tensor([0, 2]), sparse=True),
    lambda: nn.EmbeddingBag(6, 3, sparse=True)(mg.tensor(IDX), mg.tensor([0, 2])),
    lambda: F.embedding(mg.tensor(IDX), mg.tensor(W), sparse=True),
    lambda: nn.Embedding(6, 3, sparse=True)(mg.tensor(IDX)),
], ids=["bag_sum", "bag_mean", "bag_module", "embedding", "embedding_module"])
def test_sparse_gradients_are_not_supported(call):
    with pytest.raises(NotImplementedError, match="use sparse=False"):
        call()


# --- embedding: scale_grad_by_freq ----------------------------------------------------------------------------------
@pytest.mark.parametrize("padding_idx", [None, 1, -1])
@pytest.mark.parametrize("idx", [np.array([4, 1, 1, 5, 1, 0, 5]), np.array([[1, 5, 1], [0, 1, 5]])])
def test_embedding_scale_grad_by_freq_matches_torch(padding_idx, idx):
    res = []
    for lib, fn in ((mg, F.embedding), (torch, TF.embedding)):
        w = lib.tensor(W, requires_grad=True)
        out = fn(lib.tensor(idx), w, padding_idx=padding_idx, scale_grad_by_freq=True)
        (out * lib.tensor(np.random.default_rng(3).standard_normal(tuple(out.shape)))).sum().backward()
        res.append((out, w.grad))
    assert_close(res[0][0].array, res[1][0].detach().numpy(), rtol=1e-12)
    assert_close(res[0][1].array, res[1][1].numpy(), rtol=1e-12)


def test_embedding_scale_grad_by_freq_create_graph():
    """Under create_graph the scaled gradient is a differentiable function of what flows into it: its derivative
    in a parameter there matches finite differences of the (first-order) scaled gradient. (torch's double
    backward of embedding leaves the scale out on that path, so it is not the reference here.)"""
    idx = np.array([2, 0, 2, 2, 5])

    def scaled_grad(theta, create_graph=False):
        w = mg.tensor(W, requires_grad=True)
        loss = (F.embedding(mg.tensor(idx), w, scale_grad_by_freq=True) * theta).pow(2).sum()
        return mg.autograd.grad(loss, w, create_graph=create_graph)[0]

    theta = mg.tensor(0.7, dtype=mg.float64, requires_grad=True)
    g = scaled_grad(theta, create_graph=True)
    tw = torch.tensor(W, requires_grad=True)
    (tg,) = torch.autograd.grad((TF.embedding(torch.tensor(idx), tw, scale_grad_by_freq=True) * 0.7).pow(2).sum(),
                                tw)
    assert_close(g.array, tg.numpy(), rtol=1e-12)
    (dtheta,) = mg.autograd.grad(g.sum(), theta)
    h = 1e-6
    fd = (scaled_grad(mg.tensor(0.7 + h, dtype=mg.float64)).array.sum()
          - scaled_grad(mg.tensor(0.7 - h, dtype=mg.float64)).array.sum()) / (2 * h)
    assert_close(float(dtheta.array), fd, rtol=1e-7)


def test_embedding_module_scale_grad_by_freq_and_repr():
    kw = dict(padding_idx=2, scale_grad_by_freq=True)
    ours, theirs = nn.Embedding(6, 3, **kw), torch.nn.Embedding(6, 3, **kw)
    assert repr(ours) == repr(theirs)
    assert repr(nn.Embedding(6, 3, sparse=True, max_norm=1.0, norm_type=1.0)) == repr(
        torch.nn.Embedding(6, 3, sparse=True, max_norm=1.0, norm_type=1.0))
    ours.weight.array[...] = theirs.weight.detach().numpy()
    idx = np.array([[1, 1, 3], [2, 3, 1]])
    ours(mg.tensor(idx)).sum().backward()
    theirs(torch.tensor(idx)).sum().backward()
    assert_close(ours.weight.grad.array, theirs.weight.grad.numpy(), rtol=1e-6)


# --- elu, selu, celu: floating tensors only ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["celu", "elu", "selu", "celu_", "elu_", "selu_"])
@pytest.mark.parametrize("values", [[1, -2, 3], [True, False]])
def test_elu_family_rejects_integer_and_bool_tensors_as_torch(name, values):
    with pytest.raises(NotImplementedError, match="convert first"):
        getattr(F, name)(mg.tensor(values))
    with pytest.raises(NotImplementedError):
        getattr(TF, name)(torch.tensor(values))


@pytest.mark.parametrize("module", ["CELU", "ELU", "SELU"])
def test_elu_family_modules_reject_integer_tensors(module):
    with pytest.raises(NotImplementedError, match="floating point only"):
        getattr(nn, module)()(mg.tensor([1, 2]))
    with pytest.raises(NotImplementedError):
        getattr(torch.nn, module)()(torch.tensor([1, 2]))


def test_celu_alpha_zero_is_a_runtime_error_as_torch():
    for ours, theirs in ((F.celu, TF.celu), (F.celu_, TF.celu_)):
        with pytest.raises(RuntimeError, match="alpha cannot be 0"):
            ours(mg.tensor([1.0]), 0.0)
        with pytest.raises(RuntimeError, match="alpha cannot be 0"):
            theirs(torch.tensor([1.0]), 0.0)


def test_celu_still_works_on_floats():
    x = np.array([-3.0, -0.5, 0.0, 2.0])
    assert_close(F.celu(mg.tensor(x), 0.7).array, TF.celu(torch.tensor(x), 0.7).numpy(), rtol=1e-12)


# --- layer_norm: RuntimeError for shapes, as torch ----------------------------------------------------------------
@pytest.mark.parametrize("args", [((5,),), ((1, 2, 3, 4),), ((4,), "w"), ((4,), None, "b")], ids=str)
def test_layer_norm_shape_errors_are_runtime_errors(args):
    x = np.zeros((2, 3, 4))

    def build(lib):
        return [lib.ones(3, dtype=lib.float64) if a in ("w", "b") else a for a in args]

    with pytest.raises(RuntimeError):
        F.layer_norm(mg.tensor(x), *build(mg))
    with pytest.raises(RuntimeError):
        TF.layer_norm(torch.tensor(x), *build(torch))


def test_layer_norm_module_shape_error():
    with pytest.raises(RuntimeError, match="normalized_shape"):
        nn.LayerNorm(5)(mg.zeros(2, 4))
    with pytest.raises(RuntimeError, match="normalized_shape"):
        torch.nn.LayerNorm(5)(torch.zeros(2, 4))


# --- integer tensors and Python ints out of their range: wrapped, as torch -----------------------------------------
DTYPES = ["uint8", "int8", "int16", "int32", "int64"]
VALUES = [-1, -129, 255, 256, 300, 2 ** 31, 2 ** 40, 2 ** 63, 2 ** 64 - 1, -(2 ** 63)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["add", "sub", "mul"])
def test_python_ints_wrap_into_the_tensor_dtype(dtype, op):
    x = np.array([0, 1, 5, 100], dtype=dtype)
    for v in VALUES:
        for args in ((x, v), (v, x)):
            got = getattr(mg, op)(*[mg.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
            want = getattr(torch, op)(*[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
            assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], (v, args)
            np.testing.assert_array_equal(got.array, want.numpy(), err_msg=f"{op}{args}")
        if op != "add":
            continue
        got = mg.tensor(x) + v  # the operator too
        np.testing.assert_array_equal(got.array, (torch.tensor(x) + v).numpy(), err_msg=f"+ {v}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("v", [2 ** 64, -(2 ** 63) - 1, 2 ** 70])
def test_python_ints_beyond_64_bits_overflow_as_torch(dtype, v):
    x = np.array([0, 1], dtype=dtype)
    for op in ("add", "sub", "mul"):
        with pytest.raises(OverflowError, match="does not fit in 64 bits"):
            getattr(mg, op)(mg.tensor(x), v)
        with pytest.raises(OverflowError):
            getattr(torch, op)(torch.tensor(x), v)


def test_ints_that_fit_and_other_dtypes_are_unchanged():
    np.testing.assert_array_equal((mg.tensor(np.array([1, 2], np.uint8)) + 250).array, [251, 252])
    assert (mg.tensor([1.5]) + 2 ** 64).dtype == mg.float32
    assert (mg.tensor([True]) + 3).dtype == mg.int64


# --- on the test device (tests/devices/fake_cupy.py): the same numbers as on the CPU -----------------------------
def test_embedding_and_bags_on_the_test_device(cuda):
    idx = np.array([0, 1, 1, 1, 4, 5, 1, 4])

    def run(dev):
        w = mg.tensor(W, requires_grad=True)
        wd = w if dev is None else w.to(dev)
        i, off = mg.tensor(idx), mg.tensor([0, 3, 5])
        a = F.embedding(i, wd, padding_idx=4, scale_grad_by_freq=True)
        b = F.embedding_bag(i, wd, off, mode="mean", scale_grad_by_freq=True, include_last_offset=True)
        c = F.embedding_bag(i, wd, off, mode="max", include_last_offset=True)
        d = F.embedding_bag(i, wd, mg.tensor(np.array([], dtype=np.int64)), mode="sum")
        for o in (a, b, c, d):
            assert o.device.type == ("cpu" if dev is None else "cuda")
        ((a ** 2).sum() + (b * 3).sum() + (c ** 2).sum() + d.sum()).backward()
        return [o.detach().cpu().numpy() for o in (a, b, c)] + [w.grad.array]

    for got, want in zip(run(cuda), run(None)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
