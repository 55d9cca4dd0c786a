"""Seed 004's experiment 2: fit y = 4x + 0.6 with w and b as bare tensors, the loss function zeroing
the gradients through .data, and the update written as w.data -= lr * w.grad.data."""
import torch

torch.manual_seed(0)

# Prepare the dataset
x = torch.rand([100])
y = 4 * x + 0.6
w = torch.rand(1, requires_grad=True)
b = torch.rand(1, requires_grad=True)


# Define the loss function
def loss_fn(y, y_predict):
    loss = (y_predict - y).pow(2).mean()
    # Set the grad to zero before every backward pass
    for i in [w, b]:
        if i.grad is not None:
            i.grad.data.zero_()
    loss.backward()
    return loss.data


# Define the optimizer
def optimize(learning_rate):
    w.data -= learning_rate * w.grad.data
    b.data -= learning_rate * b.grad.data


history = []
for i in range(3000):
    y_predict = x * w + b
    loss = loss_fn(y, y_predict)
    history.append(float(loss))
    if i % 500 == 0:
        print(i, loss)
    optimize(0.1)

# What the plot is drawn from
predict = x * w + b
xs, ys, ps = x.data.numpy(), y.data.numpy(), predict.data.numpy()
assert xs.shape == ys.shape == ps.shape == (100,)
print("w", w)
print("b", b)
assert not loss.requires_grad
assert history[-1] < 1e-6 < history[0]
assert abs(w.item() - 4) < 0.01 and abs(b.item() - 0.6) < 0.01
