"""Factories: PyTorch's argument forms, dtypes, and reproducible randomness."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg


@pytest.mark.parametrize("make", [
    lambda: mg.zeros(2, 3), lambda: mg.zeros((2, 3)), lambda: mg.zeros([2, 3]), lambda: mg.zeros(size=(2, 3)),
    lambda: mg.ones(2, 3), lambda: mg.rand(2, 3), lambda: mg.randn((2, 3)), lambda: mg.empty(2, 3),
])
def test_shape_forms(make):
    t = make()
    assert t.shape == (2, 3) and t.dtype == mg.float32


def test_values_and_dtypes():
    assert mg.zeros(2).tolist() == [0, 0] and mg.ones(2, dtype=mg.int64).dtype == mg.int64
    assert mg.full((2,), 1.5).tolist() == [1.5, 1.5] and mg.full((2,), 1.5).dtype == mg.float32
    assert mg.full((2,), 7).dtype == mg.int64 and mg.full((1,), True).dtype == mg.bool_
    assert mg.arange(5).tolist() == [0, 1, 2, 3, 4] and mg.arange(5).dtype == mg.int64
    assert mg.arange(1, 10, 3).tolist() == [1, 4, 7]
    quarters = mg.arange(0, 1, 0.25)
    assert quarters.tolist() == [0, 0.25, 0.5, 0.75] and quarters.dtype == mg.float32
    assert mg.arange(3.0).dtype == mg.float32 and mg.arange(5, 0, -2).tolist() == [5, 3, 1]
    np.testing.assert_allclose(mg.linspace(0, 1, 5).array, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(mg.eye(2, 3).array, np.eye(2, 3))
    assert mg.eye(3, dtype=mg.float64).dtype == mg.float64


def test_like_factories():
    x = mg.tensor([[1, 2]])
    assert mg.zeros_like(x).dtype == mg.int64 and mg.zeros_like(x).shape == (1, 2)
    assert mg.ones_like(x, dtype=mg.float64).dtype == mg.float64
    y = mg.ones_like(mg.zeros(3), requires_grad=True)
    assert y.requires_grad and y.tolist() == [1, 1, 1]
    assert mg.full_like(x, 3).tolist() == [[3, 3]]
    assert mg.randn_like(mg.zeros(2, dtype=mg.float64)).dtype == mg.float64


def test_tensor_copies_but_from_numpy_shares():
    a = np.zeros(3)
    t = mg.tensor(a)
    f = mg.from_numpy(a)
    a[0] = 1.0
    assert t.array[0] == 0.0 and f.array[0] == 1.0 and f.dtype == mg.float64
    with pytest.raises(TypeError, match="ndarray"):
        mg.from_numpy([1.0])


def test_randint_forms():
    for t in (mg.randint(0, 10, (50,)), mg.randint(10, (50,)), mg.randint(high=10, size=(50,)),
              mg.randint(low=0, high=10, size=(50,))):
        assert t.shape == (50,) and t.dtype == mg.int64 and 0 <= t.array.min() and t.array.max() < 10
    assert mg.randint(0, 3, (2, 2), dtype=mg.int32).dtype == mg.int32


def test_manual_seed_reproduces_everything_random():
    mg.manual_seed(42)
    a = (mg.rand(3), mg.randn(3), mg.randint(0, 100, (3,)), mg.randperm(5))
    mg.manual_seed(42)
    b = (mg.rand(3), mg.randn(3), mg.randint(0, 100, (3,)), mg.randperm(5))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.array, y.array)
    mg.manual_seed(43)
    assert not np.array_equal(mg.rand(3).array, a[0].array)


def test_random_distributions():
    u = mg.rand(10000).array
    n = mg.randn(10000).array
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05


def test_requires_grad_on_factories():
    assert mg.zeros(2, requires_grad=True).requires_grad
    assert mg.randn(2, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="floating"):
        mg.zeros(2, dtype=mg.int64, requires_grad=True)


def test_numel_and_is_tensor():
    t = mg.zeros(2, 3)
    assert mg.numel(t) == 6 and mg.is_tensor(t) and not mg.is_tensor(np.zeros(2))
