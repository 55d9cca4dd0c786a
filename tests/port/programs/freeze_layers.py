"""Fine-tuning with a frozen backbone: requires_grad_(False) on the feature layers, a new head, and an
optimizer over only the parameters that still require grad."""
import torch
import torch.nn as nn

torch.manual_seed(0)


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(20, 32), nn.Tanh(), nn.Linear(32, 16), nn.Tanh())
        self.classifier = nn.Linear(16, 5)

    def forward(self, x):
        return self.classifier(self.features(x))


model = Backbone()

# "Pretrain" on one task so the features mean something.
x = torch.randn(256, 20)
teacher = torch.randn(20, 3)
y = (x @ teacher).argmax(dim=1)
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for _ in range(100):
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
opt.zero_grad()

# Freeze the features and replace the head for a new 3-class task.
for param in model.features.parameters():
    param.requires_grad_(False)
model.classifier = nn.Linear(16, 3)

trainable = [p for p in model.parameters() if p.requires_grad]
frozen_before = {name: p.clone() for name, p in model.features.named_parameters()}
assert len(trainable) == 2
n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
assert n_trainable == 16 * 3 + 3

optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.5, momentum=0.9)
criterion = nn.CrossEntropyLoss()
y2 = (x @ teacher).argmax(dim=1)
losses = []
for epoch in range(100):
    optimizer.zero_grad()
    out = model(x)
    loss = criterion(out, y2)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(losses[0], "->", losses[-1])

for name, p in model.features.named_parameters():
    assert p.grad is None, name
    assert torch.equal(p, frozen_before[name]), name
assert model.classifier.weight.grad is not None
assert losses[-1] < 0.5 * losses[0]
acc = (model(x).argmax(1) == y2).float().mean().item()
assert acc > 0.85, acc

# The features' output does not require grad, so no graph is built through them.
feats = model.features(x)
assert not feats.requires_grad
assert model.classifier(feats).requires_grad

# Unfreezing brings them back.
model.features.requires_grad_(True)
assert all(p.requires_grad for p in model.parameters())
