"""Tensor.register_hook: inspect and rewrite gradients as they flow back, then remove the hook."""
import torch

torch.manual_seed(0)

# A hook that doubles the gradient on its way to x.
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
handle = x.register_hook(lambda grad: grad * 2)
y = (x ** 2).sum()
y.backward()
assert torch.allclose(x.grad, 2 * 2 * x.detach())

# After remove(), gradients pass unchanged.
handle.remove()
x.grad = None
(x ** 2).sum().backward()
assert torch.allclose(x.grad, 2 * x.detach())

# A hook on an intermediate sees its gradient, and what it returns flows on to the inputs.
seen = {}


def save_grad(name):
    def hook(grad):
        seen[name] = grad.clone()
    return hook


a = torch.randn(4, 3, requires_grad=True)
w = torch.randn(3, 2, requires_grad=True)
h = a @ w
h.register_hook(save_grad("h"))
z = torch.tanh(h)
z.register_hook(save_grad("z"))
loss = z.sum()
loss.backward()
assert torch.allclose(seen["z"], torch.ones(4, 2))
assert torch.allclose(seen["h"], 1 - torch.tanh(h.detach()) ** 2)
assert torch.allclose(w.grad, a.detach().T @ seen["h"], atol=1e-6)

# Gradient masking: zero the gradient of half the units.
a.grad = None
mask = torch.tensor([1.0, 0.0])
h = a @ w
h.register_hook(lambda grad: grad * mask)
torch.tanh(h).sum().backward()
assert torch.allclose(a.grad, ((1 - torch.tanh(h.detach()) ** 2) * mask) @ w.detach().T, atol=1e-6)

# Hooks run in the order they were registered; a retained grad is the one after the hooks.
order = []
p = torch.tensor(1.0, requires_grad=True)
q = p * 3
q.register_hook(lambda g: order.append("first"))
q.register_hook(lambda g: (order.append("second"), g + 1)[1])
q.retain_grad()
(q * 5).backward()
assert order == ["first", "second"]
assert q.grad.item() == 6.0
assert p.grad.item() == 18.0

# Gradient clipping by hook on every parameter of a model.
model = torch.nn.Linear(5, 1)
for param in model.parameters():
    param.register_hook(lambda grad: torch.clamp(grad, -0.1, 0.1))
out = model(100 * torch.randn(8, 5)).pow(2).mean()
out.backward()
assert model.weight.grad.abs().max().item() <= 0.1 + 1e-7
print("tensor hooks: ok")
