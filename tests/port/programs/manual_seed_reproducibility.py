"""Reproducibility with torch.manual_seed: the same seed gives the same draws, the same initial
weights, the same shuffling and so the same trained model."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def run(seed):
    torch.manual_seed(seed)
    data = torch.randn(64, 4)
    target = data.sum(dim=1, keepdim=True)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(0.2), nn.Linear(8, 1))
    loader = DataLoader(TensorDataset(data, target), batch_size=16, shuffle=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    order = []
    for epoch in range(3):
        for xb, yb in loader:
            order.append(xb[0, 0].item())
            optimizer.zero_grad()
            nn.functional.mse_loss(model(xb), yb).backward()
            optimizer.step()
    return model.state_dict(), order


torch.manual_seed(42)
a = torch.randn(5)
b = torch.rand(3)
c = torch.randint(0, 100, (4,))
p = torch.randperm(10)
torch.manual_seed(42)
assert torch.equal(a, torch.randn(5))
assert torch.equal(b, torch.rand(3))
assert torch.equal(c, torch.randint(0, 100, (4,)))
assert torch.equal(p, torch.randperm(10))
assert sorted(p.tolist()) == list(range(10))
assert not torch.equal(torch.randn(5), a)  # the stream moved on

# Saving and restoring the generator state replays the same numbers.
state = torch.get_rng_state()
first = torch.randn(3)
torch.set_rng_state(state)
assert torch.equal(first, torch.randn(3))

state1, order1 = run(0)
state2, order2 = run(0)
state3, order3 = run(1)
assert order1 == order2
assert order1 != order3
for key in state1:
    assert torch.equal(state1[key], state2[key]), key
assert not torch.equal(state1["0.weight"], state3["0.weight"])

torch.manual_seed(7)
layer1 = nn.Linear(3, 3)
torch.manual_seed(7)
layer2 = nn.Linear(3, 3)
assert torch.equal(layer1.weight, layer2.weight) and torch.equal(layer1.bias, layer2.bias)
print("reproducible: ok")
