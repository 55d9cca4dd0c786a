"""Seed 004's experiment 3, "PyTorch + GPU": y = 4x + 0.6 fitted with an nn.Linear inside a Module,
with the device line, .to(device), MSELoss and SGD, and the plotting line's x.cpu().data.numpy()."""
import torch
from torch import nn, optim

torch.manual_seed(0)

# Define the dataset
x = torch.rand([50, 1])
y = x * 4 + 0.6


# Define the module
class Lr(nn.Module):
    def __init__(self):
        super(Lr, self).__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        out = self.linear(x)
        return out


# Instantiate the model, loss and optimizer
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
x, y = x.to(device), y.to(device)
model = Lr().to(device)
criterion = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=5e-2)

# Train the module
for i in range(3000):
    out = model(x)  # Get the prediction
    loss = criterion(y, out)  # Calculate loss
    optimizer.zero_grad()  # Gradient zeroing
    loss.backward()  # Calculate Gradient
    optimizer.step()  # Update the Gradient
    if (i + 1) % 500 == 0:
        print("Epoch[{}/{}],loss:{:.6f}".format(i, 3000, loss.data))

# Module evaluation
model.eval()  # Set module as evaluation mode
predict = model(x)
predict = predict.cpu().detach().numpy()
xs, ys = x.cpu().data.numpy(), y.cpu().data.numpy()  # what plt.scatter / plt.plot are given
assert xs.shape == (50, 1) and ys.shape == (50, 1) and predict.shape == (50, 1)
assert float(abs(predict - ys).max()) < 1e-2

w, b = model.linear.weight.item(), model.linear.bias.item()
print("w", w, "b", b)
assert abs(w - 4) < 0.02 and abs(b - 0.6) < 0.01
assert loss.item() < 1e-4
assert x.device.type == device.type and next(model.parameters()).device.type == device.type
