"""Seed 004's experiment 1: y = w * x by stochastic gradient descent, one sample at a time, with the
weight updated through .data and the gradient zeroed with w.grad.data.zero_()."""
import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = torch.tensor([1.0])
w.requires_grad = True  # tensors don't need gradients by default


def forward(x):
    return x * w


def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) ** 2


# The first step by hand: at w = 1, x = 1, y = 2 the loss is (w - 2)^2 = 1, its gradient 2(w - 2) = -2.
first = loss(1.0, 2.0)
first.backward()
assert w.grad.item() == -2.0
w.grad.data.zero_()
assert w.grad.item() == 0.0

for epoch in range(100):
    for x, y in zip(x_data, y_data):  # SGD
        l = loss(x, y)  # forward: compute the loss
        l.backward()  # backward: the graph is freed after this
        print("\tgrad:", x, y, w.grad.item())
        w.data = w.data - 0.01 * w.grad.data  # update the value only; no new graph
        w.grad.data.zero_()  # or the next gradient would add to this one
    print("progress:", epoch, l.item())
prediction = forward(4).item()
print("predict (after training)", 4, prediction)
assert abs(prediction - 8.0) < 1e-3
assert l.item() < 1e-6
assert w.requires_grad and w.is_leaf
