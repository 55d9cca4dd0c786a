"""matgrad.utils.checkpoint: recomputed activations give the plain block's values and gradients exactly."""
from __future__ import annotations

import gc
import warnings
import weakref

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn
from matgrad.autograd import gradcheck
from matgrad.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential

BOTH = pytest.mark.parametrize("use_reentrant", [True, False])


def _block(seed: int = 0, p: float = 0.5) -> nn.Sequential:
    mg.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(p), nn.Linear(8, 3)).double()


def _grads(module: nn.Module) -> list[np.ndarray]:
    return [p.grad.numpy().copy() for p in module.parameters()]


def _plain_and_checkpointed(fn_plain, fn_ckpt, module, x):
    """Run both from the same RNG state; return (values, input grad, parameter grads) of each."""
    results = []
    for fn in (fn_plain, fn_ckpt):
        mg.manual_seed(123)
        module.zero_grad()
        x.grad = None
        y = fn(x)
        (y * mg.arange(y.numel(), dtype=y.dtype).reshape(y.shape)).sum().backward()
        results.append((y.detach().numpy().copy(), x.grad.numpy().copy(), _grads(module)))
    return results


@BOTH
def test_block_with_dropout_matches_plain_exactly(use_reentrant):
    blk = _block()
    x = mg.randn(5, 4, dtype=mg.float64, requires_grad=True)
    (y0, gx0, gp0), (y1, gx1, gp1) = _plain_and_checkpointed(
        blk, lambda t: checkpoint(blk, t, use_reentrant=use_reentrant), blk, x)
    np.testing.assert_array_equal(y0, y1)
    np.testing.assert_array_equal(gx0, gx1)
    for a, b in zip(gp0, gp1):
        np.testing.assert_array_equal(a, b)
    assert (y0 == 0).any() or (gx0 != 0).any()  # dropout was active: the same mask was drawn twice


@BOTH
def test_without_preserved_rng_the_mask_differs(use_reentrant):
    blk = _block(p=0.5)
    x = mg.randn(64, 4, dtype=mg.float64, requires_grad=True)
    (_, gx0, _), (_, gx1, _) = _plain_and_checkpointed(
        blk, lambda t: checkpoint(blk, t, use_reentrant=use_reentrant, preserve_rng_state=False), blk, x)
    assert not np.array_equal(gx0, gx1)


@BOTH
def test_surrounding_rng_state_is_restored_after_backward(use_reentrant):
    blk = _block()
    x = mg.randn(5, 4, dtype=mg.float64, requires_grad=True)
    y = checkpoint(blk, x, use_reentrant=use_reentrant)
    before = mg.random.get_rng_state()
    y.sum().backward()
    assert mg.random.get_rng_state() == before


@BOTH
def test_finite_differences_float64(use_reentrant):
    blk = _block(p=0.3)

    def f(x, w):
        mg.manual_seed(7)  # the same mask on every evaluation, so finite differences are meaningful
        return checkpoint(lambda a, b: blk(a) * b.sum(), x, w, use_reentrant=use_reentrant)

    x = mg.randn(3, 4, dtype=mg.float64, requires_grad=True)
    w = mg.randn(2, dtype=mg.float64, requires_grad=True)
    assert gradcheck(f, (x, w))


@BOTH
def test_graph_keeps_no_intermediate_activations(use_reentrant):
    refs = []

    def f(x):
        h = (x * 3.0).relu()
        refs.append(weakref.ref(h))
        return (h * h).sum(dim=1)

    x = mg.randn(4, 5, dtype=mg.float64, requires_grad=True)
    plain = f(x)
    gc.collect()
    assert refs[-1]() is not None  # without checkpointing the graph holds the intermediate
    y = checkpoint(f, x, use_reentrant=use_reentrant)
    gc.collect()
    assert refs[-1]() is None

    def nodes(t):
        seen, stack = set(), [t.grad_fn]
        while stack:
            n = stack.pop()
            if n is None or id(n) in seen:
                continue
            seen.add(id(n))
            stack.extend(p.grad_fn for p in n.parents)
        return len(seen)

    assert nodes(plain) >= 4 and nodes(y) == 1
    y.sum().backward()
    expected = 2 * 9.0 * np.maximum(x.detach().numpy(), 0)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


@BOTH
def test_nested_checkpoints(use_reentrant):
    blk = _block()
    lin = nn.Linear(3, 2).double()

    def outer(t):
        return lin(checkpoint(blk, t, use_reentrant=use_reentrant)).tanh()

    x = mg.randn(5, 4, dtype=mg.float64, requires_grad=True)
    (y0, gx0, gp0), (y1, gx1, gp1) = _plain_and_checkpointed(
        lambda t: lin(blk(t)).tanh(), lambda t: checkpoint(outer, t, use_reentrant=use_reentrant), blk, x)
    np.testing.assert_array_equal(y0, y1)
    np.testing.assert_array_equal(gx0, gx1)
    for a, b in zip(gp0, gp1):
        np.testing.assert_array_equal(a, b)


@BOTH
def test_block_run_twice(use_reentrant):
    mg.manual_seed(0)
    blk = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4, 4)).double()
    x = mg.randn(5, 4, dtype=mg.float64, requires_grad=True)
    (y0, gx0, gp0), (y1, gx1, gp1) = _plain_and_checkpointed(
        lambda t: blk(blk(t)),
        lambda t: checkpoint(blk, checkpoint(blk, t, use_reentrant=use_reentrant), use_reentrant=use_reentrant),
        blk, x)
    np.testing.assert_array_equal(y0, y1)
    np.testing.assert_array_equal(gx0, gx1)
    for a, b in zip(gp0, gp1):
        np.testing.assert_array_equal(a, b)


@BOTH
def test_tuple_outputs_and_non_tensor_args(use_reentrant):
    def f(a, scale, b, tag):
        return a * scale + b, tag, (a * b).sum()

    a = mg.randn(3, dtype=mg.float64, requires_grad=True)
    b = mg.randn(3, dtype=mg.float64, requires_grad=True)
    u, tag, s = checkpoint(f, a, 2.0, b, "tag", use_reentrant=use_reentrant)
    assert tag == "tag"
    (u.sum() + 3 * s).backward()
    np.testing.assert_allclose(a.grad.numpy(), 2.0 + 3 * b.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), 1.0 + 3 * a.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_list_output_stays_a_list():
    a = mg.randn(3, dtype=mg.float64, requires_grad=True)
    out = checkpoint(lambda t: [t * 2, t * 3], a, use_reentrant=False)
    assert isinstance(out, list) and len(out) == 2
    (out[0] + out[1]).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.full(3, 5.0))


@BOTH
def test_autograd_grad_reaches_the_inputs(use_reentrant):
    x = mg.randn(4, dtype=mg.float64, requires_grad=True)
    y = checkpoint(lambda t: (t.sin() * t).sum(), x, use_reentrant=use_reentrant)
    (g,) = mg.autograd.grad(y, x)
    xv = x.detach().numpy()
    np.testing.assert_allclose(g.numpy(), np.cos(xv) * xv + np.sin(xv), rtol=1e-12, atol=1e-12)
    assert x.grad is None


@BOTH
def test_autograd_grad_through_a_checkpoint_touches_no_parameter_grad(use_reentrant):
    """autograd.grad (a gradient penalty) through a checkpointed layer: the input's gradient, and the layer's
    parameters' .grad left as they were, as the plain layer leaves them."""
    mg.manual_seed(0)
    layer = mg.nn.Linear(3, 2).double()
    x = mg.randn(4, 3, dtype=mg.float64, requires_grad=True)
    (want,) = mg.autograd.grad(layer(x).tanh().sum(), x)
    (got,) = mg.autograd.grad(checkpoint(lambda t: layer(t).tanh(), x, use_reentrant=use_reentrant).sum(), x)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-14)
    assert layer.weight.grad is None and layer.bias.grad is None
    checkpoint(lambda t: layer(t).tanh(), x, use_reentrant=use_reentrant).sum().backward()  # backward fills them
    assert layer.weight.grad is not None and x.grad is not None


def test_non_reentrant_reaches_parameters_when_no_input_requires_grad():
    blk = _block()
    x = mg.randn(5, 4, dtype=mg.float64)  # no requires_grad
    mg.manual_seed(1)
    blk(x).sum().backward()
    g0 = _grads(blk)
    blk.zero_grad()
    mg.manual_seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = checkpoint(blk, x, use_reentrant=False)
    y.sum().backward()
    for a, b in zip(g0, _grads(blk)):
        np.testing.assert_array_equal(a, b)


def test_reentrant_warns_and_records_nothing_when_no_input_requires_grad():
    blk = _block()
    x = mg.randn(5, 4, dtype=mg.float64)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True. Gradients will be None"):
        y = checkpoint(blk, x, use_reentrant=True)
    assert not y.requires_grad and y.grad_fn is None


def test_kwargs_only_without_reentrant():
    x = mg.randn(3, dtype=mg.float64, requires_grad=True)
    y = checkpoint(lambda t, power=1: t**power, x, use_reentrant=False, power=3)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.detach().numpy() ** 2, rtol=1e-12)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: power"):
        checkpoint(lambda t, power=1: t**power, x, use_reentrant=True, power=3)


def test_use_reentrant_none_warns_and_means_true():
    x = mg.randn(3, dtype=mg.float64, requires_grad=True)
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed explicitly"):
        y = checkpoint(lambda t: t * 2, x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 2.0))
    with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant parameter should be passed"):
        checkpoint_sequential([lambda t: t * 2, lambda t: t + 1], 2, x)


def test_bad_options():
    x = mg.randn(3, dtype=mg.float64, requires_grad=True)
    with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
        checkpoint(lambda t: t, x, use_reentrant=True, debug=True)
    with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
        checkpoint(lambda t: t, x, use_reentrant=True, context_fn=lambda: (None, None))
    with pytest.raises(ValueError, match=r"determinism_check should be one of \['default', 'none'\], but got x"):
        checkpoint(lambda t: t, x, use_reentrant=False, determinism_check="x")
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential([lambda t: t], 1, x, use_reentrant=False, foo=1)


def test_reentrant_raises_when_no_recomputed_output_requires_grad():
    x = mg.randn(3, dtype=mg.float64, requires_grad=True)
    y = checkpoint(lambda t: t.detach() * 2, x, use_reentrant=True)
    with pytest.raises(RuntimeError, match="none of output has requires_grad=True"):
        y.sum().backward()


def test_determinism_check():
    calls = []

    def f(t):
        calls.append(1)
        return t[: len(calls) + 1] * 2  # a different shape when recomputed

    x = mg.randn(4, dtype=mg.float64, requires_grad=True)
    y = checkpoint(f, x, use_reentrant=False)
    with pytest.raises(CheckpointError, match="different metadata"):
        y.sum().backward()
    assert issubclass(CheckpointError, RuntimeError)


def test_context_fn_wraps_forward_and_recomputation():
    import contextlib
    log = []

    @contextlib.contextmanager
    def tag(name):
        log.append(name)
        yield

    x = mg.randn(3, dtype=mg.float64, requires_grad=True)
    y = checkpoint(lambda t: t * t, x, use_reentrant=False, context_fn=lambda: (tag("fwd"), tag("recompute")))
    assert log == ["fwd"]
    y.sum().backward()
    assert log == ["fwd", "recompute"]


@BOTH
@pytest.mark.parametrize("as_list", [False, True])
def test_checkpoint_sequential_matches_plain(use_reentrant, as_list):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Dropout(0.4), nn.Linear(6, 6), nn.Tanh(),
                          nn.Linear(6, 2)).double()
    fns = list(model.children()) if as_list else model
    x = mg.randn(5, 4, dtype=mg.float64, requires_grad=True)
    (y0, gx0, gp0), (y1, gx1, gp1) = _plain_and_checkpointed(
        model, lambda t: checkpoint_sequential(fns, 3, t, use_reentrant=use_reentrant), model, x)
    np.testing.assert_array_equal(y0, y1)
    np.testing.assert_array_equal(gx0, gx1)
    for a, b in zip(gp0, gp1):
        np.testing.assert_array_equal(a, b)


@BOTH
def test_against_torch(use_reentrant):
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as tcheckpoint

    mg.manual_seed(0)
    blk = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    tblk = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
    with torch.no_grad():
        for p, tp in zip(blk.parameters(), tblk.parameters()):
            tp.copy_(torch.from_numpy(p.detach().numpy()))
    xv = np.random.default_rng(0).standard_normal((5, 4))
    x = mg.tensor(xv, requires_grad=True)
    tx = torch.tensor(xv, requires_grad=True)
    y = checkpoint(blk, x, use_reentrant=use_reentrant)
    ty = tcheckpoint(tblk, tx, use_reentrant=use_reentrant)
    (y**2).sum().backward()
    (ty**2).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    for p, tp in zip(blk.parameters(), tblk.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_warnings_match_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as tcheckpoint

    def messages(fn):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            fn()
        return [(w_.category, str(w_.message)) for w_ in w]

    ours = messages(lambda: checkpoint(lambda t: t * 2, mg.ones(2)))
    theirs = messages(lambda: tcheckpoint(lambda t: t * 2, torch.ones(2)))
    assert ours == theirs and len(ours) == 2
