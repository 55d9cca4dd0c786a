"""get_total_norm, clip_grads_with_norm_, the deprecated clip_grad_norm, conv/linear–BatchNorm
fusion (same outputs as the unfused eval model) and skip_init."""
from __future__ import annotations

import math

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn
from matgrad.nn import utils
from tests.helpers import assert_close

try:
    import torch
except ImportError:
    torch = None


def _grads(values):
    ps = [mg.tensor(np.zeros_like(v), requires_grad=True) for v in values]
    for p, v in zip(ps, values):
        p.grad = v.copy()
    return ps


def test_get_total_norm_and_clip_with_it():
    values = [np.array([3.0, 0.0]), np.array([[4.0]])]
    assert utils.get_total_norm(values).item() == pytest.approx(5.0)
    assert utils.get_total_norm([mg.tensor(v) for v in values], norm_type=math.inf).item() == 4.0
    assert utils.get_total_norm([mg.tensor(v) for v in values], norm_type=1).item() == pytest.approx(7.0)
    ps = _grads(values)
    total = utils.get_total_norm([p.grad for p in ps])
    assert utils.clip_grads_with_norm_(ps, max_norm=1.0, total_norm=total) is None
    np.testing.assert_allclose(ps[0].grad.array, [3.0 / (5 + 1e-6), 0.0], rtol=1e-12)
    ps = _grads(values)
    utils.clip_grads_with_norm_(ps, max_norm=10.0, total_norm=total)  # under the limit: unchanged
    np.testing.assert_array_equal(ps[0].grad.array, values[0])
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.get_total_norm([np.array([np.inf])], error_if_nonfinite=True)


def test_clip_grad_norm_is_the_deprecated_alias():
    ps = _grads([np.array([3.0, 4.0])])
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        norm = utils.clip_grad_norm(ps, max_norm=2.5)
    assert norm.item() == pytest.approx(5.0)
    np.testing.assert_allclose(ps[0].grad.array, [1.5, 2.0], rtol=1e-6)


def _eval_bn(bn, rng):
    bn.running_mean.array[...] = rng.standard_normal(bn.num_features)
    bn.running_var.array[...] = rng.uniform(0.5, 2.0, bn.num_features)
    if bn.weight is not None:
        bn.weight.array[...] = rng.standard_normal(bn.num_features)
        bn.bias.array[...] = rng.standard_normal(bn.num_features)
    return bn.eval()


@pytest.mark.parametrize("bias, affine", [(True, True), (False, False)])
def test_fuse_conv_bn_eval_gives_the_unfused_output(bias, affine):
    rng = np.random.default_rng(0)
    conv = nn.Conv2d(3, 4, 3, padding=1, bias=bias).eval()
    bn = _eval_bn(nn.BatchNorm2d(4, affine=affine), rng)
    x = mg.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))
    fused = utils.fuse_conv_bn_eval(conv, bn)
    assert fused is not conv and isinstance(fused.weight, nn.Parameter) and fused.bias is not None
    assert_close(fused(x).array, bn(conv(x)).array, rtol=1e-5, atol=1e-6)
    with pytest.raises(AssertionError, match="eval"):
        utils.fuse_conv_bn_eval(conv.train(), bn)


def test_fuse_transposed_conv_and_linear_bn_eval():
    rng = np.random.default_rng(1)
    tconv = nn.ConvTranspose2d(3, 4, 2, stride=2).eval()
    bn = _eval_bn(nn.BatchNorm2d(4), rng)
    x = mg.tensor(rng.standard_normal((2, 3, 3, 3)).astype(np.float32))
    assert_close(utils.fuse_conv_bn_eval(tconv, bn, transpose=True)(x).array, bn(tconv(x)).array,
                 rtol=1e-5, atol=1e-6)
    lin = nn.Linear(5, 4).eval()
    bn1 = _eval_bn(nn.BatchNorm1d(4), rng)
    x = mg.tensor(rng.standard_normal((6, 5)).astype(np.float32))
    assert_close(utils.fuse_linear_bn_eval(lin, bn1)(x).array, bn1(lin(x)).array, rtol=1e-5, atol=1e-6)
    with pytest.raises(AssertionError, match="num_features"):
        utils.fuse_linear_bn_eval(lin, nn.BatchNorm1d(3).eval())


def test_fuse_weights_match_torch():
    if torch is None:
        pytest.skip("PyTorch not installed")
    from torch.nn.utils import fuse_conv_bn_weights as tfuse

    rng = np.random.default_rng(2)
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    rm, rv, g, beta = rng.standard_normal(4), rng.uniform(0.5, 2, 4), rng.standard_normal(4), rng.standard_normal(4)
    mine = utils.fuse_conv_bn_weights(*(mg.tensor(a) for a in (w, b, rm, rv)), 1e-5, mg.tensor(g), mg.tensor(beta))
    theirs = tfuse(*(torch.tensor(a) for a in (w, b, rm, rv)), 1e-5, torch.tensor(g), torch.tensor(beta))
    for m, t in zip(mine, theirs):
        np.testing.assert_allclose(m.array, t.detach().numpy(), rtol=1e-12)


def test_skip_init_builds_the_module_and_needs_a_device_argument():
    lin = utils.skip_init(nn.Linear, 3, 2, bias=False)
    assert lin.weight.shape == (2, 3) and lin.bias is None

    class NoDevice(nn.Module):
        def __init__(self, n):
            super().__init__()

    with pytest.raises(RuntimeError, match="device"):
        utils.skip_init(NoDevice, 3)
