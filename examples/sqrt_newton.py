"""√a two ways: gradient descent on L(x) = (x² − a)², and Newton's method x ← x − L'/L''.

Both need dL/dx = 4x(x² − a), which backward gives. Newton also needs the second
derivative L'' = 12x² − 4a: autograd.grad(L, x, create_graph=True) returns dL/dx as a
tensor on a graph of its own, so differentiating it again gives L''. Newton converges
quadratically (the digits double each step); gradient descent linearly. Both curves go
on one plot.
Run: python examples/sqrt_newton.py [--a 2] [--out sqrt_newton.png]
"""
from __future__ import annotations

import argparse
import math
import os
import tempfile

import numpy as np

import matgrad as mg
from matgrad.autograd import grad


def loss(x: mg.Tensor, a: float) -> mg.Tensor:
    return (x * x - a) ** 2


def gradient_descent(a: float, x0: float = 1.0, lr: float | None = None, steps: int = 200) -> list[float]:
    """x ← x − lr·dL/dx; the iterates. lr defaults to 0.05/a: L'' = 8a at the root, so this is stable."""
    lr = 0.05 / max(a, 1.0) if lr is None else lr
    x = mg.tensor(np.float64(x0), requires_grad=True)  # np.float64: no float32 rounding on the way in
    xs = [x0]
    for _ in range(steps):
        loss(x, a).backward()
        with mg.no_grad():
            x.add_(x.grad, alpha=-lr)  # in place, as an optimizer step
        x.grad = None
        xs.append(x.item())
    return xs


def newton(a: float, x0: float | None = None, steps: int = 8) -> list[float]:
    """x ← x − L'(x)/L''(x), with L'' from differentiating the gradient itself.

    Starting at x0 ≥ √a (default max(1, a)) keeps L'' > 0 and the steps monotone.
    """
    x0 = max(1.0, a) if x0 is None else x0
    xs = [x0]
    x_val = x0
    for _ in range(steps):
        x = mg.tensor(np.float64(x_val), requires_grad=True)
        (g,) = grad(loss(x, a), x, create_graph=True)  # L'(x) = 4x(x² − a), itself on a graph
        (h,) = grad(g, x)  # L''(x) = 12x² − 4a
        assert math.isclose(h.item(), 12 * x_val**2 - 4 * a, rel_tol=1e-9)
        x_val = x_val - g.item() / h.item()
        xs.append(x_val)
    return xs


def plot(a: float, gd: list[float], nt: list[float], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    root = math.sqrt(a)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    floor = 1e-17  # a zero error cannot go on a log scale
    ax.semilogy([max(abs(x - root), floor) for x in gd], label="gradient descent on (x² − a)²")
    ax.semilogy([max(abs(x - root), floor) for x in nt], "o-",
                label="Newton: x ← x − L'/L'' (L'' by autograd)")
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"|x − √{a:g}|")
    ax.set_title(f"Finding √{a:g} = {root:.6f}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=folder)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv: list[str] | None = None) -> tuple[list[float], list[float]]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", type=float, default=2.0, help="the number whose square root to find (> 0)")
    p.add_argument("--out", default="sqrt_newton.png", help="where to save the plot")
    args = p.parse_args(argv)
    if args.a <= 0:
        p.error(f"--a must be positive, got {args.a}")
    gd, nt = gradient_descent(args.a), newton(args.a)
    root = math.sqrt(args.a)
    print(f"√{args.a:g} = {root:.12f}")
    print(f"gradient descent after {len(gd) - 1} steps: {gd[-1]:.12f}")
    print(f"Newton after {len(nt) - 1} steps:          {nt[-1]:.12f}")
    for k, x in enumerate(nt[:6]):
        print(f"  Newton step {k}: x = {x:.15f}  error {abs(x - root):.1e}")
    assert abs(nt[-1] - root) < 1e-12, "Newton should reach full precision"
    assert abs(gd[-1] - root) < 1e-6, "gradient descent should get close"
    assert abs(nt[5] - root) < abs(gd[5] - root), "Newton should be faster"
    plot(args.a, gd, nt, args.out)
    print(f"wrote {args.out}")
    return gd, nt


if __name__ == "__main__":
    main()
