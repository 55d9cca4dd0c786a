"""The nn ops of issue 14, one row each: float64 finite differences (first and second order) and
PyTorch's values and gradients (tests.helpers.check_op), as tests/ops/test_op_table.py."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad.nn.functional as F
from tests.helpers import check_op, torch

ROWS = []


def row(id_, fn, tfn, *shapes, **opts):
    ROWS.append(pytest.param(fn, tfn, shapes, opts, id=id_))


def TF(name):
    return lambda *a, **k: getattr(torch.nn.functional, name)(*a, **k)


# --- pad: every mode, asymmetric and negative pads, 1-, 2- and 3-D ------------------------------
for mode in ("reflect", "replicate", "circular"):
    for i, (shape, p) in enumerate([((2, 5), (2, 1)), ((1, 2, 6), (0, 3)), ((2, 3, 4, 5), (1, 2, 3, 0)),
                                    ((2, 4, 5), (-1, 2, 1, -2)), ((1, 2, 3, 4, 5), (1, 0, 2, 1, 0, 2)),
                                    ((2, 3, 4), (3, 3, 2, 2))]):
        row(f"pad_{mode}{i}", lambda a, p=p, m=mode: F.pad(a, p, m), lambda a, p=p, m=mode: TF("pad")(a, p, m), shape)
row("pad_constant", lambda a: F.pad(a, (1, 2, 0, 1), value=0.5), lambda a: TF("pad")(a, (1, 2, 0, 1), value=0.5),
    (2, 3, 4))

# --- interpolate: nearest, linear family, bicubic, area; size and scale_factor; align_corners ---
INTERP = [
    ("nearest", None, dict(size=(7, 9))), ("nearest", None, dict(scale_factor=2)),
    ("nearest", None, dict(scale_factor=0.6)), ("nearest", None, dict(size=(3, 13))),
    ("nearest-exact", None, dict(size=(7, 4))),
    ("bilinear", False, dict(size=(7, 9))), ("bilinear", True, dict(size=(7, 9))),
    ("bilinear", False, dict(scale_factor=1.5)), ("bilinear", True, dict(scale_factor=(2, 0.5))),
    ("bilinear", False, dict(size=(2, 3))), ("bilinear", True, dict(size=(1, 1))),
    ("bicubic", False, dict(size=(6, 7))), ("bicubic", True, dict(scale_factor=2)),
    ("area", None, dict(size=(3, 2))),
]
for i, (mode, ac, kw) in enumerate(INTERP):
    row(f"interpolate_{mode}{i}", lambda a, m=mode, ac=ac, kw=kw: F.interpolate(a, mode=m, align_corners=ac, **kw),
        lambda a, m=mode, ac=ac, kw=kw: TF("interpolate")(a, mode=m, align_corners=ac, **kw), (2, 3, 4, 5))
row("interpolate_linear", lambda a: F.interpolate(a, size=9, mode="linear", align_corners=False),
    lambda a: TF("interpolate")(a, size=9, mode="linear", align_corners=False), (2, 3, 4))
row("interpolate_linear_ac", lambda a: F.interpolate(a, scale_factor=1.7, mode="linear", align_corners=True),
    lambda a: TF("interpolate")(a, scale_factor=1.7, mode="linear", align_corners=True), (2, 3, 4))
row("interpolate_trilinear", lambda a: F.interpolate(a, size=(3, 4, 5), mode="trilinear"),
    lambda a: TF("interpolate")(a, size=(3, 4, 5), mode="trilinear"), (1, 2, 2, 3, 4))
row("interpolate_nearest3d", lambda a: F.interpolate(a, scale_factor=2), lambda a: TF("interpolate")(a, scale_factor=2),
    (1, 2, 2, 3, 2))

# --- unfold / fold -------------------------------------------------------------------------------
row("unfold", lambda a: F.unfold(a, 2), lambda a: TF("unfold")(a, 2), (2, 3, 4, 5))
row("unfold_all", lambda a: F.unfold(a, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
    lambda a: TF("unfold")(a, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), (2, 2, 5, 6))
row("unfold_unbatched", lambda a: F.unfold(a, 3, padding=1), lambda a: TF("unfold")(a, 3, padding=1), (2, 4, 4))
row("fold", lambda a: F.fold(a, (4, 5), 2), lambda a: TF("fold")(a, (4, 5), 2), (2, 12, 12))
row("fold_all", lambda a: F.fold(a, (5, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
    lambda a: TF("fold")(a, (5, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), (2, 12, 12))
row("fold_unbatched", lambda a: F.fold(a, 4, 3, padding=1), lambda a: TF("fold")(a, 4, 3, padding=1), (18, 16))

# --- pooling with indices ------------------------------------------------------------------------
row("max_pool2d_indices", lambda a: F.max_pool2d(a, 2, return_indices=True)[0],
    lambda a: TF("max_pool2d")(a, 2, return_indices=True)[0], (2, 3, 4, 6))
row("max_unpool2d", lambda a: F.max_unpool2d(*F.max_pool2d(a, 2, return_indices=True), 2),
    lambda a: TF("max_unpool2d")(*TF("max_pool2d")(a, 2, return_indices=True), 2), (2, 3, 4, 6))
row("max_unpool2d_size", lambda a: F.max_unpool2d(*F.max_pool2d(a, 2, 2, 1, return_indices=True), 2, 2, 1,
                                                  output_size=(5, 7)),
    lambda a: TF("max_unpool2d")(*TF("max_pool2d")(a, 2, 2, 1, return_indices=True), 2, 2, 1, output_size=(5, 7)),
    (2, 3, 5, 7))
row("adaptive_max_pool2d", lambda a: F.adaptive_max_pool2d(a, (2, 3)), lambda a: TF("adaptive_max_pool2d")(a, (2, 3)),
    (2, 3, 5, 7))
row("adaptive_max_pool2d_1", lambda a: F.adaptive_max_pool2d(a, 1), lambda a: TF("adaptive_max_pool2d")(a, 1),
    (3, 4, 5))


# --- linear_activation: Linear and its activation as one op (fused on a GPU), batched and 1-D inputs --------
def _linear_activation_rows():
    from matgrad.ops.linear import linear_activation

    def torch_act(act, z):
        return getattr(torch, act)(z)

    for act in ("relu", "sigmoid", "tanh"):
        for i, x_shape in enumerate([(5, 4), (2, 3, 4), (4,)]):
            row(f"linear_activation_{act}{i}", lambda x, w, b, a=act: linear_activation(x, w, b, a),
                lambda x, w, b, a=act: torch_act(a, TF("linear")(x, w, b)), x_shape, (3, 4), (3,))
        row(f"linear_activation_{act}_nobias", lambda x, w, a=act: linear_activation(x, w, None, a),
            lambda x, w, a=act: torch_act(a, TF("linear")(x, w)), (2, 2, 4), (3, 4))


_linear_activation_rows()

# --- breadth 2: RMSNorm, shrinks, margin losses, channel ops, LP pooling, 1-d unpool / transposed conv ----------
def _breadth2_rows():
    import matgrad as mg

    def both(a):  # a constant for both libraries: (matgrad's, torch's)
        return mg.tensor(a), (torch.tensor(a) if torch is not None else None)

    row("rms_norm", lambda x, w: F.rms_norm(x, (4,), w), lambda x, w: TF("rms_norm")(x, (4,), w), (2, 3, 4), (4,))
    row("rms_norm_2d_eps", lambda x: F.rms_norm(x, (3, 4), eps=1e-3), lambda x: TF("rms_norm")(x, (3, 4), eps=1e-3),
        (2, 3, 4))
    row("rms_norm_1d", lambda x: F.rms_norm(x, 5), lambda x: TF("rms_norm")(x, [5]), (5,))
    row("hardshrink", lambda x: F.hardshrink(x), TF("hardshrink"), (3, 4))
    row("hardshrink_l", lambda x: F.hardshrink(x, 1.0), lambda x: TF("hardshrink")(x, 1.0), (3, 4))
    row("softshrink", lambda x: F.softshrink(x), TF("softshrink"), (3, 4))
    row("softshrink_l", lambda x: F.softshrink(x, 0.2), lambda x: TF("softshrink")(x, 0.2), (3, 4))
    row("tanhshrink", F.tanhshrink, TF("tanhshrink"), (3, 4))
    row("rrelu_eval", lambda x: F.rrelu(x, 0.1, 0.3), lambda x: TF("rrelu")(x, 0.1, 0.3), (3, 4))
    rng = np.random.default_rng(5)
    ypm, ytpm = both(np.where(rng.random((3, 4)) < 0.5, -1.0, 1.0))
    row("soft_margin_loss", lambda x: F.soft_margin_loss(x, ypm), lambda x: TF("soft_margin_loss")(x, ytpm), (3, 4))
    row("soft_margin_loss_none", lambda x: F.soft_margin_loss(x, ypm, reduction="none"),
        lambda x: TF("soft_margin_loss")(x, ytpm, reduction="none"), (3, 4))
    yh, yth = both(np.array([[1.0, -1.0, 1.0, -1.0], [-1.0, -1.0, 1.0, 1.0], [1.0, 1.0, -1.0, -1.0]]))
    row("hinge_embedding_loss", lambda x: F.hinge_embedding_loss(x, yh, 0.5),
        lambda x: TF("hinge_embedding_loss")(x, yth, 0.5), (3, 4))
    row("hinge_embedding_loss_sum", lambda x: F.hinge_embedding_loss(x, yh, reduction="sum"),
        lambda x: TF("hinge_embedding_loss")(x, yth, reduction="sum"), (3, 4))
    cls, tcls = both(np.array([0, 3, 1, 3, 2]))
    wt, twt = both(np.array([0.5, 1.0, 2.0, 0.25]))
    for p in (1, 2):
        row(f"multi_margin_loss_p{p}", lambda x, p=p: F.multi_margin_loss(x, cls, p, 0.7),
            lambda x, p=p: TF("multi_margin_loss")(x, tcls, p, 0.7), (5, 4))
        row(f"multi_margin_loss_w{p}", lambda x, p=p: F.multi_margin_loss(x, cls, p, weight=wt, reduction="none"),
            lambda x, p=p: TF("multi_margin_loss")(x, tcls, p, weight=twt, reduction="none"), (5, 4))
    c1, tc1 = both(np.array(2))
    row("multi_margin_loss_1d", lambda x: F.multi_margin_loss(x, c1), lambda x: TF("multi_margin_loss")(x, tc1), (4,))
    ml, tml = both(np.array([[3, 0, -1, 1], [1, 2, 3, 0], [2, -1, 0, 0]]))
    row("multilabel_margin_loss", lambda x: F.multilabel_margin_loss(x, ml),
        lambda x: TF("multilabel_margin_loss")(x, tml), (3, 4))
    row("multilabel_margin_loss_none", lambda x: F.multilabel_margin_loss(x, ml, reduction="none"),
        lambda x: TF("multilabel_margin_loss")(x, tml, reduction="none"), (3, 4))
    ml1, tml1 = both(np.array([1, 1, -1, 2]))
    row("multilabel_margin_loss_1d", lambda x: F.multilabel_margin_loss(x, ml1, reduction="sum"),
        lambda x: TF("multilabel_margin_loss")(x, tml1, reduction="sum"), (4,))
    row("triplet_margin_with_distance_loss", lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n),
        lambda a, p, n: TF("triplet_margin_with_distance_loss")(a, p, n), (5, 3), (5, 3), (5, 3))
    row("triplet_margin_with_distance_loss_fn",
        lambda a, p, n: F.triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda u, v: 1 - F.cosine_similarity(u, v), margin=0.5, swap=True,
            reduction="none"),
        lambda a, p, n: TF("triplet_margin_with_distance_loss")(
            a, p, n, distance_function=lambda u, v: 1 - TF("cosine_similarity")(u, v), margin=0.5, swap=True,
            reduction="none"), (5, 3), (5, 3), (5, 3))
    row("channel_shuffle", lambda x: F.channel_shuffle(x, 3), lambda x: TF("channel_shuffle")(x, 3), (2, 6, 2, 2))
    for p in (2, 1, 3.5):
        row(f"pdist_p{p}", lambda x, p=p: F.pdist(x, p), lambda x, p=p: TF("pdist")(x, p), (5, 3))
    dup = np.random.default_rng(6).standard_normal((4, 3))
    dup[2] = dup[0]  # a zero distance: gradient 0 there, as PyTorch
    row("pdist_equal_rows", lambda x: F.pdist(x, 3), lambda x: TF("pdist")(x, 3), dup,
        second=False)  # not twice differentiable at 0: finite differences of the gradient blow up there
    row("local_response_norm", lambda x: F.local_response_norm(x, 3, 0.1, 0.6, 2.0),
        lambda x: TF("local_response_norm")(x, 3, 0.1, 0.6, 2.0), (2, 5, 4))
    row("local_response_norm_4d", lambda x: F.local_response_norm(x, 2, 0.5),
        lambda x: TF("local_response_norm")(x, 2, 0.5), (2, 4, 3, 2))
    row("lp_pool1d", lambda x: F.lp_pool1d(x, 2, 3), lambda x: TF("lp_pool1d")(x, 2, 3), (2, 3, 7))
    row("lp_pool1d_stride", lambda x: F.lp_pool1d(x, 3.0, 2, 1), lambda x: TF("lp_pool1d")(x, 3.0, 2, 1), (3, 7),
        positive=True)
    row("lp_pool2d", lambda x: F.lp_pool2d(x, 2, (2, 3)), lambda x: TF("lp_pool2d")(x, 2, (2, 3)), (2, 3, 4, 6))
    row("lp_pool2d_stride", lambda x: F.lp_pool2d(x, 1.5, 2, 1), lambda x: TF("lp_pool2d")(x, 1.5, 2, 1),
        (1, 2, 4, 5), positive=True)
    row("max_pool1d_with_indices", lambda x: F.max_pool1d_with_indices(x, 3, 2, 1)[0],
        lambda x: TF("max_pool1d_with_indices")(x, 3, 2, 1)[0], (2, 3, 8))
    row("max_unpool1d", lambda x: F.max_unpool1d(*F.max_pool1d(x, 2, return_indices=True), 2),
        lambda x: TF("max_unpool1d")(*TF("max_pool1d")(x, 2, return_indices=True), 2), (2, 3, 8))
    row("max_unpool1d_size", lambda x: F.max_unpool1d(*F.max_pool1d(x, 2, 2, 1, return_indices=True), 2, 2, 1,
                                                      output_size=(9,)),
        lambda x: TF("max_unpool1d")(*TF("max_pool1d")(x, 2, 2, 1, return_indices=True), 2, 2, 1, output_size=(9,)),
        (3, 9))
    row("conv_transpose1d", lambda x, w, b: F.conv_transpose1d(x, w, b),
        lambda x, w, b: TF("conv_transpose1d")(x, w, b), (2, 3, 5), (3, 2, 3), (2,))
    row("conv_transpose1d_all", lambda x, w: F.conv_transpose1d(x, w, None, 2, 1, 1, 2, 2),
        lambda x, w: TF("conv_transpose1d")(x, w, None, 2, 1, 1, 2, 2), (2, 4, 5), (4, 3, 3))
    row("conv_transpose1d_unbatched", lambda x, w: F.conv_transpose1d(x, w, stride=3),
        lambda x, w: TF("conv_transpose1d")(x, w, stride=3), (3, 4), (3, 2, 2))


_breadth2_rows()


# --- 3-d convolution and pooling: the 2-d ops over the depth taps (ops/conv3d.py, ops/pooling3d.py) -------------
def _rows_3d():
    row("conv3d", lambda x, w, b: F.conv3d(x, w, b), lambda x, w, b: TF("conv3d")(x, w, b),
        (1, 2, 3, 4, 4), (2, 2, 2, 2, 2), (2,))
    row("conv3d_all", lambda x, w: F.conv3d(x, w, None, (2, 1, 1), (1, 0, 1), (1, 2, 1), 2),
        lambda x, w: TF("conv3d")(x, w, None, (2, 1, 1), (1, 0, 1), (1, 2, 1), 2), (1, 2, 4, 4, 3), (2, 1, 2, 2, 2))
    row("conv3d_same_unbatched", lambda x, w: F.conv3d(x, w, padding="same"),
        lambda x, w: TF("conv3d")(x, w, padding="same"), (2, 3, 3, 3), (2, 2, 2, 1, 2))
    row("conv_transpose3d", lambda x, w, b: F.conv_transpose3d(x, w, b, 2, 1, 1),
        lambda x, w, b: TF("conv_transpose3d")(x, w, b, 2, 1, 1), (1, 2, 2, 3, 2), (2, 2, 2, 2, 2), (2,))
    row("conv_transpose3d_groups", lambda x, w: F.conv_transpose3d(x, w, None, (1, 2, 1), 0, (0, 1, 0), 2, (2, 1, 1)),
        lambda x, w: TF("conv_transpose3d")(x, w, None, (1, 2, 1), 0, (0, 1, 0), 2, (2, 1, 1)),
        (1, 2, 2, 2, 2), (2, 1, 2, 2, 1))
    row("max_pool3d", lambda x: F.max_pool3d(x, 2), lambda x: TF("max_pool3d")(x, 2), (1, 2, 3, 4, 4))
    row("max_pool3d_all", lambda x: F.max_pool3d(x, (3, 2, 2), (1, 2, 1), (1, 1, 0), (1, 1, 2)),
        lambda x: TF("max_pool3d")(x, (3, 2, 2), (1, 2, 1), (1, 1, 0), (1, 1, 2)), (1, 2, 3, 4, 4))
    row("max_pool3d_with_indices", lambda x: F.max_pool3d_with_indices(x, 2, 1)[0],
        lambda x: TF("max_pool3d_with_indices")(x, 2, 1)[0], (2, 3, 3, 3))
    row("max_unpool3d", lambda x: F.max_unpool3d(*F.max_pool3d(x, 2, return_indices=True), 2),
        lambda x: TF("max_unpool3d")(*TF("max_pool3d")(x, 2, return_indices=True), 2), (1, 2, 2, 4, 4))
    row("avg_pool3d", lambda x: F.avg_pool3d(x, 2), lambda x: TF("avg_pool3d")(x, 2), (1, 2, 3, 4, 4))
    row("avg_pool3d_no_pad_count", lambda x: F.avg_pool3d(x, (3, 2, 2), (2, 1, 2), (1, 1, 0), count_include_pad=False),
        lambda x: TF("avg_pool3d")(x, (3, 2, 2), (2, 1, 2), (1, 1, 0), count_include_pad=False), (1, 2, 3, 4, 4))
    row("avg_pool3d_divisor", lambda x: F.avg_pool3d(x, 2, 1, 1, divisor_override=3),
        lambda x: TF("avg_pool3d")(x, 2, 1, 1, divisor_override=3), (2, 2, 3, 3))
    row("adaptive_avg_pool3d", lambda x: F.adaptive_avg_pool3d(x, (2, 3, None)),
        lambda x: TF("adaptive_avg_pool3d")(x, (2, 3, None)), (1, 2, 3, 4, 5))
    row("adaptive_max_pool3d", lambda x: F.adaptive_max_pool3d(x, (2, 2, 3)),
        lambda x: TF("adaptive_max_pool3d")(x, (2, 2, 3)), (1, 2, 3, 4, 5))
    row("adaptive_max_pool3d_with_indices", lambda x: F.adaptive_max_pool3d_with_indices(x, 1)[0],
        lambda x: TF("adaptive_max_pool3d_with_indices")(x, 1)[0], (2, 3, 3, 4))
    row("adaptive_max_pool2d_with_indices", lambda x: F.adaptive_max_pool2d_with_indices(x, (2, 3))[0],
        lambda x: TF("adaptive_max_pool2d_with_indices")(x, (2, 3))[0], (1, 2, 4, 5))
    row("adaptive_max_pool1d_with_indices", lambda x: F.adaptive_max_pool1d_with_indices(x, 3)[0],
        lambda x: TF("adaptive_max_pool1d_with_indices")(x, 3)[0], (2, 2, 7))
    row("lp_pool3d", lambda x: F.lp_pool3d(x, 2, 2), lambda x: TF("lp_pool3d")(x, 2, 2), (1, 2, 2, 4, 4))
    row("lp_pool3d_stride", lambda x: F.lp_pool3d(x, 1.5, (2, 2, 1), 1),
        lambda x: TF("lp_pool3d")(x, 1.5, (2, 2, 1), 1), (1, 2, 3, 3, 2), positive=True)


_rows_3d()


# --- grid_sample / affine_grid: every mode and padding mode, 4-D and 5-D, and the two composed (an STN) ---
def _grid_rows():
    for mode, pad, ac in [("bilinear", "zeros", False), ("bilinear", "border", True),
                          ("bilinear", "reflection", False), ("bilinear", "reflection", True),
                          ("nearest", "zeros", False), ("nearest", "reflection", True), ("bicubic", "zeros", False),
                          ("bicubic", "border", True), ("bicubic", "reflection", False)]:
        row(f"grid_sample_{mode}_{pad}_{int(ac)}", lambda x, g, m=mode, p=pad, a=ac: F.grid_sample(x, g, m, p, a),
            lambda x, g, m=mode, p=pad, a=ac: TF("grid_sample")(x, g, m, p, a),
            (1, 2, 3, 4), (1, 2, 3, 2))
    row("grid_sample_3d", lambda x, g: F.grid_sample(x, g, align_corners=False),
        lambda x, g: TF("grid_sample")(x, g, align_corners=False), (1, 2, 2, 3, 2), (1, 1, 2, 2, 3))
    row("grid_sample_3d_nearest_border", lambda x, g: F.grid_sample(x, g, "nearest", "border", True),
        lambda x, g: TF("grid_sample")(x, g, "nearest", "border", True), (1, 2, 2, 3, 2), (1, 2, 1, 2, 3))
    row("affine_grid", lambda t: F.affine_grid(t, (2, 1, 3, 4), False),
        lambda t: TF("affine_grid")(t, (2, 1, 3, 4), False), (2, 2, 3))
    row("affine_grid_3d_ac", lambda t: F.affine_grid(t, (1, 1, 2, 3, 2), True),
        lambda t: TF("affine_grid")(t, (1, 1, 2, 3, 2), True), (1, 3, 4))
    row("affine_grid_sample",
        lambda x, t: F.grid_sample(x, F.affine_grid(t * 0.7, (2, 2, 3, 3), False), align_corners=False),
        lambda x, t: TF("grid_sample")(x, TF("affine_grid")(t * 0.7, (2, 2, 3, 3), False), align_corners=False),
        (2, 2, 4, 5), (2, 2, 3))


_grid_rows()


# --- ctc_loss (through log_softmax: PyTorch's gradient is the true one there) and fractional max pooling ---------
def _ctc_fractional_rows():
    tg, il, tl = np.array([[1, 1, 2], [2, 0, 0], [3, 1, 2]]), np.array([6, 4, 5]), np.array([3, 1, 0])
    for red in ("mean", "none"):  # not twice differentiable, as PyTorch's
        row(f"ctc_loss_{red}", lambda x, r=red: F.ctc_loss(F.log_softmax(x, 2), tg, il, tl, reduction=r),
            lambda x, r=red: TF("ctc_loss")(x.log_softmax(2), torch.tensor(tg), torch.tensor(il), torch.tensor(tl),
                                            reduction=r), (6, 3, 4), second=False)
    row("ctc_loss_concatenated_zero_infinity",
        lambda x: F.ctc_loss(F.log_softmax(x, 1), np.array([1, 1]), 2, 2, reduction="sum", zero_infinity=True),
        lambda x: TF("ctc_loss")(x.log_softmax(1), torch.tensor([1, 1]), torch.tensor(2), torch.tensor(2),
                                 reduction="sum", zero_infinity=True), (4, 3), second=False)
    import matgrad as mg

    u2 = np.random.default_rng(7).random((2, 3, 2))
    u3 = np.random.default_rng(8).random((1, 2, 3))
    row("fractional_max_pool2d", lambda x: F.fractional_max_pool2d(x, 2, (3, 4), _random_samples=mg.tensor(u2)),
        lambda x: TF("fractional_max_pool2d")(x, 2, (3, 4), _random_samples=torch.tensor(u2)), (2, 3, 7, 6))
    row("fractional_max_pool3d", lambda x: F.fractional_max_pool3d(x, (2, 1, 2), 2, _random_samples=mg.tensor(u3)),
        lambda x: TF("fractional_max_pool3d")(x, (2, 1, 2), 2, _random_samples=torch.tensor(u3)), (2, 4, 3, 5))


_ctc_fractional_rows()


def test_max_unpool2d_overlapping_windows_match_torch():
    """Overlapping windows repeat an index: PyTorch keeps one write (equal values) and gathers dy for each."""
    from tests.helpers import compare_torch

    if torch is None:
        pytest.skip("no torch")
    x = np.random.default_rng(3).standard_normal((2, 3, 5, 7))
    compare_torch(lambda a: F.max_unpool2d(*F.max_pool2d(a, 3, 2, 1, return_indices=True), 3, 2, 1,
                                           output_size=(5, 7)),
                  [x], lambda a: TF("max_unpool2d")(*TF("max_pool2d")(a, 3, 2, 1, return_indices=True), 3, 2, 1,
                                                    output_size=(5, 7)))


@pytest.mark.parametrize("fn, tfn, shapes, opts", ROWS)
def test_op(fn, tfn, shapes, opts):
    check_op(fn, *shapes, torch_fn=tfn if torch is not None else None, **opts)


def test_op_table_nn_covers_issue_14_ops():
    ids = {r.id.split("_")[0] for r in ROWS}
    assert {"pad", "interpolate", "unfold", "fold", "max", "adaptive"} <= ids
    assert {"rms", "hardshrink", "softshrink", "tanhshrink", "multi", "multilabel", "pdist", "lp", "conv"} <= ids
    assert len(ROWS) > 40 and np.all([len(r.values[2]) for r in ROWS])
