"""Automatic differentiation with torch.autograd, as the tutorial teaches it, checked against the
derivatives worked out by hand."""
import torch

torch.manual_seed(0)

x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)

print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")
assert z.grad_fn is not None and loss.grad_fn is not None
assert w.grad is None

loss.backward()
# d loss / d z = (sigmoid(z) - y) / 3, and z = x @ w + b.
dz = (torch.sigmoid(z.detach()) - y) / 3
assert torch.allclose(b.grad, dz, atol=1e-6)
assert torch.allclose(w.grad, torch.outer(x, dz), atol=1e-6)

# Disabling gradient tracking.
z = torch.matmul(x, w) + b
assert z.requires_grad
with torch.no_grad():
    z = torch.matmul(x, w) + b
assert not z.requires_grad

z = torch.matmul(x, w) + b
z_det = z.detach()
assert not z_det.requires_grad

# Gradients accumulate until they are zeroed.
inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
first = inp.grad.clone()
assert torch.allclose(first, 2 * (inp.detach() + 1))
out.backward(torch.ones_like(out), retain_graph=True)
assert torch.allclose(inp.grad, 2 * first)
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
assert torch.allclose(inp.grad, first)

# A scalar function of a scalar: f(a) = a^3 + 2a, f'(2) = 14.
a = torch.tensor(2.0, requires_grad=True)
f = a ** 3 + 2 * a
f.backward()
assert a.grad.item() == 14.0

# Non-leaf tensors keep their .grad only when asked to.
p = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
q = p * 2
q.retain_grad()
r = (q * q).sum()
r.backward()
assert torch.allclose(q.grad, 2 * q.detach())
assert torch.allclose(p.grad, 8 * p.detach())
assert p.is_leaf and not q.is_leaf
print("autograd: ok")
