"""A small conv net with BatchNorm2d, trained with Adam under a CosineAnnealingLR schedule, on
synthetic 16x16 images of horizontal, vertical and diagonal strokes."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def strokes(n):
    labels = torch.randint(0, 3, (n,))
    images = 0.3 * torch.randn(n, 1, 16, 16)
    for i in range(n):
        k = int(torch.randint(2, 14, (1,)))
        if labels[i] == 0:
            images[i, 0, k, 2:14] += 1.0
        elif labels[i] == 1:
            images[i, 0, 2:14, k] += 1.0
        else:
            idx = torch.arange(2, 14)
            images[i, 0, idx, idx] += 1.0
    return images, labels


class ConvNet(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc = nn.Linear(16 * 4 * 4, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.bn2(self.conv2(x))))
        x = torch.flatten(x, 1)
        return self.fc(x)


train_x, train_y = strokes(384)
test_x, test_y = strokes(128)

model = ConvNet()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
epochs, batch_size = 6, 32
steps_per_epoch = len(train_x) // batch_size
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs, eta_min=1e-4)
criterion = nn.CrossEntropyLoss()

lrs = []
for epoch in range(epochs):
    model.train()
    perm = torch.randperm(len(train_x))
    running = 0.0
    for i in range(steps_per_epoch):
        idx = perm[i * batch_size:(i + 1) * batch_size]
        optimizer.zero_grad()
        loss = criterion(model(train_x[idx]), train_y[idx])
        loss.backward()
        optimizer.step()
        running += loss.item()
    lrs.append(optimizer.param_groups[0]["lr"])
    scheduler.step()
    print(f"epoch {epoch}: loss {running / steps_per_epoch:.4f} lr {lrs[-1]:.5f}")

# The schedule is the cosine curve from lr to eta_min.
for epoch, lr in enumerate(lrs):
    expected = 1e-4 + (1e-2 - 1e-4) * (1 + math.cos(math.pi * epoch / epochs)) / 2
    assert abs(lr - expected) < 1e-8, (epoch, lr, expected)
assert abs(scheduler.get_last_lr()[0] - 1e-4) < 1e-8

# BatchNorm kept running statistics and uses them in eval mode.
assert model.bn1.num_batches_tracked.item() == epochs * steps_per_epoch
assert model.bn1.running_var.min().item() > 0
model.eval()
with torch.no_grad():
    logits = model(test_x)
    single = model(test_x[:1])
assert torch.allclose(single, logits[:1], atol=1e-5)  # eval mode: no batch dependence
accuracy = (logits.argmax(1) == test_y).float().mean().item()
print(f"test accuracy {accuracy:.3f}")
assert accuracy > 0.9, accuracy
assert set(model.state_dict()) >= {"bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked"}
