"""nn.functional of issue 14: activations, distances, normalization, shuffles, bilinear, embedding_bag,
gumbel_softmax, alpha_dropout, and the errors of pad / interpolate / fold, against PyTorch and
float64 finite differences (first and second order)."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from tests.helpers import assert_close, check_op

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# (matgrad fn, torch fn, shapes, second order?)
CASES = {
    "threshold": (lambda x: F.threshold(x, 0.1, -2.0), lambda x: TF.threshold(x, 0.1, -2.0), [(3, 5)], True),
    "hardsigmoid": (lambda x: F.hardsigmoid(x * 4), lambda x: TF.hardsigmoid(x * 4), [(3, 5)], True),
    "hardswish": (lambda x: F.hardswish(x * 4), lambda x: TF.hardswish(x * 4), [(3, 5)], True),
    "mish": (lambda x: F.mish(x * 3), lambda x: TF.mish(x * 3), [(3, 5)], True),
    "selu": (lambda x: F.selu(x), lambda x: TF.selu(x), [(3, 5)], True),
    "celu": (lambda x: F.celu(x, 0.7), lambda x: TF.celu(x, 0.7), [(3, 5)], True),
    "glu": (lambda x: F.glu(x), lambda x: TF.glu(x), [(3, 6)], True),
    "glu_dim0": (lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0), [(4, 3)], True),
    "softmin": (lambda x: F.softmin(x, 1), lambda x: TF.softmin(x, 1), [(3, 5)], True),
    "prelu_scalar": (lambda x, w: F.prelu(x, w), lambda x, w: TF.prelu(x, w), [(3, 5), (1,)], True),
    "prelu_channels": (lambda x, w: F.prelu(x, w), lambda x, w: TF.prelu(x, w), [(2, 3, 4), (3,)], True),
    "cosine_similarity": (lambda a, b: F.cosine_similarity(a, b), lambda a, b: TF.cosine_similarity(a, b),
                          [(4, 5), (4, 5)], True),
    "cosine_similarity_bcast": (lambda a, b: F.cosine_similarity(a, b, dim=-1),
                                lambda a, b: TF.cosine_similarity(a, b, dim=-1), [(3, 1, 5), (4, 5)], True),
    "pairwise_distance": (lambda a, b: F.pairwise_distance(a, b), lambda a, b: TF.pairwise_distance(a, b),
                          [(4, 5), (4, 5)], True),
    "pairwise_distance_p1_keep": (lambda a, b: F.pairwise_distance(a, b, p=1, keepdim=True),
                                  lambda a, b: TF.pairwise_distance(a, b, p=1, keepdim=True), [(4, 5), (5,)], False),
    "pairwise_distance_p3": (lambda a, b: F.pairwise_distance(a, b, p=3),
                             lambda a, b: TF.pairwise_distance(a, b, p=3), [(4, 5), (4, 5)], True),
    "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), lambda x, w, b: TF.group_norm(x, 2, w, b),
                   [(2, 4, 3, 2), (4,), (4,)], True),
    "group_norm_plain": (lambda x: F.group_norm(x, 3), lambda x: TF.group_norm(x, 3), [(2, 6, 5)], True),
    "instance_norm": (lambda x: F.instance_norm(x), lambda x: TF.instance_norm(x), [(2, 3, 4, 3)], True),
    "instance_norm_affine": (lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                             lambda x, w, b: TF.instance_norm(x, weight=w, bias=b), [(2, 3, 5), (3,), (3,)], True),
    "pixel_shuffle": (lambda x: F.pixel_shuffle(x, 2), lambda x: TF.pixel_shuffle(x, 2), [(2, 8, 3, 2)], True),
    "pixel_unshuffle": (lambda x: F.pixel_unshuffle(x, 2), lambda x: TF.pixel_unshuffle(x, 2), [(1, 2, 4, 6)], True),
    "pixel_shuffle_unbatched": (lambda x: F.pixel_shuffle(x, 3), lambda x: TF.pixel_shuffle(x, 3), [(9, 2, 2)], True),
    "bilinear": (lambda a, b, w, c: F.bilinear(a, b, w, c), lambda a, b, w, c: TF.bilinear(a, b, w, c),
                 [(4, 3), (4, 2), (5, 3, 2), (5,)], True),
    "bilinear_batched": (lambda a, b, w: F.bilinear(a, b, w), lambda a, b, w: TF.bilinear(a, b, w),
                         [(2, 4, 3), (2, 4, 2), (5, 3, 2)], True),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_finite_differences_and_torch(name):
    fn, tfn, shapes, second = CASES[name]
    check_op(fn, *shapes, torch_fn=tfn, second=second)


@pytest.mark.parametrize("name", ["hardswish", "mish", "selu", "celu", "threshold", "hardsigmoid"])
def test_inplace_activation_writes_the_input(name):
    x = mg.tensor([-4.0, -1.0, 0.5, 4.0])
    y = getattr(F, name)(x, **({"threshold": 0.1, "value": -2.0} if name == "threshold" else {}), inplace=True)
    ty = getattr(TF, name)(torch.tensor([-4.0, -1.0, 0.5, 4.0]),
                           **({"threshold": 0.1, "value": -2.0} if name == "threshold" else {}))
    assert y is x
    assert_close(x.array, ty.numpy(), rtol=1e-6)


def test_float32_activations_stay_float32():
    x = mg.randn(3, 4)
    for fn in (F.hardswish, F.mish, F.selu, F.celu, F.softsign, F.hardsigmoid):
        assert fn(x).dtype == mg.float32


def test_glu_odd_dimension_is_torchs_error():
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is size 5"):
        F.glu(mg.zeros(2, 5))


def test_prelu_wrong_channel_count():
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
        F.prelu(mg.zeros(2, 3, 4), mg.ones(2))


def test_cosine_similarity_small_norms_clamped_as_torch():
    a = np.array([[1e-10, 0.0], [3.0, 4.0]])
    b = np.array([[1.0, 1.0], [0.0, 0.0]])
    ma, mb = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    mine, theirs = F.cosine_similarity(ma, mb), TF.cosine_similarity(ta, tb)
    assert_close(mine.array, theirs.detach().numpy(), rtol=1e-9)
    mine.sum().backward()
    theirs.sum().backward()
    assert_close(ma.grad, ta.grad.numpy(), rtol=1e-6)
    assert_close(mb.grad, tb.grad.numpy(), rtol=1e-6)


def test_group_norm_divisibility_error():
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(mg.zeros(2, 5, 3), 2)


def test_instance_norm_running_stats_update_as_torch():
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 6))
    rm, rv = mg.zeros(3, dtype=mg.float64), mg.ones(3, dtype=mg.float64)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    y = F.instance_norm(mg.tensor(x), rm, rv, momentum=0.3)
    ty = TF.instance_norm(torch.tensor(x), trm, trv, momentum=0.3)
    assert_close(y.array, ty.numpy(), rtol=1e-9)
    assert_close(rm.array, trm.numpy(), rtol=1e-9)
    assert_close(rv.array, trv.numpy(), rtol=1e-9)
    y = F.instance_norm(mg.tensor(x), rm, rv, use_input_stats=False)
    ty = TF.instance_norm(torch.tensor(x), trm, trv, use_input_stats=False)
    assert_close(y.array, ty.numpy(), rtol=1e-9)


def test_pixel_shuffle_round_trip_and_errors():
    x = mg.randn(2, 12, 3, 4)
    assert np.array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2).array, x.array)
    with pytest.raises(RuntimeError, match="divisible by the square"):
        F.pixel_shuffle(mg.zeros(1, 3, 2, 2), 2)
    with pytest.raises(RuntimeError, match="divisible by downscale_factor"):
        F.pixel_unshuffle(mg.zeros(1, 3, 3, 2), 2)


# --- embedding_bag ---------------------------------------------------------------------------------
BAGS = [
    dict(mode="sum"), dict(mode="mean"), dict(mode="max"),
    dict(mode="sum", offsets=[0, 2, 2, 5]), dict(mode="mean", offsets=[0, 3, 3, 6]),
    dict(mode="max", offsets=[0, 1, 4]),
    dict(mode="mean", offsets=[0, 2, 5, 8], include_last_offset=True),
    dict(mode="sum", padding_idx=2), dict(mode="mean", offsets=[0, 3, 5], padding_idx=1),
    dict(mode="max", offsets=[0, 4, 4], padding_idx=0),
    dict(mode="sum", offsets=[0, 4, 6], per_sample_weights=True),
]


@pytest.mark.parametrize("case", BAGS, ids=str)
def test_embedding_bag_matches_torch(case):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((6, 4))
    case = dict(case)
    offsets = case.pop("offsets", None)
    idx = rng.integers(0, 6, 8 if offsets is not None else (3, 4))
    psw = rng.standard_normal(idx.shape) if case.pop("per_sample_weights", False) else None
    mw, tw = mg.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    mine = F.embedding_bag(mg.tensor(idx), mw, None if offsets is None else mg.tensor(offsets),
                           per_sample_weights=None if psw is None else mg.tensor(psw), **case)
    theirs = TF.embedding_bag(torch.tensor(idx), tw, None if offsets is None else torch.tensor(offsets),
                              per_sample_weights=None if psw is None else torch.tensor(psw), **case)
    assert_close(mine.array, theirs.detach().numpy(), rtol=1e-9)
    seed = rng.standard_normal(mine.shape)
    (mine * mg.tensor(seed)).sum().backward()
    (theirs * torch.tensor(seed)).sum().backward()
    assert_close(mw.grad, tw.grad.numpy(), rtol=1e-9)


def test_embedding_bag_gradcheck():
    idx, off = mg.tensor([0, 2, 1, 2, 3, 0]), mg.tensor([0, 2, 2, 5])
    for mode in ("sum", "mean", "max"):
        check_op(lambda w, m=mode: F.embedding_bag(idx, w, off, mode=m), (4, 3),
                 torch_fn=lambda w, m=mode: TF.embedding_bag(torch.tensor(idx.array), w, torch.tensor(off.array),
                                                             mode=m))


# --- random: gumbel_softmax and alpha_dropout ------------------------------------------------------
def test_gumbel_softmax_seeded_soft_and_hard():
    x = mg.randn(5, 4, requires_grad=True)
    mg.manual_seed(7)
    a = F.gumbel_softmax(x, tau=0.5)
    mg.manual_seed(7)
    b = F.gumbel_softmax(x, tau=0.5)
    assert np.array_equal(a.array, b.array)
    assert_close(a.array.sum(-1), np.ones(5), rtol=1e-6)
    mg.manual_seed(7)
    h = F.gumbel_softmax(x, tau=0.5, hard=True)
    assert np.array_equal(h.array.argmax(-1), a.array.argmax(-1))
    assert set(np.unique(h.array)) <= {0.0, 1.0} and np.all(h.array.sum(-1) == 1)
    g = mg.randn(5, 4)
    (h * g).sum().backward()
    hx = x.grad.array.copy()
    x.grad = None
    (a * g).sum().backward()  # straight-through: the hard sample's gradient is the soft one's
    assert_close(hx, x.grad, rtol=1e-6)


def test_gumbel_softmax_dim0():
    mg.manual_seed(0)
    y = F.gumbel_softmax(mg.randn(3, 4), hard=True, dim=0)
    assert np.all(y.array.sum(0) == 1)


def test_alpha_dropout_keeps_selu_statistics_and_is_identity_in_eval():
    mg.manual_seed(0)
    x = mg.randn(200000, dtype=mg.float64)
    y = F.alpha_dropout(x, 0.3, training=True)
    assert abs(float(y.array.mean())) < 0.02 and abs(float(y.array.std()) - 1) < 0.02
    assert F.alpha_dropout(x, 0.3) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.alpha_dropout(x, 1.5, True)


# --- pad / interpolate / fold errors as torch's ------------------------------------------------------
def test_pad_reflect_too_large_is_torchs_error():
    x = mg.zeros(1, 1, 4, 4)
    with pytest.raises(RuntimeError, match=r"Padding size should be less than the corresponding input dimension, "
                                           r"but got: padding \(4, 0\) at dimension 3 of input \[1, 1, 4, 4\]"):
        F.pad(x, (4, 0, 0, 0), "reflect")
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        F.pad(x, (5, 0, 0, 0), "circular")
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 4D input"):
        F.pad(x, (1, 1), "reflect")
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode wrap"):
        F.pad(x, (1, 1), "wrap")
    with pytest.raises(RuntimeError, match="doesn't take in value argument"):
        F.pad(x, (1, 1, 1, 1), "reflect", value=2.0)
    assert F.pad(x, (3, 3, 0, 0), "reflect").shape == (1, 1, 4, 10)
    assert F.pad(x, (9, 0, 0, 0), "replicate").shape == (1, 1, 4, 13)


def test_pad_modes_float32_and_repeat_gradient():
    x = mg.ones(1, 3, 3, requires_grad=True)
    F.pad(x, (2, 2), "replicate").sum().backward()
    assert x.grad[0, 0].tolist() == [3.0, 1.0, 3.0] and x.grad.dtype == np.float32


def test_interpolate_errors():
    x = mg.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="bilinear mode needs 4D input"):
        F.interpolate(mg.zeros(1, 1, 4), size=2, mode="bilinear")
    with pytest.raises(NotImplementedError):
        F.interpolate(x, size=2, mode="nearest-neighbour")


def test_interpolate_float32_close_to_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 7)).astype(np.float32)
    for kw in (dict(scale_factor=2.5, mode="bilinear"), dict(size=(9, 4), mode="bilinear", align_corners=True),
               dict(scale_factor=3, mode="nearest"), dict(size=(11, 13), mode="nearest")):
        mine = F.interpolate(mg.tensor(x), **kw)
        theirs = TF.interpolate(torch.tensor(x), **kw)
        assert mine.dtype == mg.float32
        assert_close(mine.array, theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_unfold_fold_errors_and_identity():
    x = mg.randn(2, 3, 6, 6)
    cols = F.unfold(x, 2, stride=2)
    assert cols.shape == (2, 12, 9)
    assert np.allclose(F.fold(cols, 6, 2, stride=2).array, x.array)  # non-overlapping: fold inverts unfold
    with pytest.raises(RuntimeError, match="calculated number of sliding blocks"):
        F.fold(cols, 8, 2, stride=2)
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        F.fold(mg.zeros(1, 5, 9), 6, 2, stride=2)


def test_max_pool2d_indices_match_torch_with_padding_and_dilation():
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 8))
    y, i = F.max_pool2d(mg.tensor(x), 3, 2, 1, 2, return_indices=True)
    ty, ti = TF.max_pool2d(torch.tensor(x), 3, 2, 1, 2, return_indices=True)
    assert_close(y.array, ty.numpy(), rtol=0)
    assert np.array_equal(i.array, ti.numpy()) and i.dtype == mg.int64
    y, i = F.adaptive_max_pool2d(mg.tensor(x), (3, 5), return_indices=True)
    ty, ti = TF.adaptive_max_pool2d(torch.tensor(x), (3, 5), return_indices=True)
    assert np.array_equal(i.array, ti.numpy()) and np.array_equal(y.array, ty.numpy())


def test_max_pool2d_indices_ties_go_first_as_torch():
    x = np.zeros((1, 1, 4, 4))
    _, i = F.max_pool2d(mg.tensor(x), 2, return_indices=True)
    _, ti = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    assert np.array_equal(i.array, ti.numpy())
