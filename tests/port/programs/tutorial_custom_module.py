"""Custom nn Modules, after "Learning PyTorch with Examples": a cubic polynomial as a Module with its
own Parameters, and a two-layer net whose forward is ordinary Python."""
import math

import torch


class Polynomial3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

    def string(self):
        return f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3"


class TwoLayerNet(torch.nn.Module):
    def __init__(self, D_in, H, D_out):
        super(TwoLayerNet, self).__init__()
        self.linear1 = torch.nn.Linear(D_in, H)
        self.linear2 = torch.nn.Linear(H, D_out)

    def forward(self, x):
        h_relu = self.linear1(x).clamp(min=0)
        y_pred = self.linear2(h_relu)
        return y_pred


torch.manual_seed(0)
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

model = Polynomial3()
assert len(list(model.parameters())) == 4
criterion = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
for t in range(2000):
    y_pred = model(x)
    loss = criterion(y_pred, y)
    if t == 0:
        first = loss.item()
    if t % 200 == 199:
        print(t, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f"Result: {model.string()}")
assert loss.item() < first and loss.item() < 300, (first, loss.item())

# The Module's Parameters are registered by name and appear in its state_dict.
state = model.state_dict()
assert sorted(state.keys()) == ["a", "b", "c", "d"]
assert isinstance(model.a, torch.nn.Parameter)

# A two-layer net learns a fixed random linear map.
N, D_in, H, D_out = 64, 100, 50, 4
x = torch.randn(N, D_in)
y = x @ torch.randn(D_in, D_out) / 10
net = TwoLayerNet(D_in, H, D_out)
criterion = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(net.parameters(), lr=1e-3)
for t in range(300):
    loss = criterion(net(x), y)
    if t == 0:
        first = loss.item()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print("two-layer net:", first, "->", loss.item())
assert loss.item() < 0.05 * first, (first, loss.item())
assert [n for n, _ in net.named_children()] == ["linear1", "linear2"]
