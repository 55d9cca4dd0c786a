"""f = (x + y)·z at x=−2, y=5, z=−4: the first graph of CS231n's backprop lecture.

q = x + y = 3, f = q·z = −12. Backward: df/dq = z = −4, df/dz = q = 3; the add gate
distributes, so df/dx = df/dy = −4.
Run: python examples/explain_fxyz.py
"""
from __future__ import annotations

import matgrad as mg
from matgrad.explain import Explanation, explain


def main() -> Explanation:
    x = mg.Tensor(-2.0, requires_grad=True, dtype=mg.float64, name="x")
    y = mg.Tensor(5.0, requires_grad=True, dtype=mg.float64, name="y")
    z = mg.Tensor(-4.0, requires_grad=True, dtype=mg.float64, name="z")
    q = x + y
    q.name = "q"
    f = q * z
    f.name = "f"
    exp = explain(f)
    f.backward()  # explain() changed no .grad; backward fills it, and must agree
    assert f.item() == -12
    assert [float(exp.grads[k]) for k in "xyz"] == [-4.0, -4.0, 3.0]
    assert float(x.grad) == -4 and float(y.grad) == -4 and float(z.grad) == 3
    return exp


if __name__ == "__main__":
    main()
