"""Gradients of gradients: autograd.grad with create_graph, Hessian-vector products, Newton."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.autograd import grad


def f64(data, grad=True):
    return mg.tensor(np.asarray(data, dtype=np.float64), requires_grad=grad)


def test_grad_returns_tensors_and_leaves_dot_grad_alone():
    x = f64([1.0, 2.0])
    (g,) = grad((x**3).sum(), x)
    assert isinstance(g, mg.Tensor)
    np.testing.assert_allclose(g.array, [3.0, 12.0])
    assert x.grad is None


def test_second_derivative_of_cubic():
    x = f64(1.5)
    (g,) = grad(x**3, x, create_graph=True)
    (h,) = grad(g, x)
    assert g.item() == pytest.approx(3 * 1.5**2)
    assert h.item() == pytest.approx(6 * 1.5)


def test_third_derivative_of_exp_sin():
    x = f64(0.3)
    y = (x * 2).sin()
    (d1,) = grad(y, x, create_graph=True)
    (d2,) = grad(d1, x, create_graph=True)
    (d3,) = grad(d2, x)
    assert d3.item() == pytest.approx(-8 * np.cos(0.6))


def test_hessian_vector_product():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    A = a @ a.T
    x = f64(rng.standard_normal(4))
    v = f64(rng.standard_normal(4), grad=False)
    At = mg.tensor(A)
    f = 0.5 * (x @ (At @ x)) + (x**4).sum()  # H = A + diag(12 x²)
    (g,) = grad(f, x, create_graph=True)
    (hv,) = grad(g, x, grad_outputs=v)
    expected = A @ v.array + 12 * x.array**2 * v.array
    np.testing.assert_allclose(hv.array, expected, rtol=1e-10)


def test_hvp_through_softmax_tanh_matmul_matches_finite_differences():
    rng = np.random.default_rng(1)
    W = mg.tensor(rng.standard_normal((3, 5)))
    v = rng.standard_normal(3)

    def grad_at(xv):
        x = f64(xv)
        (g,) = grad((x @ W).tanh().log_softmax(-1).sum() + (x.sigmoid() ** 2).sum(), x, create_graph=True)
        return x, g

    x0 = rng.standard_normal(3)
    x, g = grad_at(x0)
    (hv,) = grad(g, x, grad_outputs=mg.tensor(v))
    eps = 1e-6
    fd = (grad_at(x0 + eps * v)[1].array - grad_at(x0 - eps * v)[1].array) / (2 * eps)
    np.testing.assert_allclose(hv.array, fd, rtol=1e-5, atol=1e-7)


def test_newton_method_finds_sqrt():
    a = 2.0
    x = f64(1.0)
    for _ in range(8):
        f = x * x - a
        (df,) = grad(f, x, create_graph=True)
        with mg.no_grad():
            x = f64(x.array - f.array / df.array)
    assert x.item() == pytest.approx(np.sqrt(a), rel=1e-12)


def test_newton_minimises_with_second_derivative():
    # minimise (x - sqrt(a))² style: f(x) = x⁴/4 - a·x²/2 has f'(x) = x(x² - a), min at sqrt(a)
    a = 3.0
    x = f64(2.0)
    for _ in range(20):
        f = x**4 / 4 - a * x**2 / 2
        (g,) = grad(f, x, create_graph=True)
        (h,) = grad(g, x)
        x = f64(x.array - g.array / h.array)
    assert x.item() == pytest.approx(np.sqrt(a), rel=1e-10)


def test_backward_create_graph_makes_grad_differentiable():
    x = f64([1.0, 2.0])
    (x**3).sum().backward(create_graph=True)
    gx = x.grad
    assert isinstance(gx, mg.Tensor) and gx.requires_grad
    np.testing.assert_allclose(gx.array, [3.0, 12.0])
    x.grad = None
    gx.sum().backward()
    np.testing.assert_allclose(x.grad.array if isinstance(x.grad, mg.Tensor) else x.grad, [6.0, 12.0])


def test_grad_of_several_outputs_and_inputs():
    x, y = f64(2.0), f64(3.0)
    gx, gy = grad([x * y, x + y], [x, y])
    assert gx.item() == pytest.approx(3.0 + 1.0)
    assert gy.item() == pytest.approx(2.0 + 1.0)


def test_grad_unused_input():
    x, y = f64(2.0), f64(3.0)
    with pytest.raises(RuntimeError, match="allow_unused"):
        grad(x * 2, [x, y])
    gx, gy = grad(x * 2, [x, y], allow_unused=True)
    assert gx.item() == 2.0 and gy is None


def test_grad_of_intermediate_tensor():
    x = f64([1.0, 2.0])
    h = x * 3
    (gh,) = grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.array, [6.0, 12.0])


def test_grad_frees_graph_unless_retained():
    x = f64(2.0)
    y = x.exp()
    grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph"):
        grad(y, x)
    z = x.exp()
    grad(z, x, retain_graph=True)
    assert grad(z, x)[0].item() == pytest.approx(np.exp(2.0))


def test_plain_backward_after_create_graph_accumulates_into_the_tensor_grad():
    x = f64([1.0, 2.0])
    (x**3).sum().backward(create_graph=True)
    (x**2).sum().backward()
    assert isinstance(x.grad, mg.Tensor)
    np.testing.assert_allclose(x.grad.array, [3.0 + 2.0, 12.0 + 4.0])


def test_a_seed_that_requires_grad_stays_on_the_graph_under_create_graph():
    """grad(y, x, v, create_graph=True) = Jᵀv is differentiable in v too, as PyTorch's: d(Σ Jᵀv)/dv = J·1."""
    x = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    v = mg.tensor([0.5, -1.0, 2.0], dtype=mg.float64, requires_grad=True)
    (g,) = mg.autograd.grad(x ** 3, x, grad_outputs=v, create_graph=True)  # 3x²·v
    gv, gx = mg.autograd.grad(g.sum(), (v, x))
    np.testing.assert_allclose(g.detach().numpy(), [1.5, -12.0, 54.0], rtol=1e-15)
    np.testing.assert_allclose(gv.numpy(), [3.0, 12.0, 27.0], rtol=1e-15)  # 3x²
    np.testing.assert_allclose(gx.numpy(), [3.0, -12.0, 36.0], rtol=1e-15)  # 6x·v
    w = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)  # backward(create_graph) alike, into .grad
    s = mg.tensor([2.0, 3.0], dtype=mg.float64, requires_grad=True)
    (w * w).backward(s, create_graph=True)
    (ds,) = mg.autograd.grad(w.grad.sum(), s)
    np.testing.assert_allclose(ds.numpy(), [2.0, 4.0], rtol=1e-15)  # d(2w·s)/ds
    u = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)  # a constant seed stays a constant
    (gu,) = mg.autograd.grad(u * u, u, grad_outputs=mg.tensor([1.0, 1.0], dtype=mg.float64), create_graph=True)
    assert gu.requires_grad
