"""A tiny autoencoder: encoder and decoder as nn.Sequential, trained with Adam and MSELoss to
reconstruct data that lies near a 3-dimensional subspace of R^20."""
import torch
from torch import nn


class AutoEncoder(nn.Module):
    def __init__(self, n_in=20, n_code=3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_in, 12), nn.Tanh(), nn.Linear(12, n_code))
        self.decoder = nn.Sequential(nn.Linear(n_code, 12), nn.Tanh(), nn.Linear(12, n_in), nn.Sigmoid())

    def forward(self, x):
        code = self.encoder(x)
        return self.decoder(code), code


torch.manual_seed(0)
basis = torch.randn(3, 20)
codes = torch.rand(512, 3)
data = torch.sigmoid(codes @ basis) + 0.01 * torch.randn(512, 20)
data = data.clamp(0, 1)

model = AutoEncoder()
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

baseline = criterion(data.mean(dim=0, keepdim=True).expand_as(data), data).item()
for epoch in range(60):
    perm = torch.randperm(len(data))
    total = 0.0
    for i in range(0, len(data), 64):
        batch = data[perm[i:i + 64]]
        recon, _ = model(batch)
        loss = criterion(recon, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    if epoch % 10 == 0:
        print(f"epoch {epoch} loss {total / len(data):.5f}")

model.eval()
with torch.no_grad():
    recon, code = model(data)
    final = criterion(recon, data).item()
print("mean-only baseline", baseline, "autoencoder", final)
assert code.shape == (512, 3)
assert recon.min() >= 0 and recon.max() <= 1
assert final < 0.1 * baseline, (baseline, final)
