"""Indexing ops as ordinary programs use them: gather to pick each row's logit of its label (a
hand-written NLL loss that matches F.cross_entropy, gradients included), scatter_add for per-class
sums (segment means), and scatter_ to build one-hot targets."""
import torch
import torch.nn.functional as F

torch.manual_seed(0)
logits = torch.randn(6, 4, requires_grad=True)
target = torch.tensor([0, 3, 1, 1, 2, 3])

# gather: row i, column target[i].
picked = logits.gather(1, target.unsqueeze(1)).squeeze(1)
assert torch.equal(picked, logits[torch.arange(6), target])
manual_loss = (torch.logsumexp(logits, dim=1) - picked).mean()
manual_loss.backward()
manual_grad = logits.grad.clone()
logits.grad = None
F.cross_entropy(logits, target).backward()
assert torch.allclose(manual_grad, logits.grad, atol=1e-6)
assert torch.allclose(torch.gather(torch.tensor([[1, 2], [3, 4]]), 0, torch.tensor([[1, 0], [0, 0]])),
                      torch.tensor([[3, 2], [1, 2]]))

# scatter_add: per-segment sums and means, duplicate indices accumulate.
values = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
segment = torch.tensor([0, 2, 0, 1, 2, 2])
sums = torch.zeros(3).scatter_add(0, segment, values)
assert sums.tolist() == [4.0, 4.0, 13.0]
counts = torch.zeros(3).scatter_add_(0, segment, torch.ones(6))
assert torch.allclose(sums / counts, torch.tensor([2.0, 4.0, 13.0 / 3]))
assert torch.equal(torch.scatter_add(torch.zeros(3), 0, segment, values), sums)

# The gradient of scatter_add routes each output's gradient back to its sources.
w = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], requires_grad=True)
(torch.zeros(3).scatter_add(0, segment, w) * torch.tensor([10.0, 20.0, 30.0])).sum().backward()
assert w.grad.tolist() == [10.0, 30.0, 10.0, 20.0, 30.0, 30.0]

# scatter_ for one-hot targets, checked against F.one_hot.
one_hot = torch.zeros(6, 4).scatter_(1, target.unsqueeze(1), 1.0)
assert torch.equal(one_hot, F.one_hot(target, 4).float())

# A small training loop with the gather-based loss.
x = torch.randn(200, 5)
y = (x @ torch.randn(5, 3)).argmax(dim=1)  # classes 0, 1, 2, linearly separable
w = torch.zeros(5, 3, requires_grad=True)
b = torch.zeros(3, requires_grad=True)
opt = torch.optim.SGD([w, b], lr=0.5)
for step in range(200):
    out = x @ w + b
    loss = (out.logsumexp(1) - out.gather(1, y[:, None]).squeeze(1)).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
acc = ((x @ w + b).argmax(1) == y).float().mean().item()
print("loss", loss.item(), "accuracy", acc)
assert acc > 0.9
