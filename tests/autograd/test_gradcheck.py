"""gradcheck itself: passes right gradients, reports wrong ones precisely, refuses float32."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.autograd import GradcheckError
from matgrad.autograd.op import Op


class WrongSquare(Op):
    """y = x², with a deliberately wrong backward (3x instead of 2x)."""

    def forward(self, x):
        return x * x

    def backward(self, dy):
        (x,) = self.inputs
        return dy * 3 * x


def test_gradcheck_passes_a_right_gradient():
    x = mg.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    assert mg.gradcheck(lambda t: (t * t).exp(), [x])
    assert mg.gradgradcheck(lambda t: (t * t).exp(), [x])


def test_gradcheck_reports_input_index_analytic_numeric():
    x = mg.tensor(np.array([1.0, 2.0]), dtype=mg.float64, requires_grad=True)
    y = mg.tensor(np.array([0.0, 0.0]), dtype=mg.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        mg.gradcheck(lambda a, b: a + WrongSquare.apply(b + 1), [x, y], eps=1e-6, atol=1e-5, rtol=1e-3)
    msg = str(info.value)
    assert isinstance(info.value, RuntimeError)  # as PyTorch's GradcheckError, so `except RuntimeError` catches it
    assert "input 1" in msg and "index (0,)" in msg and "analytic" in msg and "numeric" in msg


def test_gradcheck_without_raise_returns_false():
    x = mg.tensor(np.array([1.0]), requires_grad=True)
    assert mg.gradcheck(lambda t: WrongSquare.apply(t), [x], raise_exception=False) is False


def test_gradcheck_refuses_float32():
    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="float64"):
        mg.gradcheck(lambda t: t * 2, [x])


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires grad"):
        mg.gradcheck(lambda t: t * 2, [mg.tensor(np.array([1.0]))])
