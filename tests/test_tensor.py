"""Tensor: attributes, conversions, dtypes, repr and in-place updates."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg


def test_attributes():
    x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert isinstance(x.array, np.ndarray) and x.grad is None and x.requires_grad
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2 and len(x) == 2
    assert x.size == 6 and x.size() == (2, 3) and x.size(1) == 3 and x.numel() == 6
    assert x.dtype == mg.float32 and x.is_leaf and x.grad_fn is None


def test_default_and_kept_dtypes():
    assert mg.tensor([1.0, 2]).dtype == mg.float32  # Python floats: float32, as PyTorch
    assert mg.tensor(np.array([1.0])).dtype == mg.float64  # NumPy float64 is kept
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.tensor([True, False]).dtype == mg.bool_
    assert mg.tensor([1, 2], dtype=mg.float64).dtype == mg.float64
    assert mg.tensor(np.array([1], np.int32)).dtype == mg.int32


def test_set_default_dtype():
    try:
        mg.set_default_dtype(mg.float64)
        assert mg.tensor([1.5]).dtype == mg.float64 and mg.zeros(2).dtype == mg.float64
        assert (mg.tensor([1]) / 2).dtype == mg.float64
    finally:
        mg.set_default_dtype(mg.float32)
    with pytest.raises(TypeError):
        mg.set_default_dtype(mg.int64)


def test_conversions():
    x = mg.tensor([[1.5, 2.0]])
    assert x.numpy() is x.array
    assert x.tolist() == [[1.5, 2.0]]
    assert x[0, 0].item() == 1.5 and isinstance(x[0, 0].item(), float)
    assert isinstance(mg.tensor([3])[0].item(), int)
    assert float(x[0, 1]) == 2.0 and int(x[0, 1]) == 2
    assert mg.tensor(2).tolist() == 2
    assert x.double().dtype == mg.float64 and x.long().tolist() == [[1, 2]]
    assert x.to(mg.float64).dtype == mg.float64 and x.float() is x


def test_detach_and_requires_grad_():
    x = mg.tensor([1.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.grad_fn is None
    z = mg.zeros(2).requires_grad_()
    assert z.requires_grad


@pytest.mark.parametrize("lib", ["matgrad", "torch"])
def test_requires_grad_set_as_an_attribute_as_pytorchs(lib):
    """`t.requires_grad = flag`: a leaf turns on and off, a computed tensor's flag does not change, an integer
    tensor may not turn on (matgrad and PyTorch alike)."""
    m = mg if lib == "matgrad" else pytest.importorskip("torch")
    w = m.zeros(2)
    w.requires_grad = True
    (w * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]
    y = w * 2
    for flag in (True, False):  # a computed tensor's flag is its graph's, either way
        with pytest.raises(RuntimeError, match="leaf") as info:
            y.requires_grad = flag
        if lib == "matgrad":
            assert ("detach" in str(info.value)) is (not flag)
    assert y.requires_grad and y.requires_grad_() is y  # the method may say "on" again
    w.requires_grad = False
    assert not w.requires_grad and (w * 2).grad_fn is None
    n = m.tensor([1, 2])
    n.requires_grad = False  # turning it off is always allowed
    with pytest.raises(RuntimeError):
        n.requires_grad = True
    assert not n.requires_grad


def test_repr_shows_values_shape_dtype_and_op():
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "dtype=matgrad.float64" in repr(mg.tensor([1.0], dtype=mg.float64))
    r = repr(mg.tensor([[1.0, 2.0]], requires_grad=True) * 2)
    assert "2." in r and "4." in r and "shape=(1, 2)" in r and "grad_fn=<MulBackward0>" in r
    assert "requires_grad=True" in repr(mg.tensor([1.0], requires_grad=True))


def test_inplace_helpers():
    x = mg.zeros(3)
    x.fill_(2.0).add_(mg.ones(3), alpha=3).mul_(2)
    np.testing.assert_array_equal(x.array, [10.0, 10.0, 10.0])
    x.zero_()
    assert x.tolist() == [0.0, 0.0, 0.0]
    x.copy_(mg.tensor([1.0, 2.0, 3.0]))
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_operators_with_scalars_on_either_side():
    x = mg.tensor([1.0, 2.0, 4.0])
    assert (2 + x).tolist() == [3, 4, 6] and (x - 1).tolist() == [0, 1, 3] and (1 - x).tolist() == [0, -1, -3]
    assert (3 * x).tolist() == [3, 6, 12] and (x / 2).tolist() == [0.5, 1, 2]
    assert (4 / x).tolist() == [4, 2, 1]
    assert (x**2).tolist() == [1, 4, 16] and (2**x).tolist() == [2, 4, 16] and (-x).tolist() == [-1, -2, -4]
    assert (np.float64(2.0) * x).dtype == mg.float32
    assert (abs(-x)).tolist() == [1, 2, 4]


def test_bool_mask_operators():
    a, b = mg.tensor([True, False]), mg.tensor([True, True])
    assert (a & b).tolist() == [True, False] and (a | b).tolist() == [True, True]
    assert (a ^ b).tolist() == [False, True] and (~a).tolist() == [False, True]
    assert mg.logical_not(a).tolist() == [False, True]
    assert mg.isnan(mg.tensor([np.nan, 1.0])).tolist() == [True, False]
    with pytest.raises(TypeError):
        mg.tensor([1.0]) & mg.tensor([1.0])


def test_inplace_operators_update_data_under_no_grad():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    same = w
    with mg.no_grad():
        w -= 0.1 * w.grad
    assert same is w and w.requires_grad and w.dtype == mg.float32
    np.testing.assert_allclose(w.array, [0.8, 1.6], rtol=1e-6)


def test_inplace_operator_on_a_leaf_that_requires_grad_is_refused():
    w = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w += 1


def test_inplace_operator_on_a_graph_tensor_is_recorded():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    b *= a  # b = 2a², so db/da = 4a
    b.sum().backward()
    np.testing.assert_allclose(a.grad, [4.0, 8.0])


def test_format_spec_on_a_0d_tensor_formats_its_number():
    """`"{:.6f}".format(loss.data)`, as seed 004's program prints its loss (PyTorch allows it for 0-d)."""
    assert f"{mg.tensor(2.0) / 3:.3f}" == "0.667"
    assert f"{mg.tensor(7):>3d}" == "  7"
    assert f"{mg.tensor([1.0])}" == repr(mg.tensor([1.0]))
    with pytest.raises(TypeError):
        f"{mg.tensor([1.0, 2.0]):.2f}"
