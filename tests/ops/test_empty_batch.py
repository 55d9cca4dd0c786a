"""An empty batch (a leading dim of 0) and other zero-size inputs through the layers and ops of a training step,
as PyTorch 2.13: forward and backward run, the shapes and the gradients (zeros, or NaN where PyTorch's are) are
PyTorch's, and where PyTorch refuses a zero size matgrad raises the same exception type.

Each case builds its inputs and modules through a `Case` for one library (matgrad, or torch when installed) so
one lambda runs on both. Without torch only matgrad's side is checked (it runs, gradients have their inputs'
shapes, parameters get zero gradients).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg
from matgrad.ops.reduction import EmptyDimError, EmptyInputError
from tests.helpers import torch


class Case:
    """What a case builds with: the library, its leaves and its modules (to read their gradients back)."""

    def __init__(self, lib):
        self.lib, self.nn, self.F = lib, lib.nn, lib.nn.functional
        self.leaves, self.modules = [], []

    def x(self, *shape, grad=True):
        """A float32 input of this shape (ones: only shapes and gradients are compared)."""
        t = self.lib.ones(*shape)
        if grad:
            t.requires_grad_(True)
            self.leaves.append(t)
        return t

    def i(self, *shape):
        """An int64 index tensor of zeros."""
        return self.lib.zeros(*shape, dtype=self.lib.int64)

    def m(self, mod):
        self.modules.append(mod)
        return mod


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out] if hasattr(out, "shape") and hasattr(out, "requires_grad") else []


def _numpy(t):
    return None if t is None else np.asarray(t.detach().numpy(), dtype=np.float64)


def _run(lib, build):
    """Forward, then backward of the sum of the outputs that need a gradient: shapes, values, gradients."""
    c = Case(lib)
    with warnings.catch_warnings():  # (an empty mean warns in NumPy, not in PyTorch)
        warnings.simplefilter("ignore")
        outs = _flat(build(c))
        diff = [o for o in outs if o.requires_grad]
        if diff:
            total = diff[0].sum()
            for o in diff[1:]:
                total = total + o.sum()
            total.backward()
    params = {f"{k}.{n}": p for k, mod in enumerate(c.modules) for n, p in mod.named_parameters()}
    return {
        "shapes": [tuple(o.shape) for o in outs],
        "values": [_numpy(o) for o in outs],
        "requires_grad": [o.requires_grad for o in outs],
        "leaf_grads": [_numpy(x.grad) for x in c.leaves],
        "leaf_shapes": [tuple(x.shape) for x in c.leaves],
        "param_grads": {k: _numpy(p.grad) for k, p in params.items()},
        "param_shapes": {k: tuple(p.shape) for k, p in params.items()},
    }


def _check_like_torch(build):
    got = _run(mg, build)
    for g, shape in zip(got["leaf_grads"], got["leaf_shapes"]):
        assert g is None or g.shape == shape
    for k, g in got["param_grads"].items():
        assert g is None or g.shape == got["param_shapes"][k]
    if torch is None:
        return got
    want = _run(torch, build)
    assert got["shapes"] == want["shapes"]
    assert got["requires_grad"] == want["requires_grad"]
    for a, b in zip(got["values"], want["values"]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg="forward differs from torch")
    for a, b in zip(got["leaf_grads"], want["leaf_grads"]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg="input gradient differs from torch")
    assert set(got["param_grads"]) == set(want["param_grads"])
    for k, b in want["param_grads"].items():
        a = got["param_grads"][k]
        if b is None:  # PyTorch leaves .grad None where nothing flowed; zeros are the same answer
            assert a is None or not a.any(), k
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=f"gradient of {k} differs from torch")
    return got


B = 0
# cases that crashed or differed before (the fix is named) and a representative set that already worked
RUNS = {
    # fixed: numpy reshapes with -1 that cannot infer a size beside a 0 (ops/pooling.py, ops/pooling3d.py)
    "adaptive_max_pool2d": lambda c: c.nn.AdaptiveMaxPool2d((2, 3))(c.x(B, 3, 5, 7)),
    "adaptive_max_pool2d_indices": lambda c: c.nn.AdaptiveMaxPool2d(2, return_indices=True)(c.x(B, 3, 5, 7)),
    "adaptive_max_pool1d": lambda c: c.nn.AdaptiveMaxPool1d(2)(c.x(B, 3, 5)),
    "adaptive_max_pool3d": lambda c: c.nn.AdaptiveMaxPool3d(2)(c.x(B, 3, 4, 4, 4)),
    "adaptive_max_pool2d_unbatched_no_channels": lambda c: c.F.adaptive_max_pool2d(c.x(0, 5, 5), 2),
    # fixed: group_norm's reshape(n, groups, -1) (nn/functional.py)
    "group_norm_module": lambda c: c.m(c.nn.GroupNorm(2, 4))(c.x(B, 4, 3, 3)),
    "group_norm_no_affine": lambda c: c.F.group_norm(c.x(B, 4, 3), 2),
    "group_norm_2d": lambda c: c.F.group_norm(c.x(B, 4), 2, c.x(4), c.x(4)),
    # fixed: grid_sample's reshapes (ops/grid_sample.py)
    "grid_sample": lambda c: c.F.grid_sample(c.x(B, 3, 4, 4), c.x(B, 2, 2, 2), align_corners=False),
    # fixed: instance_norm refused no spatial element at all; PyTorch refuses exactly one (nn/functional.py)
    "instance_norm_no_spatial": lambda c: c.F.instance_norm(c.x(2, 3, 0)),
    # fixed: the median of no elements is NaN with a gradient (ops/sort.py)
    "median_empty": lambda c: c.x(B, 4).median(),
    "nanmedian_empty": lambda c: c.x(B, 4).nanmedian(),
    # already worked
    "linear": lambda c: c.m(c.nn.Linear(4, 3))(c.x(B, 4)),
    "linear_no_in_features": lambda c: c.m(c.nn.Linear(0, 3))(c.x(2, 0)),
    "bilinear": lambda c: c.m(c.nn.Bilinear(4, 5, 3))(c.x(B, 4), c.x(B, 5)),
    "conv1d": lambda c: c.m(c.nn.Conv1d(3, 4, 3, padding=1))(c.x(B, 3, 7)),
    "conv2d": lambda c: c.m(c.nn.Conv2d(4, 4, 3, stride=2, groups=2))(c.x(B, 4, 7, 7)),
    "conv_transpose2d": lambda c: c.m(c.nn.ConvTranspose2d(3, 4, 3, stride=2))(c.x(B, 3, 5, 5)),
    "conv3d": lambda c: c.m(c.nn.Conv3d(3, 4, 3, padding=1))(c.x(B, 3, 4, 4, 4)),
    "max_pool2d": lambda c: c.nn.MaxPool2d(2)(c.x(B, 3, 6, 6)),
    "max_pool2d_indices": lambda c: c.nn.MaxPool2d(2, return_indices=True)(c.x(B, 3, 6, 6)),
    "avg_pool1d": lambda c: c.nn.AvgPool1d(2)(c.x(B, 3, 6)),
    "max_pool3d": lambda c: c.nn.MaxPool3d(2)(c.x(B, 3, 4, 4, 4)),
    "adaptive_avg_pool2d": lambda c: c.nn.AdaptiveAvgPool2d((2, 3))(c.x(B, 3, 5, 7)),
    "batch_norm2d_train": lambda c: c.m(c.nn.BatchNorm2d(3))(c.x(B, 3, 4, 4)),
    "batch_norm1d_eval": lambda c: c.m(c.nn.BatchNorm1d(3).eval())(c.x(B, 3)),
    "layer_norm": lambda c: c.m(c.nn.LayerNorm(4))(c.x(B, 4)),
    "instance_norm2d": lambda c: c.m(c.nn.InstanceNorm2d(3))(c.x(B, 3, 4, 4)),
    "dropout": lambda c: c.nn.Dropout(0.5)(c.x(B, 4)),
    "embedding": lambda c: c.m(c.nn.Embedding(10, 3))(c.i(B, 5)),
    "embedding_bag": lambda c: c.m(c.nn.EmbeddingBag(10, 3))(c.i(0), c.i(0)),
    "lstm_batch_first": lambda c: c.m(c.nn.LSTM(4, 3, batch_first=True))(c.x(B, 5, 4)),
    "gru_time_major_bidirectional": lambda c: c.m(c.nn.GRU(4, 3, 2, bidirectional=True))(c.x(5, B, 4)),
    "multihead_attention": lambda c: c.m(c.nn.MultiheadAttention(8, 2, batch_first=True))(
        c.x(B, 5, 8), c.x(B, 5, 8), c.x(B, 5, 8)),
    "transformer_encoder_layer": lambda c: c.m(c.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0))(c.x(5, B, 8)),
    "flatten_unflatten": lambda c: c.nn.Unflatten(1, (3, 4))(c.nn.Flatten()(c.x(B, 3, 4))),
    "upsample_bilinear": lambda c: c.nn.Upsample(scale_factor=2, mode="bilinear")(c.x(B, 3, 4, 4)),
    "pixel_shuffle_forward": lambda c: c.nn.PixelShuffle(2)(c.x(B, 8, 3, 3, grad=False)),
    "cross_entropy_mean_is_nan": lambda c: c.nn.CrossEntropyLoss()(c.x(B, 4), c.i(B)),
    "cross_entropy_sum": lambda c: c.nn.CrossEntropyLoss(reduction="sum")(c.x(B, 4), c.i(B)),
    "cross_entropy_none": lambda c: c.nn.CrossEntropyLoss(reduction="none")(c.x(B, 4, 3), c.i(B, 3)),
    "nll_loss_mean": lambda c: c.nn.NLLLoss()(c.x(B, 4), c.i(B)),
    "bce_with_logits_mean": lambda c: c.nn.BCEWithLogitsLoss()(c.x(B, 3), c.x(B, 3, grad=False)),
    "mse_mean": lambda c: c.nn.MSELoss()(c.x(B, 3), c.x(B, 3)),
    "smooth_l1_sum": lambda c: c.nn.SmoothL1Loss(reduction="sum")(c.x(B, 3), c.x(B, 3)),
    "kl_div_batchmean": lambda c: c.nn.KLDivLoss(reduction="batchmean")(c.x(B, 3), c.x(B, 3)),
    "log_softmax": lambda c: c.F.log_softmax(c.x(B, 4), dim=1),
    "cat_split_chunk": lambda c: [*c.lib.cat([c.x(B, 4), c.x(B, 4)]).split(2, dim=1), *c.x(B, 4).chunk(3)],
    "stack": lambda c: c.lib.stack([c.x(B, 4), c.x(B, 4)], dim=1),
    "sum_mean": lambda c: [c.x(B, 4).sum(), c.x(B, 4).mean(0), c.x(B, 4).mean()],
    "max_over_a_full_dim": lambda c: c.x(B, 4).max(1),
    "matmul_bmm_einsum": lambda c: [c.x(0, 3) @ c.x(3, 4), c.lib.bmm(c.x(2, 2, 0), c.x(2, 0, 4)),
                                    c.lib.einsum("bij,bjk->bik", c.x(0, 2, 3), c.x(0, 3, 4))],
    "sort_topk_cumsum_cumprod": lambda c: [c.lib.sort(c.x(B, 4), dim=0), c.lib.topk(c.x(B, 4), 2, dim=1),
                                           c.lib.cumsum(c.x(B, 4), 0), c.lib.cumprod(c.x(B), 0)],
}


@pytest.mark.parametrize("build", list(RUNS.values()), ids=list(RUNS))
def test_empty_input_runs_as_torch(build):
    _check_like_torch(build)


def test_group_norm_of_an_empty_batch_gives_zero_parameter_gradients():
    got = _run(mg, RUNS["group_norm_module"])
    assert got["shapes"] == [(0, 4, 3, 3)]
    np.testing.assert_array_equal(got["param_grads"]["0.weight"], np.zeros(4))
    np.testing.assert_array_equal(got["param_grads"]["0.bias"], np.zeros(4))


def test_median_of_nothing_is_nan_and_differentiable():
    x = mg.zeros(0, 4, requires_grad=True)
    y = x.median()
    assert np.isnan(y.item()) and y.requires_grad
    y.backward()
    assert x.grad.shape == (0, 4)


def _dataloader_lengths(L):
    ds = L.utils.data.TensorDataset(L.zeros(0, 3), L.zeros(0, dtype=L.int64))
    loader = L.utils.data.DataLoader(ds, batch_size=4)
    return len(ds), len(loader), len(list(loader)), len(list(L.utils.data.DataLoader(ds, batch_size=4,
                                                                                      drop_last=True)))


def test_dataloader_of_an_empty_dataset_has_no_batches():
    assert _dataloader_lengths(mg) == (0, 0, 0, 0)
    if torch is not None:
        assert _dataloader_lengths(torch) == (0, 0, 0, 0)


# (call, PyTorch's exception type): each fixed here unless marked
ERRORS = {
    # reductions with no identity over no elements (ops/reduction.py, ops/sort.py, linalg.py)
    "max_no_dim": (lambda L: L.zeros(0, 4).max(), RuntimeError),
    "min_no_dim": (lambda L: L.zeros(0, 4).min(), RuntimeError),
    "amax_no_dim": (lambda L: L.zeros(0, 4).amax(), RuntimeError),
    "amin_no_dim": (lambda L: L.zeros(0, 4).amin(), RuntimeError),
    "max_empty_dim": (lambda L: L.zeros(0, 4).max(0), IndexError),
    "min_empty_dim": (lambda L: L.zeros(0, 4).min(dim=0), IndexError),
    "amax_empty_dim": (lambda L: L.zeros(0, 4).amax(0), IndexError),
    "amin_dims_with_an_empty_one": (lambda L: L.zeros(0, 4).amin((0, 1)), IndexError),
    "argmax_no_dim": (lambda L: L.zeros(0, 4).argmax(), IndexError),
    "argmin_no_dim": (lambda L: L.zeros(0, 4).argmin(), IndexError),
    "argmax_empty_dim": (lambda L: L.zeros(0, 4).argmax(0), IndexError),
    "argmin_empty_last_dim": (lambda L: L.zeros(2, 0).argmin(1), IndexError),
    "aminmax_empty_dim": (lambda L: L.aminmax(L.zeros(0, 4), dim=0), IndexError),
    "kthvalue_empty_dim": (lambda L: L.zeros(0, 4).kthvalue(1, 0), IndexError),
    "vector_norm_inf": (lambda L: L.linalg.vector_norm(L.zeros(0, 4), ord=float("inf")), RuntimeError),
    "vector_norm_minus_inf_empty_dim": (lambda L: L.linalg.vector_norm(L.zeros(0, 4), ord=float("-inf"), dim=0),
                                        RuntimeError),
    "norm_p_inf": (lambda L: L.zeros(0, 4).norm(p=float("inf")), RuntimeError),
    # pooling and resizing an empty plane (ops/pooling.py, ops/resample.py)
    "max_pool1d_no_length": (lambda L: L.nn.functional.max_pool1d(L.zeros(2, 3, 0), 2), RuntimeError),
    "max_pool2d_no_channels": (lambda L: L.nn.functional.max_pool2d(L.zeros(2, 0, 4, 4), 2), RuntimeError),
    "avg_pool2d_no_height": (lambda L: L.nn.functional.avg_pool2d(L.zeros(2, 3, 0, 4), 2), RuntimeError),
    "adaptive_avg_pool1d_no_length": (lambda L: L.nn.functional.adaptive_avg_pool1d(L.zeros(2, 3, 0), 2),
                                      RuntimeError),
    "adaptive_max_pool1d_no_length": (lambda L: L.nn.functional.adaptive_max_pool1d(L.zeros(2, 3, 0), 2),
                                      RuntimeError),
    "adaptive_max_pool2d_no_channels": (lambda L: L.nn.functional.adaptive_max_pool2d(L.zeros(2, 0, 5, 5), 2),
                                        RuntimeError),
    "adaptive_max_pool3d_no_depth": (lambda L: L.nn.functional.adaptive_max_pool3d(L.zeros(2, 3, 0, 4, 4), 2),
                                     RuntimeError),
    "interpolate_no_height": (lambda L: L.nn.functional.interpolate(L.zeros(2, 3, 0, 4), size=(2, 2)),
                              RuntimeError),
    "interpolate_to_no_height": (lambda L: L.nn.functional.interpolate(L.zeros(2, 3, 4, 4), size=(0, 2)),
                                 RuntimeError),
    # PyTorch's own checks for zero sizes (nn/rnn.py, nn/functional.py, nn/utils/rnn.py, ops/ctc.py)
    "lstm_no_time_steps": (lambda L: L.nn.LSTM(4, 3, batch_first=True)(L.zeros(2, 0, 4)), RuntimeError),
    "gru_unbatched_no_time_steps": (lambda L: L.nn.GRU(4, 3)(L.zeros(0, 4)), RuntimeError),
    "rnn_no_time_steps": (lambda L: L.nn.RNN(4, 3)(L.zeros(0, 2, 4)), RuntimeError),
    "one_hot_classes_of_nothing": (lambda L: L.nn.functional.one_hot(L.zeros(0, dtype=L.int64)), RuntimeError),
    "pack_padded_sequence_empty_batch": (lambda L: L.nn.utils.rnn.pack_padded_sequence(
        L.zeros(0, 5, 4), L.zeros(0, dtype=L.int64), batch_first=True), RuntimeError),
    "ctc_loss_empty_batch": (lambda L: L.nn.CTCLoss()(L.zeros(5, 0, 4), L.zeros(0, 2, dtype=L.int64),
                                                      L.zeros(0, dtype=L.int64), L.zeros(0, dtype=L.int64)),
                             RuntimeError),
    "ctc_loss_no_time_steps": (lambda L: L.nn.CTCLoss()(L.zeros(0, 2, 4), L.zeros(2, 2, dtype=L.int64),
                                                        L.zeros(2, dtype=L.int64), L.zeros(2, dtype=L.int64)),
                               RuntimeError),
    # already PyTorch's
    "topk_more_than_there_are": (lambda L: L.topk(L.zeros(0), 1), RuntimeError),
    "cross_entropy_no_classes": (lambda L: L.nn.functional.cross_entropy(L.zeros(2, 0), L.zeros(2, dtype=L.int64)),
                                 IndexError),
    "batch_norm_one_value_per_channel": (lambda L: L.nn.BatchNorm1d(3)(L.zeros(1, 3)), ValueError),
    "stack_nothing": (lambda L: L.stack([]), RuntimeError),
    "reshape_minus_one_beside_a_zero": (lambda L: L.zeros(0, 6).reshape(0, -1), RuntimeError),
}


@pytest.mark.parametrize("call, exc", list(ERRORS.values()), ids=list(ERRORS))
def test_zero_sizes_refused_as_torch(call, exc):
    with pytest.raises(exc):
        call(mg)
    if torch is not None:
        with pytest.raises(exc):
            call(torch)


@pytest.mark.parametrize("call", [lambda: mg.zeros(0, 4).max(), lambda: mg.zeros(0, 4).max(0),
                                  lambda: mg.zeros(0, 4).amin(0), lambda: mg.zeros(0, 4).argmax(),
                                  lambda: mg.linalg.vector_norm(mg.zeros(0), ord=float("inf")),
                                  lambda: mg.nn.functional.max_pool1d(mg.zeros(2, 3, 0), 2)],
                         ids=["max", "max_dim", "amin_dim", "argmax", "vector_norm_inf", "max_pool1d"])
def test_the_new_error_types_are_still_value_errors(call):
    # matgrad raised ValueError for these before: code that catches it keeps working
    with pytest.raises(ValueError, match="0"):
        call()


def test_the_errors_say_what_is_wrong():
    with pytest.raises(EmptyDimError, match=r"reduction dim 0 to have non-zero size.*\(0, 4\)"):
        mg.zeros(0, 4).max(0)
    with pytest.raises(EmptyInputError, match=r"specify the reduction dim"):
        mg.zeros(0, 4).amax()
    with pytest.raises(RuntimeError, match=r"only the batch dim may be 0"):
        mg.nn.functional.adaptive_max_pool2d(mg.zeros(2, 0, 5, 5), 2)
    with pytest.raises(RuntimeError, match=r"sequence length to be larger than 0.*\(2, 0, 4\)"):
        mg.nn.LSTM(4, 3, batch_first=True)(mg.zeros(2, 0, 4))
