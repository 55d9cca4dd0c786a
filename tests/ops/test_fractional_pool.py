"""matgrad/ops/fractional_pool.py: PyTorch's windows from the same samples, gradients to the argmax, errors."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn
import matgrad.nn.functional as F
from matgrad.ops.fractional_pool import intervals

CASES = [  # (nd, input shape, kernel_size, output_size)
    (2, (2, 3, 13, 11), 2, (6, 5)),
    (2, (2, 3, 13, 11), (3, 2), (5, 8)),
    (2, (3, 25, 31), 3, (10, 17)),
    (2, (1, 2, 9, 9), 1, 9),
    (2, (2, 1, 40, 50), 3, (1, 30)),
    (3, (2, 2, 7, 9, 8), 2, (3, 4, 5)),
    (3, (2, 7, 9, 10), (2, 3, 1), (4, 4, 8)),
]


def _samples(shape, nd, dtype, seed=1):
    n = shape[0] if len(shape) == nd + 2 else 1
    return np.random.default_rng(seed).random((n, shape[-nd - 1], nd)).astype(dtype)


def _fns(nd):
    torch = pytest.importorskip("torch")
    return getattr(F, f"fractional_max_pool{nd}d"), getattr(torch.nn.functional, f"fractional_max_pool{nd}d"), torch


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("nd, shape, k, out", CASES)
def test_equals_torch_with_the_same_samples(nd, shape, k, out, dtype):
    fn, tfn, torch = _fns(nd)
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    u = _samples(shape, nd, dtype)
    a, b = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, idx = fn(a, k, out, return_indices=True, _random_samples=mg.tensor(u))
    ty, tidx = tfn(b, k, out, return_indices=True, _random_samples=torch.tensor(u))
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    assert idx.dtype == np.int64
    g = np.random.default_rng(2).standard_normal(y.shape).astype(dtype)
    (y * mg.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(a.grad, b.grad.numpy())  # one route per output: sums of the same terms


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_intervals_equal_torch_over_many_samples(dtype):
    """Long sequences and many samples, so float32's rounding of (i + u)·α is exercised as the kernel's."""
    _, tfn, torch = _fns(2)
    size, out, k = 997, 331, 3
    u = _samples((1, 64, 1, 1), 2, dtype, seed=3)
    x = np.broadcast_to(np.arange(size, dtype=dtype), (1, 64, 1, size)).copy()  # value = column: index = start
    rows = np.zeros((1, 64, 2), dtype)
    rows[..., 0] = u[..., 0]
    _, tidx = tfn(torch.tensor(x).expand(1, 64, k, size), k, (1, out), return_indices=True,
                  _random_samples=torch.tensor(rows))
    starts = intervals(u[..., 0], size, out, k)  # the windows' maximum is their last column
    np.testing.assert_array_equal(starts[0] + k - 1, tidx.numpy()[0, :, 0])  # row 0: the first maximum


def test_ties_and_nan_as_torch():
    fn, tfn, torch = _fns(2)
    x = np.zeros((1, 2, 6, 6))
    x[0, 1, ::2, ::3] = np.nan
    u = _samples(x.shape, 2, "float64")
    y, idx = fn(mg.tensor(x), 2, 3, return_indices=True, _random_samples=mg.tensor(u))
    ty, tidx = tfn(torch.tensor(x), 2, 3, return_indices=True, _random_samples=torch.tensor(u))
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    np.testing.assert_array_equal(y.numpy(), ty.numpy())


@pytest.mark.parametrize("nd, shape, k, out", [CASES[0], CASES[2], CASES[5]])
def test_finite_differences(nd, shape, k, out):
    """Distinct values far apart, so no step of the differences changes a window's argmax."""
    fn = getattr(F, f"fractional_max_pool{nd}d")
    size = int(np.prod(shape))
    x = np.random.default_rng(4).permutation(size).reshape(shape) * 0.01
    u = mg.tensor(_samples(shape, nd, "float64"))
    assert mg.gradcheck(lambda a: fn(a, k, out, _random_samples=u), [mg.tensor(x, requires_grad=True)])
    assert mg.gradgradcheck(lambda a: fn(a, k, out, _random_samples=u), [mg.tensor(x, requires_grad=True)])


def test_output_ratio_and_with_indices_functions():
    _, _, torch = _fns(2)
    x = np.random.default_rng(5).standard_normal((2, 3, 10, 9))
    u = _samples(x.shape, 2, "float64")
    y = F.fractional_max_pool2d(mg.tensor(x), 2, output_ratio=(0.5, 0.7), _random_samples=mg.tensor(u))
    ty = torch.nn.functional.fractional_max_pool2d(torch.tensor(x), 2, output_ratio=(0.5, 0.7),
                                                   _random_samples=torch.tensor(u))
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    y2, i2 = F.fractional_max_pool2d_with_indices(mg.tensor(x), 2, output_ratio=0.5, _random_samples=mg.tensor(u))
    assert y2.shape == (2, 3, 5, 4) and i2.shape == y2.shape
    x3 = np.random.default_rng(6).standard_normal((1, 2, 6, 8, 7))
    u3 = _samples(x3.shape, 3, "float64")
    y3, i3 = F.fractional_max_pool3d_with_indices(mg.tensor(x3), 2, output_ratio=0.5, _random_samples=mg.tensor(u3))
    ty3, ti3 = torch.nn.functional.fractional_max_pool3d_with_indices(
        torch.tensor(x3), 2, output_ratio=(0.5, 0.5, 0.5), _random_samples=torch.tensor(u3))
    np.testing.assert_array_equal(y3.numpy(), ty3.numpy())
    np.testing.assert_array_equal(i3.numpy(), ti3.numpy())


def test_draws_from_matgrads_generator():
    x = mg.tensor(np.random.default_rng(7).standard_normal((2, 3, 12, 12)))
    mg.manual_seed(3)
    a = F.fractional_max_pool2d(x, 2, 5)
    mg.manual_seed(3)
    b = F.fractional_max_pool2d(x, 2, 5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.shape == (2, 3, 5, 5)


def test_modules():
    _, _, torch = _fns(2)
    x = np.random.default_rng(8).standard_normal((2, 3, 9, 10))
    u = _samples(x.shape, 2, "float64")
    m = nn.FractionalMaxPool2d(3, output_size=(4, 5), return_indices=True, _random_samples=mg.tensor(u))
    tm = torch.nn.FractionalMaxPool2d(3, output_size=(4, 5), return_indices=True, _random_samples=torch.tensor(u))
    for got, want in zip(m(mg.tensor(x)), tm(torch.tensor(x))):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert "_random_samples" in dict(m.named_buffers())
    x3 = np.random.default_rng(9).standard_normal((2, 6, 6, 7))
    u3 = _samples(x3.shape, 3, "float64")
    m3 = nn.FractionalMaxPool3d(2, output_ratio=0.5, _random_samples=mg.tensor(u3))
    tm3 = torch.nn.FractionalMaxPool3d(2, output_ratio=0.5, _random_samples=torch.tensor(u3))
    np.testing.assert_array_equal(m3(mg.tensor(x3)).numpy(), tm3(torch.tensor(x3)).numpy())


@pytest.mark.parametrize("kwargs, match", [
    ({}, "either an output size, or a pooling ratio"),
    ({"output_size": 2, "output_ratio": 0.5}, "only one of output_size and output_ratio"),
    ({"output_ratio": 1.0}, "output_ratio must be between 0 and 1"),
])
def test_module_errors(kwargs, match):
    for cls in (nn.FractionalMaxPool2d, nn.FractionalMaxPool3d):
        with pytest.raises(ValueError, match=match):
            cls(2, **kwargs)


def test_errors():
    x = mg.tensor(np.zeros((2, 3, 7, 8)))
    u = mg.tensor(np.full((2, 3, 2), 0.5))
    with pytest.raises(RuntimeError, match="pool height 2 too large relative to input height 7"):
        F.fractional_max_pool2d(x, 2, 7, _random_samples=u)
    with pytest.raises(RuntimeError, match="pool time 1 too large relative to input time 7"):
        F.fractional_max_pool3d(mg.tensor(np.zeros((1, 1, 7, 7, 7))), 1, 7)
    with pytest.raises(ValueError, match="either an output_size or an output_ratio"):
        F.fractional_max_pool2d(x, 2)
    with pytest.raises(RuntimeError, match="no less then input batch size"):
        F.fractional_max_pool2d(x, 2, 3, _random_samples=u[:1])
    with pytest.raises(RuntimeError, match="size\\(1\\) equals to input channel size"):
        F.fractional_max_pool2d(x, 2, 3, _random_samples=u[:, :2])
    with pytest.raises(RuntimeError, match="size\\(2\\) equals to 2; got 1"):
        F.fractional_max_pool2d(x, 2, 3, _random_samples=u[:, :, :1])
    with pytest.raises(RuntimeError, match="3 dimensions, got 2"):
        F.fractional_max_pool2d(x, 2, 3, _random_samples=u[0])
    with pytest.raises(RuntimeError, match="same dtype as input"):
        F.fractional_max_pool2d(x, 2, 3, _random_samples=u.float())
    with pytest.raises(RuntimeError, match="Expected 3D or 4D tensor"):
        F.fractional_max_pool2d(x[0, 0], 2, 3)
    with pytest.raises(RuntimeError, match="dimension 2 being empty"):
        F.fractional_max_pool2d(x[:, :, :0], 2, 3)
    with pytest.raises(RuntimeError, match="kernel_size must either be a single Int or tuple"):
        F.fractional_max_pool2d(x, (2, 3, 1), 3)
