"""Lazy modules: placeholders until the first forward, then the regular class, initialised as it would be."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn

CASES = [
    (lambda: nn.LazyLinear(3), lambda: nn.Linear(4, 3), (2, 5, 4)),
    (lambda: nn.LazyConv1d(4, 3, groups=2), lambda: nn.Conv1d(6, 4, 3, groups=2), (2, 6, 7)),
    (lambda: nn.LazyConv2d(4, 3, padding=1), lambda: nn.Conv2d(3, 4, 3, padding=1), (2, 3, 5, 5)),
    (lambda: nn.LazyConv2d(4, 2, bias=False), lambda: nn.Conv2d(3, 4, 2, bias=False), (3, 5, 5)),  # unbatched
    (lambda: nn.LazyConvTranspose1d(2, 3, stride=2), lambda: nn.ConvTranspose1d(5, 2, 3, stride=2), (2, 5, 4)),
    (lambda: nn.LazyConvTranspose2d(2, 2), lambda: nn.ConvTranspose2d(3, 2, 2), (1, 3, 4, 4)),
]


@pytest.mark.parametrize("lazy, regular, shape", CASES)
def test_first_forward_makes_the_regular_module_with_its_initialisation(lazy, regular, shape):
    x = mg.randn(*shape)
    mg.manual_seed(7)
    m = lazy()
    assert m.has_uninitialized_params()
    assert all(isinstance(p, nn.UninitializedParameter) for p in m.parameters())
    y = m(x)
    mg.manual_seed(7)
    r = regular()
    assert type(m) is type(r) and repr(m) == repr(r)
    assert [type(p) for p in m.parameters()] == [nn.Parameter] * len(list(r.parameters()))
    for (k, a), (k2, b) in zip(m.state_dict().items(), r.state_dict().items()):
        assert k == k2 and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())  # the same draws as the regular module's
    np.testing.assert_allclose(y.numpy(), r(x).numpy(), rtol=1e-5, atol=1e-6)
    assert not m._forward_pre_hooks  # initialised once


def test_placeholders_and_their_errors():
    m = nn.LazyLinear(3)
    assert repr(m) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    assert repr(m.weight) == "<UninitializedParameter>"
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        _ = m.weight.shape
    with pytest.raises(ValueError, match="uninitialized parameter in numel"):
        m.weight.numel()
    sd = m.state_dict()
    assert list(sd) == ["weight", "bias"] and all(isinstance(v, nn.UninitializedParameter) for v in sd.values())
    assert nn.LazyLinear(2, bias=False).bias is None
    assert repr(nn.LazyConv2d(4, 3)) == "LazyConv2d(0, 4, kernel_size=(3, 3), stride=(1, 1))"
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d"):
        nn.LazyConv2d(4, 3)(mg.randn(3, 5))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv1d(4, 3, groups=2)(mg.randn(2, 3, 5))
    with pytest.raises(ValueError, match="out_channels .* divisible by groups"):
        nn.LazyConv2d(3, 3, groups=2)


def test_optimizer_made_before_the_first_forward_trains_the_real_parameters():
    m = nn.LazyLinear(2)
    params = list(m.parameters())
    opt = mg.optim.SGD(m.parameters(), lr=0.1)  # allowed, as PyTorch: the placeholders become the parameters
    x = mg.randn(5, 3)
    m(x).sum().backward()
    assert params[0] is m.weight and params[0].shape == (2, 3)
    before = m.weight.numpy().copy()
    opt.step()
    np.testing.assert_allclose(m.weight.numpy(), before - 0.1 * x.numpy().sum(0), rtol=1e-5, atol=1e-6)


def test_load_state_dict_into_a_lazy_module():
    src = nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Conv1d(1, 2, 2))
    dst = nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.LazyConv1d(2, 2))
    dst.load_state_dict(src.state_dict())
    assert not dst[0].has_uninitialized_params() and dst[0].weight.shape == (3, 5)
    np.testing.assert_array_equal(dst[2].weight.numpy(), src[2].weight.numpy())
    assert type(dst[0]) is nn.LazyLinear  # still lazy until its first forward, as PyTorch
    with pytest.raises(RuntimeError, match="in_features inferred from input: 4 is not equal to in_features "
                                           "from self.weight: 5"):
        dst[0](mg.randn(2, 4))
    x = mg.randn(2, 5)
    np.testing.assert_allclose(dst[0](x).numpy(), src[0](x).numpy(), rtol=1e-6)
    assert type(dst[0]) is nn.Linear and dst[0].in_features == 5
    lazy = nn.LazyLinear(3)
    lazy.load_state_dict(nn.LazyLinear(3).state_dict())  # placeholders into placeholders: still lazy
    assert lazy.has_uninitialized_params()
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "weight", "bias"'):
        nn.LazyLinear(3).load_state_dict({})
