"""Fit y = w·x (true w = 3) three ways and watch w converge: SGD, mini-batch SGD, SGD + momentum.

    python examples/y_equals_wx_sgd.py [--epochs 8] [--samples 200]

The loss is L = mean((w·x - y)²), so dL/dw = mean(2(w·x - y)·x): plain SGD steps on one
sample at a time, mini-batch SGD on 16 at a time, and momentum keeps a running velocity
v = 0.8·v + dL/dw and steps w -= lr·v.
"""
from __future__ import annotations

import argparse

import matgrad as mg
from matgrad import optim

TRUE_W = 3.0


def fit(x: mg.Tensor, y: mg.Tensor, batch: int, lr: float, momentum: float, epochs: int, label: str) -> float:
    mg.manual_seed(1)
    w = mg.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=lr, momentum=momentum)
    n = x.shape[0]
    print(f"{label}: batch {batch}, lr {lr}, momentum {momentum}")
    for epoch in range(1, epochs + 1):
        order = mg.randperm(n).numpy()
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            xb, yb = x[idx], y[idx]
            loss = ((w * xb - yb) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        full = ((w * x - y) ** 2).mean().item()
        print(f"  epoch {epoch}  w = {w.item():.5f}  loss {full:.6f}")
    return w.item()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--samples", type=int, default=200)
    args = ap.parse_args()
    mg.manual_seed(0)
    x = mg.randn(args.samples)
    y = TRUE_W * x + 0.05 * mg.randn(args.samples)
    results = {
        "SGD": fit(x, y, 1, 0.01, 0.0, args.epochs, "SGD (one sample per step)"),
        "mini-batch SGD": fit(x, y, 16, 0.1, 0.0, args.epochs, "mini-batch SGD"),
        "momentum": fit(x, y, 16, 0.05, 0.8, args.epochs, "mini-batch SGD with momentum"),
    }
    print("final w: " + ", ".join(f"{k} {v:.4f}" for k, v in results.items()) + f"  (true w = {TRUE_W})")


if __name__ == "__main__":
    main()
