"""Shape-matching helpers: view_as, reshape_as, expand_as, type_as, and new_* factories, as they appear
in loss functions and accuracy counts."""
import torch
import torch.nn.functional as F

torch.manual_seed(0)

output = torch.randn(8, 5)
target = torch.randint(0, 5, (8,))
pred = output.argmax(dim=1, keepdim=True)
correct = pred.eq(target.view_as(pred)).sum().item()
assert correct == (output.argmax(dim=1) == target).sum().item()

a = torch.arange(6.0)
b = torch.zeros(2, 3)
v = a.view_as(b)
assert v.shape == (2, 3)
v[0, 0] = 100.0  # a view shares storage
assert a[0].item() == 100.0
assert a.reshape_as(b).shape == (2, 3)

bias = torch.tensor([1.0, 2.0, 3.0])
assert bias.expand_as(b).shape == (2, 3)
assert torch.equal(b + bias.expand_as(b), bias.repeat(2, 1))

ints = torch.tensor([1, 2, 3])
assert ints.type_as(bias).dtype == torch.float32
assert ints.type_as(bias).tolist() == [1.0, 2.0, 3.0]

base = torch.randn(2, 2, dtype=torch.float64)
assert base.new_zeros(3).dtype == torch.float64 and base.new_zeros(3).tolist() == [0.0, 0.0, 0.0]
assert base.new_ones((2, 1)).shape == (2, 1)
assert base.new_full((2,), 7.0).tolist() == [7.0, 7.0]
assert base.new_tensor([1, 2]).dtype == torch.float64

# view_as inside a model's loss, with gradients flowing back through the view.
x = torch.randn(4, 6, requires_grad=True)
y = torch.randn(4, 2, 3)
loss = F.mse_loss(x.view_as(y), y)
loss.backward()
assert torch.allclose(x.grad, 2 * (x.detach() - y.reshape(4, 6)) / 24)

# A smoothing target built with new_full and scatter_.
n_classes, eps = 5, 0.1
smooth = output.new_full(output.shape, eps / (n_classes - 1))
smooth.scatter_(1, target.unsqueeze(1), 1 - eps)
assert torch.allclose(smooth.sum(dim=1), torch.ones(8))
loss = -(smooth * F.log_softmax(output, dim=1)).sum(dim=1).mean()
assert loss.item() > 0
print("view_as and friends: ok")
