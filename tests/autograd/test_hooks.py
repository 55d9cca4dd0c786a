"""Tensor hooks: register_hook on leaves and intermediates, post-accumulate hooks, removal, PyTorch's order."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg


def _torch():
    """PyTorch, the oracle, where installed."""
    return pytest.importorskip("torch")


def _program(lib, log):
    """The same graph in either library: a leaf used twice, an intermediate with two hooks, a retained grad."""
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.register_hook(lambda g: log.append(("x", g.tolist())))
    h = x * 2
    h.retain_grad()
    h.register_hook(lambda g: log.append(("h1", g.tolist())))
    h.register_hook(lambda g: g * 10)  # replaces the gradient flowing on (and the retained one)
    h.register_hook(lambda g: log.append(("h3", g.tolist())))
    y = (h * x).sum() + x.sum()
    y.backward()
    return x.grad.tolist(), h.grad.tolist()


def test_hooks_see_complete_gradients_in_pytorchs_order():
    log = []
    xg, hg = _program(mg, log)
    # h's hooks run in the order added, the second replaces dy; the leaf's hook sees the total once
    assert log == [("h1", [1.0, 2.0, 3.0]), ("h3", [10.0, 20.0, 30.0]), ("x", [23.0, 45.0, 67.0])]
    assert hg == [10.0, 20.0, 30.0]  # retained after the hooks
    assert xg == [23.0, 45.0, 67.0]  # 2·(10x) + h + 1


def test_hooks_match_torch():
    torch = _torch()
    mine, theirs = [], []
    assert _program(mg, mine) == _program(torch, theirs)
    assert mine == theirs


def test_leaf_hook_replaces_what_is_accumulated_and_handle_removes_it():
    w = mg.tensor([1.0, -1.0], requires_grad=True)
    handle = w.register_hook(lambda g: g * 0)
    (w * 3).sum().backward()
    assert w.grad.tolist() == [0.0, 0.0]
    handle.remove()
    handle.remove()  # twice is fine
    (w * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_post_accumulate_grad_hook_runs_after_grad_changed():
    w = mg.tensor([2.0], requires_grad=True)
    seen = []
    with w.register_post_accumulate_grad_hook(lambda t: seen.append(np.array(t.grad).tolist())):
        (w * w).sum().backward()
        (w * 5).sum().backward()
    (w * 5).sum().backward()  # removed by the with block
    assert seen == [[4.0], [9.0]]


def test_post_accumulate_hook_matches_torch():
    torch = _torch()
    out = {}
    for lib in (mg, torch):
        w = lib.tensor([2.0, 3.0], requires_grad=True)
        seen = []
        w.register_post_accumulate_grad_hook(lambda t, seen=seen: seen.append(t.grad.tolist()))
        (w * w).sum().backward()
        out[lib.__name__] = seen
    assert out["matgrad"] == out["torch"]


def test_hook_with_autograd_grad_and_unreached_parts():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(g.tolist()))
    a = x * 3
    b = (x > 0).float() * x  # a path whose comparison part carries no gradient
    (g,) = mg.autograd.grad((a + b).sum(), x)
    assert g.tolist() == [4.0, 4.0] and calls == [[4.0, 4.0]]


def test_hooks_under_create_graph_get_tensors_on_the_graph():
    x = mg.tensor([3.0], requires_grad=True, dtype=mg.float64)
    x.register_hook(lambda g: g * 2)
    (g,) = mg.autograd.grad((x ** 3).sum(), x, create_graph=True)
    assert g.tolist() == [54.0]  # 2 · 3x²
    (gg,) = mg.autograd.grad(g.sum(), x)
    assert gg.tolist() == [72.0]  # d(2·3x²)/dx · 2 (the hook runs again on this pass) = 2·(2·6x)


def test_hook_errors_are_clear():
    x = mg.tensor([1.0])
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        x.register_hook(lambda g: g)
    y = mg.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        y.register_post_accumulate_grad_hook(lambda t: None)
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    w.register_hook(lambda g: mg.ones(3))
    with pytest.raises(RuntimeError, match="changed the size"):
        (w * 2).sum().backward()
