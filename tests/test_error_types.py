"""Bad input raises PyTorch's exception type, with a message that names the problem.

Code written for PyTorch catches RuntimeError for shapes that cannot be multiplied or broadcast, ValueError for
hardtanh's reversed bounds, TypeError for a size that is not an integer. Each case below runs in matgrad and,
where PyTorch is installed, in torch too, so the table's type is checked to be torch's own.

Broadcast failures (and item() of a many-element tensor) raise matgrad.tensor.ShapeError: a RuntimeError, as
PyTorch's, and a ValueError, as NumPy's and as matgrad raised before, so either kind of except catches them.
"""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.tensor import ShapeError
from tests.helpers import torch


def T(L, *shape):
    """A float32 tensor of `shape` in library L (matgrad or torch), values 1/7, 2/7, ..."""
    n = int(np.prod(shape)) if shape else 1
    return L.tensor((np.arange(n, dtype=np.float32).reshape(shape) + 1) / 7)


def TI(L, *shape):
    """An int64 tensor of `shape` in library L."""
    return L.tensor(np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape))


def F(L):
    return L.nn.functional


CASES = [  # (id, call on library L, torch's type, a pattern of matgrad's message)
    # --- the matrix products
    ("matmul_inner", lambda L: L.matmul(T(L, 2, 3), T(L, 2, 3)), RuntimeError, r"inner dimensions 3 and 2 differ"),
    ("matmul_operator", lambda L: T(L, 3, 4) @ T(L, 5, 2), RuntimeError, r"\(3, 4\) @ \(5, 2\)"),
    ("matmul_vectors", lambda L: T(L, 3) @ T(L, 4), RuntimeError, "inner dimensions 3 and 4"),
    ("matmul_0d", lambda L: L.matmul(T(L), T(L, 2)), RuntimeError, "at least 1D.*use \\*"),
    ("matmul_batch", lambda L: L.matmul(T(L, 2, 2, 3), T(L, 3, 3, 2)), RuntimeError,
     r"batch dimensions \(2,\) and \(3,\) cannot be broadcast"),
    ("matmul_3d_1d", lambda L: T(L, 2, 2, 3) @ T(L, 4), RuntimeError, "inner dimensions 3 and 4"),
    ("Tensor_matmul", lambda L: T(L, 2, 3).matmul(T(L, 2, 3)), RuntimeError, "inner dimensions"),
    ("linalg_matmul", lambda L: L.linalg.matmul(T(L, 2, 3), T(L, 2, 3)), RuntimeError, "inner dimensions"),
    ("mm_3d", lambda L: L.mm(T(L, 2, 2, 2), T(L, 2, 2)), RuntimeError, "self must be a matrix"),
    ("mm_1d_mat2", lambda L: L.mm(T(L, 2, 2), T(L, 2)), RuntimeError, "mat2 must be a matrix"),
    ("mm_inner", lambda L: L.mm(T(L, 2, 3), T(L, 2, 3)), RuntimeError, "inner dimensions 3 and 2"),
    ("bmm_2d", lambda L: L.bmm(T(L, 2, 3), T(L, 3, 2)), RuntimeError, "batch1 must be a 3D tensor"),
    ("bmm_4d", lambda L: L.bmm(T(L, 1, 2, 2, 3), T(L, 1, 2, 3, 2)), RuntimeError, "batch1 must be a 3D tensor"),
    ("bmm_2d_batch2", lambda L: L.bmm(T(L, 1, 2, 2), T(L, 2, 2)), RuntimeError, "batch2 must be a 3D tensor"),
    ("bmm_inner", lambda L: L.bmm(T(L, 2, 2, 3), T(L, 2, 2, 3)), RuntimeError,
     r"first two dimensions of batch2 tensor to be: \[2, 3\] but got: \[2, 2\]"),
    ("bmm_batch", lambda L: L.bmm(T(L, 2, 2, 3), T(L, 3, 3, 2)), RuntimeError, r"\[2, 3\] but got: \[3, 3\]"),
    ("Tensor_bmm_2d", lambda L: T(L, 2, 3).bmm(T(L, 3, 2)), RuntimeError, "3D tensor"),
    ("dot_2d", lambda L: L.dot(T(L, 2, 2), T(L, 2, 2)), RuntimeError, "1D tensors expected, but got 2D and 2D"),
    ("dot_lengths", lambda L: L.dot(T(L, 3), T(L, 4)), RuntimeError, "inconsistent tensor size.*3 and 4"),
    ("Tensor_dot_0d", lambda L: T(L).dot(T(L)), RuntimeError, "1D tensors expected"),
    ("addr_vec1", lambda L: L.addr(T(L, 2, 2), T(L, 2, 1), T(L, 2)), RuntimeError,
     r"addr: Expected 1-D argument vec1, but got 2-D \(shape \(2, 1\)\)"),
    ("addr_vec2", lambda L: L.addr(T(L, 2, 2), T(L, 2), T(L, 2, 1)), RuntimeError, "1-D argument vec2"),
    ("Tensor_addr", lambda L: T(L, 2, 2).addr(T(L, 2, 1), T(L, 2)), RuntimeError, "1-D argument vec1"),
    ("linear_in_features", lambda L: F(L).linear(T(L, 2, 3), T(L, 4, 2)), RuntimeError, "in_features=2"),
    ("Linear_in_features", lambda L: L.nn.Linear(3, 2)(T(L, 2, 4)), RuntimeError, "in_features=3"),
    ("linear_dtypes", lambda L: F(L).linear(T(L, 2, 3).double(), T(L, 4, 3)), RuntimeError,
     "same dtype: input is float64 but weight is float32"),
    # --- elementwise operands that do not broadcast
    ("add", lambda L: T(L, 2, 3) + T(L, 4), RuntimeError, r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    ("mul", lambda L: L.mul(T(L, 2), T(L, 3)), RuntimeError, "mul: shapes"),
    ("div_rounded", lambda L: L.div(T(L, 2), T(L, 3), rounding_mode="floor"), RuntimeError, "div: shapes"),
    ("maximum", lambda L: L.maximum(T(L, 2), T(L, 3)), RuntimeError, "maximum: shapes"),
    ("lt", lambda L: T(L, 2) < T(L, 3), RuntimeError, r"lt: shapes \(2,\) and \(3,\)"),
    ("isclose", lambda L: L.isclose(T(L, 2), T(L, 3)), RuntimeError, "isclose: shapes"),
    ("where", lambda L: L.where(T(L, 2) > 0, T(L, 3), 0.0), RuntimeError, r"where: condition \(2,\)"),
    ("bitwise_and", lambda L: TI(L, 2) & TI(L, 3), RuntimeError, "bitwise_and: shapes"),
    ("shift", lambda L: TI(L, 2) << TI(L, 3), RuntimeError, "bitwise_left_shift: shapes"),
    ("clamp_bounds", lambda L: L.clamp(T(L, 2), min=T(L, 3)), RuntimeError, "clamp: input"),
    ("addcmul", lambda L: L.addcmul(T(L, 2), T(L, 3), T(L, 2)), RuntimeError, "addcmul: shapes"),
    ("xlogy", lambda L: L.xlogy(T(L, 2), T(L, 3)), RuntimeError, "xlogy: shapes"),
    ("zeta", lambda L: L.special.zeta(T(L, 2) + 2, T(L, 3)), RuntimeError, "zeta: shapes"),
    ("mse_loss", lambda L: F(L).mse_loss(T(L, 2), T(L, 3)), RuntimeError, "cannot be broadcast"),
    ("cosine_similarity", lambda L: F(L).cosine_similarity(T(L, 2, 3), T(L, 2, 4)), RuntimeError,
     r"cosine_similarity: shapes \(2, 3\) and \(2, 4\)"),
    ("masked_fill_shape", lambda L: T(L, 3).masked_fill(L.tensor([True, False]), 0.0), RuntimeError,
     r"mask of shape \(2,\)"),
    ("trapezoid_x_shape", lambda L: L.trapezoid(T(L, 3, 2), T(L, 2, 2), dim=1), RuntimeError, "does not match y"),
    # --- in place: the result must keep this tensor's shape
    ("add_", lambda L: T(L, 2).add_(T(L, 2, 2)), RuntimeError, r"add_.*keeps this tensor's shape \(2,\)"),
    ("iadd", lambda L: T(L, 2).__iadd__(T(L, 3)), RuntimeError, "__iadd__"),
    ("copy_", lambda L: T(L, 3).copy_(T(L, 2)), RuntimeError, r"copy_.*shape \(3,\)"),
    ("setitem", lambda L: T(L, 3).__setitem__(slice(None), T(L, 2)), RuntimeError, "__setitem__"),
    ("index_put", lambda L: T(L, 3).index_put((L.tensor([0, 1]),), T(L, 3)), RuntimeError, "index_put"),
    ("item", lambda L: T(L, 2).item(), RuntimeError, r"2 elements cannot be converted.*shape \(2,\)"),
    ("fill_tensor", lambda L: T(L, 3).fill_(T(L, 2)), RuntimeError, "2 elements"),
    # --- bad enum strings and arguments
    ("div_rounding_mode", lambda L: L.div(T(L, 3), T(L, 3), rounding_mode="bad"), RuntimeError,
     "rounding_mode to be one of None, 'trunc', or 'floor' but found 'bad'"),
    ("Tensor_div_rounding_mode", lambda L: T(L, 3).div(2, rounding_mode="bad"), RuntimeError, "rounding_mode"),
    ("div__rounding_mode", lambda L: T(L, 3).div_(2, rounding_mode="bad"), RuntimeError, "rounding_mode"),
    ("divide_rounding_mode", lambda L: L.divide(T(L, 3), 2, rounding_mode="bad"), RuntimeError, "rounding_mode"),
    ("gelu_approximate", lambda L: F(L).gelu(T(L, 2), approximate="bogus"), RuntimeError, "'none' or 'tanh'"),
    ("clamp_no_bounds", lambda L: L.clamp(T(L, 2)), RuntimeError, "'min' or 'max' must not be None"),
    ("quantile_interpolation", lambda L: L.quantile(T(L, 3), 0.5, interpolation="bogus"), RuntimeError,
     "interpolation must be one of"),
    ("norm_p", lambda L: L.norm(T(L, 3), p="bogus"), RuntimeError, "p must be"),
    ("Conv2d_padding_mode", lambda L: L.nn.Conv2d(1, 1, 3, padding_mode="bogus"), ValueError,
     "padding_mode must be one of"),
    ("ConvTranspose2d_padding_mode", lambda L: L.nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect"), ValueError,
     '"zeros" padding mode'),
    ("hardtanh_reversed", lambda L: F(L).hardtanh(T(L, 3), min_val=2, max_val=1), ValueError,
     "min_val cannot be greater than max_val"),
    ("hardtanh_inplace_reversed", lambda L: F(L).hardtanh(T(L, 3), 0.5, -0.5, True), ValueError, "min_val"),
    ("smooth_l1_beta", lambda L: F(L).smooth_l1_loss(T(L, 2), T(L, 2), beta=-1.0), RuntimeError, "beta"),
    ("huber_delta", lambda L: F(L).huber_loss(T(L, 2), T(L, 2), delta=-1.0), RuntimeError, "delta"),
    ("cross_entropy_label_smoothing", lambda L: F(L).cross_entropy(T(L, 2, 3), L.tensor([0, 1]),
                                                                   label_smoothing=2.0), RuntimeError,
     "label_smoothing must be between 0.0 and 1.0"),
    ("cross_entropy_weight", lambda L: F(L).cross_entropy(T(L, 2, 3), L.tensor([0, 1]), weight=T(L, 4)),
     RuntimeError, r"weight must have shape \(3,\)"),
    ("diff_0d", lambda L: L.diff(T(L)), RuntimeError, "at least one-dimensional"),
    ("diff_negative_n", lambda L: L.diff(T(L, 3), n=-1), RuntimeError, "non-negative but got -1"),
    ("diff_float_n", lambda L: L.diff(T(L, 3), n=1.5), TypeError, "'n' must be int"),
    ("trapezoid_points", lambda L: L.trapezoid(T(L, 3), T(L, 4)), RuntimeError, "one `x` value for each sample"),
    # --- indices and layer inputs
    ("one_hot_float", lambda L: F(L).one_hot(T(L, 3)), RuntimeError, "LongTensor.*convert with .long"),
    ("one_hot_too_large", lambda L: F(L).one_hot(L.tensor([5]), 3), RuntimeError, "smaller than num_classes"),
    ("one_hot_negative", lambda L: F(L).one_hot(L.tensor([-1]), 3), RuntimeError, "non-negative"),
    ("embedding_float", lambda L: F(L).embedding(T(L, 2), T(L, 5, 3)), RuntimeError, "Long, Int.*float32"),
    ("embedding_1d_weight", lambda L: F(L).embedding(L.tensor([1]), T(L, 5)), RuntimeError, "must be 2-D"),
    ("masked_fill_float_mask", lambda L: T(L, 3).masked_fill(T(L, 3), 0.0), RuntimeError, "boolean masks"),
    ("masked_fill_value", lambda L: T(L, 3).masked_fill(L.tensor([True, False, True]), T(L, 2)), RuntimeError,
     "0-d"),
    ("pad_odd", lambda L: F(L).pad(T(L, 1, 2, 3), (1,)), RuntimeError, "divisible by 2"),
    ("pad_too_long", lambda L: F(L).pad(T(L, 3), (1, 1, 1, 1)), RuntimeError, "two times the input dimension"),
    ("pad_crop", lambda L: F(L).pad(T(L, 3), (-2, -2)), RuntimeError, "below zero"),
    ("interpolate_2d", lambda L: F(L).interpolate(T(L, 1, 4), size=8), NotImplementedError, "3D, 4D and 5D"),
    ("sdpa_E", lambda L: F(L).scaled_dot_product_attention(T(L, 1, 2, 3), T(L, 1, 2, 4), T(L, 1, 2, 4)),
     RuntimeError, "same E"),
    ("sdpa_1d", lambda L: F(L).scaled_dot_product_attention(T(L, 3), T(L, 3), T(L, 3)), RuntimeError,
     "at least 2 dims"),
    ("sdpa_dtypes", lambda L: F(L).scaled_dot_product_attention(T(L, 1, 2, 3), T(L, 1, 2, 3).double(),
                                                                T(L, 1, 2, 3)), RuntimeError, "one floating dtype"),
    ("affine_grid_batch", lambda L: F(L).affine_grid(T(L, 2, 2, 3), [1, 1, 2, 2], False), RuntimeError,
     "theta holds 2 matrices"),
    ("BatchNorm_channels", lambda L: L.nn.BatchNorm1d(4)(T(L, 2, 3)), RuntimeError, "expected 4 channels"),
    ("GroupNorm_channels", lambda L: L.nn.GroupNorm(2, 4)(T(L, 2, 6, 3)), RuntimeError, "expected 4 channels"),
    ("Unflatten", lambda L: L.nn.Unflatten(1, (2, 2))(T(L, 2, 3)), RuntimeError, "product must be 3"),
    # --- factories
    ("zeros_negative", lambda L: L.zeros(-1), RuntimeError, r"negative dimension -1: \[-1\]"),
    ("ones_negative", lambda L: L.ones(2, -3), RuntimeError, r"negative dimension -3: \[2, -3\]"),
    ("randn_negative", lambda L: L.randn(-2), RuntimeError, "negative dimension"),
    ("full_negative", lambda L: L.full((-1,), 1.0), RuntimeError, "negative dimension"),
    ("randperm_negative", lambda L: L.randperm(-1), RuntimeError, "negative dimension"),
    ("zeros_float", lambda L: L.zeros(2.5), TypeError, "must be tuple of ints"),
    ("full_float", lambda L: L.full((1.5,), 1.0), TypeError, "must be tuple of ints"),
    ("eye_negative", lambda L: L.eye(-1), RuntimeError, "n must be greater or equal to 0"),
    ("eye_negative_m", lambda L: L.eye(2, -1), RuntimeError, "m must be greater or equal to 0"),
    ("arange_step_0", lambda L: L.arange(0, 5, 0), RuntimeError, "step must be nonzero"),
    ("arange_step_sign", lambda L: L.arange(0, 5, -1), RuntimeError, "inconsistent with step sign"),
    ("linspace_negative", lambda L: L.linspace(0, 1, -1), RuntimeError, "must be non-negative"),
    ("randint_empty_range", lambda L: L.randint(3, 3, (2,)), RuntimeError, "from=3 >= to=3"),
]


@pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")  # mse_loss's, in both, before the error
@pytest.mark.parametrize("call, exc, pattern", [pytest.param(c, e, p, id=i) for i, c, e, p in CASES])
def test_matgrad_raises_torchs_type(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call(mg)
    if torch is not None:  # the table's type is torch's own
        with pytest.raises(exc):
            call(torch)


BROADCASTS = [c for c in CASES if c[0] in {"add", "mul", "lt", "where", "bitwise_and", "clamp_bounds", "add_",
                                          "copy_", "setitem", "index_put", "cosine_similarity", "item"}]


@pytest.mark.parametrize("call", [pytest.param(c, id=i) for i, c, _, _ in BROADCASTS])
def test_shape_errors_are_still_value_errors(call):
    """NumPy raises ValueError for these, and matgrad did: code that catches it keeps working."""
    with pytest.raises(ShapeError) as info:
        call(mg)
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ValueError)


def test_float_and_int_of_many_elements_stay_value_errors():
    """PyTorch: item() raises RuntimeError, but float() and int() raise ValueError; ShapeError is both."""
    for conv in (float, int):
        with pytest.raises(ValueError, match="2 elements"):
            conv(mg.ones(2))
        if torch is not None:
            with pytest.raises(ValueError):
                conv(torch.ones(2))


def test_what_torch_accepts_still_works():
    """The new checks refuse only what PyTorch refuses."""
    a, b = np.ones((2, 2, 3), np.float32), np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    np.testing.assert_array_equal(mg.bmm(mg.tensor(a), mg.tensor(b)).numpy(), a @ b)
    x = mg.tensor([-3.0, 0.0, 3.0])
    assert F(mg).hardtanh(x, 0.5, 0.5).tolist() == [0.5, 0.5, 0.5]  # equal bounds are fine
    assert F(mg).hardtanh_(x, 2.0, 1.0).tolist() == [1.0, 1.0, 1.0]  # hardtanh_ does not check, as PyTorch's
    assert mg.zeros(mg.tensor(2)).shape == (2,) and mg.zeros(np.int64(3)).shape == (3,)
    assert mg.arange(5, 0, -1).tolist() == [5, 4, 3, 2, 1] and mg.arange(0, 0).shape == (0,)
    assert mg.linspace(0, 1, 0).shape == (0,) and mg.eye(0).shape == (0, 0)
    assert mg.clamp(mg.ones(2), min=mg.zeros(1)).tolist() == [1.0, 1.0]
    assert mg.ones(2, 3).add_(mg.ones(3)).tolist() == [[2.0] * 3] * 2  # broadcasting into self is fine
    if torch is not None:
        want = torch.nn.functional.hardtanh_(torch.tensor([-3.0, 0.0, 3.0]), 2.0, 1.0)
        assert want.tolist() == [1.0, 1.0, 1.0]
        assert torch.zeros(torch.tensor(2)).shape == (2,)
