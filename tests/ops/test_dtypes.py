"""Result dtypes follow PyTorch's promotion: categories bool < int < float, and 0-d
tensors and Python numbers only count when they are of a higher category."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg

f32, f64, i32, i64 = np.float32, np.float64, np.int32, np.int64


# Each case is written once against a library module L: run as L=matgrad and L=torch.
CASES = [
    # (id, fn, expected dtype)
    ("f32+scalar", lambda L: L.tensor([1.0]) + 2.5, f32),
    ("f64+scalar", lambda L: L.tensor([1.0], dtype=L.float64) * 2.5, f64),
    ("scalar-f64", lambda L: 2.5 - L.tensor([1.0], dtype=L.float64), f64),
    ("int+float scalar", lambda L: L.tensor([1, 2]) + 1.5, f32),
    ("int*int scalar", lambda L: L.tensor([1, 2]) * 3, i64),
    ("int32*int scalar", lambda L: L.tensor([1], dtype=L.int32) * 3, i32),
    ("int/int", lambda L: L.tensor([1, 2]) / L.tensor([2, 4]), f32),
    ("int/scalar", lambda L: L.tensor([1, 2]) / 2, f32),
    ("scalar/int", lambda L: 1 / L.tensor([1, 2]), f32),
    ("int**0.5", lambda L: L.tensor([1, 4]) ** 0.5, f32),
    ("int**2", lambda L: L.tensor([1, 4]) ** 2, i64),
    ("2.0**int", lambda L: 2.0 ** L.tensor([1, 2]), f32),
    ("f32+f64 tensors", lambda L: L.tensor([1.0]) + L.tensor([1.0], dtype=L.float64), f64),
    ("f32+0d f64", lambda L: L.tensor([1.0]) + L.tensor(1.0, dtype=L.float64), f32),
    ("int+0d f32", lambda L: L.tensor([1]) + L.tensor(1.5), f32),
    ("int+0d f64", lambda L: L.tensor([1]) + L.tensor(1.5, dtype=L.float64), f64),
    ("f32+int tensor", lambda L: L.tensor([1.0]) + L.tensor([1]), f32),
    ("int32+0d int64", lambda L: L.tensor([1], dtype=L.int32) + L.tensor(5), i32),
    ("bool+bool", lambda L: L.tensor([True]) + L.tensor([True]), np.bool_),
    ("bool*int scalar", lambda L: L.tensor([True]) * 2, i64),
    ("bool*float scalar", lambda L: L.tensor([True]) * 2.5, f32),
    ("maximum int f32", lambda L: L.maximum(L.tensor([1]), L.tensor([2.0])), f32),
    ("where int 0.5", lambda L: L.where(L.tensor([True, False]), L.tensor([1, 2]), 0.5), f32),
    ("where f64 0d", lambda L: L.where(L.tensor([True]), L.tensor([1.0]), L.tensor(2.0, dtype=L.float64)),
     f32),
    ("cat int float", lambda L: L.cat([L.tensor([1]), L.tensor([1.5])]), f32),
    ("clamp int float", lambda L: L.tensor([1, 5]).clamp(2.5, 4), f32),
    ("clamp int int", lambda L: L.tensor([1, 5]).clamp(2, 4), i64),
    ("exp int", lambda L: L.tensor([1, 2]).exp(), f32),
    ("sum int", lambda L: L.tensor([1, 2]).sum(), i64),
    ("sum bool", lambda L: L.tensor([True, True]).sum(), i64),
    ("prod int", lambda L: L.tensor([2, 3]).prod(), i64),
    ("argmax", lambda L: L.tensor([2.0, 3.0]).argmax(), i64),
    ("max dim indices", lambda L: L.tensor([[2.0, 3.0]]).max(1).indices, i64),
    ("compare", lambda L: L.tensor([1.0]) < 2, np.bool_),
    ("mean f64", lambda L: L.tensor([1.0, 2.0], dtype=L.float64).mean(), f64),
    ("softmax f64", lambda L: L.tensor([1.0, 2.0], dtype=L.float64).softmax(0), f64),
    ("f32**np.float64", lambda L: L.tensor([1.0]) ** np.float64(2.0), f32),
    ("f32*np.float64", lambda L: L.tensor([1.0]) * np.float64(2.0), f32),
    ("clamp np bounds", lambda L: L.tensor([1.0]).clamp(np.float64(0.0), np.float64(0.5)), f32),
    ("matmul int", lambda L: L.tensor([[1, 2]]) @ L.tensor([[3], [4]]), i64),
]


@pytest.mark.parametrize("fn, expected", [pytest.param(f, e, id=i) for i, f, e in CASES])
def test_result_dtype(fn, expected):
    assert fn(mg).dtype == np.dtype(expected)


@pytest.mark.parametrize("fn", [pytest.param(f, id=i) for i, f, _ in CASES])
def test_result_dtype_matches_torch(fn):
    torch = pytest.importorskip("torch")
    assert str(fn(mg).dtype) == str(fn(torch).dtype).replace("torch.", "matgrad.")


def test_float64_grad_through_float32_promotion():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], dtype=mg.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad, [3.0, 4.0])
    np.testing.assert_allclose(b.grad, [1.0, 2.0])
