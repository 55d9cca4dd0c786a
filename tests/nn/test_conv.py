"""Conv2d and ConvTranspose2d as modules: against torch.nn, default init, output_size."""
from __future__ import annotations

import math

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn
from tests.helpers import torch


def _copy_to_torch(ours, theirs):
    with torch.no_grad():
        for name, p in ours.named_parameters():
            dict(theirs.named_parameters())[name].copy_(torch.tensor(p.numpy()))


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
