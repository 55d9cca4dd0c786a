"""Older idioms still found in courses and answers: a two-layer net in raw tensors with torch.mm and
clamp, weights updated through .data, gradients zeroed through grad.data.zero_(), and from_numpy
sharing memory with its array."""
import numpy as np
import torch

dtype = torch.FloatTensor
torch.manual_seed(0)

N, D_in, H, D_out = 64, 100, 50, 10
x = torch.randn(N, D_in).type(dtype)
y = torch.randn(N, D_out).type(dtype)

w1 = torch.randn(D_in, H).type(dtype)
w2 = torch.randn(H, D_out).type(dtype)
w1.requires_grad = True
w2.requires_grad = True

learning_rate = 1e-6
losses = []
for t in range(300):
    y_pred = x.mm(w1).clamp(min=0).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    losses.append(loss.data.item())
    loss.backward()

    w1.data -= learning_rate * w1.grad.data
    w2.data -= learning_rate * w2.grad.data

    w1.grad.data.zero_()
    w2.grad.data.zero_()
print(losses[0], "->", losses[-1])
assert losses[-1] < 0.1 * losses[0]
assert w1.grad.abs().sum().item() == 0
assert w1.requires_grad and w1.is_leaf

# .data is the same storage without the graph: writes through it are seen by the tensor.
a = torch.ones(3, requires_grad=True)
d = a.data
assert not d.requires_grad
d[0] = 5.0
assert a[0].item() == 5.0
a.data.mul_(2)
assert a.tolist() == [10.0, 2.0, 2.0]

# The same two-layer net with torch.mm on tensors made from NumPy arrays.
rng = np.random.RandomState(0)
xn = rng.randn(N, D_in).astype(np.float32)
x2 = torch.from_numpy(xn)
assert x2.dtype == torch.float32
xn[0, 0] = 123.0
assert x2[0, 0].item() == 123.0
x2[0, 0] = -1.0
assert xn[0, 0] == -1.0
assert torch.mm(x2, torch.eye(D_in)).equal(x2)

w = torch.from_numpy(rng.randn(D_in, D_out).astype(np.float32) * 0.01)
w.requires_grad_()
target = torch.from_numpy(xn @ rng.randn(D_in, D_out).astype(np.float32))
for t in range(200):
    loss = (torch.mm(x2, w) - target).pow(2).mean()
    if t == 0:
        first = loss.item()
    loss.backward()
    w.data.sub_(0.05 * w.grad.data)
    w.grad.data.zero_()
print(first, "->", loss.item())
assert loss.item() < 0.05 * first
# The trained weights are the NumPy array underneath.
assert np.shares_memory(w.detach().numpy(), w.data.numpy())
