"""Fit y = 4x + 0.6 by gradient descent: two parameters, autograd for the derivatives, a plot.

    python examples/linear_fit.py [--steps 200] [--lr 0.1] [--out linear_fit.png]

The loss is the mean squared error L = mean((w·x + b - y)²); backward() gives
dL/dw = mean(2(ŷ - y)·x) and dL/db = mean(2(ŷ - y)), and each step moves w, b against them.
"""
from __future__ import annotations

import argparse

import numpy as np

import matgrad as mg


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--out", default="linear_fit.png", help="where to save the plot")
    args = ap.parse_args()

    mg.manual_seed(0)
    x = mg.rand(100, 1) * 2 - 1  # 100 points in [-1, 1)
    y = 4 * x + 0.6 + 0.1 * mg.randn(100, 1)  # the line plus a little noise
    w = mg.zeros(1, requires_grad=True)
    b = mg.zeros(1, requires_grad=True)

    for step in range(1, args.steps + 1):
        loss = ((x * w + b - y) ** 2).mean()
        w.grad = b.grad = None
        loss.backward()
        with mg.no_grad():  # the update itself is not part of the graph
            w.add_(w.grad, alpha=-args.lr)
            b.add_(b.grad, alpha=-args.lr)
        if step == 1 or step % 25 == 0 or step == args.steps:
            print(f"step {step:4d}  loss {loss.item():.5f}  w {w.item():.4f}  b {b.item():.4f}")
    print(f"fitted y = {w.item():.3f}x + {b.item():.3f}  (true: y = 4x + 0.6)")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = np.linspace(-1, 1, 50)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(x.numpy(), y.numpy(), s=10, alpha=0.6, label="data")
    ax.plot(xs, w.item() * xs + b.item(), "r", label=f"fit: {w.item():.2f}x + {b.item():.2f}")
    ax.plot(xs, 4 * xs + 0.6, "k--", lw=1, label="true: 4x + 0.6")
    ax.legend()
    fig.savefig(args.out, dpi=100)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
