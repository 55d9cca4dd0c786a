"""Sequential, ModuleList and ModuleDict."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
from tests.helpers import torch


def test_sequential_runs_in_order_and_indexes():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = mg.randn(5, 3)
    np.testing.assert_allclose(seq(x).array, seq[2](seq[1](seq[0](x))).array)
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is seq[0]
    seq.append(nn.Sigmoid())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and isinstance(seq[1], nn.Linear)
    seq.insert(0, nn.Identity())
    assert isinstance(seq[0], nn.Identity) and len(seq) == 4
    with pytest.raises(IndexError, match="out of range"):
        seq[10]


def test_sequential_from_ordered_dict():
    seq = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.ReLU()))
    assert seq.fc is seq[0] and list(seq.state_dict()) == ["fc.weight", "fc.bias"]


def test_module_list():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    ml += [nn.Sigmoid()]
    assert [type(m).__name__ for m in ml][3:] == ["ReLU", "Tanh", "Sigmoid"]
    assert isinstance(ml[-1], nn.Sigmoid) and len(ml[1:3]) == 2
    ml.insert(0, nn.Identity())
    assert isinstance(ml[0], nn.Identity) and list(ml._modules)[-1] == "6"
    del ml[0]
    assert isinstance(ml[0], nn.Linear)
    assert list(ml.state_dict())[:2] == ["0.weight", "0.bias"]
    with pytest.raises(TypeError, match="iterable of modules"):
        ml.extend(nn.Linear(1, 1))


def test_module_dict():
    md = nn.ModuleDict({"enc": nn.Linear(2, 3), "act": nn.ReLU()})
    assert list(md.keys()) == ["enc", "act"] and "enc" in md and len(md) == 2
    md["dec"] = nn.Linear(3, 2)
    assert [n for n, _ in md.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    assert md.pop("act").__class__ is nn.ReLU and list(md) == ["enc", "dec"]
    md.update([("out", nn.Sigmoid())])
    assert isinstance(md["out"], nn.Sigmoid)
    with pytest.raises(KeyError, match="keys are"):
        md["nope"]


# --- ReLU -> MaxPool2d, computed as MaxPool2d -> ReLU ------------------------------------------------------------
_POOLS = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=2, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(2, 1), dilation=(1, 2)),
]


def _ties(shape: tuple[int, ...], dtype: Any, seed: int = 0) -> np.ndarray:
    """Half-integers in [-1.5, 1.5]: ties among positive maxima, windows of negatives only, +0.0 and -0.0."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, shape).astype(dtype) / 2
    x[(x == 0) & (rng.random(shape) < 0.5)] = -0.0
    return x


def _run(seq: nn.Sequential, x: np.ndarray, dy_seed: int = 1, dy: np.ndarray | None = None):
    """seq(x) and x's gradient for a random dy (or the given one)."""
    leaf = mg.tensor(x.copy(), requires_grad=True)
    y = seq(leaf)
    dy = np.random.default_rng(dy_seed).standard_normal(y.shape).astype(x.dtype) if dy is None else dy
    y.backward(mg.tensor(dy))
    return y, leaf.grad.array


@pytest.mark.parametrize("pool", _POOLS)
@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (2, 3, 7, 7), (3, 7, 9)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_then_maxpool_runs_pool_first_with_the_same_values(pool, shape, dtype):
    seq = nn.Sequential(nn.ReLU(), nn.MaxPool2d(**pool))
    x = _ties(shape, dtype)
    y, dx = _run(seq, x)
    assert y.grad_fn.name() == "ReLUBackward0"  # the pool ran first
    seq.relu_after_maxpool = False
    y0, dx0 = _run(seq, x)
    assert y0.grad_fn.name() != "ReLUBackward0"  # the written order (the pool last, or its reshape when unbatched)
    for got, want in ((y.array, y0.array), (dx, dx0)):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)  # (a zero's sign may differ: see nn/container.py _pool_first)
    # and against the functions written out
    ref = mg.nn.functional.max_pool2d(mg.nn.functional.relu(mg.tensor(x)), **pool)
    np.testing.assert_array_equal(y.array, ref.array)


def test_relu_then_maxpool_on_a_convs_channel_major_output():
    """The cnn recipe's case: a conv's (C, N, H, W) layout, the 2×2 pool's winner codes, then Flatten."""
    x = _ties((6, 4, 12, 12), np.float32).transpose(1, 0, 2, 3)  # (N, C, H, W) lying channel-major
    seq = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
    y, dx = _run(seq, x)
    seq.relu_after_maxpool = False
    y0, dx0 = _run(seq, x)
    np.testing.assert_array_equal(y.array, y0.array)
    np.testing.assert_array_equal(dx, dx0)


def test_relu_then_maxpool_nan_and_inf_route_as_in_the_written_order():
    x = _ties((2, 2, 6, 6), np.float64)
    x[0, 0, 0, 1] = np.nan  # a nan window: relu keeps nan, the pool takes it
    x[1, 1, 2:4, 2:4] = -1.0  # a window of negatives whose dy is inf: 0 either way
    seq = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))
    dy = np.random.default_rng(2).standard_normal((2, 2, 3, 3))
    dy[1, 1, 1, 1] = np.inf
    dy[0, 1, 0, 0] = np.nan
    y, dx = _run(seq, x, dy=dy)
    seq.relu_after_maxpool = False
    y0, dx0 = _run(seq, x, dy=dy)
    np.testing.assert_array_equal(y.array, y0.array)  # (nan equal to nan)
    np.testing.assert_array_equal(dx, dx0)
    assert np.isnan(y.array[0, 0, 0, 0]) and dx[1, 1, 2:4, 2:4].tolist() == [[0, 0], [0, 0]]


@pytest.mark.parametrize("pool", _POOLS[:2])
def test_relu_then_maxpool_gradients_by_finite_differences(pool):
    """First and second order, float64, where no two pixels of a window tie (finite differences need that)."""
    seq = nn.Sequential(nn.ReLU(), nn.MaxPool2d(**pool))
    x = mg.tensor(np.random.default_rng(3).standard_normal((2, 2, 6, 6)), requires_grad=True)
    assert seq(x).grad_fn.name() == "ReLUBackward0"
    assert mg.gradcheck(seq, (x,))
    assert mg.gradgradcheck(seq, (x,))


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("pool", _POOLS)
def test_relu_then_maxpool_matches_torch(pool):
    x = _ties((2, 3, 7, 7), np.float64)
    y, dx = _run(nn.Sequential(nn.ReLU(), nn.MaxPool2d(**pool)), x)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.MaxPool2d(**pool))(tx)
    ty.backward(torch.tensor(np.random.default_rng(1).standard_normal(ty.shape)))
    np.testing.assert_array_equal(y.array, ty.detach().numpy())
    # (overlapping windows add two dy into one pixel, in either order)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-12, atol=0)


def test_relu_then_maxpool_keeps_the_written_order_where_it_shows():
    x = _ties((2, 3, 8, 8), np.float32)
    # a hook on the ReLU sees its full-size output
    relu, pool = nn.ReLU(), nn.MaxPool2d(2)
    seen = []
    relu.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    y = nn.Sequential(relu, pool)(mg.tensor(x))
    assert seen == [(2, 3, 8, 8)] and y.grad_fn is None and y.shape == (2, 3, 4, 4)
    leaf = mg.tensor(x, requires_grad=True)
    assert nn.Sequential(relu, pool)(leaf).grad_fn.name() == "MaxPool2dBackward0"
    hooked_pool = nn.MaxPool2d(2)
    hooked_pool.register_forward_pre_hook(lambda m, args: seen.append(args[0].shape))
    assert nn.Sequential(nn.ReLU(), hooked_pool)(leaf).grad_fn.name() == "MaxPool2dBackward0"
    # an in-place ReLU changes the tensor it is given, as in PyTorch
    given = leaf * 1
    out = nn.Sequential(nn.ReLU(inplace=True), nn.MaxPool2d(2))(given)
    assert given.array.min() >= 0 and out.grad_fn.name() == "MaxPool2dBackward0"
    # indices: the pool's output is a pair
    y, idx = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2, return_indices=True))(leaf)
    assert y.grad_fn.name() == "MaxPool2dWithIndicesBackward0" or y.grad_fn.name().startswith("MaxPool2d")
    # the switch on the class
    nn.Sequential.relu_after_maxpool = False
    try:
        assert nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))(leaf).grad_fn.name() == "MaxPool2dBackward0"
    finally:
        nn.Sequential.relu_after_maxpool = True
    # a ReLU last, or before something else, runs where it is written
    seq = nn.Sequential(nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(), nn.ReLU())
    np.testing.assert_array_equal(seq(mg.tensor(x)).array, np.maximum(x.reshape(2, 3, 4, 2, 4, 2).max(axis=(3, 5)),
                                                                       0).reshape(2, -1))
