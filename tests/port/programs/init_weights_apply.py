"""Custom initialisation with model.apply(init_weights) and torch.nn.init, a ModuleList of blocks,
and parameter counting, as in many course notebooks."""
import math

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.act = nn.ReLU()

    def forward(self, x):
        return x + self.act(self.fc(x))


class ResMLP(nn.Module):
    def __init__(self, dim=16, depth=3, n_out=2):
        super().__init__()
        self.inp = nn.Linear(4, dim)
        self.blocks = nn.ModuleList([Block(dim) for _ in range(depth)])
        self.out = nn.Linear(dim, n_out)

    def forward(self, x):
        x = self.inp(x)
        for block in self.blocks:
            x = block(x)
        return self.out(x)


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)


torch.manual_seed(0)
model = ResMLP()
model.apply(init_weights)

for name, module in model.named_modules():
    if isinstance(module, nn.Linear):
        fan_out, fan_in = module.weight.shape
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        assert module.weight.abs().max().item() <= bound + 1e-6, name
        assert module.bias.abs().sum().item() == 0, name
assert len(model.blocks) == 3
assert sum(p.numel() for p in model.parameters()) == (4 * 16 + 16) + 3 * (16 * 16 + 16) + (16 * 2 + 2)
assert len(list(model.modules())) == 1 + 1 + 1 + 3 * 3 + 1

# Other initialisers.
w = torch.empty(64, 32)
nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu")
assert abs(w.std().item() - math.sqrt(2 / 32)) < 0.03
nn.init.normal_(w, mean=0.0, std=0.02)
assert abs(w.std().item() - 0.02) < 0.003
nn.init.constant_(w, 0.5)
assert torch.all(w == 0.5)
nn.init.uniform_(w, -0.1, 0.1)
assert w.abs().max().item() <= 0.1
with torch.no_grad():
    model.out.weight.fill_(0.0)
assert model(torch.randn(3, 4)).abs().sum().item() == 0

# It still trains: XOR-like quadrants.
model.apply(init_weights)
x = torch.randn(400, 4)
y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).long()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for step in range(200):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
print("accuracy", accuracy)
assert accuracy > 0.9
