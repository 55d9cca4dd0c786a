"""The course-notebook logistic regression: a Module with one Linear and torch.sigmoid, BCELoss, SGD,
then accuracy with (y_pred > 0.5).float() and .eq().sum(); plus the multinomial version with
CrossEntropyLoss and a train/test split made by random_split."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)

# Two Gaussian clouds.
n = 200
x0 = torch.randn(n, 2) + torch.tensor([-2.0, -2.0])
x1 = torch.randn(n, 2) + torch.tensor([2.0, 2.0])
x_data = torch.cat([x0, x1], dim=0)
y_data = torch.cat([torch.zeros(n, 1), torch.ones(n, 1)], dim=0)


class LogisticRegressionModel(nn.Module):
    def __init__(self):
        super(LogisticRegressionModel, self).__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        y_pred = torch.sigmoid(self.linear(x))
        return y_pred


model = LogisticRegressionModel()
criterion = nn.BCELoss(reduction="mean")
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for epoch in range(200):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    if epoch % 50 == 0:
        print(epoch, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

with torch.no_grad():
    y_pred = model(x_data)
    predicted = (y_pred > 0.5).float()
    acc = predicted.eq(y_data).sum().item() / float(y_data.shape[0])
print(f"accuracy: {acc:.4f}")
assert acc > 0.97
assert model(torch.tensor([[3.0, 3.0]])).item() > 0.9
assert model(torch.tensor([[-3.0, -3.0]])).item() < 0.1

# BCEWithLogitsLoss on the raw scores agrees with sigmoid + BCELoss.
logits = model.linear(x_data)
assert torch.allclose(nn.BCEWithLogitsLoss()(logits, y_data), criterion(torch.sigmoid(logits), y_data), atol=1e-5)

# Three classes, softmax regression, with a DataLoader over a random split.
centers = torch.tensor([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
labels = torch.randint(0, 3, (600,))
points = centers[labels] + torch.randn(600, 2)
dataset = TensorDataset(points, labels)
train_set, test_set = random_split(dataset, [500, 100])
assert len(train_set) == 500 and len(test_set) == 100
train_loader = DataLoader(train_set, batch_size=50, shuffle=True)
test_loader = DataLoader(test_set, batch_size=100)

softmax_reg = nn.Linear(2, 3)
optimizer = torch.optim.SGD(softmax_reg.parameters(), lr=0.1)
criterion = nn.CrossEntropyLoss()
for epoch in range(10):
    for xb, yb in train_loader:
        optimizer.zero_grad()
        criterion(softmax_reg(xb), yb).backward()
        optimizer.step()

correct = total = 0
with torch.no_grad():
    for xb, yb in test_loader:
        _, predicted = torch.max(softmax_reg(xb).data, 1)
        total += yb.size(0)
        correct += (predicted == yb).sum().item()
print(f"Accuracy of the network on the test points: {100 * correct / total:.1f} %")
assert correct / total > 0.9
