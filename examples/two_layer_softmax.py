"""A two-layer softmax network with L2 regularisation on synthetic spiral (or blob) data.

    python examples/two_layer_softmax.py [--data spiral|blobs] [--steps 2000] [--hidden 100]

    scores = ReLU(X·W1 + b1)·W2 + b2           X (N, 2), W1 (2, H), W2 (H, K)
    loss   = cross_entropy(scores, y) + ½·reg·(‖W1‖² + ‖W2‖²)

Full-batch gradient descent; autograd computes dW2 = Hᵀ·dS + reg·W2, dW1 = Xᵀ·(dS·W2ᵀ ⊙ [H>0]) + reg·W1.
A linear softmax classifier cannot separate the spirals (about 50%); the hidden layer can.
"""
from __future__ import annotations

import argparse

import numpy as np

import matgrad as mg
import matgrad.nn.functional as F


def spiral(n_per_class: int, classes: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`classes` interleaved spiral arms of `n_per_class` noisy points each."""
    X, y = [], []
    for k in range(classes):
        r = np.linspace(0.0, 1, n_per_class)
        t = np.linspace(k * 4, (k + 1) * 4, n_per_class) + rng.normal(0, 0.2, n_per_class)
        X.append(np.c_[r * np.sin(t), r * np.cos(t)])
        y.append(np.full(n_per_class, k))
    return np.concatenate(X).astype(np.float32), np.concatenate(y)


def blobs(n_per_class: int, classes: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters around points on a circle."""
    angles = 2 * np.pi * np.arange(classes) / classes
    centres = np.c_[np.cos(angles), np.sin(angles)]
    X = np.concatenate([c + 0.3 * rng.normal(size=(n_per_class, 2)) for c in centres])
    return X.astype(np.float32), np.repeat(np.arange(classes), n_per_class)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", choices=("spiral", "blobs"), default="spiral")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--lr", type=float, default=1.0)
    ap.add_argument("--reg", type=float, default=1e-3, help="L2 regularisation strength")
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    Xn, yn = (spiral if args.data == "spiral" else blobs)(100, 3, rng)
    X, y = mg.tensor(Xn), mg.tensor(yn)
    mg.manual_seed(0)
    K, H = 3, args.hidden
    W1 = (0.01 * mg.randn(2, H)).requires_grad_()
    b1 = mg.zeros(H, requires_grad=True)
    W2 = (0.01 * mg.randn(H, K)).requires_grad_()
    b2 = mg.zeros(K, requires_grad=True)
    params = [W1, b1, W2, b2]

    for step in range(args.steps + 1):
        scores = (X @ W1 + b1).relu() @ W2 + b2
        data_loss = F.cross_entropy(scores, y)
        reg_loss = 0.5 * args.reg * ((W1 * W1).sum() + (W2 * W2).sum())
        loss = data_loss + reg_loss
        if step % max(1, args.steps // 10) == 0:
            acc = (scores.array.argmax(axis=1) == yn).mean()
            print(f"step {step:5d}  loss {loss.item():.4f} "
                  f"(data {data_loss.item():.4f} + L2 {reg_loss.item():.4f})"
                  f"  train accuracy {acc:.2%}")
        if step == args.steps:
            break
        for p in params:
            p.grad = None
        loss.backward()
        with mg.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-args.lr)
    print(f"final training accuracy on {args.data}: {acc:.2%} ({len(yn)} points, {K} classes)")


if __name__ == "__main__":
    main()
