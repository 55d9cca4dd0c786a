"""torch's top-level nn functions (matgrad/nn/functional_aliases.py): each case is called positionally, in
torch's order, on matgrad and on torch (`L` is the library), and checked by float64 finite differences (first
and, where the op is smooth enough, second order) and against torch's values and gradients. The random ones
(dropout family, rrelu in training) are checked by their structure and statistics; then keyword names, the
errors, the in-place variants, running statistics and nn.DataParallel."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from tests.helpers import assert_close, check_op, compare_torch, make_inputs, torch

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def T(L, a):
    """A constant of either library from a NumPy array (dtype kept: int64 indices, float64 values)."""
    return L.tensor(np.asarray(a))


_rng = np.random.default_rng(7)
IDX = np.array([0, 1, 2, 1, 4, 3])
OFFSETS = np.array([0, 2, 2, 5])
SIGNS = np.array([1.0, -1.0, -1.0, 1.0])
PROBS = _rng.dirichlet(np.ones(5), size=3)  # (3, 5), rows sum to 1
WEIGHT, POS_WEIGHT = _rng.random(5) + 0.5, _rng.random(5) + 0.5
COUNTS = np.array([[0.0, 1.0, 3.0, 2.0, 5.0], [4.0, 0.0, 1.0, 7.0, 2.0], [1.0, 1.0, 0.0, 2.0, 9.0]])
RUN_MEAN, RUN_VAR = _rng.standard_normal(3), _rng.random(3) + 0.5
GRID = _rng.uniform(-1.15, 1.15, (1, 3, 4, 2))  # some points outside, none on a pixel's edge
THETA = np.array([[[0.9, 0.2, 0.1], [-0.1, 1.1, 0.05]], [[1.0, -0.3, 0.0], [0.25, 0.8, -0.1]]])
CTC_TARGETS, CTC_IN, CTC_TGT = np.array([[1, 2, 2], [3, 1, 0]]), [6, 5], [3, 2]
CTC_TARGETS_NO_3 = np.array([[1, 2, 2], [0, 1, 0]])  # for blank=3

# name: (fn(L, *inputs), input shapes, second order? (None: no finite differences), positive inputs?)
CASES = {
    # activations and rsub
    "celu": (lambda L, x: L.celu(x, 0.7), [(3, 5)], True, False),
    "celu_default": (lambda L, x: L.celu(x), [(3, 5)], True, False),
    "selu": (lambda L, x: L.selu(x), [(3, 5)], True, False),
    "threshold": (lambda L, x: L.threshold(x, 0.1, -2.0), [(3, 5)], True, False),
    "rrelu_eval": (lambda L, x: L.rrelu(x, 0.1, 0.3), [(3, 5)], True, False),
    "rrelu_default": (lambda L, x: L.rrelu(x), [(3, 5)], True, False),
    "rrelu_eval_training_false": (lambda L, x: L.rrelu(x, 0.2, 0.4, False), [(3, 5)], True, False),
    "rsub": (lambda L, x, y: L.rsub(x, y), [(3, 1, 4), (5, 4)], True, False),
    "rsub_alpha": (lambda L, x, y: L.rsub(x, y, alpha=2.5), [(5, 4), (4,)], True, False),
    "rsub_scalar": (lambda L, x: L.rsub(x, 3.0, 2.0), [(3, 4)], True, False),
    # convolutions
    "conv1d": (lambda L, x, w, b: L.conv1d(x, w, b, 2, 1, 1, 2), [(2, 4, 9), (6, 2, 3), (6,)], True, False),
    "conv1d_same": (lambda L, x, w: L.conv1d(x, w, None, 1, "same", 2), [(2, 3, 8), (4, 3, 3)], True, False),
    "conv2d": (lambda L, x, w, b: L.conv2d(x, w, b, (2, 1), (1, 0)), [(2, 3, 6, 5), (4, 3, 3, 2), (4,)], True, False),
    "conv2d_default": (lambda L, x, w: L.conv2d(x, w), [(1, 2, 5, 4), (3, 2, 2, 2)], True, False),
    "conv3d": (lambda L, x, w, b: L.conv3d(x, w, b, 1, 1), [(1, 2, 3, 4, 3), (3, 2, 2, 2, 2), (3,)], True, False),
    "conv_transpose1d": (lambda L, x, w, b: L.conv_transpose1d(x, w, b, 2, 1, 1, 1, 1),
                         [(2, 3, 5), (3, 2, 3), (2,)], True, False),
    "conv_transpose2d": (lambda L, x, w, b: L.conv_transpose2d(x, w, b, 2, 1, 1, 1, 1),
                         [(1, 2, 3, 4), (2, 3, 3, 3), (3,)], True, False),
    "conv_transpose3d": (lambda L, x, w: L.conv_transpose3d(x, w, None, 2, 0, 1),
                         [(1, 2, 2, 3, 2), (2, 2, 2, 2, 2)], True, False),
    "convolution_2d": (lambda L, x, w, b: L.convolution(x, w, b, [2, 1], [1], [1, 1], False, [0], 1),
                       [(2, 3, 6, 5), (4, 3, 3, 2), (4,)], True, False),
    "convolution_2d_groups_dilation": (lambda L, x, w: L.convolution(x, w, None, [1], [2], [2], False, [0], 2),
                                       [(1, 4, 6, 6), (4, 2, 3, 3)], True, False),
    "convolution_1d_transposed": (lambda L, x, w, b: L.convolution(x, w, b, [2], [1], [1], True, [1], 1),
                                  [(2, 3, 5), (3, 2, 3), (2,)], True, False),
    "convolution_3d": (lambda L, x, w: L.convolution(x, w, None, (1, 1, 1), (1, 0, 1), (1,), False, (0,), 1),
                       [(1, 2, 3, 4, 3), (3, 2, 2, 2, 2)], True, False),
    "convolution_3d_transposed": (lambda L, x, w: L.convolution(x, w, None, [2], [0], [1], True, [1], 1),
                                  [(1, 2, 2, 3, 2), (2, 2, 2, 2, 2)], True, False),
    # padding, pooling, sampling
    "constant_pad_nd": (lambda L, x: L.constant_pad_nd(x, [1, 2, -1, 0], 0.5), [(2, 3, 4)], True, False),
    "constant_pad_nd_default": (lambda L, x: L.constant_pad_nd(x, [2, 1]), [(2, 3)], True, False),
    "max_pool1d": (lambda L, x: L.max_pool1d(x, 3, 2, 1, 1, False), [(2, 3, 9)], True, False),
    "max_pool1d_default": (lambda L, x: L.max_pool1d(x, 2), [(2, 3, 8)], True, False),
    "max_pool1d_dilation": (lambda L, x: L.max_pool1d(x, 2, 1, 0, 2), [(3, 9)], True, False),
    "max_pool1d_with_indices": (lambda L, x: L.max_pool1d_with_indices(x, 3, (), 1), [(2, 3, 9)], True, False),
    "max_pool2d": (lambda L, x: L.max_pool2d(x, (2, 3), (), (1, 1), 1, False), [(1, 2, 5, 7)], True, False),
    "max_pool2d_stride": (lambda L, x: L.max_pool2d(x, 2, 2, 0, 1, False), [(1, 2, 5, 5)], True, False),
    "max_pool3d": (lambda L, x: L.max_pool3d(x, 2), [(1, 2, 4, 4, 4)], True, False),
    "max_pool3d_args": (lambda L, x: L.max_pool3d(x, 2, 1, 1, 1, False), [(1, 1, 3, 4, 3)], True, False),
    "avg_pool1d": (lambda L, x: L.avg_pool1d(x, 3, 2, 1, False, False), [(2, 3, 9)], True, False),
    "avg_pool1d_default": (lambda L, x: L.avg_pool1d(x, 2), [(2, 3, 8)], True, False),
    "adaptive_avg_pool1d": (lambda L, x: L.adaptive_avg_pool1d(x, 3), [(2, 3, 7)], True, False),
    "adaptive_max_pool1d": (lambda L, x: L.adaptive_max_pool1d(x, 3), [(2, 3, 7)], True, False),
    "affine_grid_generator": (lambda L, th: L.affine_grid_generator(th, [2, 3, 4, 5], False), [THETA], True, False),
    "affine_grid_generator_corners": (lambda L, th: L.affine_grid_generator(th, [2, 1, 3, 2], True), [THETA],
                                      True, False),
    # shuffles, distances, bilinear
    "pixel_shuffle": (lambda L, x: L.pixel_shuffle(x, 2), [(2, 8, 3, 2)], True, False),
    "pixel_unshuffle": (lambda L, x: L.pixel_unshuffle(x, 2), [(1, 2, 4, 6)], True, False),
    "channel_shuffle": (lambda L, x: L.channel_shuffle(x, 2), [(2, 6, 3)], True, False),
    # torch's native_channel_shuffle has no derivative: its gradients are checked against channel_shuffle's
    "native_channel_shuffle": (lambda L, x: (L.native_channel_shuffle if L is mg else L.channel_shuffle)(x, 3),
                               [(2, 6, 2, 2)], True, False),
    "cosine_similarity": (lambda L, a, b: L.cosine_similarity(a, b, -1, 1e-8), [(3, 1, 5), (4, 5)], True, False),
    "cosine_similarity_default": (lambda L, a, b: L.cosine_similarity(a, b), [(4, 5), (4, 5)], True, False),
    "pairwise_distance": (lambda L, a, b: L.pairwise_distance(a, b, 3.0, 1e-6, True), [(4, 5), (5,)], True, False),
    "pairwise_distance_default": (lambda L, a, b: L.pairwise_distance(a, b), [(4, 5), (4, 5)], True, False),
    "pdist": (lambda L, x: L.pdist(x, 1.5), [(4, 3)], True, False),
    "pdist_default": (lambda L, x: L.pdist(x), [(5, 2)], True, False),
    "bilinear": (lambda L, a, b, w, c: L.bilinear(a, b, w, c), [(4, 3), (4, 2), (5, 3, 2), (5,)], True, False),
    "bilinear_no_bias": (lambda L, a, b, w: L.bilinear(a, b, w), [(2, 4, 3), (2, 4, 2), (5, 3, 2)], True, False),
    # embeddings (weight first)
    "embedding": (lambda L, w: L.embedding(w, T(L, IDX)), [(5, 3)], True, False),
    # the padding row gets no gradient by design (not the derivative): torch only
    "embedding_padding": (lambda L, w: L.embedding(w, T(L, IDX), 1), [(5, 3)], None, False),
    "embedding_negative_padding_is_none": (lambda L, w: L.embedding(w, T(L, IDX), -1, False, False), [(5, 3)],
                                           True, False),
    "embedding_bag_sum": (lambda L, w: L.embedding_bag(w, T(L, IDX), T(L, OFFSETS)), [(5, 3)], True, False),
    "embedding_bag_mean": (lambda L, w: L.embedding_bag(w, T(L, IDX), T(L, OFFSETS), False, 1), [(5, 3)],
                           True, False),
    "embedding_bag_max": (lambda L, w: L.embedding_bag(w, T(L, IDX), T(L, OFFSETS), False, 2), [(5, 4)],
                          True, False),
    "embedding_bag_sum_weights": (lambda L, w, s: L.embedding_bag(w, T(L, IDX), T(L, OFFSETS), False, 0, False, s),
                                  [(5, 3), (6,)], True, False),
    "embedding_bag_last_offset": (lambda L, w: L.embedding_bag(w, T(L, IDX), T(L, [0, 2, 2, 6]), False, 1, False,
                                                               None, True), [(5, 3)], True, False),
    "embedding_bag_padding_mean": (lambda L, w: L.embedding_bag(w, T(L, IDX), T(L, OFFSETS), False, 1, False,
                                                                None, False, 3), [(5, 3)], True, False),
    "embedding_bag_padding_max": (lambda L, w: L.embedding_bag(w, T(L, IDX), T(L, OFFSETS), False, 2, False,
                                                               None, False, -1), [(5, 3)], True, False),
    "embedding_bag_padding_sum": (lambda L, w: L.embedding_bag(w, T(L, IDX), T(L, OFFSETS), False, 0, False,
                                                               None, False, 1), [(5, 3)], True, False),
    # normalization
    "batch_norm_train": (lambda L, x, w, b: L.batch_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
                         [(4, 3, 5), (3,), (3,)], True, False),
    "batch_norm_eval": (lambda L, x, w, b: L.batch_norm(x, w, b, T(L, RUN_MEAN), T(L, RUN_VAR), False, 0.1, 1e-3,
                                                        True), [(4, 3, 2, 2), (3,), (3,)], True, False),
    "instance_norm": (lambda L, x, w, b: L.instance_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
                      [(2, 3, 6), (3,), (3,)], True, False),
    "instance_norm_running": (lambda L, x: L.instance_norm(x, None, None, T(L, RUN_MEAN), T(L, RUN_VAR), False,
                                                           0.1, 1e-5, False), [(2, 3, 2, 3)], True, False),
    "layer_norm": (lambda L, x, w, b: L.layer_norm(x, [4, 5], w, b, 1e-5, True), [(2, 4, 5), (4, 5), (4, 5)],
                   True, False),
    "layer_norm_default": (lambda L, x: L.layer_norm(x, (5,)), [(3, 5)], True, False),
    "group_norm": (lambda L, x, w, b: L.group_norm(x, 2, w, b, 1e-5, True), [(2, 4, 3, 2), (4,), (4,)], True, False),
    "group_norm_default": (lambda L, x: L.group_norm(x, 3), [(2, 6, 5)], True, False),
    "rms_norm": (lambda L, x, w: L.rms_norm(x, [5], w, 1e-6), [(3, 5), (5,)], True, False),
    "rms_norm_default": (lambda L, x: L.rms_norm(x, [4, 5]), [(2, 4, 5)], True, False),
    "native_layer_norm": (lambda L, x, w, b: L.native_layer_norm(x, [5], w, b, 1e-5), [(2, 3, 5), (5,), (5,)],
                          True, False),
    "native_layer_norm_plain": (lambda L, x: L.native_layer_norm(x, [3, 5], None, None, 1e-3), [(2, 3, 5)], True,
                                False),
    "native_batch_norm_train": (lambda L, x, w, b: L.native_batch_norm(x, w, b, None, None, True, 0.1, 1e-5),
                                [(4, 3, 5), (3,), (3,)], True, False),
    "native_batch_norm_eval": (lambda L, x, w, b: L.native_batch_norm(x, w, b, T(L, RUN_MEAN), T(L, RUN_VAR), False,
                                                                      0.1, 1e-5), [(4, 3), (3,), (3,)], True, False),
}

# losses: name: (fn(L, reduction_args, *inputs), shapes, second order?, positive?); reduction_args is () (left
# out: torch 2.13 then reduces with 'none') or (r,) for r in 0, 1, 2
LOSSES = {
    "binary_cross_entropy_with_logits": (
        lambda L, r, x: L.binary_cross_entropy_with_logits(x, T(L, PROBS), T(L, WEIGHT), T(L, POS_WEIGHT), *r),
        [(3, 5)], True, False),
    "binary_cross_entropy_with_logits_plain": (
        lambda L, r, x: L.binary_cross_entropy_with_logits(x, T(L, PROBS), None, None, *r), [(3, 5)], True, False),
    "cosine_embedding_loss": (lambda L, r, a, b: L.cosine_embedding_loss(a, b, T(L, SIGNS), 0.2, *r),
                              [(4, 5), (4, 5)], True, False),
    "ctc_loss": (lambda L, r, x: L.ctc_loss(x.log_softmax(2), T(L, CTC_TARGETS), CTC_IN, CTC_TGT, 0, *r),
                 [(6, 2, 4)], False, False),
    "ctc_loss_blank": (lambda L, r, x: L.ctc_loss(x.log_softmax(2), T(L, CTC_TARGETS_NO_3), CTC_IN, CTC_TGT, 3,
                                                  *(r or (1,)), True), [(6, 2, 4)], False, False),
    "hinge_embedding_loss": (lambda L, r, x: L.hinge_embedding_loss(x, T(L, SIGNS), 0.5, *r), [(3, 4)], True, False),
    "kl_div": (lambda L, r, x: L.kl_div(x, T(L, PROBS), *r), [(3, 5)], True, False),
    "kl_div_log_target": (lambda L, r, x, t: L.kl_div(x, t, *r, log_target=True), [(3, 5), (3, 5)], True, False),
    "margin_ranking_loss": (lambda L, r, a, b: L.margin_ranking_loss(a, b, T(L, SIGNS), 0.1, *r), [(4,), (4,)],
                            True, False),
    "poisson_nll_loss": (lambda L, r, x: L.poisson_nll_loss(x, T(L, COUNTS), True, False, 1e-8, *(r or (1,))),
                         [(3, 5)], True, False),
    "poisson_nll_loss_full": (lambda L, r, x: L.poisson_nll_loss(x, T(L, COUNTS), False, True, 1e-6, *(r or (2,))),
                              [(3, 5)], True, True),
    "triplet_margin_loss": (lambda L, r, a, p, n: L.triplet_margin_loss(a, p, n, 1.0, 2.0, 1e-6, False, *r),
                            [(4, 5), (4, 5), (4, 5)], True, False),
    "triplet_margin_loss_swap": (lambda L, r, a, p, n: L.triplet_margin_loss(a, p, n, 0.5, 1.0, 1e-6, True, *r),
                                 [(4, 5), (4, 5), (4, 5)], True, False),
}


def _torch_side(fn, *head):
    return lambda *xs: fn(torch, *head, *xs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_finite_differences_and_torch(name):
    fn, shapes, second, positive = CASES[name]
    if second is None:
        compare_torch(lambda *xs: fn(mg, *xs), make_inputs(shapes, positive=positive), _torch_side(fn))
        return
    check_op(lambda *xs: fn(mg, *xs), *shapes, torch_fn=_torch_side(fn), second=second, positive=positive)


@pytest.mark.parametrize("reduction", [None, 0, 1, 2])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_against_finite_differences_and_torch(name, reduction):
    fn, shapes, second, positive = LOSSES[name]
    r = () if reduction is None else (reduction,)
    check_op(lambda *xs: fn(mg, r, *xs), *shapes, torch_fn=_torch_side(fn, r), second=second, positive=positive)


@needs_torch
def test_losses_left_without_reduction_reduce_as_torch_does():
    """torch 2.13's binding reads the default `Mean` as 0: the unreduced loss. matgrad gives what torch gives."""
    x = np.random.default_rng(0).standard_normal((3, 5))
    for L in (mg, torch):
        got = L.kl_div(T(L, x), T(L, PROBS))
        assert tuple(got.shape) == (3, 5)
    np.testing.assert_allclose(mg.kl_div(T(mg, x), T(mg, PROBS)).array,
                               torch.kl_div(T(torch, x), T(torch, PROBS)).numpy(), rtol=1e-12, atol=1e-15)


# --- keyword names: called by name, as torch's binding allows -------------------------------------------------
KEYWORDS = {
    "dropout": lambda L, x: L.dropout(input=x, p=0.4, train=False),
    "layer_norm": lambda L, x: L.layer_norm(input=x, normalized_shape=[5], eps=1e-3),
    "group_norm": lambda L, x: L.group_norm(x, num_groups=1, eps=1e-3, cudnn_enabled=False),
    "embedding": lambda L, x: L.embedding(weight=x, indices=T(L, [0, 2]), padding_idx=2, scale_grad_by_freq=False),
    "kl_div": lambda L, x: L.kl_div(x, T(L, PROBS), reduction=2, log_target=False),
    "celu": lambda L, x: L.celu(input=x, alpha=2.0),
    "threshold": lambda L, x: L.threshold(x, threshold=0.1, value=2.0),
    "max_pool1d": lambda L, x: L.max_pool1d(x, kernel_size=2, stride=1, dilation=2),
    "avg_pool1d": lambda L, x: L.avg_pool1d(x, kernel_size=3, padding=1, count_include_pad=False),
    "rrelu": lambda L, x: L.rrelu(x, upper=0.5, training=False),
    "rsub": lambda L, x: L.rsub(x, other=2.0, alpha=3),
    "pdist": lambda L, x: L.pdist(x, p=1),
    "cosine_similarity": lambda L, x: L.cosine_similarity(x1=x, x2=x * 2 + 1, dim=0),
    "pairwise_distance": lambda L, x: L.pairwise_distance(x, x + 1, keepdim=True),
    "triplet_margin_loss": lambda L, x: L.triplet_margin_loss(x, x + 1, x * 2, swap=True, reduction=1),
    "hinge_embedding_loss": lambda L, x: L.hinge_embedding_loss(x, T(L, np.sign(PROBS - 0.2)), margin=0.3,
                                                                reduction=2),
    "binary_cross_entropy_with_logits": lambda L, x: L.binary_cross_entropy_with_logits(x, T(L, PROBS),
                                                                                        reduction=1),
    "conv1d": lambda L, x: L.conv1d(input=x.unsqueeze(0), weight=x[:, :2].unsqueeze(0), stride=2, padding=1),
    "constant_pad_nd": lambda L, x: L.constant_pad_nd(x, pad=[1, 1], value=2.0),
    "affine_grid_generator": lambda L, x: L.affine_grid_generator(theta=T(L, THETA), size=[2, 1, 2, 3],
                                                                  align_corners=False),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(KEYWORDS))
def test_keyword_names_are_torchs(name):
    x = np.random.default_rng(3).standard_normal((3, 5))
    got, want = KEYWORDS[name](mg, T(mg, x)), KEYWORDS[name](torch, T(torch, x))
    assert_close(got.array, want.numpy(), rtol=1e-10)


# --- errors ------------------------------------------------------------------------------------------------
ERRORS = {  # the same exception type as torch's
    "reduction_str": (lambda L, x: L.kl_div(x, x, "mean"), TypeError),
    "reduction_bool": (lambda L, x: L.hinge_embedding_loss(x, x, 1.0, True), TypeError),
    "layer_norm_int_shape": (lambda L, x: L.layer_norm(x, 5), TypeError),
    "rms_norm_int_shape": (lambda L, x: L.rms_norm(x, 5), TypeError),
    "native_layer_norm_int_shape": (lambda L, x: L.native_layer_norm(x, 5, None, None, 1e-5), TypeError),
    "dropout_p": (lambda L, x: L.dropout(x, 1.5, True), RuntimeError),
    "dropout_p_eval": (lambda L, x: L.dropout(x, -0.1, False), RuntimeError),
    "dropout_needs_train": (lambda L, x: L.dropout(x, 0.5), TypeError),
    "alpha_dropout_p": (lambda L, x: L.alpha_dropout(x, 2.0, False), RuntimeError),
    "dropout_integral": (lambda L, x: L.dropout(T(L, [1, 2, 3]), 0.5, True), RuntimeError),
    "feature_dropout_integral": (lambda L, x: L.feature_dropout(T(L, [[1, 2, 3]]), 0.5, True), RuntimeError),
    "feature_dropout_1d": (lambda L, x: L.feature_dropout(x[0], 0.5, True), RuntimeError),
    "feature_alpha_dropout_1d": (lambda L, x: L.feature_alpha_dropout(x[0], 0.5, True), RuntimeError),
    "batch_norm_eval_without_stats": (lambda L, x: L.batch_norm(x, None, None, None, None, False, 0.1, 1e-5, False),
                                      RuntimeError),
    "instance_norm_without_stats": (lambda L, x: L.instance_norm(x.unsqueeze(0), None, None, None, None, False, 0.1,
                                                                 1e-5, False), RuntimeError),
    "convolution_int_stride": (lambda L, x: L.convolution(x.unsqueeze(0), x.unsqueeze(0)[:, :, :2], None, 1, [0],
                                                          [1], False, [0], 1), TypeError),
    "convolution_stride_length": (lambda L, x: L.convolution(x[None, None], x[None, None, :2, :2], None, [1, 1, 1],
                                                             [0], [1], False, [0], 1), RuntimeError),
    "convolution_unbatched": (lambda L, x: L.convolution(x, x[:, None, :2], None, [1], [0], [1], False, [0], 1),
                              RuntimeError),
    "convolution_2d_weight": (lambda L, x: L.convolution(x[None], x, None, [1], [0], [1], False, [0], 1),
                              RuntimeError),
    "embedding_padding_none": (lambda L, x: L.embedding(x, T(L, [0]), None), TypeError),
    "embedding_bag_mode": (lambda L, x: L.embedding_bag(x, T(L, [0, 1]), T(L, [0]), False, 3), RuntimeError),
    "embedding_bag_no_offsets": (lambda L, x: L.embedding_bag(x, T(L, [0, 1]), None), TypeError),
    "embedding_bag_weights_with_mean": (lambda L, x: L.embedding_bag(x, T(L, [0, 1]), T(L, [0]), False, 1, False,
                                                                     x[0, :2]), RuntimeError),
    "embedding_bag_padding_range": (lambda L, x: L.embedding_bag(x, T(L, [0, 1]), T(L, [0]), False, 1, False, None,
                                                                 False, 7), RuntimeError),
    "rsub_bool": (lambda L, x: L.rsub(x > 0, 1), RuntimeError),
    "rsub_bools": (lambda L, x: L.rsub(x > 0, x > 1), RuntimeError),
    "rsub_integral_float_alpha": (lambda L, x: L.rsub(T(L, [1, 2]), 2, 1.5), RuntimeError),
    "rsub_bool_alpha": (lambda L, x: L.rsub(x, 2, True), RuntimeError),
    "rrelu_bounds_generator": (lambda L, x: L.rrelu(x, 0.5, 0.1, True, L.Generator()), RuntimeError),
    "pdist_negative_p": (lambda L, x: L.pdist(x, -1.0), RuntimeError),
    "channel_shuffle_groups": (lambda L, x: L.channel_shuffle(x[None], 2), RuntimeError),
    "kl_div_log_target_positional": (lambda L, x: L.kl_div(x, x, 1, True), TypeError),
    "dropout_inplace_leaf": (lambda L, x: L.dropout_(x.detach().requires_grad_(), 0.5, True), RuntimeError),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_as_torch(name):
    fn, exc = ERRORS[name]
    x = np.random.default_rng(4).standard_normal((3, 5))
    for L in (torch, mg):
        with pytest.raises(exc):
            fn(L, T(L, x))


@pytest.mark.parametrize("call, exc, words", [
    # torch returns the unreduced loss for an unknown int: an error here
    (lambda x: mg.kl_div(x, x, 5), ValueError, "reduction must be 0"),
    # torch reads memory it never wrote for an unknown mode: an error here
    (lambda x: mg.grid_sampler(x[None, None], T(mg, GRID), 3, 0, False), ValueError, "interpolation_mode"),
    (lambda x: mg.grid_sampler(x[None, None], T(mg, GRID), 0, 3, False), ValueError, "padding_mode"),
    # torch crashes here
    (lambda x: mg.native_batch_norm(x, None, None, None, None, False, 0.1, 1e-5), RuntimeError, "evaluation"),
    # no sparse gradients
    (lambda x: mg.embedding(x, T(mg, [0]), -1, False, True), NotImplementedError, "sparse"),
    (lambda x: mg.embedding_bag(x, T(mg, [0, 1]), T(mg, [0]), False, 0, True), NotImplementedError, "sparse"),
    (lambda x: mg.embedding_bag(x, T(mg, [[0, 1]]), T(mg, [0])), ValueError, "1-D indices"),
    (lambda x: mg.convolution(x[None, None, None, None], x[None, None, None, None], None, [1], [0], [1], False, [0],
                              1), NotImplementedError, "4-d convolution"),
])
def test_errors_where_torch_gives_no_error_or_a_wrong_answer(call, exc, words):
    x = mg.tensor(np.random.default_rng(4).standard_normal((3, 5)))
    with pytest.raises(exc, match=words):
        call(x)


# --- grid_sampler: every int mode against grid_sample's string modes and torch ------------------------------
@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("interpolation", [0, 1, 2])
def test_grid_sampler_int_modes(interpolation, padding, align):
    def fn(L, x, g):
        return L.grid_sampler(x, g, interpolation, padding, align)
    check_op(lambda x, g: fn(mg, x, g), (1, 2, 4, 5), GRID, torch_fn=_torch_side(fn), second=False)
    x = mg.tensor(np.random.default_rng(5).standard_normal((1, 2, 4, 5)))
    modes = (("bilinear", "nearest", "bicubic")[interpolation], ("zeros", "border", "reflection")[padding])
    want = mg.nn.functional.grid_sample(x, T(mg, GRID), *modes, align_corners=align)
    np.testing.assert_array_equal(fn(mg, x, T(mg, GRID)).array, want.array)


# --- the random ones: structure and statistics ----------------------------------------------------------------
LIBS = [mg] + ([torch] if torch is not None else [])


def _draw(L, shape, seed=0):
    L.manual_seed(seed)  # the masks too: torch's as matgrad's
    return T(L, np.random.default_rng(seed).standard_normal(shape))


@pytest.mark.parametrize("L", LIBS, ids=lambda L: L.__name__)
def test_dropout_zeroes_a_share_p_and_scales_the_rest(L):
    p = 0.3
    x = _draw(L, (200, 100)).requires_grad_()
    y = L.dropout(x, p, True)
    ya, xa = _np(L, y), _np(L, x)
    kept = ya != 0
    assert abs(1 - kept.mean() - p) < 0.02  # 20000 draws: sd of the share 0.0032
    np.testing.assert_allclose(ya[kept], xa[kept] / (1 - p), rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(_np(L, x.grad), kept / (1 - p), rtol=1e-12)
    np.testing.assert_array_equal(_np(L, L.dropout(x, p, False)), xa)
    assert not _np(L, L.dropout(x, 1.0, True)).any()


def _np(L, t):
    return t.detach().numpy() if L is torch else np.asarray(t.detach().array)


ALPHA = 1.7580993408473766  # -SELU's saturation value


@pytest.mark.parametrize("L", LIBS, ids=lambda L: L.__name__)
def test_alpha_dropout_keeps_zero_mean_unit_variance(L):
    p = 0.2
    x = _draw(L, (400, 250), seed=1)
    y = _np(L, L.alpha_dropout(x, p, True))
    a = ((1 - p) * (1 + p * ALPHA ** 2)) ** -0.5
    dropped_value = -ALPHA * a * (1 - p)
    dropped = np.isclose(y, dropped_value, rtol=0, atol=1e-12)
    assert abs(dropped.mean() - p) < 0.01  # 100000 draws: sd 0.0013
    np.testing.assert_allclose(y[~dropped], a * _np(L, x)[~dropped] + ALPHA * a * p, rtol=1e-12)
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    np.testing.assert_array_equal(_np(L, L.alpha_dropout(x, p, False)), _np(L, x))


@pytest.mark.parametrize("L", LIBS, ids=lambda L: L.__name__)
def test_feature_dropouts_drop_whole_channels(L):
    p = 0.4
    x = _draw(L, (50, 40, 6), seed=2)
    xa = _np(L, x)
    y = _np(L, L.feature_dropout(x, p, True))
    zero = (y == 0).all(axis=2)
    assert abs(zero.mean() - p) < 0.04  # 2000 channels: sd 0.011
    np.testing.assert_allclose(y[~zero], xa[~zero] / (1 - p), rtol=1e-12)
    y2 = _np(L, L.feature_dropout(x[:, :, 0], p, True))  # 2-D: one draw per element of (N, C)
    np.testing.assert_allclose(y2[y2 != 0], xa[:, :, 0][y2 != 0] / (1 - p), rtol=1e-12)
    a = ((1 - p) * (1 + p * ALPHA ** 2)) ** -0.5
    z = _np(L, L.feature_alpha_dropout(x, p, True))
    dropped = np.isclose(z, -ALPHA * a * (1 - p), rtol=0, atol=1e-12).all(axis=2)
    assert abs(dropped.mean() - p) < 0.04
    np.testing.assert_allclose(z[~dropped], a * xa[~dropped] + ALPHA * a * p, rtol=1e-12)
    for f in (L.feature_dropout, L.feature_alpha_dropout):
        np.testing.assert_array_equal(_np(L, f(x, p, False)), xa)
        np.testing.assert_array_equal(_np(L, f(x[0, 0], p, False)), xa[0, 0])  # 1-D is fine when not training


@pytest.mark.parametrize("name", ["dropout_", "alpha_dropout_", "feature_dropout_", "feature_alpha_dropout_"])
@pytest.mark.parametrize("L", LIBS, ids=lambda L: L.__name__)
def test_inplace_dropouts_change_their_input(L, name):
    x = _draw(L, (30, 20, 4), seed=3)
    before = _np(L, x).copy()
    assert getattr(L, name)(x, 0.5, False) is x
    np.testing.assert_array_equal(_np(L, x), before)
    out = getattr(L, name)(x, 0.5, True)
    assert out is x
    assert not np.array_equal(_np(L, x), before)
    leaf = _draw(L, (3, 4)).requires_grad_()
    mid = leaf * 1.0
    getattr(L, name)(mid, 0.5, True).sum().backward()  # through the in-place change to the leaf
    g = _np(L, leaf.grad)
    if name == "dropout_":
        np.testing.assert_allclose(g, (_np(L, mid) != 0) * 2.0, rtol=1e-12)
    assert np.isfinite(g).all()


@pytest.mark.parametrize("L", LIBS, ids=lambda L: L.__name__)
def test_rrelu_training_draws_slopes_between_lower_and_upper(L):
    lower, upper = 0.1, 0.4
    x = _draw(L, (200, 100), seed=4).requires_grad_()
    y = L.rrelu(x, lower, upper, True)
    xa, ya = _np(L, x), _np(L, y)
    pos = xa > 0
    np.testing.assert_array_equal(ya[pos], xa[pos])
    slope = ya[~pos] / xa[~pos]
    assert slope.min() >= lower and slope.max() <= upper
    assert abs(slope.mean() - (lower + upper) / 2) < 0.005  # ~10000 draws of U(0.1, 0.4): sd 0.0009
    y.sum().backward()
    np.testing.assert_allclose(_np(L, x.grad), np.where(pos, 1.0, ya / np.where(pos, 1.0, xa)), rtol=1e-10)


def test_rrelu_generator_reproduces_its_draws():
    x = _draw(mg, (50, 20), seed=5)
    a = mg.rrelu(x, 0.1, 0.3, True, mg.Generator().manual_seed(11))
    b = mg.rrelu(x, 0.1, 0.3, True, mg.Generator().manual_seed(11))
    np.testing.assert_array_equal(a.array, b.array)
    g = mg.Generator().manual_seed(11)
    first, second = mg.rrelu(x, 0.1, 0.3, True, g), mg.rrelu(x, 0.1, 0.3, True, g)
    assert not np.array_equal(first.array, second.array)  # the stream moves on
    y = x.clone()
    assert mg.rrelu_(y, 0.1, 0.3, True, mg.Generator().manual_seed(11)) is y
    np.testing.assert_array_equal(y.array, a.array)
    np.testing.assert_array_equal(mg.rrelu(x, 0.1, 0.3, False, g).array, mg.rrelu(x, 0.1, 0.3).array)


# --- the deterministic in-place variants against torch --------------------------------------------------------
INPLACE = {
    "celu_": lambda L, y: L.celu_(y, 0.5),
    "selu_": lambda L, y: L.selu_(y),
    "threshold_": lambda L, y: L.threshold_(y, 0.2, -1.0),
    "rrelu_": lambda L, y: L.rrelu_(y, 0.1, 0.3),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_variants_against_torch(name):
    x = np.random.default_rng(6).standard_normal((3, 4))
    res = {}
    for L in (mg, torch):
        leaf = T(L, x).requires_grad_()
        y = leaf * 2.0
        out = INPLACE[name](L, y)
        assert out is y
        (out * T(L, x)).sum().backward()
        res[L] = (_np(L, y), _np(L, leaf.grad))
    for got, want in zip(res[mg], res[torch]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# --- running statistics, as torch updates them ------------------------------------------------------------
@needs_torch
def test_running_statistics_are_updated_as_torch():
    x = np.random.default_rng(8).standard_normal((4, 3, 5))
    out = {}
    for L in (mg, torch):
        stats = [T(L, RUN_MEAN.copy()), T(L, RUN_VAR.copy()), T(L, RUN_MEAN.copy()), T(L, RUN_VAR.copy()),
                 T(L, RUN_MEAN.copy()), T(L, RUN_VAR.copy())]
        L.batch_norm(T(L, x), None, None, stats[0], stats[1], True, 0.2, 1e-5, False)
        L.instance_norm(T(L, x), None, None, stats[2], stats[3], True, 0.3, 1e-5, False)
        L.native_batch_norm(T(L, x), None, None, stats[4], stats[5], True, 0.1, 1e-5)
        out[L] = [_np(L, s) for s in stats]
    for got, want in zip(out[mg], out[torch]):
        np.testing.assert_allclose(got, want, rtol=1e-12)


@needs_torch
def test_native_norms_statistics_shapes_and_dtypes():
    x = np.random.default_rng(9).standard_normal((2, 3, 4)).astype(np.float32)
    for dt in (np.float32, np.float64):
        got = mg.native_layer_norm(T(mg, x.astype(dt)), [4], None, None, 1e-5)
        want = torch.native_layer_norm(T(torch, x.astype(dt)), [4], None, None, 1e-5)
        for g, w in zip(got, want):
            assert tuple(g.shape) == tuple(w.shape) and str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
            assert_close(g.array, w.numpy(), rtol=1e-5)
        stats = RUN_MEAN.astype(dt), RUN_VAR.astype(dt)
        got = mg.native_batch_norm(T(mg, x.astype(dt)), None, None, *[T(mg, s) for s in stats], False, 0.1, 1e-5)
        want = torch.native_batch_norm(T(torch, x.astype(dt)), None, None, *[T(torch, s) for s in stats], False,
                                       0.1, 1e-5)
        for g, w in zip(got[1:], want[1:]):
            assert tuple(g.shape) == tuple(w.shape) == (0,)
            assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
    y, mean, rstd = mg.native_layer_norm(T(mg, x.astype(np.float64)).requires_grad_(), [4], None, None, 1e-5)
    assert y.requires_grad and not mean.requires_grad and not rstd.requires_grad


@needs_torch
def test_embedding_bag_outputs_dtypes_follow_the_indices():
    w = np.random.default_rng(10).standard_normal((5, 3))
    for it, ot in ((np.int32, np.int32), (np.int32, np.int64), (np.int64, np.int64)):
        got = mg.embedding_bag(T(mg, w), T(mg, IDX.astype(it)), T(mg, OFFSETS.astype(ot)), False, 2)
        want = torch.embedding_bag(T(torch, w), T(torch, IDX.astype(it)), T(torch, OFFSETS.astype(ot)), False, 2)
        for g, t in zip(got[1:], want[1:]):
            assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
            np.testing.assert_array_equal(g.array, t.numpy())


def test_embedding_negative_padding_idx_means_none_and_padding_row_gets_no_gradient():
    w = mg.tensor(np.random.default_rng(11).standard_normal((5, 3)), requires_grad=True)
    mg.embedding(w, T(mg, IDX), -1).sum().backward()
    np.testing.assert_array_equal(w.grad[:, 0], np.bincount(IDX, minlength=5))
    w.grad = None
    mg.embedding(w, T(mg, IDX), 4).sum().backward()
    np.testing.assert_array_equal(w.grad[:, 0], np.bincount(IDX, minlength=5) * (np.arange(5) != 4))
    w.grad = None
    mg.embedding(w, T(mg, IDX), 9).sum().backward()  # past the table: no index equals it
    np.testing.assert_array_equal(w.grad[:, 0], np.bincount(IDX, minlength=5))


@needs_torch
def test_native_channel_shuffle_values_are_torchs():
    x = np.random.default_rng(12).standard_normal((2, 6, 3))
    np.testing.assert_array_equal(mg.native_channel_shuffle(T(mg, x), 3).array,
                                  torch.native_channel_shuffle(T(torch, x), 3).numpy())


def test_functions_with_torchs_signature_are_nn_functionals_own():
    F = mg.nn.functional
    for name in ("conv1d", "conv2d", "conv3d", "conv_transpose2d", "bilinear", "pdist", "pixel_shuffle",
                 "cosine_similarity", "pairwise_distance", "channel_shuffle", "adaptive_avg_pool1d"):
        assert getattr(mg, name) is getattr(F, name)
    assert mg.native_channel_shuffle is F.channel_shuffle


# --- nn.DataParallel ----------------------------------------------------------------------------------------------
def _model(L):
    L.manual_seed(0)
    return L.nn.Sequential(L.nn.Linear(4, 3), L.nn.ReLU(), L.nn.BatchNorm1d(3))


class _Kw(mg.nn.Module):
    def forward(self, x, *, scale=1.0):
        return x * scale


def test_data_parallel_without_a_gpu_is_the_wrapped_module():
    inner = _model(mg)
    dp = mg.nn.DataParallel(inner)
    assert dp.module is inner and dp.device_ids == []
    assert list(dp.state_dict()) == ["module." + k for k in inner.state_dict()]
    x = mg.randn(5, 4)
    np.testing.assert_array_equal(dp(x).array, inner(x).array)
    assert [p is q for p, q in zip(dp.parameters(), inner.parameters())] == [True] * 4
    np.testing.assert_array_equal(mg.nn.DataParallel(_Kw())(x, scale=2.0).array, (x * 2.0).array)
    dp.eval()
    assert not inner.training
    fresh = mg.nn.DataParallel(_model(mg))
    fresh.load_state_dict(dp.state_dict())


@needs_torch
def test_data_parallel_state_dict_keys_are_torchs():
    got = list(mg.nn.DataParallel(_model(mg)).state_dict())
    want = list(torch.nn.DataParallel(_model(torch)).state_dict())
    assert got == want


def test_data_parallel_on_one_gpu_moves_module_and_inputs(cuda):
    inner = _model(mg)
    dp = mg.nn.DataParallel(inner)
    assert dp.device_ids == [0] and dp.output_device == 0
    assert all(p.device == cuda for p in inner.parameters())
    x = mg.randn(5, 4)
    y = dp(x)
    assert y.device == cuda
    np.testing.assert_allclose(y.cpu().array, inner.cpu()(x).array, rtol=1e-6)
    with pytest.raises(RuntimeError, match="device_ids\\[0\\]"):
        dp(x)  # the module was moved back to the CPU above
    with pytest.raises(NotImplementedError, match="several GPUs"):
        mg.nn.DataParallel(_model(mg), device_ids=[0, 1])


def test_embedding_bag_scale_grad_by_freq_reaches_the_functional():
    """torch.embedding_bag(..., scale_grad_by_freq=True): each row's gradient divided by its count in the batch,
    as F.embedding_bag computes it (torch's CPU embedding_bag kernel miscounts unevenly repeated indices)."""
    w = mg.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    out = mg.embedding_bag(w, T(mg, [0, 2, 0, 1, 0]), T(mg, [0, 2]), True, 0)[0]
    out.sum().backward()
    # row 0 appears 3 times (gradient 3 ones / 3), rows 1 and 2 once, row 3 never
    np.testing.assert_allclose(w.grad.numpy(), [[1, 1, 1], [1, 1, 1], [1, 1, 1], [0, 0, 0]])
