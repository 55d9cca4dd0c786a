"""ELU's backward (and SELU's and CELU's, built on it) as accurate as PyTorch's: α·eˣ from the input.

The old y + α from the output lost y's rounding to the cancellation: in float32 2.5e-5 relative at x = -7,
all of it from x = -17 on (y rounds to -α, the derivative to 0). The reference is float64.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from tests.helpers import check_op, torch

# down to -80: e⁻⁸⁰ ≈ 1.8e-35 is still a normal float32 (below ~-87 it is subnormal, and PyTorch loses it too)
X = np.concatenate([-np.geomspace(80.0, 1e-3, 60), [-7.0, -15.0, -0.5, 0.0, -0.0, 0.5, 3.0]])
RTOL = 1e-6  # a few float32 ulps: NumPy's and PyTorch's exp are within 1-3 of the exact value on any CPU


def _grad(fn, x, dtype):
    t = mg.tensor(np.asarray(x, dtype=dtype), requires_grad=True)
    fn(t).sum().backward()
    return t.grad.numpy()


def _exact_elu_grad(x, alpha, scale=1.0):
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, scale, scale * alpha * np.exp(np.minimum(x, 0)))


@pytest.mark.parametrize("alpha", [1.0, 1.3, 0.2])
def test_elu_float32_gradient_is_accurate_to_a_few_ulps(alpha):
    got = _grad(lambda t: F.elu(t, alpha), X, np.float32).astype(np.float64)
    want = _exact_elu_grad(X.astype(np.float32), alpha)  # of the float32 inputs themselves
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-38)


def test_the_documented_points():
    got = _grad(F.elu, [-7.0, -15.0, -0.5], np.float32).astype(np.float64)
    want = np.exp(np.array([-7.0, -15.0, -0.5]))
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-38)


def test_selu_and_celu_gradients_are_accurate_too():
    selu_alpha, selu_scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    xs = X.astype(np.float32)
    np.testing.assert_allclose(_grad(F.selu, X, np.float32).astype(np.float64),
                               _exact_elu_grad(xs, selu_alpha, selu_scale), rtol=RTOL, atol=1e-38)
    keep = xs > -50  # celu(x, 0.7) takes e^(x/0.7): it would underflow below ~-60
    got = _grad(lambda t: F.celu(t, 0.7), xs[keep], np.float32).astype(np.float64)
    xd = xs[keep].astype(np.float64) / np.float64(np.float32(0.7))
    np.testing.assert_allclose(got, np.where(xd > 0, 1.0, np.exp(np.minimum(xd, 0))), rtol=4 * RTOL, atol=1e-38)


@pytest.mark.skipif(torch is None, reason="compares with PyTorch")
@pytest.mark.parametrize("name", ["elu", "selu", "celu"])
def test_float32_gradients_match_torch(name):
    kwargs = {"elu": {"alpha": 1.3}, "selu": {}, "celu": {"alpha": 0.7}}[name]
    xs = X[X > -50].astype(np.float32)  # where torch's float32 celu is accurate too
    t = torch.tensor(xs, requires_grad=True)
    getattr(torch.nn.functional, name)(t, **kwargs).sum().backward()
    got = _grad(lambda u: getattr(F, name)(u, **kwargs), xs, np.float32)
    np.testing.assert_allclose(got, t.grad.numpy(), rtol=4 * RTOL, atol=1e-38)


def test_nan_input_and_inf_dy_at_minus_inf_give_nan_silently():
    # PyTorch's vectorized elu_backward: nan at a nan x (its scalar tail, for the last few elements of a
    # tensor, passes dy instead); inf·0 = nan at x = -inf; 16 copies so torch's vector loop takes them all
    xs, dy = [np.nan, 0.0, -0.0, -np.inf, np.inf, -np.inf] * 16, [2.0, 2.0, 2.0, 2.0, np.inf, np.inf] * 16
    x = mg.tensor(xs, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        F.elu(x, 1.5).backward(mg.tensor(dy))
    np.testing.assert_array_equal(x.grad.numpy()[:6], [np.nan, 3.0, 3.0, 0.0, np.inf, np.nan])
    if torch is not None:
        for name in ("elu", "selu", "celu"):
            t, u = torch.tensor(xs, requires_grad=True), mg.tensor(xs, requires_grad=True)
            getattr(torch.nn.functional, name)(t).backward(torch.tensor(dy))
            getattr(F, name)(u).backward(mg.tensor(dy))
            np.testing.assert_allclose(u.grad.numpy(), t.grad.numpy(), rtol=RTOL, err_msg=name)


def test_in_place_elu_keeps_the_accurate_gradient():
    # torch's elu_ computes from its output (is_result=True) and keeps the old error; matgrad's in-place
    # ops record on a copy of the input, so elu_ has the input's accuracy (a deliberate difference)
    x = mg.tensor(np.float32([-7.0, -15.0, 1.0]), requires_grad=True)
    y = x * 1
    F.elu_(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy().astype(np.float64), [np.exp(-7.0), np.exp(-15.0), 1.0], rtol=RTOL)


@pytest.mark.parametrize("name, kwargs, shape", [("elu", {"alpha": 1.3}, (4, 5)), ("selu", {}, (2, 3, 4)),
                                                  ("celu", {"alpha": 0.6}, (7,))])
def test_gradcheck_first_and_second_order(name, kwargs, shape):
    tf = None if torch is None else (lambda a: getattr(torch.nn.functional, name)(a * 3, **kwargs))
    check_op(lambda a: getattr(F, name)(a * 3, **kwargs), shape, torch_fn=tf)


def test_second_derivative_at_zero_is_torchs():
    # PyTorch's elu_double_backward: d²/dx² elu = α·eˣ where x < 0, 0 from 0 up (the first derivative
    # at 0 is the x <= 0 branch's α, the second the strict mask's 0)
    x = mg.tensor([-1.0, 0.0, 1.0], dtype=mg.float64, requires_grad=True)
    (g,) = mg.autograd.grad(F.elu(x, 2.0).sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [2 * np.exp(-1.0), 2.0, 1.0], rtol=1e-15)
    (gg,) = mg.autograd.grad(g.sum(), [x])
    np.testing.assert_allclose(gg.numpy(), [2 * np.exp(-1.0), 0.0, 0.0], rtol=1e-15)
    if torch is not None:
        t = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64, requires_grad=True)
        (tg,) = torch.autograd.grad(torch.nn.functional.elu(t, 2.0).sum(), [t], create_graph=True)
        (tgg,) = torch.autograd.grad(tg.sum(), [t])
        np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-15)
