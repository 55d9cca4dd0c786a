"""J = 3(a + bc) at a=5, b=3, c=2: Andrew Ng's computation graph, backprop by the explainer.

Forward: u = bc = 6, v = a + u = 11, J = 3v = 33. Backward: dJ/dv = 3, then add
distributes (dJ/da = dJ/du = 3) and multiply swaps (dJ/db = 3·c = 6, dJ/dc = 3·b = 9).
Run: python examples/explain_j.py
"""
from __future__ import annotations

import matgrad as mg
from matgrad.explain import Explanation, explain


def build() -> tuple[mg.Tensor, dict[str, mg.Tensor]]:
    a, b, c = (mg.Tensor(v, requires_grad=True, dtype=mg.float64, name=n)
               for n, v in zip("abc", (5.0, 3.0, 2.0)))
    u = b * c
    u.name = "u"
    v = a + u
    v.name = "v"
    J = 3 * v
    J.name = "J"
    return J, {"a": a, "b": b, "c": c}


def main() -> Explanation:
    J, leaves = build()
    exp = explain(J)
    J.backward()  # explain() changed no .grad; backward fills it, and must agree
    assert J.item() == 33
    assert {k: float(g) for k, g in exp.grads.items()} == {"a": 3.0, "b": 6.0, "c": 9.0}
    for name, t in leaves.items():  # the record is what backward put into .grad
        assert float(t.grad) == float(exp.grads[name])
    return exp


if __name__ == "__main__":
    main()
