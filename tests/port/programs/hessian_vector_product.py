"""Hessian-vector products by double backward: autograd.grad(..., create_graph=True), then the
gradient of <grad, v>. Checked against Hessians worked out by hand."""
import torch

torch.manual_seed(0)
dtype = torch.float64

# A quadratic f(x) = 1/2 x^T A x + b^T x has Hessian (A + A^T) / 2.
n = 6
A = torch.randn(n, n, dtype=dtype)
b = torch.randn(n, dtype=dtype)
x = torch.randn(n, dtype=dtype, requires_grad=True)
v = torch.randn(n, dtype=dtype)


def f(x):
    return 0.5 * x @ A @ x + b @ x


grad, = torch.autograd.grad(f(x), x, create_graph=True)
assert grad.requires_grad
assert torch.allclose(grad, 0.5 * (A + A.T) @ x + b)
hvp, = torch.autograd.grad(grad @ v, x)
assert torch.allclose(hvp, 0.5 * (A + A.T) @ v)


# A non-quadratic function: f(x) = sum(sin(x)) * sum(x^2).
def g(x):
    return torch.sin(x).sum() * (x ** 2).sum()


x = torch.randn(n, dtype=dtype, requires_grad=True)
grad_x, = torch.autograd.grad(g(x), x, create_graph=True)
hvp, = torch.autograd.grad(grad_x, x, grad_outputs=v, retain_graph=True)
with torch.no_grad():
    s, q = torch.sin(x).sum(), (x ** 2).sum()
    H = (torch.diag(-torch.sin(x)) * q + 2 * torch.outer(torch.cos(x), x) + 2 * torch.outer(x, torch.cos(x))
         + 2 * s * torch.eye(n, dtype=dtype))
assert torch.allclose(hvp, H @ v), (hvp, H @ v)

# The full Hessian, one row per basis vector.
rows = [torch.autograd.grad(grad_x, x, grad_outputs=e, retain_graph=True)[0] for e in torch.eye(n, dtype=dtype)]
assert torch.allclose(torch.stack(rows), H)

# Through a small network's parameters: the HVP matches a finite difference of gradients.
net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
inputs = torch.randn(20, 3, dtype=dtype)
targets = torch.randn(20, 1, dtype=dtype)
params = list(net.parameters())


def loss_fn():
    return torch.nn.functional.mse_loss(net(inputs), targets)


grads = torch.autograd.grad(loss_fn(), params, create_graph=True)
vs = [torch.randn_like(p) for p in params]
dot = sum((g_ * v_).sum() for g_, v_ in zip(grads, vs))
hv = torch.autograd.grad(dot, params)

eps = 1e-6
with torch.no_grad():
    for p, v_ in zip(params, vs):
        p.add_(eps * v_)
g_plus = torch.autograd.grad(loss_fn(), params)
with torch.no_grad():
    for p, v_ in zip(params, vs):
        p.sub_(2 * eps * v_)
g_minus = torch.autograd.grad(loss_fn(), params)
for h, gp, gm in zip(hv, g_plus, g_minus):
    assert torch.allclose(h, (gp - gm) / (2 * eps), atol=1e-6), (h, (gp - gm) / (2 * eps))
print("hessian-vector products: ok")
