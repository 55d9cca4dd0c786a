"""Seed 003 in PyTorch: backpropagation by the shape trick, checked against autograd, then mini-batch
SGD on a two-layer ReLU network with a softmax loss and L2 regularization.

The tutorial derives dL/dW by making shapes line up ([5x3] * [3x10] = [5x10]); here every hand-derived
gradient is compared with what loss.backward() computes."""
import torch

torch.manual_seed(0)

# The shape trick on D = W X.
W = torch.randn(5, 10, requires_grad=True)
X = torch.randn(10, 3, requires_grad=True)
D = W.mm(X)
dD = torch.randn(*D.shape)
D.backward(dD)
dW = dD.mm(X.T)  # (5x3)(3x10) = 5x10, the shape of W
dX = W.T.mm(dD)  # (10x5)(5x3) = 10x3, the shape of X
assert torch.allclose(W.grad, dW, atol=1e-5) and torch.allclose(X.grad, dX, atol=1e-5)

# A 3-class spiral-free toy set: three Gaussian clouds in 20 dimensions.
N, D_in, H, C = 300, 20, 32, 3
centers = 2.0 * torch.randn(C, D_in)
y = torch.arange(N) % C
X = centers[y] + torch.randn(N, D_in)

W1 = (0.1 * torch.randn(D_in, H)).requires_grad_()
b1 = torch.zeros(H, requires_grad=True)
W2 = (0.1 * torch.randn(H, C)).requires_grad_()
b2 = torch.zeros(C, requires_grad=True)
reg = 1e-3


def loss_and_grads(X, y, reg):
    """Forward pass, the loss, and the gradients derived by hand."""
    n = X.shape[0]
    f = X.mm(W1) + b1
    h1 = f.clamp(min=0)
    scores = h1.mm(W2) + b2
    shifted = scores - scores.max(dim=1, keepdim=True).values  # guard against overflow
    exp_scores = shifted.exp()
    probs = exp_scores / exp_scores.sum(dim=1, keepdim=True)
    loss = -probs[torch.arange(n), y].log().mean() + reg * ((W1 ** 2).sum() + (W2 ** 2).sum())

    with torch.no_grad():
        dscores = probs.clone()
        dscores[torch.arange(n), y] -= 1  # minus one where j == y_i
        dscores /= n
        grads = {"W2": h1.T.mm(dscores) + 2 * reg * W2, "b2": dscores.sum(dim=0)}
        dh1 = dscores.mm(W2.T)
        df = dh1 * (h1 > 0).float()  # ReLU passes the gradient where it was active
        grads["W1"] = X.T.mm(df) + 2 * reg * W1
        grads["b1"] = df.sum(dim=0)
    return loss, grads


loss, grads = loss_and_grads(X, y, reg)
loss.backward()
for name, param in [("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)]:
    assert grads[name].shape == param.shape
    assert torch.allclose(grads[name], param.grad, atol=1e-6), name
    param.grad = None
print("hand-derived gradients match autograd; initial loss", loss.item())
assert abs(loss.item() - torch.log(torch.tensor(3.0)).item()) < 0.2

# Mini-batch stochastic gradient descent with the hand-derived gradients.
step_size, batch = 0.5, 64
for it in range(300):
    idx = torch.randint(0, N, (batch,))  # sample a batch
    loss, grads = loss_and_grads(X[idx], y[idx], reg)
    with torch.no_grad():
        for name, param in [("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)]:
            param += -step_size * grads[name]
    if it % 100 == 0:
        print(it, loss.item())

with torch.no_grad():
    final_loss, _ = loss_and_grads(X, y, reg)
    predicted = (X.mm(W1) + b1).clamp(min=0).mm(W2).add(b2).argmax(dim=1)
accuracy = (predicted == y).float().mean().item()
print("final loss", final_loss.item(), "accuracy", accuracy)
assert final_loss.item() < 0.2 and accuracy > 0.97
