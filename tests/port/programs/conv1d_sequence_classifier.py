"""A 1-D convolutional net over sequences, as for signals or text: nn.Conv1d, nn.MaxPool1d and
nn.AdaptiveAvgPool1d, so sequences of different lengths share one classifier. Task: which of three
waveforms (sine, square, sawtooth) is hidden in the noise?"""
import math

import torch
import torch.nn as nn

torch.manual_seed(0)


def make_batch(n, length):
    t = torch.linspace(0, 1, length)
    labels = torch.randint(0, 3, (n,))
    freq = 2 + 4 * torch.rand(n, 1)
    phase = 2 * math.pi * (freq * t + torch.rand(n, 1))
    sine = torch.sin(phase)
    square = torch.sign(torch.sin(phase))
    saw = 2 * torch.remainder(phase / (2 * math.pi), 1.0) - 1
    waves = torch.stack([sine, square, saw], dim=1)[torch.arange(n), labels]
    return (waves + 0.3 * torch.randn(n, length)).unsqueeze(1), labels  # (N, C=1, L)


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(1, 16, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(16, 32, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(32, 32, kernel_size=3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),
        )
        self.fc = nn.Linear(32, 3)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


conv = nn.Conv1d(2, 4, kernel_size=3, stride=2)
assert conv.weight.shape == (4, 2, 3)
assert conv(torch.randn(5, 2, 11)).shape == (5, 4, 5)
assert nn.MaxPool1d(2)(torch.tensor([[[1.0, 3.0, 2.0, 0.0, 5.0]]])).tolist() == [[[3.0, 2.0]]]
assert torch.allclose(nn.AdaptiveAvgPool1d(2)(torch.arange(6.0).view(1, 1, 6)), torch.tensor([[[1.0, 4.0]]]))

model = ConvNet()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
criterion = nn.CrossEntropyLoss()
for step in range(120):
    x, y = make_batch(32, 128)
    loss = criterion(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

model.eval()
with torch.no_grad():
    for length in (128, 96):  # the adaptive pool takes another length unchanged
        x, y = make_batch(300, length)
        acc = (model(x).argmax(1) == y).float().mean().item()
        print("length", length, "accuracy", acc)
        assert acc > 0.85, (length, acc)
