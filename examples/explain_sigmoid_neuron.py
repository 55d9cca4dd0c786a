"""A 2-input sigmoid neuron, f = 1/(1 + e^−(w0·x0 + w1·x1 + w2)), as in CS231n's lecture.

At w = (2, −3, −3), x = (−1, −2): the neuron's input is 1, f = σ(1) = 0.73, and the
gradient at the sum is (1 − f)·f = 0.2. Then multiply swaps: dw = (−0.20, −0.39, 0.20),
dx = (0.39, −0.59). The same graph with the fused sigmoid gives the same numbers in
fewer steps, because dσ/dx = σ(1 − σ) is one local derivative.
Run: python examples/explain_sigmoid_neuron.py
"""
from __future__ import annotations

import matgrad as mg
from matgrad.explain import Explanation, explain

VALUES = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}


def leaves() -> dict[str, mg.Tensor]:
    return {k: mg.Tensor(v, requires_grad=True, dtype=mg.float64, name=k) for k, v in VALUES.items()}


def main(fused: bool = False) -> Explanation:
    t = leaves()
    s = t["w0"] * t["x0"] + t["w1"] * t["x1"] + t["w2"]
    f = mg.sigmoid(s) if fused else 1 / (1 + mg.exp(-s))
    f.name = "f"
    exp = explain(f)
    f.backward()  # explain() changed no .grad; backward fills it, and must agree
    assert round(f.item(), 2) == 0.73
    dw = [round(float(exp.grads[k]), 2) for k in ("w0", "w1", "w2")]
    dx = [round(float(exp.grads[k]), 2) for k in ("x0", "x1")]
    assert dw == [-0.20, -0.39, 0.20], dw
    assert dx == [0.39, -0.59], dx
    for k, v in t.items():
        assert float(v.grad) == float(exp.grads[k])
    return exp


if __name__ == "__main__":
    print("The neuron gate by gate:\n")
    main(fused=False)
    print("\n\nThe same neuron with the fused sigmoid:\n")
    main(fused=True)
