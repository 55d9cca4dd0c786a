"""nn.init: gains, fans and the statistics of each scheme, by torch's formulas."""
from __future__ import annotations

import math

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
from matgrad.nn import init


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    cases = [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
             ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)]
    for name, param in cases:
        assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_fans_for_linear_and_conv_weights():
    assert init._calculate_fan_in_and_fan_out(mg.zeros(30, 20)) == (20, 30)
    assert init._calculate_fan_in_and_fan_out(mg.zeros(16, 3, 5, 5)) == (75, 400)  # in·kH·kW, out·kH·kW
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(mg.zeros(5))


def _stats(t):
    return float(t.array.mean()), float(t.array.std()), float(np.abs(t.array).max())


def test_xavier_uniform_bounds_and_std():
    t = init.xavier_uniform_(mg.empty(1024, 784), gain=2.0)
    a = 2.0 * math.sqrt(6 / (784 + 1024))
    mean, std, amax = _stats(t)
    assert amax <= a and amax > 0.99 * a
    assert abs(mean) < 0.01 * a and std == pytest.approx(a / math.sqrt(3), rel=0.01)


def test_xavier_normal_std():
    _, std, _ = _stats(init.xavier_normal_(mg.empty(500, 300)))
    assert std == pytest.approx(math.sqrt(2 / 800), rel=0.01)


@pytest.mark.parametrize("mode,fan", [("fan_in", 300), ("fan_out", 500)])
def test_kaiming_uniform_and_normal(mode, fan):
    gain = math.sqrt(2)
    t = init.kaiming_uniform_(mg.empty(500, 300), mode=mode, nonlinearity="relu")
    bound = gain * math.sqrt(3 / fan)
    _, std, amax = _stats(t)
    assert amax <= bound and amax > 0.99 * bound
    _, std, _ = _stats(init.kaiming_normal_(mg.empty(500, 300), mode=mode, nonlinearity="relu"))
    assert std == pytest.approx(gain / math.sqrt(fan), rel=0.01)
    with pytest.raises(ValueError, match="fan_in"):
        init.kaiming_uniform_(mg.empty(2, 2), mode="fan_mid")


def test_kaiming_uniform_conv_weight_uses_receptive_field():
    t = init.kaiming_uniform_(mg.empty(64, 8, 3, 3), a=math.sqrt(5))  # torch's Conv2d default
    assert np.abs(t.array).max() <= 1 / math.sqrt(72)


def test_simple_fills_are_in_place_and_return_the_tensor():
    p = nn.Parameter(mg.empty(3, 4))
    arr = p.array
    assert init.constant_(p, 0.5) is p and (p.array == 0.5).all() and p.array is arr
    assert (init.zeros_(p).array == 0).all() and (init.ones_(p).array == 1).all()
    init.uniform_(p, -2, -1)
    assert (p.array >= -2).all() and (p.array < -1).all() and p.dtype == np.float32
    mean, std, _ = _stats(init.normal_(mg.empty(300, 300), 3.0, 0.5))
    assert mean == pytest.approx(3.0, abs=0.01) and std == pytest.approx(0.5, rel=0.01)
    np.testing.assert_array_equal(init.eye_(mg.empty(2, 3)).array, np.eye(2, 3))
    t = init.trunc_normal_(mg.empty(1000), std=1.0, a=-0.5, b=0.5)
    assert t.array.min() >= -0.5 and t.array.max() <= 0.5


def test_init_is_reproducible_and_works_on_parameters_needing_grad():
    mg.manual_seed(7)
    a = init.xavier_uniform_(nn.Parameter(mg.empty(4, 4)))
    mg.manual_seed(7)
    b = init.xavier_uniform_(nn.Parameter(mg.empty(4, 4)))
    np.testing.assert_array_equal(a.array, b.array)
    assert a.requires_grad
