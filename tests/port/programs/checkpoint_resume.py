"""Checkpointing as tutorials teach it: save a dict with the epoch, the model's and the optimizer's
state_dicts and the loss; load it into fresh objects and resume; the resumed run matches an
uninterrupted one exactly."""
import os
import tempfile

import torch
import torch.nn as nn
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(4, 16)
        self.fc2 = nn.Linear(16, 1)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


torch.manual_seed(0)
x = torch.randn(64, 4)
y = x.pow(2).sum(dim=1, keepdim=True)


def train_epochs(model, optimizer, epochs):
    for _ in range(epochs):
        for xb, yb in zip(x.split(16), y.split(16)):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(xb), yb)
            loss.backward()
            optimizer.step()
    return loss


torch.manual_seed(1)
reference = Net()
ref_opt = optim.Adam(reference.parameters(), lr=1e-2)
train_epochs(reference, ref_opt, 10)

torch.manual_seed(1)
model = Net()
optimizer = optim.Adam(model.parameters(), lr=1e-2)
loss = train_epochs(model, optimizer, 5)

with tempfile.TemporaryDirectory() as tmp:
    PATH = os.path.join(tmp, "checkpoint.pt")
    torch.save({
        "epoch": 5,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "loss": loss,
        "history": [1.0, 2.5, (3, 4)],
    }, PATH)
    assert os.path.getsize(PATH) > 0

    model = Net()
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    checkpoint = torch.load(PATH, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    epoch = checkpoint["epoch"]
    loss = checkpoint["loss"]

    # Loading onto the CPU explicitly works too.
    again = torch.load(PATH, map_location=torch.device("cpu"), weights_only=True)
    assert again["epoch"] == 5

assert epoch == 5 and isinstance(loss, torch.Tensor)
assert checkpoint["history"][2] == (3, 4) or list(checkpoint["history"][2]) == [3, 4]
state = optimizer.state_dict()["state"]
assert len(state) == 4 and all(s["exp_avg"].shape == p.shape for s, p in zip(state.values(), model.parameters()))

model.train()
train_epochs(model, optimizer, 10 - epoch)
for (name, p), q in zip(model.named_parameters(), reference.parameters()):
    assert torch.allclose(p, q, atol=1e-6), name
final = nn.functional.mse_loss(model(x), y).item()
print("resumed run matches; final loss", final)
assert final < nn.functional.mse_loss(Net()(x), y).item()
