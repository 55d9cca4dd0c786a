"""Write the step-through pages the documentation site embeds, with matgrad's own page writer.

    python docs/make_pages.py            # writes docs/pages/*.html

Each page is what `matgrad explain ... --html FILE` or `matgrad.viz.html(output, FILE)` writes:
one self-contained file (inline SVG, CSS and JS, no network). The pages are committed, so the
site builds without running matgrad; rerun this script when the page writer or the explainer
changes, and commit what it writes.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import matgrad as mg
from matgrad import viz

PAGES = Path(__file__).resolve().parent / "pages"


def leaf(name: str, value: float | np.ndarray) -> mg.Tensor:
    return mg.Tensor(np.asarray(value, dtype=np.float64), requires_grad=True, name=name)


def named(t: mg.Tensor, name: str) -> mg.Tensor:
    t.name = name
    return t


def j() -> mg.Tensor:
    """J = 3(a + bc) at a = 5, b = 3, c = 2 (examples/explain_j.py)."""
    a, b, c = leaf("a", 5.0), leaf("b", 3.0), leaf("c", 2.0)
    u = named(b * c, "u")
    v = named(a + u, "v")
    return named(3 * v, "J")


def sigmoid_neuron() -> mg.Tensor:
    """f = 1/(1 + e^−(w0·x0 + w1·x1 + w2)) at w = (2, −3, −3), x = (−1, −2) (examples/explain_sigmoid_neuron.py)."""
    w0, x0, w1, x1, w2 = (leaf(k, v) for k, v in
                          (("w0", 2.0), ("x0", -1.0), ("w1", -3.0), ("x1", -2.0), ("w2", -3.0)))
    s = named(w0 * x0 + w1 * x1 + w2, "s")
    return named(1 / (1 + mg.exp(-s)), "f")


def seed_mlp_step() -> mg.Tensor:
    """One step of the seed MLP, shrunk: X (4×6) → 5 ReLU → 3 sigmoid, binary cross-entropy on one-hot labels."""
    rng = np.random.default_rng(0)
    X = mg.Tensor(rng.random((4, 6)), name="X")
    W1 = leaf("W1", rng.uniform(-0.7, 0.7, (6, 5)))
    b1 = leaf("b1", np.zeros(5))
    W2 = leaf("W2", rng.uniform(-0.8, 0.8, (5, 3)))
    b2 = leaf("b2", np.zeros(3))
    Y = mg.Tensor(np.eye(3)[[0, 2, 1, 0]], name="Y")
    H = named(mg.relu(named(named(X @ W1, "A1") + b1, "Z1")), "H")
    P = named(mg.sigmoid(named(named(H @ W2, "A2") + b2, "Z2")), "P")
    return named(mg.nn.functional.binary_cross_entropy(P, Y), "L")


BUILDS = {
    "j.html": (j, "J = 3(a + bc), step by step"),
    "sigmoid_neuron.html": (sigmoid_neuron, "The sigmoid neuron, gate by gate"),
    "seed_mlp_step.html": (seed_mlp_step, "One step of the seed MLP in the matrix view"),
}


def main(out: Path = PAGES) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [viz.html(build(), out / name, title=title) for name, (build, title) in BUILDS.items()]


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else PAGES):
        print(f"wrote {p} ({p.stat().st_size:,} bytes)")
