"""The reverse pass: accumulation, shared inputs, graph shapes, freeing, and its errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg
from matgrad.autograd.op import Op
from tests.helpers import check_op


def f64(data, grad=True):
    return mg.tensor(np.asarray(data, dtype=np.float64), requires_grad=grad)


def test_grads_accumulate_until_zeroed():
    x = f64([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [3 + 2, 3 + 4])
    x.zero_grad()
    assert x.grad is None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3, 3])


def test_tensor_used_several_times_gets_the_sum():
    x = f64(2.0)
    y = x * x * x + x  # d/dx = 3x² + 1
    y.backward()
    assert x.grad == pytest.approx(13.0)


def test_diamond_graph():
    x = f64([0.5, -1.0])
    a = x.exp()
    b = a * 2
    c = a.sin()
    (b * c).sum().backward()
    e = np.exp([0.5, -1.0])
    np.testing.assert_allclose(x.grad, e * (2 * np.sin(e) + 2 * e * np.cos(e)))


def test_broadcast_grads_are_summed_back():
    a = f64(np.ones((3, 1, 4)))
    b = f64(np.ones((5, 4)))
    s = f64(2.0)
    (a * b * s).sum().backward()
    assert a.grad.shape == (3, 1, 4) and b.grad.shape == (5, 4) and s.grad.shape == ()
    np.testing.assert_allclose(a.grad, 10.0)
    np.testing.assert_allclose(b.grad, 6.0)
    assert s.grad == pytest.approx(60.0)


def test_deep_chain_of_100000_ops():
    x = f64(1.0)
    y = x
    for _ in range(100_000):
        y = y + 1e-5
    y.backward()
    assert x.grad == pytest.approx(1.0)
    assert y.item() == pytest.approx(2.0)


def test_backward_frees_the_graph_and_second_backward_names_retain_graph():
    x = f64([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    assert y.grad_fn.parents is None  # saved arrays were released
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = f64([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.array.copy()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * g1)


def test_backward_with_explicit_gradient():
    x = f64([1.0, 2.0, 3.0])
    y = x * x
    y.backward(mg.tensor([1.0, 0.0, -1.0], dtype=mg.float64))
    np.testing.assert_allclose(x.grad, [2.0, 0.0, -6.0])


def test_backward_of_non_scalar_without_gradient_is_clear():
    x = f64([1.0, 2.0])
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward()


def test_backward_gradient_of_wrong_shape_is_clear():
    x = f64([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"\(3,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_from_tensor_that_does_not_require_grad():
    x = mg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        x.sum().backward()


def test_leaf_root_backward():
    x = f64(3.0)
    x.backward()
    assert x.grad == pytest.approx(1.0)


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating"):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="floating"):
        mg.tensor([1, 2]).requires_grad_()


def test_no_gradient_through_integers():
    x = f64([1.5, 2.5])
    i = x.long()  # the cast to integers cuts the graph, as in PyTorch
    assert not i.requires_grad and i.dtype == mg.int64
    with pytest.raises(RuntimeError, match="does not require grad"):
        i.sum().backward()


def test_grad_dtype_and_shape_follow_the_leaf():
    x = mg.tensor([1.0, 2.0], requires_grad=True)  # float32
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_grad_is_never_aliased_between_leaves():
    a, b = f64([1.0]), f64([2.0])
    (a + b).sum().backward()
    a.grad += 10
    assert b.grad[0] == pytest.approx(1.0)


def test_detach_cuts_the_graph_and_shares_memory():
    x = f64([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.array, x.array)
    (x * d).sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, 2.0])


def test_comparisons_carry_no_gradient():
    x = f64([1.0, -2.0])
    for m in (x > 0, x >= 0, x < 0, x <= 0, x == 1, x != 1):
        assert m.dtype == np.bool_ and not m.requires_grad and m.grad_fn is None


def test_inplace_change_on_requires_grad_tensor_is_refused():
    x = f64([1.0, 2.0])
    with pytest.raises(RuntimeError, match="no_grad"):
        x[0] = 5.0
    with mg.no_grad():
        x[0] = 5.0
    assert x.array[0] == 5.0


def test_getitem_backward_adds_repeats_and_masks():
    x = f64([1.0, 2.0, 3.0, 4.0])
    y = x[[0, 0, 3]].sum() + x[x > 2].sum() + x[::-2].sum()
    y.backward()
    np.testing.assert_allclose(x.grad, [2.0, 1.0, 1.0, 3.0])


def test_gradient_shared_by_a_leaf_and_a_pending_node_is_not_aliased():
    """add returns dy to both inputs; a leaf that keeps it as .grad and later adds into it in
    place must not change the copy still waiting at the other input (found by a random DAG)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1628)
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(())]

    def program(L, p, v, s):
        n3 = L.maximum(p, p)
        n4 = p + v
        n5 = (-n3 * n3).exp() * n3
        n6 = s.tanh() * v
        n7 = n4 + p
        n8 = s * n7
        return n5.sum() + n6.sum() + n7.sum() + n8.sum()

    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    program(mg, *xs).backward()
    program(torch, *ts).backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)


def test_backward_seed_as_gradient_or_grad_keyword():
    x = f64([1.0, 2.0])
    (x * x).backward(gradient=mg.tensor([1.0, 1.0], dtype=mg.float64), retain_graph=False)
    (x * 3).backward(grad=np.array([1.0, 2.0]))
    np.testing.assert_allclose(x.grad, [2.0 + 3.0, 4.0 + 6.0])


def test_second_backward_through_a_freed_add_names_retain_graph():
    a, b = f64([1.0]), f64([2.0])
    s = a + b  # add's backward reads no saved input, so the engine itself must notice
    s.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (s * 2).sum().backward()


def test_nodes_no_gradient_reaches_are_never_run():
    class FirstOnly(Op):
        """y = a + b, with no gradient for b (as if b were a constant)."""

        def forward(self, a, b):
            return a + b

        def backward(self, dy):
            return dy, None

    class Exploding(Op):
        def forward(self, x):
            return x * 1.0

        def backward(self, dy):
            raise AssertionError("a node no gradient reaches was run")

    a, b = f64([1.0, 2.0]), f64([3.0, 4.0])
    FirstOnly.apply(a, Exploding.apply(b)).sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 1.0])
    assert b.grad is None


def test_a_node_runs_once_with_its_gradient_complete_even_when_its_consumers_are_far_apart():
    x = f64([0.5, -1.5])
    h = x.tanh()  # read at the start, the middle and the end of a long chain
    y = h
    for i in range(50):
        y = y * 1.01 + (h if i in (0, 25, 49) else 0.0)
    calls = []
    real = type(h.grad_fn).backward

    def counted(self, dy):
        calls.append(dy.copy())
        return real(self, dy)

    type(h.grad_fn).backward = counted
    try:
        y.sum().backward()
    finally:
        type(h.grad_fn).backward = real
    assert len(calls) == 1
    expected = 1.01 ** 50 + 1.01 ** 49 + 1.01 ** 24 + 1  # the chain's own path and three skips
    np.testing.assert_allclose(calls[0], [expected, expected], rtol=1e-12)
    np.testing.assert_allclose(x.grad, expected * (1 - np.tanh([0.5, -1.5]) ** 2), rtol=1e-12)


def test_add_gives_each_leaf_its_own_gradient_and_never_the_callers_seed():
    a, b = f64(np.zeros((3, 2))), f64(np.zeros((3, 2)))
    seed = np.ones((3, 2))
    (a + b).backward(seed)
    assert not np.shares_memory(a.grad, b.grad)
    assert not np.shares_memory(a.grad, seed) and not np.shares_memory(b.grad, seed)
    a.grad += 1  # each .grad is the leaf's own to change
    np.testing.assert_array_equal(b.grad, seed)
    np.testing.assert_array_equal(seed, np.ones((3, 2)))


def test_retain_grad_keeps_intermediate_gradients_like_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    xv = rng.standard_normal((3, 4))

    def run(lib, x):
        y = x * 2 - 1
        z = y.relu()
        y.retain_grad()
        z.retain_grad()
        loss = (z * z).sum()
        loss.retain_grad()
        loss.backward(retain_graph=True)
        loss.backward()  # retained gradients add up across backward calls, as .grad does
        return y, z, loss

    ours = run(mg, f64(xv))
    theirs = run(torch, torch.tensor(xv, requires_grad=True))
    for a, b in zip(ours, theirs):
        assert a.retains_grad and b.retains_grad
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-12)
    # by hand: dloss/dz = 2z, twice
    np.testing.assert_allclose(ours[1].grad, 4 * np.maximum(2 * xv - 1, 0), rtol=1e-12)


def test_retain_grad_on_leaves_and_untracked_tensors():
    x = f64([1.0, 2.0])
    x.retain_grad()  # a leaf keeps its gradient anyway
    assert not x.retains_grad
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        f64([1.0], grad=False).retain_grad()


def test_retained_grad_is_a_copy_and_autograd_grad_leaves_it_alone():
    x = f64([1.0, -2.0])
    y = x.exp()
    y.retain_grad()
    (gx,) = mg.autograd.grad((y * y).sum(), [x], retain_graph=True)
    assert y.grad is None  # autograd.grad touches no .grad
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad, 2 * np.exp([1.0, -2.0]), rtol=1e-12)
    y.grad[:] = 0  # changing it changes nothing else
    np.testing.assert_allclose(x.grad, gx.array, rtol=1e-12)


def _inf_and_minus_inf(make):
    """A seed that sends +inf and -inf to one tensor along two paths: PyTorch sums them to nan, silently."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return make(mg.tensor([[np.inf, np.inf], [-np.inf, -np.inf]], dtype=mg.float64))


def test_summing_inf_and_minus_inf_gradients_is_nan_without_a_warning():
    x = f64([1.0, 2.0])
    y = x * 1.0  # an inner node: its two parts are summed in the reverse pass
    _inf_and_minus_inf(lambda seed: mg.stack([y * 1.0, y * 2.0]).backward(seed))
    assert np.isnan(x.grad.numpy()).all()
    x = f64([1.0, 2.0])  # a leaf's two parts
    _inf_and_minus_inf(lambda seed: mg.stack([x * 1.0, x * 2.0]).backward(seed))
    assert np.isnan(x.grad.numpy()).all()
    x = f64([1.0, 2.0])  # autograd.grad's result
    (g,) = _inf_and_minus_inf(lambda seed: mg.autograd.grad(mg.stack([x * 1.0, x * 2.0]), [x], seed))
    assert np.isnan(g.numpy()).all()
    x = f64([1.0, 2.0])
    y = x * 1.0
    y.retain_grad()  # a retained .grad
    _inf_and_minus_inf(lambda seed: mg.stack([y * 1.0, y * 2.0]).backward(seed))
    assert np.isnan(y.grad.numpy()).all()
    x = f64([1.0, 2.0])  # .grad accumulating over two backward calls
    (x * 1.0).backward(mg.tensor([np.inf, np.inf], dtype=mg.float64))
    _inf_and_minus_inf(lambda seed: (x * 1.0).backward(seed[1]))
    assert np.isnan(x.grad.numpy()).all()
    x = f64([1.0, 2.0])  # under create_graph: the sums are ops on the graph
    (g,) = _inf_and_minus_inf(lambda seed: mg.autograd.grad(mg.stack([x * 1.0, x * 2.0]), [x], seed,
                                                             create_graph=True))
    assert np.isnan(g.detach().numpy()).all()


def test_the_quiet_sum_leaves_numpys_error_state_and_finite_sums_alone():
    before = np.geterr()
    x = f64([1.0, 2.0])
    mg.stack([x * 1.0, x * 2.0]).backward(mg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mg.float64))
    assert x.grad.tolist() == [7.0, 10.0] and np.geterr() == before


# --- pieces of one tensor (Op.add_grad_into): a slice added into the running sum ---------------------------

def _pieces(x):
    """A non-leaf cut up as split, chunk, unbind and basic indexing do, the pieces used in different ways
    (methods that matgrad and PyTorch share)."""
    h = x * 2
    q, k, v = h.chunk(3, 2)  # three slices of the last dim
    s = (q * k).sum() + (v ** 2).sum() + sum((p.sum() * p.sum() for p in h.split([1, 3], 0)), x.sum() * 0)
    for i, row in enumerate(h.unbind(0)):  # every index of dim 0
        s = s + (row * (i + 1)).sum()
    s = s + h[1, 2, 3] * 5 + h[..., None, 1:3].sum() + h[:, 1:4].sum() + h[:, 1:4].sum()  # an element, overlaps
    return s + (h * 0.5).sum()  # the tensor itself too, so one part is not a slice


def test_pieces_of_a_tensor_get_the_summed_gradient():
    check_op(_pieces, (4, 6, 6))


def test_pieces_add_into_one_gradient_in_place(monkeypatch):
    """Three slices of a non-leaf: GetItem.backward (zeros + the slice) runs once, the other two add their
    slice into its result, as PyTorch's SplitBackward makes one gradient; the gradient is the same."""
    from matgrad.ops.indexing import GetItem
    calls = {"backward": 0, "added": 0}
    backward, add = GetItem.backward, GetItem.add_grad_into

    def counted_backward(self, dy):
        calls["backward"] += 1
        return backward(self, dy)

    def counted_add(self, acc, dy):
        done = add(self, acc, dy)
        calls["added"] += done
        return done

    monkeypatch.setattr(GetItem, "backward", counted_backward)
    monkeypatch.setattr(GetItem, "add_grad_into", counted_add)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 9))
    x = f64(a)
    q, k, v = mg.chunk(x * 1.0, 3, 1)
    ((q * k).sum() + (v * v).sum() * 3).backward()
    assert calls == {"backward": 1, "added": 2}
    want = np.concatenate([a[:, 3:6], a[:, :3], 6 * a[:, 6:]], axis=1)
    np.testing.assert_array_equal(x.grad.array, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pieces_in_place_give_the_bits_of_separate_sums(dtype):
    """The in-place slice adds sum each element in the order the engine's whole-array sums did."""
    from matgrad.ops.indexing import GetItem
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 10)).astype(dtype)

    def grad():
        x = mg.tensor(a, requires_grad=True)
        h = x.exp()
        parts = [h[:, :4], h[:, 2:7], h[1:5], h[:, 9], h[2, 3]]
        sum(((p * p).sum() * (i + 1) for i, p in enumerate(parts)), (h * 3).sum()).backward()
        return x.grad.array

    fast = grad()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(GetItem, "add_grad_into", None)  # every piece a zero-filled gradient, summed whole
        slow = grad()
    np.testing.assert_array_equal(fast, slow)


def test_pieces_keep_working_with_hooks_retain_graph_and_create_graph():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 6))
    x = f64(a)
    h = x * 1.0
    q, k = mg.chunk(h, 2, 1)
    seen = []
    q.grad_fn.register_hook(lambda gi, go: seen.append(gi[0].shape))  # a node hook: the plain backward runs
    loss = (q * k).sum()
    loss.backward(retain_graph=True)
    loss.backward()  # the same graph again: the gradients add up
    want = np.concatenate([a[:, 3:], a[:, :3]], axis=1)
    np.testing.assert_array_equal(x.grad.array, 2 * want)
    assert seen == [(4, 6), (4, 6)]
    x2 = f64(a)
    q, k = mg.chunk(x2 * 1.0, 2, 1)
    (g,) = mg.autograd.grad((q * q * k).sum(), x2, create_graph=True)  # second order through the pieces
    (gg,) = mg.autograd.grad(g.sum(), x2)
    # g = [2qk, q²], so d(Σg)/dq = 2k + 2q and d(Σg)/dk = 2q
    np.testing.assert_allclose(gg.array, np.concatenate([2 * a[:, 3:] + 2 * a[:, :3], 2 * a[:, :3]], axis=1))


def test_pieces_sum_inf_and_minus_inf_quietly_to_nan():
    x = f64([1.0, 2.0, 3.0])
    h = x * 1.0
    a, b = h[0:2], h[1:3]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the sum of the overlap is quiet, as the engine's whole-array sums
        mg.autograd.backward([a, b], [mg.tensor([np.inf, np.inf]), mg.tensor([-np.inf, -np.inf])])
    assert np.isinf(x.grad.array[0]) and np.isnan(x.grad.array[1]) and np.isinf(x.grad.array[2])


def test_pieces_of_a_leaf_add_into_its_grad(monkeypatch):
    """A leaf cut in pieces: the first piece's zero-filled gradient becomes .grad and the rest add their slice
    into it; a .grad left by an earlier backward is added into too, as the engine adds into it anyway."""
    from matgrad.ops.indexing import GetItem
    added = []
    add = GetItem.add_grad_into
    monkeypatch.setattr(GetItem, "add_grad_into", lambda self, acc, dy: added.append(1) or add(self, acc, dy))
    a = np.random.default_rng(3).standard_normal((5, 4))
    x = f64(a)

    def loss():
        # x[0, :2] is made last, so its part arrives first: zeros with its slice, taken as .grad
        return sum(((row * row).sum() * (i + 1) for i, row in enumerate(x.unbind(0))), (x[0, :2] * 3).sum())

    loss().backward()
    want = 2 * a * np.arange(1, 6)[:, None]
    want[0, :2] += 3
    np.testing.assert_array_equal(x.grad.array, want)
    assert len(added) == 5  # every piece but the first one to arrive
    loss().backward()  # into the .grad already there: every piece adds
    np.testing.assert_array_equal(x.grad.array, 2 * want)
    assert len(added) == 5 + 6
    (g,) = mg.autograd.grad(loss(), x)  # autograd.grad leaves .grad alone and sums as before
    np.testing.assert_array_equal(g.array, want)
    np.testing.assert_array_equal(x.grad.array, 2 * want)
    x.register_hook(lambda g: g * 2)  # a hooked leaf sees its whole gradient once: the plain path
    x.grad = None
    loss().backward()
    np.testing.assert_array_equal(x.grad.array, 2 * want)
    assert len(added) == 5 + 6
