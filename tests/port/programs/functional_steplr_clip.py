"""The functional style of the pytorch/examples MNIST script: F.relu, F.dropout, F.log_softmax and
F.nll_loss, view(-1, n), a StepLR schedule and gradient clipping, on synthetic 12x12 "digits"."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(144, 64)
        self.fc2 = nn.Linear(64, 32)
        self.fc3 = nn.Linear(32, 10)

    def forward(self, x):
        x = x.view(-1, 144)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, p=0.1, training=self.training)
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return F.log_softmax(x, dim=1)


def train(model, device, train_loader, optimizer, epoch, max_norm):
    model.train()
    norms = []
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        total_norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        clipped = torch.sqrt(sum(p.grad.pow(2).sum() for p in model.parameters()))
        assert clipped.item() <= max_norm * 1.0001 + 1e-6
        if total_norm.item() <= max_norm:
            assert abs(clipped.item() - total_norm.item()) < 1e-4
        norms.append(total_norm.item())
        optimizer.step()
        if batch_idx % 10 == 0:
            print("Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))
    return norms


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    print("\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n".format(
        test_loss, correct, len(test_loader.dataset), 100. * correct / len(test_loader.dataset)))
    return test_loss, correct / len(test_loader.dataset)


torch.manual_seed(1)
device = torch.device("cpu")

prototypes = (torch.rand(10, 1, 12, 12) > 0.5).float()


def digits(n):
    target = torch.randint(0, 10, (n,))
    data = prototypes[target] + 0.4 * torch.randn(n, 1, 12, 12)
    return TensorDataset(data, target)


train_loader = DataLoader(digits(1000), batch_size=50, shuffle=True)
test_loader = DataLoader(digits(400), batch_size=100)

model = Net().to(device)
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
first_loss, _ = test(model, device, test_loader)
all_norms = []
for epoch in range(1, 5):
    all_norms += train(model, device, train_loader, optimizer, epoch, max_norm=1.0)
    test_loss, accuracy = test(model, device, test_loader)
    scheduler.step()

assert abs(optimizer.param_groups[0]["lr"] - 0.1 * 0.7 ** 4) < 1e-9
assert abs(scheduler.get_last_lr()[0] - 0.1 * 0.7 ** 4) < 1e-9
assert max(all_norms) > 1.0, "clipping never engaged"
assert test_loss < 0.3 * first_loss, (first_loss, test_loss)
assert accuracy > 0.9, accuracy
