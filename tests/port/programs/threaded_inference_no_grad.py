"""Grad mode is per thread: a background thread serving predictions under torch.no_grad() does not
stop the main thread's training from recording its graph, and the other way round."""
import threading

import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Linear(4, 1)
x = torch.randn(64, 4)
y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])

inside = threading.Event()
release = threading.Event()
results = {}


def serve():
    with torch.no_grad():
        inside.set()
        results["thread_grad_enabled"] = torch.is_grad_enabled()
        results["prediction_requires_grad"] = model(x[:2]).requires_grad
        release.wait(timeout=30)
    results["thread_after"] = torch.is_grad_enabled()


server = threading.Thread(target=serve)
server.start()
assert inside.wait(timeout=30)

# The server thread is inside no_grad right now; this thread still records.
assert torch.is_grad_enabled()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
first = None
for step in range(200):
    loss = nn.functional.mse_loss(model(x), y)
    assert loss.grad_fn is not None
    first = first if first is not None else loss.item()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
release.set()
server.join()
assert results == {"thread_grad_enabled": False, "prediction_requires_grad": False, "thread_after": True}
print("loss", first, "->", loss.item())
assert loss.item() < 0.01 * first

# The other way round: the main thread is under no_grad while a worker trains.
losses = []


def worker():
    local = nn.Linear(4, 1)
    opt = torch.optim.SGD(local.parameters(), lr=0.05)
    for _ in range(100):
        loss = nn.functional.mse_loss(local(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())


with torch.no_grad():
    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert not torch.is_grad_enabled()
assert len(losses) == 100 and losses[-1] < 0.1 * losses[0]

# Many threads entering and leaving no_grad at once never leak their mode into each other.
errors = []
barrier = threading.Barrier(4)


def flip(i):
    barrier.wait()
    for _ in range(200):
        if i % 2:
            with torch.no_grad():
                if torch.is_grad_enabled():
                    errors.append(i)
        elif not torch.is_grad_enabled():
            errors.append(i)


threads = [threading.Thread(target=flip, args=(i,)) for i in range(4)]
for th in threads:
    th.start()
for th in threads:
    th.join()
assert errors == []
print("per-thread grad mode: ok")
