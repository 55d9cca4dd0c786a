"""max_pool2d, avg_pool2d, adaptive_avg_pool2d: finite differences (first and second order) and PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from tests.helpers import assert_close, check_op, torch

F = None if torch is None else torch.nn.functional


def _t(name, *args, **kwargs):
    return None if F is None else (lambda x: getattr(F, name)(x, *args, **kwargs))


# (input shape, kernel, stride, padding, dilation)
MAX_CASES = [
    ((2, 3, 6, 6), 2, None, 0, 1),
    ((1, 2, 7, 5), 3, 2, 1, 1),
    ((2, 1, 7, 8), (2, 3), (1, 2), (1, 0), 1),
    ((1, 2, 7, 7), 2, 1, 1, 2),
    # windows apart (stride > dilation·(kernel-1)): the backward writes each window in place
    ((2, 2, 7, 7), 2, 2, 1, 1),
    ((1, 2, 8, 9), (2, 3), (3, 3), 0, 1),
    ((1, 1, 7, 7), 2, 3, 0, 2),
]


@pytest.mark.parametrize("shape, k, s, p, d", MAX_CASES)
def test_max_pool2d(shape, k, s, p, d):
    check_op(lambda x: max_pool2d(x, k, s, p, d), shape, torch_fn=_t("max_pool2d", k, s, p, d))


AVG_CASES = [
    ((2, 3, 6, 6), 2, None, 0, True),
    ((1, 2, 7, 5), 3, 2, 1, True),
    ((1, 2, 7, 5), 3, 2, 1, False),
    ((2, 1, 5, 8), (2, 3), (1, 2), (1, 1), False),
]


@pytest.mark.parametrize("shape, k, s, p, cip", AVG_CASES)
def test_avg_pool2d(shape, k, s, p, cip):
    check_op(lambda x: avg_pool2d(x, k, s, p, count_include_pad=cip), shape,
             torch_fn=_t("avg_pool2d", k, s, p, count_include_pad=cip))


def test_avg_pool2d_divisor_override():
    check_op(lambda x: avg_pool2d(x, 2, 1, divisor_override=3), (1, 2, 4, 5),
             torch_fn=_t("avg_pool2d", 2, 1, divisor_override=3))


@pytest.mark.parametrize("shape, size", [((2, 3, 7, 6), (3, 4)), ((1, 2, 5, 5), 1),
                                         ((1, 1, 4, 6), (5, None))])
def test_adaptive_avg_pool2d(shape, size):
    check_op(lambda x: adaptive_avg_pool2d(x, size), shape, torch_fn=_t("adaptive_avg_pool2d", size))


def test_max_pool_routes_the_gradient_to_the_argmax_only():
    x = mg.tensor([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 9.0, 8.0]]]], requires_grad=True)
    y = max_pool2d(x, 2)
    np.testing.assert_array_equal(y.numpy(), [[[[5.0, 9.0]]]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[0, 1, 0, 0], [0, 0, 1, 0]]]])


def test_max_pool_ties_route_to_the_first_maximum_like_torch():
    x = np.array([[[[2.0, 2.0, 1.0, 3.0], [2.0, 0.0, 3.0, 3.0], [5.0, 5.0, 5.0, 5.0], [5.0, 5.0, 5.0, 5.0]]]])
    ours = mg.tensor(x, requires_grad=True)
    max_pool2d(ours, 2, 1).sum().backward()  # overlapping windows, many ties
    # windows at row 0: first 2 at (0,0), 3 at (1,2), first 3 at (0,3); rows 1-2 and 2-3: the 5s of row 2
    expected = np.array([[[[1, 0, 0, 1], [0, 0, 1, 0], [2, 2, 2, 0], [0, 0, 0, 0]]]], dtype=float)
    np.testing.assert_array_equal(ours.grad, expected)
    if torch is not None:
        theirs = torch.tensor(x, requires_grad=True)
        F.max_pool2d(theirs, 2, 1).sum().backward()
        np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())


@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (2, 2, 1), (3, 3, 1), (2, 1, 0)])
def test_max_pool_after_relu_routes_zero_ties_like_torch(k, s, p):
    # ReLU leaves whole windows of zeros: each must send its gradient to its first zero only
    if torch is None:
        pytest.skip("needs PyTorch")
    rng = np.random.default_rng(0)
    x = np.maximum(rng.standard_normal((4, 3, 13, 13)), 0).astype(np.float32)
    dy = rng.standard_normal(F.max_pool2d(torch.tensor(x), k, s, p).shape).astype(np.float32)
    ours = mg.tensor(x, requires_grad=True)
    max_pool2d(ours, k, s, p).backward(mg.tensor(dy))
    theirs = torch.tensor(x, requires_grad=True)
    F.max_pool2d(theirs, k, s, p).backward(torch.tensor(dy))
    if s >= k:  # one window per pixel: each gradient is one dy, exactly
        np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())
    else:  # overlapping windows add several dy, in another order than PyTorch's
        assert_close(ours.grad, theirs.grad.numpy(), rtol=1e-5)
        np.testing.assert_array_equal(ours.grad != 0, theirs.grad.numpy() != 0)


def test_max_pool_nan_wins_its_window_like_torch():
    x = mg.tensor([[[[1.0, np.nan, 2.0, 0.0], [3.0, 4.0, 9.0, 8.0]]]])
    y = max_pool2d(x, 2).numpy()
    assert np.isnan(y[0, 0, 0, 0]) and y[0, 0, 0, 1] == 9.0


def test_max_pool_padding_is_never_the_maximum():
    x = mg.full((1, 1, 3, 3), -7.0)
    assert max_pool2d(x, 3, 1, 1).numpy().max() == -7.0


def test_float32_and_unbatched():
    x = mg.randn(3, 8, 8, requires_grad=True)
    for y in (max_pool2d(x, 2), avg_pool2d(x, 2), adaptive_avg_pool2d(x, 4)):
        assert y.shape == (3, 4, 4) and y.dtype == np.float32
        y.sum().backward()
        assert x.grad.dtype == np.float32


@pytest.mark.parametrize("call, exc, match", [
    (lambda x: max_pool2d(x, 2, padding=2), ValueError, "at most half"),
    (lambda x: max_pool2d(x, 9), ValueError, "smaller than the window"),
    (lambda x: avg_pool2d(x, 2, ceil_mode=True), NotImplementedError, "ceil_mode"),
    (lambda x: max_pool2d(x[0, 0], 2), ValueError, "expected input of shape"),
])
def test_bad_arguments_say_what_is_wrong(call, exc, match):
    with pytest.raises(exc, match=match):
        call(mg.zeros(1, 1, 4, 4))
