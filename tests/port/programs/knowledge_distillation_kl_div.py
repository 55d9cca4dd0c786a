"""Knowledge distillation (Hinton et al.): a small student learns from a trained teacher's softened
outputs. The loss mixes F.kl_div(log_softmax(student / T), softmax(teacher / T), reduction='batchmean')
scaled by T*T with the usual cross-entropy on the labels."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
n_features, n_classes = 10, 4
true_w = torch.randn(n_features, n_classes)


def make_data(n):
    x = torch.randn(n, n_features)
    return x, (x @ true_w).argmax(dim=1)


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


train_x, train_y = make_data(1024)
test_x, test_y = make_data(512)

# kl_div takes log-probabilities as input and (by default) probabilities as target.
p = torch.tensor([[0.2, 0.3, 0.5]])
q = torch.tensor([[0.1, 0.6, 0.3]])
expected = (p * (p.log() - q.log())).sum()
assert torch.allclose(F.kl_div(q.log(), p, reduction="batchmean"), expected)
assert torch.allclose(F.kl_div(q.log(), p.log(), reduction="sum", log_target=True), expected)
assert F.kl_div(p.log(), p, reduction="batchmean").abs().item() < 1e-6

teacher = nn.Sequential(nn.Linear(n_features, 64), nn.ReLU(), nn.Linear(64, n_classes))
opt = torch.optim.Adam(teacher.parameters(), lr=1e-2)
for step in range(200):
    opt.zero_grad()
    loss = F.cross_entropy(teacher(train_x), train_y)
    loss.backward()
    opt.step()
teacher.eval()
teacher_acc = accuracy(teacher, test_x, test_y)
print("teacher accuracy", teacher_acc)
assert teacher_acc > 0.85

student = nn.Linear(n_features, n_classes)
opt = torch.optim.SGD(student.parameters(), lr=0.5, momentum=0.9)
T, alpha = 4.0, 0.7
for epoch in range(10):
    perm = torch.randperm(len(train_x))
    for i in range(0, len(train_x), 128):
        idx = perm[i:i + 128]
        x, y = train_x[idx], train_y[idx]
        with torch.no_grad():
            soft_targets = F.softmax(teacher(x) / T, dim=1)
        logits = student(x)
        distill = F.kl_div(F.log_softmax(logits / T, dim=1), soft_targets, reduction="batchmean") * T * T
        loss = alpha * distill + (1 - alpha) * F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if epoch % 3 == 0:
        print("epoch", epoch, "loss", loss.item())

student_acc = accuracy(student, test_x, test_y)
with torch.no_grad():
    agreement = (student(test_x).argmax(1) == teacher(test_x).argmax(1)).float().mean().item()
print("student accuracy", student_acc, "agreement with teacher", agreement)
assert student_acc > 0.8
assert agreement > 0.8
