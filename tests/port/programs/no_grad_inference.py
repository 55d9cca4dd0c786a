"""Inference without building a graph: torch.no_grad() as a context and as a decorator,
set_grad_enabled, inference_mode, and eval() switching dropout off."""
import torch
import torch.nn as nn

torch.manual_seed(0)

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
x = torch.randn(32, 8)

# Training mode: dropout makes two passes differ, and outputs carry a graph.
model.train()
out1, out2 = model(x), model(x)
assert out1.requires_grad and out1.grad_fn is not None
assert not torch.allclose(out1, out2)

# Evaluation mode: dropout is the identity, passes agree.
model.eval()
with torch.no_grad():
    pred1 = model(x)
    pred2 = model(x)
assert torch.equal(pred1, pred2)
assert not pred1.requires_grad and pred1.grad_fn is None
assert torch.is_grad_enabled()


@torch.no_grad()
def predict(model, x):
    return model(x).argmax(dim=1)


labels = predict(model, x)
assert labels.shape == (32,) and not labels.requires_grad
assert torch.is_grad_enabled()

# set_grad_enabled switches by a flag, as training/validation loops do.
for phase in ["train", "val"]:
    with torch.set_grad_enabled(phase == "train"):
        out = model(x)
    assert out.requires_grad == (phase == "train")

# inference_mode as a context and as a decorator.
with torch.inference_mode():
    y = model(x)
assert not y.requires_grad


@torch.inference_mode()
def infer(x):
    return model(x)


assert not infer(x).requires_grad

# Nested: enable_grad inside no_grad records again.
w = torch.ones(3, requires_grad=True)
with torch.no_grad():
    a = w * 2
    with torch.enable_grad():
        b = w * 2
assert not a.requires_grad and b.requires_grad

# Parameters updated under no_grad by hand stay leaves.
lin = nn.Linear(3, 1)
loss = lin(torch.randn(5, 3)).pow(2).mean()
loss.backward()
with torch.no_grad():
    for p in lin.parameters():
        p -= 0.1 * p.grad
assert lin.weight.is_leaf and lin.weight.grad_fn is None and lin.weight.requires_grad
print("no-grad inference: ok")
