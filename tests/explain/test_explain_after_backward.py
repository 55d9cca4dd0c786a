"""`J.backward(); J.explain()` (issue 18, part 6): the freed graph is replayed, with no side effects on `.grad`."""
from __future__ import annotations

import gc
import re
import weakref
from typing import Any, Callable

import numpy as np
import pytest

import matgrad as mg
from matgrad.explain import explain
from matgrad.explain.replay import nodes_of


def _grads(leaves: list[mg.Tensor]) -> list[tuple[Any, np.ndarray | None]]:
    """Each leaf's .grad object and a copy of its values, to see that nothing changed either."""
    return [(t.grad, None if t.grad is None else t.grad.numpy().copy()) for t in leaves]


def _same_grads(before: list[tuple[Any, np.ndarray | None]], leaves: list[mg.Tensor]) -> None:
    for (obj, values), t in zip(before, leaves):
        assert t.grad is obj
        if values is not None:
            np.testing.assert_array_equal(t.grad.numpy(), values)


def _explained_twice(make: Callable[[], tuple[mg.Tensor, list[mg.Tensor]]]) -> tuple[Any, Any, list[mg.Tensor]]:
    """explain() before backward(), then backward(), then explain() again: both records, and the leaves."""
    out, leaves = make()
    before = explain(out, print_table=False)
    out.backward()
    grads = _grads(leaves)
    after = explain(out, print_table=False)
    _same_grads(grads, leaves)
    return before, after, leaves


def _assert_same_record(before: Any, after: Any) -> None:
    assert after.table() == before.table()
    assert after.forward_table() == before.forward_table()
    assert after.to_dict() == before.to_dict()
    assert after.grads.keys() == before.grads.keys()
    for k, g in before.grads.items():
        np.testing.assert_array_equal(after.grads[k], g)
    for s1, s2 in zip(before.steps, after.steps):
        np.testing.assert_array_equal(s1.upstream, s2.upstream)
        for o1, o2 in zip(s1.inputs, s2.inputs):
            assert (o1.grad is None) == (o2.grad is None)
            if o1.grad is not None:
                np.testing.assert_array_equal(o1.grad, o2.grad)
    page_id = re.compile(r"matgrad-explain-\d+-[0-9a-f]+")  # each page gets an id of its own
    assert page_id.sub("", after._repr_html_()) == page_id.sub("", before._repr_html_())


def _j() -> tuple[mg.Tensor, list[mg.Tensor]]:
    a, b, c = (mg.tensor(v, requires_grad=True, name=n) for n, v in (("a", 2.0), ("b", 3.0), ("c", 4.0)))
    J = 3 * (a + b * c)
    J.name = "J"
    return J, [a, b, c]


def _neuron() -> tuple[mg.Tensor, list[mg.Tensor]]:
    values = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
    t = {k: mg.tensor(v, requires_grad=True, dtype=mg.float64, name=k) for k, v in values.items()}
    f = mg.sigmoid(t["w0"] * t["x0"] + t["w1"] * t["x1"] + t["w2"])
    f.name = "f"
    return f, list(t.values())


def _mlp(dropout: float = 0.0) -> Callable[[], tuple[mg.Tensor, list[mg.Tensor]]]:
    def make() -> tuple[mg.Tensor, list[mg.Tensor]]:
        mg.manual_seed(0)
        layers: list[Any] = [mg.nn.Linear(12, 8), mg.nn.ReLU()]
        if dropout:
            layers.append(mg.nn.Dropout(dropout))
        model = mg.nn.Sequential(*layers, mg.nn.Linear(8, 3))
        for k, p in model.named_parameters():
            p.name = k
        rng = np.random.default_rng(0)
        X = mg.tensor(rng.standard_normal((5, 12)), dtype=mg.float32, name="X")
        y = mg.tensor(rng.integers(0, 3, 5))
        loss = mg.nn.functional.cross_entropy(model(X), y)
        loss.name = "L"
        return loss, list(model.parameters())
    return make


@pytest.mark.parametrize("make", [_j, _neuron, _mlp()], ids=["J=3(a+bc)", "sigmoid neuron", "mlp"])
def test_explain_after_backward_is_the_record_before(make: Any) -> None:
    before, after, leaves = _explained_twice(make)
    _assert_same_record(before, after)
    assert all(t.grad is not None for t in leaves)  # backward's gradients, which explain left as they were


def test_j_after_backward_has_the_numbers_and_names() -> None:
    J, (a, b, c) = _j()
    J.backward()
    exp = J.explain(print_table=False)
    assert {k: float(v) for k, v in exp.grads.items()} == {"a": 3.0, "b": 12.0, "c": 9.0}
    assert "t1 = b · c = 3 · 4 = 12" in exp.forward_table()
    assert [a.grad.item(), b.grad.item(), c.grad.item()] == [3.0, 12.0, 9.0]  # not doubled


def test_the_mlp_after_backward_keeps_the_matrix_view() -> None:
    _, after, _ = _explained_twice(_mlp())
    linear = [s for s in after.steps if s.op == "Linear"]
    assert linear and all(o.formula for s in linear for o in s.inputs if o.grad is not None)


def test_a_named_intermediate_keeps_its_name_while_the_user_holds_it() -> None:
    b, c = mg.tensor(3.0, requires_grad=True, name="b"), mg.tensor(2.0, requires_grad=True, name="c")
    u = b * c
    u.name = "u"
    J = 3 * u
    J.name = "J"
    before = explain(J, print_table=False)
    J.backward()
    after = explain(J, print_table=False)
    _assert_same_record(before, after)
    assert "u = b · c" in after.forward_table()


def test_dropout_replays_exactly_its_mask_is_a_constant_of_the_graph() -> None:
    # the mask is drawn outside any op, into a constant the graph reads: replay reads the same one
    before, after, _ = _explained_twice(_mlp(dropout=0.5))
    _assert_same_record(before, after)


def test_a_user_function_cannot_be_replayed_and_the_error_says_what_to_do() -> None:
    class Cube(mg.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: mg.Tensor) -> mg.Tensor:
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx: Any, dy: mg.Tensor) -> mg.Tensor:
            (x,) = ctx.saved_tensors
            return 3 * x**2 * dy

    x = mg.tensor(2.0, requires_grad=True, name="x")
    J = Cube.apply(x * 2) + 1
    J.explain(print_table=False)  # before backward: fine
    J.backward()
    grad = x.grad.item()
    with pytest.raises(RuntimeError, match=r"Cube.*explain\(\) before backward\(\).*retain_graph=True"):
        J.explain(print_table=False)
    assert x.grad.item() == grad


def test_retain_graph_needs_no_replay() -> None:
    J, leaves = _j()
    J.backward(retain_graph=True)
    assert J.grad_fn.parents is not None
    grads = _grads(leaves)
    assert float(J.explain(print_table=False).grads["b"]) == 12.0
    _same_grads(grads, leaves)


def test_an_optimizer_step_after_backward_is_an_error_not_other_numbers() -> None:
    loss, params = _mlp()()
    loss.backward()
    mg.optim.SGD(params, lr=0.1).step()
    with pytest.raises(RuntimeError, match="changed since"):
        loss.explain(print_table=False)


def test_a_leaf_changed_in_place_after_backward_is_an_error() -> None:
    J, (a, b, c) = _j()
    k = mg.tensor(2.0)
    J = J * k
    J.backward()
    k.add_(1)
    with pytest.raises(RuntimeError, match="changed in place"):
        J.explain(print_table=False)


def test_in_place_history_replays() -> None:
    def make() -> tuple[mg.Tensor, list[mg.Tensor]]:
        a = mg.tensor([1.0, 2.0], requires_grad=True, name="a")
        b = mg.tensor([3.0, 4.0], requires_grad=True, name="b")
        y = a * b
        y.add_(1)
        L = (y * y).sum()
        L.name = "L"
        return L, [a, b]

    before, after, _ = _explained_twice(make)
    _assert_same_record(before, after)


def test_a_shared_trunk_freed_by_another_backward_replays() -> None:
    a = mg.tensor([1.0, -2.0, 3.0], requires_grad=True, name="a")
    h = mg.tanh(a * 2)
    L1, L2 = h.sum(), (h * h).sum()
    before = explain(L2, print_table=False)
    L1.backward()  # frees the trunk h; L2's own nodes are not freed
    after = explain(L2, print_table=False)
    _assert_same_record(before, after)


def test_explain_after_backward_under_no_grad() -> None:
    J, _ = _j()
    J.backward()
    with mg.no_grad():
        assert float(J.explain(print_table=False).grads["c"]) == 9.0


# --- memory: what the freed graph keeps -----------------------------------------------------------------

def test_after_backward_no_intermediate_activation_is_kept() -> None:
    loss, params = _mlp()()
    hidden = loss.grad_fn
    refs = []
    for n in nodes_of(loss):  # every intermediate tensor some node reads
        refs += [weakref.ref(p) for p, fn in zip(n.parents, n.parent_fns) if fn is not None]
    assert refs
    loss.backward()
    gc.collect()
    assert all(r() is None for r in refs), "an intermediate tensor outlived the backward"
    assert loss.grad_fn is hidden
    for n in nodes_of(loss):
        assert n.parents is None and n.out is None
        kept = [t for t in n.parent_fns if isinstance(t, mg.Tensor)]
        assert all(t.grad_fn is None for t in kept)  # leaves only: parameters and constants
        assert not any(isinstance(v, mg.Tensor) for v in n.params.values())
    assert float(loss.explain(print_table=False).to_dict()["value"]["values"]) == pytest.approx(loss.item())


def test_a_user_function_keeps_nothing_it_saw() -> None:
    class Twice(mg.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: mg.Tensor) -> mg.Tensor:
            return x * 2

        @staticmethod
        def backward(ctx: Any, dy: mg.Tensor) -> mg.Tensor:
            return dy * 2

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    ref = weakref.ref(h)
    J = Twice.apply(h).sum()
    del h
    J.backward()
    gc.collect()
    assert ref() is None
    assert J.grad_fn.parent_fns[0].params is None  # the node's forward parameters held the input tensor
