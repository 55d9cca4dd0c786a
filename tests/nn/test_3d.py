"""The 3-d layers (Conv3d, ConvTranspose3d, the 3-d poolings, BatchNorm3d) against PyTorch with the same weights,
and against values worked out by hand."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
import matgrad.nn.functional as F
from tests.helpers import assert_close, torch

MODULES = [
    "Conv3d(3, 4, 3)", "Conv3d(3, 4, (2, 3, 1), stride=(2, 1, 2), padding=(1, 0, 1), bias=False)",
    "Conv3d(4, 6, 2, dilation=(1, 2, 1), groups=2)", "Conv3d(3, 4, (2, 3, 3), padding='same')",
    "Conv3d(3, 4, 3, padding='valid')", "Conv3d(3, 2, 3, padding=1, padding_mode='reflect')",
    "Conv3d(3, 2, (3, 2, 3), padding=(1, 1, 2), padding_mode='circular')",
    "Conv3d(3, 2, 2, padding='same', padding_mode='replicate')",
    "ConvTranspose3d(3, 4, 3)", "ConvTranspose3d(3, 4, (2, 3, 2), stride=2, padding=1, output_padding=1)",
    "ConvTranspose3d(4, 2, 2, stride=(1, 2, 1), groups=2, dilation=(2, 1, 1), bias=False)",
    "MaxPool3d(2)", "MaxPool3d((3, 2, 2), (1, 2, 1), 1, dilation=(1, 1, 2))", "MaxPool3d(2, return_indices=True)",
    "AvgPool3d(2)", "AvgPool3d(3, 2, 1, count_include_pad=False)",
    "AvgPool3d((2, 3, 2), 1, (1, 1, 0), divisor_override=5)",
    "AdaptiveAvgPool3d(1)", "AdaptiveAvgPool3d((2, None, 3))", "AdaptiveMaxPool3d((3, 2, 2))",
    "LPPool3d(2, 2)", "LPPool3d(1.5, (2, 3, 2), stride=1)", "BatchNorm3d(3)", "BatchNorm3d(3, affine=False)",
    "BatchNorm3d(3, momentum=None, bias=False)",
]


def _build(expr, ns):
    return eval(expr, {}, {k: getattr(ns, k) for k in dir(ns) if k[0].isupper()})


def _input(expr, batched):
    c = 4 if expr.startswith(("Conv3d(4", "ConvTranspose3d(4")) else 3
    shape = (2, c, 4, 5, 6) if batched else (c, 4, 5, 6)
    x = np.random.default_rng(0).standard_normal(shape)
    return np.abs(x) + 0.5 if expr.startswith("LPPool3d(1.5") else x  # x^1.5 needs x > 0


@pytest.mark.skipif(torch is None, reason="PyTorch not installed")
@pytest.mark.parametrize("expr, train", [(e, True) for e in MODULES]
                         + [(e, False) for e in MODULES if e.startswith("BatchNorm")])  # eval: running statistics
def test_module_matches_torch(expr, train):
    """Output, input and parameter gradients in float32 (rtol 1e-5 of each value and of the array's scale),
    repr and state_dict keys, in training and in eval mode."""
    from tests.nn._compare import compare_modules

    ours, theirs = _build(expr, nn), _build(expr, torch.nn)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    compare_modules(ours, theirs, [_input(expr, True).astype(np.float32)], "float32", tol=1e-5, train=train)
    if expr.startswith("BatchNorm") and train and theirs.running_mean is not None:  # the updated running statistics
        assert_close(ours.running_mean.array, theirs.running_mean.numpy(), rtol=1e-5)
        assert_close(ours.running_var.array, theirs.running_var.numpy(), rtol=1e-5)
        assert int(ours.num_batches_tracked.array) == 1


@pytest.mark.skipif(torch is None, reason="PyTorch not installed")
@pytest.mark.parametrize("expr", [e for e in MODULES if not e.startswith("BatchNorm")][::3])
def test_unbatched_input_matches_torch(expr):
    from tests.nn._compare import compare_modules

    compare_modules(_build(expr, nn), _build(expr, torch.nn), [_input(expr, False)], "float64")


def test_conv3d_weight_shape_and_init():
    """PyTorch's default init: U(±1/√fan_in), fan_in = C_in/groups·kD·kH·kW (C_out/groups·... transposed)."""
    mg.manual_seed(0)
    m = nn.Conv3d(6, 4, (3, 2, 1), groups=2)
    assert m.weight.shape == (4, 3, 3, 2, 1) and m.bias.shape == (4,)
    bound = 1 / np.sqrt(3 * 3 * 2 * 1)
    assert np.abs(m.weight.array).max() <= bound and np.abs(m.bias.array).max() <= bound
    assert np.abs(m.weight.array).max() > bound / 2  # drawn, not zeros
    t = nn.ConvTranspose3d(4, 6, 2, groups=2)
    assert t.weight.shape == (4, 3, 2, 2, 2) and t.bias.shape == (6,)
    assert np.abs(t.weight.array).max() <= 1 / np.sqrt(3 * 8)


def test_values_by_hand():
    """x = 0..26 as a 3×3×3 cube: each 2×2×2 window's sum, mean and max, and the unpooled maximum."""
    x = mg.tensor(np.arange(27, dtype=np.float64).reshape(1, 1, 3, 3, 3))
    w = mg.ones(1, 1, 2, 2, 2, dtype=mg.float64)
    corner = [0, 1, 3, 4, 9, 10, 12, 13]  # the first window's flat indices: sum 52
    y = F.conv3d(x, w, mg.tensor([0.5], dtype=mg.float64))
    assert y.shape == (1, 1, 2, 2, 2)
    np.testing.assert_array_equal(y.array.ravel(), 52.5 + np.array([0, 1, 3, 4, 9, 10, 12, 13]) * 8)
    np.testing.assert_array_equal(F.avg_pool3d(x, 2, 1).array.ravel(), 6.5 + np.array(corner))
    np.testing.assert_allclose(F.adaptive_avg_pool3d(x, 1).array.ravel(), [13.0], rtol=1e-14)  # thirds: not exact
    y, idx = F.max_pool3d(x, 2, return_indices=True)
    assert y.array.ravel().tolist() == [13.0] and idx.array.ravel().tolist() == [13]
    up = F.max_unpool3d(y, idx, 2, output_size=(3, 3, 3))
    want = np.zeros(27)
    want[13] = 13
    np.testing.assert_array_equal(up.array.ravel(), want)
    # conv_transpose3d of a single 1 at stride 2 places the kernel at 2·position: the rest stays 0
    k = np.arange(8, dtype=np.float64).reshape(1, 1, 2, 2, 2)
    one = np.zeros((1, 1, 2, 1, 1))
    one[0, 0, 1] = 1
    out = F.conv_transpose3d(mg.tensor(one), mg.tensor(k), stride=2)
    assert out.shape == (1, 1, 4, 2, 2)
    np.testing.assert_array_equal(out.array[0, 0, 2:], k[0, 0])
    np.testing.assert_array_equal(out.array[0, 0, :2], 0)


def test_batchnorm3d_normalizes_over_batch_and_volume():
    x = np.random.default_rng(1).standard_normal((2, 3, 2, 3, 4)) * np.array([1, 5, 0.1]).reshape(3, 1, 1, 1) + 2
    y = nn.BatchNorm3d(3)(mg.tensor(x)).array
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3, 4)), 0, atol=1e-12)
    var = x.var(axis=(0, 2, 3, 4))  # the batch's biased variance, against which y has var / (var + eps)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3, 4)), var / (var + 1e-5), rtol=1e-12)


@pytest.mark.skipif(torch is None, reason="PyTorch not installed")
def test_return_indices_and_unpool_round_trip_match_torch():
    x = np.random.default_rng(2).standard_normal((2, 3, 5, 6, 7))
    x[0, 0, :2, :2, :2] = 1.0  # a tied window: the first maximum in (d, h, w) order wins
    pool, tpool = nn.MaxPool3d(3, 2, 1, return_indices=True), torch.nn.MaxPool3d(3, 2, 1, return_indices=True)
    y, i = pool(mg.tensor(x))
    ty, ti = tpool(torch.tensor(x))
    np.testing.assert_array_equal(i.array, ti.numpy())
    np.testing.assert_array_equal(y.array, ty.numpy())
    up = nn.MaxUnpool3d(3, 2, 1)(y, i, output_size=x.shape[2:])
    tup = torch.nn.MaxUnpool3d(3, 2, 1)(ty, ti, output_size=x.shape[2:])
    np.testing.assert_array_equal(up.array, tup.numpy())
    a, ai = nn.AdaptiveMaxPool3d((2, 3, 4), return_indices=True)(mg.tensor(x))
    ta, tai = torch.nn.AdaptiveMaxPool3d((2, 3, 4), return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(ai.array, tai.numpy())
    np.testing.assert_array_equal(a.array, ta.numpy())
    z = np.zeros((1, 1, 2, 2, 2))  # all tied: the gradient goes to the window's first element, as PyTorch
    xz = mg.tensor(z, requires_grad=True)
    F.max_pool3d(xz, 2).sum().backward()
    assert xz.grad.array.ravel().tolist() == [1.0] + [0.0] * 7


def test_conv_transpose3d_output_size():
    m = nn.ConvTranspose3d(2, 3, 3, stride=2, padding=1)
    x = mg.zeros(1, 2, 3, 4, 5)
    assert m(x).shape == (1, 3, 5, 7, 9)
    assert m(x, output_size=(6, 8, 10)).shape == (1, 3, 6, 8, 10)


def test_errors_name_what_was_wrong():
    x = mg.zeros(1, 3, 4, 4, 4)
    with pytest.raises(ValueError, match=r"conv3d.*\(3, 4, 4\)"):
        F.conv3d(mg.zeros(3, 4, 4), mg.zeros(2, 3, 2, 2, 2))
    with pytest.raises(ValueError, match=r"5-D weight.*\(2, 3, 2, 2\)"):
        F.conv3d(x, mg.zeros(2, 3, 2, 2))
    with pytest.raises(ValueError, match="expects 4 input channels"):
        F.conv3d(x, mg.zeros(2, 4, 2, 2, 2))
    with pytest.raises(ValueError, match="groups=2"):
        F.conv3d(x, mg.zeros(2, 1, 2, 2, 2), groups=2)
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        F.conv3d(x, mg.zeros(2, 3, 2, 2, 2), stride=2, padding="same")
    with pytest.raises(TypeError, match="stride must be an int or a tuple of three"):
        F.conv3d(x, mg.zeros(2, 3, 2, 2, 2), stride=(1, 2))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        F.conv3d(x, mg.zeros(2, 3, 5, 2, 2))
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        F.conv3d(x, mg.zeros(2, 3, 2, 2, 2), mg.zeros(3))
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose3d(x, mg.zeros(3, 2, 2, 2, 2), output_padding=1)
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose3d(3, 2, 2, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv3d(3, 2, 2, padding_mode="mirror")
    with pytest.raises(ValueError, match="at most half the kernel"):
        F.max_pool3d(x, 2, padding=(0, 2, 0))
    with pytest.raises(ValueError, match=r"max_pool3d.*\(4, 4\)"):
        F.max_pool3d(mg.zeros(4, 4), 2)
    with pytest.raises(ValueError, match="output_size"):
        F.adaptive_avg_pool3d(x, (2, 2))
    with pytest.raises(IndexError, match="invalid max index: 64"):
        F.max_unpool3d(mg.zeros(1, 3, 2, 2, 2), mg.tensor(np.full((1, 3, 2, 2, 2), 64)), 2)
    with pytest.raises(ValueError, match=r"BatchNorm3d.*\(N, C, D, H, W\)"):
        nn.BatchNorm3d(3)(mg.zeros(2, 3, 4, 4))
