"""PyTorch's Node API on matgrad's graph: next_functions, name(), metadata, AccumulateGrad, node pre- and
post-hooks, and torch.autograd.graph (GradientEdge, register_multi_grad_hook, saved tensors hooks).

Most tests run one program in both libraries (`lib` is matgrad or torch) and compare what it saw.
"""
from __future__ import annotations

import copy
import json
import pickle
import re

import numpy as np
import pytest

import matgrad as mg
from matgrad.autograd import CaptureError, capture
from matgrad.autograd.engine import run_backward
from matgrad.autograd.graph import (
    AccumulateGrad,
    GradientEdge,
    Node,
    disable_saved_tensors_hooks,
    get_gradient_edge,
    increment_version,
    register_multi_grad_hook,
    save_on_cpu,
    saved_tensors_hooks,
)
from tests.helpers import assert_close


def _torch():
    """PyTorch, the oracle, where installed."""
    return pytest.importorskip("torch")


def _leaves(lib):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    y = lib.tensor(rng.standard_normal(3), requires_grad=True)
    z = lib.tensor(rng.standard_normal((2, 3)))  # a constant
    return x, y, z


def _structure(node, names):
    """The graph below `node` as nested tuples: each node's PyTorch name, a leaf by its label."""
    if node is None:
        return None
    if node.name() == "torch::autograd::AccumulateGrad":
        assert node.next_functions == ()
        return ("AccumulateGrad", names[id(node.variable)])
    return (node.name(), tuple((_structure(n, names), nr) for n, nr in node.next_functions))


def _walk(lib, backward_first):
    x, y, z = _leaves(lib)
    out = (x * y + z).exp().sum()
    if backward_first:  # the graph released: next_functions still there, as PyTorch's
        out.backward()
    return _structure(out.grad_fn, {id(x): "x", id(y): "y"})


@pytest.mark.parametrize("backward_first", [False, True])
def test_next_functions_walk_the_same_graph_as_torch(backward_first):
    want = ("SumBackward0", ((("ExpBackward0", ((("AddBackward0", (
        (("MulBackward0", ((("AccumulateGrad", "x"), 0), (("AccumulateGrad", "y"), 0))), 0),
        (None, 0),
    )), 0),)), 0),))
    assert _walk(mg, backward_first) == want
    assert _walk(_torch(), backward_first) == want


def test_accumulate_grad_is_one_node_per_leaf():
    x, y, _ = _leaves(mg)
    mul = (x * y).grad_fn
    acc = mul.next_functions[0][0]
    assert type(acc) is AccumulateGrad and type(acc).__name__ == "AccumulateGrad"
    assert acc is mul.next_functions[0][0]  # the same object each time ...
    assert acc is (x * 2).grad_fn.next_functions[0][0]  # ... and from another graph
    assert acc is not mul.next_functions[1][0] and mul.next_functions[1][0].variable is y
    assert acc.variable is x and acc.next_functions == () and acc.name() == "torch::autograd::AccumulateGrad"
    assert re.fullmatch(r"<AccumulateGrad object at 0x[0-9a-f]+>", repr(acc))
    acc.metadata["k"] = 1
    assert (x * 3).grad_fn.next_functions[0][0].metadata == {"k": 1}
    assert get_gradient_edge(x) == GradientEdge(acc, 0) and get_gradient_edge(x).ownership_token is None


def test_accumulate_grad_identity_matches_torch():
    torch = _torch()
    for lib in (mg, torch):
        x = lib.ones(2, requires_grad=True)
        a, b = (x * 2).grad_fn, (x + 1).grad_fn
        assert a.next_functions[0][0] is b.next_functions[0][0]
        assert a.next_functions[0][0].variable is x


def test_name_is_matgrads_name_and_torchs_call():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    node = (x * x).grad_fn
    assert node.name == "Mul" and f"{node.name}Backward" == "MulBackward" and node.name() == "MulBackward0"
    assert type(pickle.loads(pickle.dumps(node.name))) is str and copy.deepcopy(node.name) == "Mul"
    assert json.loads(json.dumps({"op": node.name})) == {"op": "Mul"}
    assert repr(node) == f"<MulBackward0 object at {id(node):#x}>"
    assert {node.name: 1}["Mul"] == 1


def test_names_agree_with_torch_where_the_ops_do():
    torch = _torch()
    for lib in (mg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        got = [t.grad_fn.name() for t in (x * x, x + x, x - x, x / x, -x, x.exp(), x.sum(), x.tanh(), x.sigmoid())]
        assert got == ["MulBackward0", "AddBackward0", "SubBackward0", "DivBackward0", "NegBackward0",
                       "ExpBackward0", "SumBackward0", "TanhBackward0", "SigmoidBackward0"]
        assert re.fullmatch(r"<MulBackward0 object at 0x[0-9a-f]+>", repr((x * x).grad_fn))


def _function_classes(lib):
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            return g * ctx.saved_tensors[0]

    return Exp


def test_function_nodes_after_backward_keep_their_leaves():
    torch = _torch()
    for lib in (mg, torch):
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        y = _function_classes(lib).apply(x)
        node = y.grad_fn
        assert node.name() == "ExpBackward" and isinstance(node, lib.autograd.graph.Node)
        y.sum().backward()
        assert node.next_functions[0][0].variable is x  # released, and still pointing at the leaf


def test_every_node_is_a_node():
    x, y, _ = _leaves(mg)
    out = (x @ y).sum()
    assert isinstance(out.grad_fn, Node) and isinstance(out.grad_fn.next_functions[0][0], Node)
    assert isinstance(get_gradient_edge(x).node, Node) and not isinstance(x, Node)
    assert issubclass(AccumulateGrad, Node)


def test_metadata_is_one_dict_that_outlives_backward():
    x = mg.tensor([1.0], requires_grad=True)
    out = (x * 2).sum()
    meta = out.grad_fn.metadata
    assert meta == {} and out.grad_fn.metadata is meta
    meta["step"] = 3
    out.backward()
    assert out.grad_fn.metadata == {"step": 3}


def test_get_gradient_edge_and_its_error():
    torch = _torch()
    for lib in (mg, torch):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        edge = lib.autograd.graph.get_gradient_edge(y)
        assert edge.node is y.grad_fn and edge.output_nr == 0 and edge._fields == ("node", "output_nr",
                                                                                  "ownership_token")
        with pytest.raises(RuntimeError, match="It is not possible to get the gradient edge for a Tensor that does "
                                               "not require gradients"):
            lib.autograd.graph.get_gradient_edge(lib.ones(2))


# --- hooks on nodes -----------------------------------------------------------------------------------------------

def _hooked_program(lib, log):
    """Every kind of hook on one graph, each logging what it saw; some replace gradients."""
    rng = np.random.default_rng(3)
    x = lib.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    w = lib.tensor(rng.standard_normal(3), requires_grad=True)
    y = x * w  # broadcasting: the post hook sees w's gradient summed to (3,)
    node = y.grad_fn
    y.register_hook(lambda g: (log.append(("tensor hook", g.tolist())), g * 10)[1])
    y.retain_grad()  # the retained .grad is the one before the node's prehooks
    node.register_prehook(lambda go: (log.append(("prehook", [g.tolist() for g in go])), (go[0] + 1,))[1])
    node.register_prehook(lambda go: log.append(("prehook 2", [g.tolist() for g in go])))

    def post(gi, go):
        log.append(("post", [g.tolist() for g in gi], [g.tolist() for g in go]))
        return gi[0] * 2, gi[1]

    node.register_hook(post)
    node.register_hook(lambda gi, go: log.append(("post 2", [g.tolist() for g in gi])))
    acc = node.next_functions[0][0]
    x.register_hook(lambda g: (log.append(("x hook", g.tolist())), None)[1])
    acc.register_prehook(lambda go: (log.append(("acc pre", go[0].tolist())), (go[0] - 1,))[1])
    acc.register_hook(lambda gi, go: log.append(("acc post", gi, go[0].tolist(), x.grad.tolist())))
    x.register_post_accumulate_grad_hook(lambda t: log.append(("x post-accumulate", t.grad.tolist())))
    (y * y).sum().backward()
    return x.grad.tolist(), w.grad.tolist(), y.grad.tolist()


def test_node_hooks_change_gradients_as_in_torch():
    torch = _torch()
    mine, theirs = [], []
    got, want = _hooked_program(mg, mine), _hooked_program(torch, theirs)
    assert [e[0] for e in mine] == [e[0] for e in theirs] == [
        "tensor hook", "prehook", "prehook 2", "post", "post 2", "x hook", "acc pre", "x post-accumulate",
        "acc post"]
    for m, t in zip(mine, theirs):
        assert_close(_flat(m[1:]), _flat(t[1:]), rtol=1e-12, err_msg=m[0])
    for g, w in zip(got, want):
        assert_close(g, w, rtol=1e-12)


def _flat(values):
    """The numbers in a log entry, flattened (entries hold lists and tuples of lists)."""
    out = []
    for v in values:
        if isinstance(v, (list, tuple)):
            out.extend(_flat(v))
        else:
            out.append(v)
    return np.array(out, dtype=np.float64)


def _removal_program(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    acc = y.grad_fn.next_functions[0][0]
    handles = [y.grad_fn.register_prehook(lambda go: (go[0] * 5,)),
               y.grad_fn.register_hook(lambda gi, go: (gi[0] + 100, None)),
               acc.register_prehook(lambda go: (go[0] * -1,))]
    z = y.sum()
    z.backward(retain_graph=True)
    first = x.grad.tolist()
    z.backward(retain_graph=True)  # the hooks run on each backward: .grad adds up
    second = x.grad.tolist()
    for h in handles:
        h.remove()
    handles[0].remove()  # removing twice does nothing
    x.grad = None
    z.backward()
    return first, second, x.grad.tolist()


def test_handles_remove_and_hooks_run_on_every_backward_as_in_torch():
    first, second, after = _removal_program(mg)
    assert first == [-115.0, -115.0] and second == [-230.0, -230.0] and after == [3.0, 3.0]
    assert _removal_program(_torch()) == (first, second, after)


def _create_graph_program(lib):
    x = lib.tensor([0.5, -1.5], requires_grad=True)
    y = x ** 3
    seen = []
    y.grad_fn.register_hook(lambda gi, go: (seen.append(gi[0].requires_grad), (gi[0] * 2,))[1])
    g, = lib.autograd.grad(y.sum(), x, create_graph=True)
    g.sum().backward()
    return g.tolist(), x.grad.tolist(), seen


def test_post_hook_under_create_graph_is_differentiated_as_in_torch():
    got = _create_graph_program(mg)
    assert_close(got[0], [1.5, 13.5], rtol=1e-12)  # 2 · 3x²
    assert_close(got[1], [6.0, -18.0], rtol=1e-12)  # 2 · 6x
    assert got == _create_graph_program(_torch())


def _grad_program(lib, log):
    """autograd.grad returns the leaf's gradient: its AccumulateGrad (and so its hooks) does not run."""
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    acc = y.grad_fn.next_functions[0][0]
    acc.register_prehook(lambda go: log.append("acc pre"))
    acc.register_hook(lambda gi, go: log.append("acc post"))
    y.grad_fn.register_prehook(lambda go: log.append("pre"))
    y.grad_fn.register_hook(lambda gi, go: log.append("post"))
    g, = lib.autograd.grad((y * y).sum(), x)
    return g.tolist()


def test_autograd_grad_runs_no_accumulate_grad_hooks_as_torch():
    mine, theirs = [], []
    assert _grad_program(mg, mine) == _grad_program(_torch(), theirs) == [18.0, 36.0]
    assert mine == theirs == ["pre", "post"]


def _prehook_drops_leaf_gradient(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    log = []
    acc = (x * 1).grad_fn.next_functions[0][0]
    acc.register_prehook(lambda go: (None,))
    acc.register_hook(lambda gi, go: log.append(go[0] is None))
    x.register_post_accumulate_grad_hook(lambda t: log.append("post-accumulate"))
    (x * 2).sum().backward()
    return x.grad, log


def test_accumulate_grad_prehook_may_drop_the_gradient_as_torch():
    grad, log = _prehook_drops_leaf_gradient(mg)
    assert grad is None and log == ["post-accumulate", True]
    assert _prehook_drops_leaf_gradient(_torch()) == (None, log)


def _bad_hook(lib, kind):
    x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    y = x * 2
    node, acc = y.grad_fn, y.grad_fn.next_functions[0][0]
    if kind == "post count":
        node.register_hook(lambda gi, go: (gi[0],))
    elif kind == "post list":
        node.register_hook(lambda gi, go: [gi[0], None])
    elif kind == "post size":
        node.register_hook(lambda gi, go: (gi[0][:1], None))
    elif kind == "post dtype":
        node.register_hook(lambda gi, go: (gi[0].to(lib.float32), None))
    elif kind == "pre count":
        node.register_prehook(lambda go: (go[0], go[0]))
    elif kind == "acc post":
        acc.register_hook(lambda gi, go: (go[0],))
    elif kind == "acc pre size":
        acc.register_prehook(lambda go: (go[0][:1],))
    y.sum().backward()


@pytest.mark.parametrize(("kind", "error", "message"), [
    ("post count", RuntimeError, r"has returned an incorrect number of values \(got 1, but expected 2\)"),
    ("post list", TypeError, "expected tuple, but hook returned 'list'"),
    ("post size", RuntimeError, "has changed the size of value"),
    ("post dtype", RuntimeError, "has changed the type of value"),
    ("pre count", RuntimeError, r"has returned an incorrect number of values \(got 2, but expected 1\)"),
    ("acc post", RuntimeError, r"has returned an incorrect number of values \(got 1, but expected 0\)"),
    ("acc pre size", RuntimeError, "has changed the size of value"),
])
def test_bad_hook_results_raise_torchs_errors(kind, error, message):
    for lib in (mg, _torch()):
        with pytest.raises(error, match=message):
            _bad_hook(lib, kind)


def test_prehook_dropping_a_nodes_gradient_says_what_to_do():
    x = mg.tensor([1.0], requires_grad=True)
    y = x * 2
    y.grad_fn.register_prehook(lambda go: (None,))
    with pytest.raises(NotImplementedError, match="return a tuple with a zero gradient"):
        y.sum().backward()


def test_non_callable_hooks_are_refused():
    x = mg.tensor([1.0], requires_grad=True)
    node = (x * 2).grad_fn
    for register in (node.register_hook, node.register_prehook, node.next_functions[0][0].register_hook,
                     node.next_functions[0][0].register_prehook):
        with pytest.raises(TypeError, match="expected a function, got int"):
            register(5)


def test_capture_refuses_node_hooks_inside_the_step():
    lin = mg.nn.Linear(3, 2)
    x, t = mg.randn(4, 3), mg.randn(4, 2)

    def post(x, t):
        h = lin(x)
        h.grad_fn.register_hook(lambda gi, go: None)
        return ((h - t) ** 2).mean()

    def pre(x, t):
        h = lin(x)
        h.grad_fn.register_prehook(lambda go: None)
        return ((h - t) ** 2).mean()

    for fn in (post, pre):
        step = capture(fn)
        with pytest.raises(CaptureError, match="has a hook of its own"):
            for _ in range(3):
                step(x, t)


def test_capture_runs_accumulate_grad_hooks_on_parameters():
    lin = mg.nn.Linear(3, 2)
    seen = []
    acc = get_gradient_edge(lin.weight).node
    acc.register_hook(lambda gi, go: seen.append(go[0].shape))
    step = capture(lambda x, t: ((lin(x) - t) ** 2).mean())
    for _ in range(3):  # two traced calls, then a replay
        step(mg.randn(4, 3), mg.randn(4, 2)).backward()
    assert seen == [(2, 3)] * 3


def test_the_engines_step_hook_sees_the_post_hooked_gradients():
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    y = x * 3
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0 + 7, None))
    seen = []
    z = y.sum()
    run_backward([z], [np.ones(())], False, False, hook=lambda n, dy, grads: seen.append((n.name, grads)))
    assert [s[0] for s in seen] == ["Sum", "Mul"] and seen[1][1][0].tolist() == [7.0, 7.0]
    assert x.grad.tolist() == [7.0, 7.0]


# --- torch.autograd.graph -------------------------------------------------------------------------------------

def _multi_program(lib, mode):
    """PyTorch's own example: hooks on a, b and the intermediates c (reached) and d (not reached)."""
    rng = np.random.default_rng(5)
    a = lib.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = lib.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    c, d = a * b, a * b
    calls = []
    fn = (lambda grads: calls.append([None if g is None else g.tolist() for g in grads])) if mode == "all" else \
        (lambda grad: calls.append(grad.tolist()))
    handle = lib.autograd.graph.register_multi_grad_hook((a, b, c, d), fn, mode=mode)
    (c * c).sum().backward(retain_graph=True)
    (c * c).sum().backward(retain_graph=True)  # once per backward
    handle.remove()
    (c * c).sum().backward()
    return calls


@pytest.mark.parametrize("mode", ["all", "any"])
def test_register_multi_grad_hook_as_torch(mode):
    mine, theirs = _multi_program(mg, mode), _multi_program(_torch(), mode)
    assert len(mine) == len(theirs) == 2
    if mode == "all":
        assert [[g is not None for g in call] for call in mine] == [[True, True, True, False]] * 2
        for m, t in zip(mine, theirs):
            for gm, gt in zip(m, t):
                assert (gm is None) == (gt is None)
                if gm is not None:
                    assert_close(gm, gt, rtol=1e-12)
    else:
        for m, t in zip(mine, theirs):
            assert_close(m, t, rtol=1e-12)  # c's gradient: the first computed


def test_multi_grad_hook_starts_again_after_a_backward_that_raised():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    calls = []
    register_multi_grad_hook((a, b), lambda grads: calls.append([g.tolist() for g in grads]))
    bad = b.register_hook(lambda g: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        (b * b).sum().backward(retain_graph=True)
    bad.remove()
    (b * b).sum().backward()
    assert calls == [[[8.0, 16.0], [4.0, 8.0]]]


def test_register_multi_grad_hook_checks_mode():
    with pytest.raises(ValueError, match="Expects mode to be one of"):
        register_multi_grad_hook((mg.ones(1, requires_grad=True),), print, mode="some")


def _version_program(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    c = b * b  # saves b
    v = b._version
    lib.autograd.graph.increment_version(b)
    lib.autograd.graph.increment_version([b])
    assert b._version == v + 2
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


def test_increment_version_makes_backward_refuse_a_changed_input_as_torch():
    _version_program(mg)
    _version_program(_torch())
    with pytest.raises(TypeError, match="expected a Tensor or an iterable of Tensors"):
        increment_version([1.0])


def test_saved_tensors_hooks():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="keep their inputs' tensors themselves"):
        with saved_tensors_hooks(lambda t: t, lambda t: t):
            pass
    with save_on_cpu(pin_memory=False):  # on the CPU it changes nothing, in PyTorch as here
        y = (x * x).sum()
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]
    assert isinstance(save_on_cpu(), saved_tensors_hooks)


def test_disable_saved_tensors_hooks_as_torch():
    torch = _torch()
    for lib in (mg, torch):
        graph = lib.autograd.graph
        with graph.disable_saved_tensors_hooks("no hooks here"):
            with pytest.raises(RuntimeError, match="no hooks here"):
                with graph.save_on_cpu():
                    pass
        with graph.save_on_cpu():  # enabled again
            pass
    with disable_saved_tensors_hooks("outer"):
        with disable_saved_tensors_hooks("inner"):
            with pytest.raises(RuntimeError, match="inner"):
                save_on_cpu().__enter__()
        with pytest.raises(RuntimeError, match="outer"):
            save_on_cpu().__enter__()


def _device_program(device):
    x = mg.tensor([[1.0, 2.0, 3.0]], dtype=mg.float64, device=device, requires_grad=True)
    w = mg.tensor([0.5, -1.0, 2.0], dtype=mg.float64, device=device, requires_grad=True)
    y = x * w
    seen = []
    y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
    y.grad_fn.register_hook(lambda gi, go: (seen.append(gi[1].device.type), (gi[0], gi[1] + 1))[1])
    get_gradient_edge(w).node.register_prehook(lambda go: (go[0] * 3,))
    (y * y).sum().backward()
    return x.grad.cpu().tolist(), w.grad.cpu().tolist(), seen


def test_node_hooks_on_a_device_give_the_cpus_gradients(cuda):
    xg, wg, seen = _device_program(cuda)
    assert seen == ["cuda"] and (xg, wg) == _device_program("cpu")[:2]
