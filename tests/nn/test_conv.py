"""Image layers as modules: Conv2d, ConvTranspose2d, pooling, BatchNorm, LayerNorm, Dropout2d, Embedding."""
from __future__ import annotations

import math

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn
from matgrad.models.cnn import RECIPE, build_cnn
from tests.helpers import torch


def _copy_to_torch(ours, theirs):
    with torch.no_grad():
        for name, p in ours.named_parameters():
            dict(theirs.named_parameters())[name].copy_(torch.tensor(p.numpy()))


def _same(ours, theirs):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-9)


def _needs_torch():
    if torch is None:
        pytest.skip("PyTorch is not installed")


@pytest.mark.parametrize("make", [
    lambda m: m.Conv2d(4, 6, 3, stride=2, padding=1, groups=2),
    lambda m: m.Conv2d(4, 2, (2, 3), dilation=2, bias=False),
    lambda m: m.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
])
def test_conv_modules_match_torch(make):
    _needs_torch()
    ours, theirs = make(nn), make(torch.nn).double()
    ours.double()
    _copy_to_torch(ours, theirs)
    x = np.random.default_rng(0).standard_normal((2, 4, 7, 6))
    y = ours(mg.tensor(x, requires_grad=True))
    ty = theirs(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, dict(theirs.named_parameters())[name].grad.numpy(), rtol=1e-8)


def test_conv_default_init_is_uniform_within_one_over_sqrt_fan_in():
    conv = nn.Conv2d(8, 16, 3, groups=2)
    bound = 1 / math.sqrt(4 * 9)
    assert conv.weight.shape == (16, 4, 3, 3) and conv.weight.dtype == np.float32
    assert np.abs(conv.weight.numpy()).max() <= bound and np.abs(conv.weight.numpy()).max() > 0.8 * bound
    assert np.abs(conv.bias.numpy()).max() <= bound
    convt = nn.ConvTranspose2d(8, 6, 2)
    assert convt.weight.shape == (8, 6, 2, 2)
    assert np.abs(convt.weight.numpy()).max() <= 1 / math.sqrt(6 * 4)


def test_conv_transpose_output_size_picks_output_padding():
    up = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = mg.randn(1, 2, 4, 4)
    assert up(x).shape == (1, 3, 7, 7)
    assert up(x, output_size=(8, 8)).shape == (1, 3, 8, 8)


def test_batchnorm_train_and_eval_match_torch_over_steps():
    _needs_torch()
    rng = np.random.default_rng(1)
    for momentum in (0.1, None):
        ours = nn.BatchNorm2d(3, momentum=momentum).double()
        theirs = torch.nn.BatchNorm2d(3, momentum=momentum).double()
        for _ in range(3):
            x = rng.standard_normal((4, 3, 2, 3)) * 3 + 1
            _same(ours(mg.tensor(x)), theirs(torch.tensor(x)))
        np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-12)
        assert int(ours.num_batches_tracked.item()) == 3
        ours.eval()
        theirs.eval()
        x = rng.standard_normal((2, 3, 2, 2))
        _same(ours(mg.tensor(x)), theirs(torch.tensor(x)))


def test_batchnorm_eval_leaves_running_stats_alone_and_is_per_sample():
    bn = nn.BatchNorm1d(4)
    bn(mg.randn(8, 4) * 2 + 5)
    before = bn.running_mean.numpy().copy()
    bn.eval()
    x = mg.randn(3, 4)
    full = bn(x).numpy()
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)
    np.testing.assert_allclose(bn(x[:1]).numpy(), full[:1], rtol=1e-6)  # no batch statistics in eval


def test_batchnorm_without_tracking_uses_batch_stats_in_eval():
    bn = nn.BatchNorm1d(2, track_running_stats=False, affine=False).eval()
    assert bn.running_mean is None and list(bn.state_dict()) == []
    y = bn(mg.randn(16, 2) * 4 + 1).numpy()
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-5)


def test_batchnorm_state_dict_round_trip():
    bn = nn.BatchNorm2d(3)
    for _ in range(2):
        bn(mg.randn(4, 3, 2, 2) * 2 + 1)
    state = bn.state_dict()
    assert set(state) == {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
    fresh = nn.BatchNorm2d(3)
    fresh.load_state_dict(state)
    bn.eval()
    fresh.eval()
    x = mg.randn(2, 3, 2, 2)
    np.testing.assert_array_equal(fresh(x).numpy(), bn(x).numpy())
    assert int(fresh.num_batches_tracked.item()) == 2


def test_batchnorm_gradients_reach_weight_and_bias():
    bn = nn.BatchNorm2d(2).double()
    x = mg.randn(3, 2, 2, 2, dtype=mg.float64, requires_grad=True)
    (bn(x) ** 3).sum().backward()
    assert bn.weight.grad.shape == (2,) and bn.bias.grad.shape == (2,) and x.grad.shape == x.shape


def test_batchnorm_shape_errors():
    with pytest.raises(ValueError, match="expected 3 channels"):
        nn.BatchNorm2d(3)(mg.zeros(2, 4, 2, 2))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        nn.BatchNorm2d(3)(mg.zeros(2, 3))


def test_layernorm_module_matches_torch():
    _needs_torch()
    ours, theirs = nn.LayerNorm((3, 4)).double(), torch.nn.LayerNorm((3, 4)).double()
    with torch.no_grad():
        theirs.weight.uniform_()
    ours.weight.data[...] = theirs.weight.detach().numpy()
    x = np.random.default_rng(2).standard_normal((2, 3, 4))
    _same(ours(mg.tensor(x)), theirs(torch.tensor(x)))


def test_pooling_modules():
    x = mg.randn(2, 3, 8, 6)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 4, 3)
    assert nn.AvgPool2d(3, stride=1, padding=1)(x).shape == (2, 3, 8, 6)
    pooled = nn.AdaptiveAvgPool2d(1)(x).numpy()[..., 0, 0]
    np.testing.assert_allclose(pooled, x.numpy().mean(axis=(2, 3)), rtol=1e-5)


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    x = mg.ones(8, 16, 3, 3, requires_grad=True)
    y = nn.Dropout2d(0.5)(x)
    per_channel = y.numpy().reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == 2.0).all(axis=2))
    dropped = (per_channel == 0).all(axis=2).mean()
    assert 0.3 < dropped < 0.7
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.numpy())  # dx = mask
    assert nn.Dropout2d(0.5).eval()(x) is x


def test_embedding_gradient_sums_repeats_and_skips_padding():
    emb = nn.Embedding(5, 3, padding_idx=1).double()
    assert np.all(emb.weight.numpy()[1] == 0)
    idx = mg.tensor(np.array([[0, 2, 0], [1, 4, 0]]))
    out = emb(idx)
    assert out.shape == (2, 3, 3)
    g = np.random.default_rng(3).standard_normal(out.shape)
    (out * mg.tensor(g)).sum().backward()
    expected = np.zeros((5, 3))
    expected[0] = g[0, 0] + g[0, 2] + g[1, 2]
    expected[2], expected[4] = g[0, 1], g[1, 1]
    np.testing.assert_allclose(emb.weight.grad, expected, rtol=1e-12)
    if torch is not None:
        te = torch.nn.Embedding(5, 3, padding_idx=1).double()
        with torch.no_grad():
            te.weight.copy_(torch.tensor(emb.weight.numpy()))
        (te(torch.tensor(idx.numpy())) * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(emb.weight.grad, te.weight.grad.numpy(), rtol=1e-12)


def test_embedding_second_order_and_errors():
    w = mg.randn(4, 2, dtype=mg.float64, requires_grad=True)
    idx = np.array([0, 3, 3])
    assert mg.gradgradcheck(lambda w: (nn.functional.embedding(idx, w, padding_idx=0) ** 2), [w])
    with pytest.raises(IndexError, match="out of range"):
        nn.functional.embedding(np.array([4]), w)
    with pytest.raises(TypeError, match="integers"):
        nn.functional.embedding(np.array([0.5]), w)


@pytest.mark.parametrize("shape", [(1, 28, 28), (784,), (8, 8)])
def test_cnn_recipe_builds_for_mnist_and_digits(shape):
    model = build_cnn(shape, 10)
    x = mg.randn(2, *shape)
    y = model(x)
    assert y.shape == (2, 10)
    y.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    assert RECIPE.name == "cnn" and RECIPE.flatten_input is False


def test_cnn_learns_a_tiny_batch():
    mg.manual_seed(0)
    model = build_cnn((1, 8, 8), 3)
    x, y = mg.randn(12, 1, 8, 8), mg.tensor(np.arange(12) % 3)
    params = list(model.parameters())
    for _ in range(30):
        loss = nn.functional.cross_entropy(model(x), y)
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= 0.05 * p.grad
    assert loss.item() < 0.2
