"""Gradient accumulation: four micro-batches with loss / 4 and one optimizer step give the same
gradient and the same update as one step on the whole batch."""
import copy

import torch
import torch.nn as nn

torch.manual_seed(0)

model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 2))
twin = copy.deepcopy(model)
assert all(torch.equal(a, b) for a, b in zip(model.parameters(), twin.parameters()))

x = torch.randn(32, 6)
y = torch.randint(0, 2, (32,))
criterion = nn.CrossEntropyLoss()

# Whole batch.
opt_full = torch.optim.SGD(twin.parameters(), lr=0.1)
opt_full.zero_grad()
criterion(twin(x), y).backward()
full_grads = [p.grad.clone() for p in twin.parameters()]
opt_full.step()

# Accumulated.
accumulation_steps = 4
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
optimizer.zero_grad()
for i, (xb, yb) in enumerate(zip(x.chunk(accumulation_steps), y.chunk(accumulation_steps))):
    loss = criterion(model(xb), yb) / accumulation_steps
    loss.backward()
    if (i + 1) % accumulation_steps == 0:
        for p, g in zip(model.parameters(), full_grads):
            assert torch.allclose(p.grad, g, atol=1e-6)
        optimizer.step()
        optimizer.zero_grad()

for p, q in zip(model.parameters(), twin.parameters()):
    assert torch.allclose(p, q, atol=1e-6)
# zero_grad sets gradients to None by default.
assert all(p.grad is None for p in model.parameters())

# A training loop with accumulation learns.
data = torch.randn(256, 6)
labels = (data[:, 0] + data[:, 1] > 0).long()
losses = []
for epoch in range(15):
    optimizer.zero_grad()
    for i, (xb, yb) in enumerate(zip(data.split(32), labels.split(32))):
        loss = criterion(model(xb), yb) / 2
        loss.backward()
        if (i + 1) % 2 == 0:
            optimizer.step()
            optimizer.zero_grad()
        losses.append(loss.item() * 2)
print(losses[0], "->", losses[-1])
accuracy = (model(data).argmax(1) == labels).float().mean().item()
assert accuracy > 0.9, accuracy
