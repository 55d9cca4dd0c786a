"""Ops from attention and sequence code: a causal mask from torch.tril, running means with cumsum,
and einsum for batched matrix products, checked against explicit loops and matmul, then used in a
small causal-averaging layer trained by gradient descent."""
import torch

torch.manual_seed(0)
B, T, C = 4, 6, 3
x = torch.randn(B, T, C)

# Running mean over time: cumsum divided by the count so far, versus a loop.
running = x.cumsum(dim=1) / torch.arange(1, T + 1).reshape(1, T, 1)
for t in range(T):
    assert torch.allclose(running[:, t], x[:, :t + 1].mean(dim=1), atol=1e-6)

# The same by a lower-triangular averaging matrix.
tril = torch.tril(torch.ones(T, T))
assert tril.sum().item() == T * (T + 1) / 2
weights = tril / tril.sum(dim=1, keepdim=True)
assert torch.allclose(weights @ x, running, atol=1e-6)

# Softmax with a causal mask gives the same averaging when the scores are equal.
scores = torch.zeros(T, T).masked_fill(tril == 0, float("-inf"))
assert torch.allclose(torch.softmax(scores, dim=-1), weights, atol=1e-6)
assert torch.equal(torch.triu(torch.ones(T, T), diagonal=1), 1 - tril)

# einsum: batched matmul, outer products, traces, and a transposed contraction.
a, b = torch.randn(B, T, C), torch.randn(B, C, 5)
assert torch.allclose(torch.einsum("btc,bcd->btd", a, b), a @ b, atol=1e-5)
u, v = torch.randn(3), torch.randn(4)
assert torch.allclose(torch.einsum("i,j->ij", u, v), u[:, None] * v[None, :])
m = torch.randn(4, 4)
assert torch.allclose(torch.einsum("ii->", m), m.diagonal().sum())
assert torch.allclose(torch.einsum("bij->bji", a), a.transpose(1, 2))
assert torch.allclose(torch.cumprod(torch.tensor([1.0, 2.0, 3.0, 4.0]), dim=0), torch.tensor([1.0, 2, 6, 24]))

# A learnable causal mixing layer: each step's output is a softmax-weighted mix of the past.
target = running * 2.0
logits = torch.zeros(T, T, requires_grad=True)
scale = torch.ones(1, requires_grad=True)
opt = torch.optim.Adam([logits, scale], lr=0.05)
for step in range(300):
    att = torch.softmax(logits.masked_fill(tril == 0, float("-inf")), dim=-1)
    out = scale * torch.einsum("ts,bsc->btc", att, x)
    loss = ((out - target) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
print("loss", loss.item(), "scale", scale.item())
assert loss.item() < 1e-3
# The mask holds: nothing attends to the future, so those logits never got a gradient.
assert logits.grad[tril == 0].abs().max().item() == 0.0
