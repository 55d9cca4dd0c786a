"""In-place changes as in PyTorch: really in place (every alias sees them), with the right gradients,
a version counter that catches a saved value changed since, and `.data` / `.grad` as Tensors."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg


def _torch():
    """PyTorch, the oracle, where installed."""
    return pytest.importorskip("torch")


def _both(program):
    """Run `program(lib)` with matgrad and with PyTorch; return both results."""
    return program(mg), program(_torch())


def _graph_inplace(lib):
    x = lib.tensor([1.0, -2.0, 3.0, 0.5], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([0.5, 1.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    h = x * 2
    alias = h
    h += w            # an operand that requires grad
    h *= 3
    h[0] = 0.0        # __setitem__ on a tensor in the graph
    h[1:3] = w[1:3] * x[1:3]
    h.masked_fill_(h > 7, 7.0)
    h.clamp_(-5, 5)
    h.mul_(x).sub_(w, alpha=0.5).div_(2)
    h.relu_()
    out = (h * h).sum()
    out.backward()
    assert alias is h
    return h.tolist(), x.grad.tolist(), w.grad.tolist()


def test_inplace_chain_on_a_graph_tensor_matches_torch():
    mine, theirs = _both(_graph_inplace)
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-12)
    np.testing.assert_allclose(mine[2], theirs[2], rtol=1e-12)


def test_inplace_is_seen_through_every_alias_and_view():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 1
    view = h[1:]  # a NumPy view of h's array
    data = h.data
    h += 10
    assert view.tolist() == [12.0, 13.0] and data.tolist() == [11.0, 12.0, 13.0]


def test_earlier_uses_keep_the_history_they_saw():
    """y used h before h *= 2: y's gradient must not go through the later MulBackward."""
    def program(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        h = x * 3
        y = h + 1      # Add keeps no values, so changing h after is fine
        h *= 2
        (y + h).sum().backward()
        return x.grad.tolist()

    mine, theirs = _both(program)
    assert mine == theirs == [9.0, 9.0]


def test_a_saved_value_changed_in_place_raises_pytorchs_error():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    a = x.sigmoid()
    b = a * a           # Mul saves a
    a.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*MulBackward"):
        b.sum().backward()


def test_a_node_that_kept_its_output_keeps_the_old_values():
    """sigmoid keeps its output for dσ = σ(1-σ); an in-place change of that output must not leak into it."""
    def program(lib):
        x = lib.tensor([0.3, -1.2], dtype=lib.float64, requires_grad=True)
        s = x.sigmoid()
        s.add_(1)
        s.sum().backward()
        return x.grad.tolist()

    mine = program(mg)
    sig = 1 / (1 + np.exp(-np.array([0.3, -1.2])))
    np.testing.assert_allclose(mine, sig * (1 - sig), rtol=1e-12)


def test_leaf_that_requires_grad_refuses_inplace_but_no_grad_allows_it():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w += 1
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[0] = 3.0
    with mg.no_grad():
        w -= 0.5
        w[1] = 7.0
    assert w.tolist() == [0.5, 7.0] and w.grad_fn is None and w.requires_grad


def test_inplace_relu_module_matches_torch():
    def program(lib):
        lib.manual_seed(0)
        x = lib.tensor([[0.5, -1.0, 2.0], [-0.3, 0.2, -2.0]], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([[1.0, -1.0, 0.5], [0.5, 2.0, -1.0], [1.5, 0.0, 1.0]], dtype=lib.float64, requires_grad=True)
        h = x @ w
        out = lib.nn.ReLU(inplace=True)(h)
        assert out is h
        (out * 2).sum().backward()
        return out.tolist(), x.grad.tolist(), w.grad.tolist()

    mine, theirs = _both(program)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_versions_count_inplace_changes():
    t = mg.zeros(3)
    assert t._version == 0
    t.add_(1)
    t[0] = 5.0
    t.zero_()
    assert t._version == 3


def test_inplace_errors_name_the_problem():
    t = mg.zeros(3, dtype=mg.int64)
    with pytest.raises(RuntimeError, match="can't be cast"):
        t += mg.tensor([0.5, 0.5, 0.5], requires_grad=True)
    h = mg.tensor([1.0, 2.0], requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="cannot be written in place"):
        h += mg.ones(3, 2)


def test_data_and_grad_are_tensors_sharing_storage():
    """PyTorch's .data / .grad idioms, as the seeds' programs write them."""
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    assert isinstance(w.grad, mg.Tensor) and isinstance(w.data, mg.Tensor)
    assert not w.data.requires_grad and w.data.grad_fn is None
    w.data -= 0.1 * w.grad.data          # the old idiom: an update autograd does not see
    assert w.tolist() == pytest.approx([0.8, 1.6])
    assert float(w.grad.data.norm()) == pytest.approx(np.hypot(2.0, 4.0))
    w.grad.data.zero_()                  # zeroes w.grad itself: the same storage
    assert w.grad.tolist() == [0.0, 0.0]
    w.grad = None
    assert w.grad is None
    x = mg.ones(2)
    assert x.cpu().data.numpy() is x.numpy()
    with pytest.raises(RuntimeError, match="different size"):
        w.grad = mg.zeros(3)


def test_grad_is_accumulated_in_the_same_tensor():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    g = w.grad
    (w * 3).sum().backward()
    assert w.grad is g and g.tolist() == [6.0, 6.0]
