"""A chain of one-weight layers, trained to map 1 → −1 and −1 → 1 (the seed's first BP experiment).

Each layer computes output = w·input, so the network is y = w3·w2·w1·x and the loss for a
sample is ½(y − label)². Backprop by hand, as the tutorial writes it: the gradient passed
down ("the public derivative") is multiplied by each layer's local derivative w on the
way ("a layer multiplies"), and each weight's gradient is that times the layer's input.
Here matgrad does it; the first step is printed by the explainer, then per-sample SGD
(lr 0.05, 160 epochs) as in the seed, and predict(x) = sign(y).
Run: python examples/one_weight_chain.py [--layers 3] [--seed 0]
"""
from __future__ import annotations

import argparse

import numpy as np

import matgrad as mg
from matgrad.explain import explain

DATA = [1.0, -1.0]
LABELS = [-1.0, 1.0]


def forward(ws: list[mg.Tensor], x: float) -> mg.Tensor:
    out = mg.tensor(np.float64(x))
    out.name = "x"
    for k, w in enumerate(ws, 1):
        out = w * out
        out.name = f"y{k}"
    return out


def predict(ws: list[mg.Tensor], x: float) -> int:
    with mg.no_grad():
        return 1 if forward(ws, x).item() > 0 else -1


def train(
    layers: int = 3, seed: int = 0, lr: float = 0.05, epochs: int = 160, show: bool = True
) -> list[float]:
    mg.manual_seed(seed)
    rng = mg.random.default_generator()
    # the seed's initialisation: w = random() − 0.5, kept away from 0 so the chain can start to learn
    ws = []
    for k in range(layers):
        w0 = rng.uniform(-0.5, 0.5)
        w0 = np.sign(w0) * max(abs(w0), 0.2)
        ws.append(mg.Tensor(np.float64(w0), requires_grad=True, name=f"w{k + 1}"))
    losses = []
    for epoch in range(epochs):
        total = 0.0
        for i, (x, label) in enumerate(zip(DATA, LABELS)):
            y = forward(ws, x)
            loss = 0.5 * (y - label) ** 2
            loss.name = "loss"
            if show and epoch == 0 and i == 0:
                print("The first training step, explained (each weight's gradient = "
                      "upstream × the layer's input):\n")
                exp = explain(loss)
                loss.backward()  # explain() changed no .grad; backward fills it
                for w in ws:  # the record agrees with what backward put in .grad
                    assert float(exp.grad_of(w)) == float(w.grad)
                print()
            else:
                loss.backward()
            with mg.no_grad():
                for w in ws:
                    w.add_(w.grad, alpha=-lr)
                    w.grad = None
            total += loss.item()
        losses.append(total / len(DATA))
    if show:
        print("weights:", ", ".join(f"w{k + 1} = {w.item():+.4f}" for k, w in enumerate(ws)))
        print(f"product w3·w2·w1 = {np.prod([w.item() for w in ws]):+.4f}  (−1 maps 1 to −1)")
        print(f"mean loss: epoch 1 {losses[0]:.4f}, epoch {epochs} {losses[-1]:.6f}")
        print(f"predict(1) = {predict(ws, 1.0)}, predict(-1) = {predict(ws, -1.0)}")
    assert predict(ws, 1.0) == -1 and predict(ws, -1.0) == 1
    assert losses[-1] < 0.01 * losses[0]
    return losses


def main(argv: list[str] | None = None) -> list[float]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--layers", type=int, default=3, help="number of one-weight layers (default 3)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.layers < 1:
        p.error(f"--layers must be at least 1, got {args.layers}")
    return train(args.layers, args.seed)


if __name__ == "__main__":
    main()
