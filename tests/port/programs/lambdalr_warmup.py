"""A learning-rate warmup with LambdaLR (linear warmup, then inverse square root decay), stepped every
iteration, with the schedule checked and a small transformer-style MLP trained under it."""
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import LambdaLR

torch.manual_seed(0)
base_lr, warmup = 3e-3, 20


def lr_lambda(step):
    if step < warmup:
        return (step + 1) / warmup
    return (warmup / (step + 1)) ** 0.5


model = nn.Sequential(nn.Linear(8, 32), nn.GELU(), nn.LayerNorm(32), nn.Linear(32, 1))
optimizer = torch.optim.AdamW(model.parameters(), lr=base_lr, weight_decay=0.01)
scheduler = LambdaLR(optimizer, lr_lambda=lr_lambda)
assert abs(optimizer.param_groups[0]["lr"] - base_lr / warmup) < 1e-12

x = torch.randn(256, 8)
y = torch.sin(x[:, :1]) + 0.5 * x[:, 1:2]
lrs, losses = [], []
for step in range(300):
    idx = torch.randint(0, 256, (32,))
    loss = nn.functional.mse_loss(model(x[idx]), y[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    lrs.append(scheduler.get_last_lr()[0])
    scheduler.step()
    losses.append(loss.item())

for step, lr in enumerate(lrs):
    assert abs(lr - base_lr * lr_lambda(step)) < 1e-12, (step, lr)
assert max(lrs) == lrs[warmup - 1] == base_lr
assert lrs[:warmup] == sorted(lrs[:warmup])
assert scheduler.last_epoch == 300

# The scheduler's state can be saved and restored.
state = scheduler.state_dict()
assert state["last_epoch"] == 300
with torch.no_grad():
    final = nn.functional.mse_loss(model(x), y).item()
print("first loss", losses[0], "final", final)
assert final < 0.2 * losses[0]
