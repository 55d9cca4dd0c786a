"""Activation modules against torch.nn, finite differences and their reprs."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
from tests.helpers import check_op

torch = pytest.importorskip("torch")

CASES = [
    ("ReLU", (), {}), ("LeakyReLU", (0.2,), {}), ("ELU", (), {"alpha": 0.7}), ("GELU", (), {}),
    ("GELU", (), {"approximate": "tanh"}), ("Sigmoid", (), {}), ("Tanh", (), {}), ("SiLU", (), {}),
    ("Softmax", (), {"dim": 1}), ("LogSoftmax", (), {"dim": 0}),
    ("Softplus", (), {"beta": 2.0, "threshold": 5.0}),
]


@pytest.mark.parametrize("name,args,kwargs", CASES, ids=lambda c: str(c))
def test_activation_module_matches_torch(name, args, kwargs):
    mine = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    check_op(mine, (3, 4), torch_fn=theirs, second=False)
    assert repr(mine) == repr(theirs)


def test_relu_by_hand():
    assert nn.ReLU()(mg.tensor([-1.0, 0.0, 2.0])).tolist() == [0.0, 0.0, 2.0]
    assert nn.LeakyReLU(0.5)(mg.tensor([-2.0, 3.0])).tolist() == [-1.0, 3.0]


@pytest.mark.parametrize("n", [4, 5000])  # small arrays and large ones take different kernels
def test_relu_keeps_the_sign_of_zero_and_nan_like_torch(n):
    x = np.full(n, -0.0, np.float32)
    x[1], x[2], x[3] = np.nan, -3.0, 0.0
    mine, theirs = mg.tensor(x).relu().array, torch.relu(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(np.signbit(mine), np.signbit(theirs))
    np.testing.assert_array_equal(mine, theirs)  # nan in the same places
    assert np.signbit(mine[0]) and np.isnan(mine[1]) and not np.signbit(mine[2])


@pytest.mark.parametrize("n", [4, 5000])  # below and above the bit-select where's threshold
def test_elu_keeps_the_sign_of_zero_and_nan_like_torch(n):
    x = np.full(n, -0.0, np.float32)
    x[1], x[2], x[3] = np.nan, -3.0, 0.0
    mine = mg.nn.functional.elu(mg.tensor(x), 0.7).array
    theirs = torch.nn.functional.elu(torch.from_numpy(x), 0.7).numpy()
    np.testing.assert_array_equal(np.signbit(mine), np.signbit(theirs))
    np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-6)  # expm1's last bits differ by CPU
    assert np.signbit(mine[0]) and np.isnan(mine[1])


@pytest.mark.parametrize("n", [5, 5000])
@pytest.mark.parametrize("bounds", [{"min": 0.0}, {"max": 0.0}, {"min": -1.0, "max": 0.0}])
def test_clamp_keeps_the_sign_of_zero_and_nan_like_torch(n, bounds):
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    x[:4] = [-0.0, 0.0, np.nan, -3.0]
    mine = mg.tensor(x).clamp(**bounds).array
    theirs = torch.clamp(torch.from_numpy(x), **bounds).numpy()
    np.testing.assert_array_equal(np.signbit(mine), np.signbit(theirs))
    np.testing.assert_array_equal(mine, theirs)


def test_softmax_rows_sum_to_one():
    out = nn.Softmax(dim=-1)(mg.randn(4, 6))
    np.testing.assert_allclose(out.array.sum(-1), 1.0, rtol=0, atol=2e-6)  # float32 sums: ~16 ulp of 1


def test_inplace_flag_is_accepted_and_shown():
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert nn.ReLU(inplace=True)(mg.tensor([-1.0])).tolist() == [0.0]


def test_hardtanh_takes_the_deprecated_min_value_and_max_value_as_torch():
    """PyTorch's old spellings: they override min_val/max_val, each with a FutureWarning naming the new one."""
    with pytest.warns(FutureWarning, match="`min_value` is deprecated and renamed to `min_val`"):
        m = nn.Hardtanh(min_val=0.0, min_value=-0.5)
    assert (m.min_val, m.max_val) == (-0.5, 1.0)
    with pytest.warns(FutureWarning, match="`max_value` is deprecated and renamed to `max_val`"):
        m = nn.Hardtanh(-1.0, 1.0, False, None, 2.5)  # positionally, in PyTorch's order
    assert (m.min_val, m.max_val, m.inplace) == (-1.0, 2.5, False)
    with pytest.warns(FutureWarning):
        theirs = torch.nn.Hardtanh(-1.0, 1.0, False, None, 2.5)
    assert repr(m) == repr(theirs)
    x = np.linspace(-3, 3, 13)
    np.testing.assert_array_equal(m(mg.tensor(x)).array, theirs(torch.tensor(x)).numpy())
    with pytest.warns(FutureWarning), pytest.raises(AssertionError, match="max_val"):
        nn.Hardtanh(min_value=2.0, max_value=1.0)  # checked after the renaming
