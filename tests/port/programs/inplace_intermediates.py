"""In-place operations on tensors inside the graph, as PyTorch allows them: h += 1, h[idx] = v,
masked_fill_, relu_, clamp_, nn.ReLU(inplace=True); aliases see the change and gradients are right."""
import torch
import torch.nn as nn

torch.manual_seed(0)

x = torch.randn(4, 5, requires_grad=True)
w = torch.randn(5, 3, requires_grad=True)

# h += 1 happens in place: another name for h sees it.
h = x @ w
alias = h
h += 1
assert alias is h
assert torch.allclose(alias, x.detach() @ w.detach() + 1)
h.sum().backward()
assert torch.allclose(x.grad, torch.ones(4, 3) @ w.detach().T)
x.grad = None
w.grad = None

# relu_ and clamp_ on an intermediate.
h = x @ w
h.relu_()
assert (h >= 0).all()
h.sum().backward()
mask = (x.detach() @ w.detach() > 0).float()
assert torch.allclose(w.grad, x.detach().T @ mask, atol=1e-6)
w.grad = None
x.grad = None

h = x * 3
h.clamp_(min=-1.0, max=1.0)
h.sum().backward()
inside = ((3 * x.detach()).abs() < 1).float()
assert torch.allclose(x.grad, 3 * inside)
x.grad = None

# Indexed assignment and masked_fill_ on an intermediate cut the gradient where they write.
h = x * 2
h[0, 0] = 0.0
h.masked_fill_(h > 1.0, 1.0)
h.sum().backward()
expected = 2 * ((2 * x.detach()) <= 1.0).float()
expected[0, 0] = 0.0
assert torch.allclose(x.grad, expected)
x.grad = None

# A view sees the write made through its base.
h = x * 1.0
row = h[1]
h.mul_(2)
assert torch.allclose(row, 2 * x.detach()[1])

# nn.ReLU(inplace=True) in a model trains like the out-of-place one.
torch.manual_seed(1)
net_inplace = nn.Sequential(nn.Linear(5, 8), nn.ReLU(inplace=True), nn.Linear(8, 1))
torch.manual_seed(1)
net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 1))
data = torch.randn(16, 5)
net_inplace(data).pow(2).mean().backward()
net(data).pow(2).mean().backward()
for p1, p2 in zip(net_inplace.parameters(), net.parameters()):
    assert torch.allclose(p1.grad, p2.grad)

# Changing a tensor that backward needs is an error, reported when backward runs.
a = torch.randn(3, requires_grad=True)
b = a * 2
c = b * b  # the product keeps b for its backward
b.add_(1)
try:
    c.sum().backward()
    raise AssertionError("backward should have failed")
except RuntimeError as err:
    assert "modified by an inplace operation" in str(err)

# In place on a leaf that requires grad is refused outside no_grad.
leaf = torch.zeros(2, requires_grad=True)
try:
    leaf.add_(1)
    raise AssertionError("in-place on a leaf should fail")
except RuntimeError:
    pass
with torch.no_grad():
    leaf.add_(1)
assert leaf.tolist() == [1.0, 1.0]
print("in-place ops: ok")
