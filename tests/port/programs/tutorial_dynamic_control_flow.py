"""Control flow + weight sharing: the tutorial's DynamicNet, which reuses one Parameter a random number
of times per forward pass, and the classic loop whose depth depends on the data."""
import math
import random

import torch


class DynamicNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))
        self.e = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
        for exp in range(4, random.randint(4, 6)):
            y = y + self.e * x ** exp
        return y

    def string(self):
        return (f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3 "
                f"+ {self.e.item()} x^4 ? + {self.e.item()} x^5 ?")


random.seed(0)
torch.manual_seed(0)

# A loop whose trip count depends on the values: double until the norm passes 1000.
x = torch.randn(3, requires_grad=True)
y = x * 2
steps = 1
while y.data.norm() < 1000:
    y = y * 2
    steps += 1
print(y, steps)
assert y.norm().item() >= 1000 and (y.norm() / 2).item() < 1000
v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)
assert torch.allclose(x.grad, v * 2 ** steps)

# A branch on the data: each sample takes a different path; gradients follow the path taken.
w = torch.tensor(3.0, requires_grad=True)
total = 0
for value in [-2.0, -1.0, 0.5, 2.0]:
    s = torch.tensor(value)
    if s > 0:
        total = total + w * s
    else:
        total = total + w ** 2 * s
total.backward()
assert abs(w.grad.item() - (0.5 + 2.0 + 2 * 3.0 * (-3.0))) < 1e-5

# Weight sharing: the same e is used for x^4 and, on some passes, x^5.
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)
model = DynamicNet()
criterion = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
losses = []
for t in range(1500):
    y_pred = model(x)
    loss = criterion(y_pred, y)
    losses.append(loss.item())
    if t % 300 == 299:
        print(t, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f"Result: {model.string()}")
assert min(losses[-50:]) < 0.1 * losses[0], (losses[0], min(losses[-50:]))
