"""The explainer on a GPU graph: it is rebuilt on the host and explained there, .grad untouched."""
from __future__ import annotations

import numpy as np

import matgrad as mg


def _j(device):
    with mg.device(device):
        a, b, c = (mg.tensor(v, requires_grad=True, name=n) for v, n in ((2.0, "a"), (3.0, "b"), (4.0, "c")))
        return a, 3 * (a + b * c)


def test_the_same_record_as_on_the_cpu_before_and_after_backward(cuda):
    _, j_cpu = _j("cpu")
    a, j = _j("cuda")
    want = j_cpu.explain(print_table=False)
    got = j.explain(print_table=False)
    assert a.grad is None  # explaining changes no .grad
    assert got.table() == want.table()
    assert {k: float(v) for k, v in got.grads.items()} == {"a": 3.0, "b": 12.0, "c": 9.0}
    assert "<iframe" in got._repr_html_()
    j.backward()
    assert j.explain(print_table=False).table() == want.table()
    assert a.grad.device.type == "cuda" and a.grad.item() == 3.0


def test_a_matrix_graph(cuda):
    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.ReLU(), mg.nn.Linear(4, 2))
    x = mg.randn(5, 3)
    want = model(x).sum().explain(print_table=False)
    model.cuda()
    got = model(x.cuda()).sum().explain(print_table=False)
    assert got.grads.keys() == want.grads.keys()
    for k in want.grads:
        np.testing.assert_allclose(got.grads[k], want.grads[k], rtol=1e-6)
