"""SGD and Adam with weight_decay (L2 added to the gradient) and AdamW (decoupled), each first step
checked against its formula, then weight decay shrinking weights in a longer run."""
import math

import torch

torch.manual_seed(0)
lr, wd = 0.1, 0.01


def one_step(opt_class, **kwargs):
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0]))
    opt = opt_class([w], lr=lr, **kwargs)
    loss = (w * torch.tensor([1.0, 2.0, 3.0])).sum()  # gradient [1, 2, 3]
    opt.zero_grad()
    loss.backward()
    opt.step()
    return w.detach()


w0 = torch.tensor([1.0, -2.0, 3.0])
g = torch.tensor([1.0, 2.0, 3.0])

# SGD: w <- w - lr (g + wd w).
assert torch.allclose(one_step(torch.optim.SGD, weight_decay=wd), w0 - lr * (g + wd * w0))
assert torch.allclose(one_step(torch.optim.SGD), w0 - lr * g)

# SGD with momentum: the first step has no history, so it equals plain SGD.
assert torch.allclose(one_step(torch.optim.SGD, momentum=0.9, weight_decay=wd), w0 - lr * (g + wd * w0))

# Adam: first step is lr * g' / (|g'| + eps) with g' = g + wd w, bias corrections cancelling.
gp = g + wd * w0
assert torch.allclose(one_step(torch.optim.Adam, weight_decay=wd), w0 - lr * gp / (gp.abs() + 1e-8))

# AdamW: decay applied to the weights directly, then the Adam step on the raw gradient.
assert torch.allclose(one_step(torch.optim.AdamW, weight_decay=wd), w0 * (1 - lr * wd) - lr * g / (g.abs() + 1e-8))

# Two Adam steps by hand.
w = torch.nn.Parameter(w0.clone())
opt = torch.optim.Adam([w], lr=lr, betas=(0.9, 0.999), weight_decay=wd)
m = torch.zeros(3)
v = torch.zeros(3)
ref = w0.clone()
for t in range(1, 3):
    opt.zero_grad()
    (w * w).sum().backward()
    opt.step()
    grad = 2 * ref + wd * ref
    m = 0.9 * m + 0.1 * grad
    v = 0.999 * v + 0.001 * grad * grad
    m_hat = m / (1 - 0.9 ** t)
    v_hat = v / (1 - 0.999 ** t)
    ref = ref - lr * m_hat / (v_hat.sqrt() + 1e-8)
assert torch.allclose(w.detach(), ref, atol=1e-6)

# With more features than samples, plain SGD keeps whatever the initial weights had outside the data's
# span; weight decay shrinks it away.
x = torch.randn(20, 50)
y = x[:, :2].sum(dim=1, keepdim=True)


def train(weight_decay):
    torch.manual_seed(1)
    model = torch.nn.Linear(50, 1)
    torch.nn.init.normal_(model.weight, std=0.3)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, weight_decay=weight_decay)
    for _ in range(300):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return model.weight.norm().item(), torch.nn.functional.mse_loss(model(x), y).item()


(plain, plain_loss), (decayed, decayed_loss) = train(0.0), train(0.1)
print("weight norm without / with decay:", plain, decayed)
assert decayed < 0.7 * plain
assert plain_loss < 1e-3 and decayed_loss < 1e-2
assert math.isfinite(decayed)
