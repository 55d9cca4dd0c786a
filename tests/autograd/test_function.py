"""autograd.Function with PyTorch's interface: ctx, apply, both forms, several outputs, higher order, errors.

The user functions are written once, against a library `lib` (matgrad, or torch where installed),
so the same class is checked by gradcheck here and compared with PyTorch's own result.
"""
from __future__ import annotations

import types
import warnings

import numpy as np
import pytest

import matgrad as mg
from matgrad.autograd import Function, FunctionCtx, once_differentiable


def f64(data, grad=True, lib=mg):
    return lib.tensor(np.asarray(data, dtype=np.float64), requires_grad=grad)


def arr(t):
    """A tensor's values as a NumPy array (also for a .grad that is still an array)."""
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)


def torch_or_skip():
    return pytest.importorskip("torch")


def user_functions(lib):
    """The same user Functions, for matgrad or torch."""
    base = lib.autograd.Function

    class Exp(base):
        """y = eˣ.  dx = y · dy (the saved output)."""

        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, dy):
            (y,) = ctx.saved_tensors
            return dy * y

    class Linear(base):
        """Y = X Wᵀ + b.  dX = dY W, dW = dYᵀ X, db = Σ dY."""

        @staticmethod
        def forward(ctx, x, w, b=None):
            ctx.save_for_backward(x, w, b)
            y = x.mm(w.t())
            return y if b is None else y + b

        @staticmethod
        def backward(ctx, dy):
            x, w, b = ctx.saved_tensors
            dx = dy.mm(w) if ctx.needs_input_grad[0] else None
            dw = dy.t().mm(x) if ctx.needs_input_grad[1] else None
            db = dy.sum(0) if b is not None and ctx.needs_input_grad[2] else None
            return dx, dw, db

    class SinCos(base):
        """(sin x, cos x).  dx = cos x · ds − sin x · dc."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, ds, dc):
            (x,) = ctx.saved_tensors
            return ds * x.cos() - dc * x.sin()

    class ScaleShift(base):
        """y = alpha · x + shift (alpha, shift numbers, mode a string).  dx = alpha · dy."""

        @staticmethod
        def forward(ctx, x, alpha, shift, mode="plain"):
            assert isinstance(alpha, float) and mode in ("plain", "square")
            ctx.alpha, ctx.mode = alpha, mode
            if mode == "square":
                ctx.save_for_backward(x)
                return alpha * x * x + shift
            return alpha * x + shift

        @staticmethod
        def backward(ctx, dy):
            if ctx.mode == "square":
                (x,) = ctx.saved_tensors
                return 2 * ctx.alpha * x * dy, None, None, None
            return ctx.alpha * dy, None, None, None

    class Cube(base):
        """y = x³.  dx = 3x² · dy."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, dy):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * dy

    class MulNew(base):
        """y = x · k (PyTorch's newer form: forward without ctx, setup_context)."""

        @staticmethod
        def forward(x, k=2.0, w=None):
            return x * k if w is None else x * k * w

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, k, w = inputs
            ctx.k = k
            ctx.save_for_backward(x, w, output)

        @staticmethod
        def backward(ctx, dy):
            x, w, out = ctx.saved_tensors
            if w is None:
                return dy * ctx.k, None, None
            return dy * ctx.k * w, None, dy * ctx.k * x

    return types.SimpleNamespace(Exp=Exp, Linear=Linear, SinCos=SinCos, ScaleShift=ScaleShift, Cube=Cube,
                                 MulNew=MulNew)


FN = user_functions(mg)
rng = np.random.default_rng(0)
X = rng.standard_normal((3, 4))
W = rng.standard_normal((2, 4))
B = rng.standard_normal(2)


# --- gradcheck and gradgradcheck, float64 ---------------------------------------------------------------

@pytest.mark.parametrize("fn, inputs", [
    (FN.Exp.apply, [X[0]]),
    (FN.Linear.apply, [X, W, B]),
    (lambda x, w: FN.Linear.apply(x, w, None), [X, W]),
    (FN.SinCos.apply, [X[1]]),
    (lambda x: FN.ScaleShift.apply(x, 1.5, 0.25), [X[2]]),
    (lambda x: FN.ScaleShift.apply(x, 1.5, 0.25, mode="square"), [X[2]]),
    (FN.Cube.apply, [X[0]]),
    (lambda x: FN.MulNew.apply(x, k=3.0), [X[0]]),
    (lambda x, w: FN.MulNew.apply(x, w=w), [X[0], X[1]]),
], ids=["exp", "linear", "linear-no-bias", "multi-output", "non-tensor-args", "non-tensor-args-square",
        "cube", "setup-context", "setup-context-kwarg-tensor"])
def test_gradcheck_and_gradgradcheck(fn, inputs):
    ts = [f64(a) for a in inputs]
    assert mg.gradcheck(fn, ts)
    assert mg.gradgradcheck(fn, ts)


# --- against PyTorch, the same class written for torch ----------------------------------------------------

def _run(lib, name, args, kwargs=None, create_graph=False):
    """Output values, first gradients, and (create_graph) gradients of Σ first gradients."""
    fns = user_functions(lib)
    ts = [f64(a, lib=lib) if isinstance(a, np.ndarray) else a for a in args]
    kw = {k: f64(v, lib=lib) if isinstance(v, np.ndarray) else v for k, v in (kwargs or {}).items()}
    out = getattr(fns, name).apply(*ts, **kw)
    ts += list(kw.values())
    outs = out if isinstance(out, tuple) else (out,)
    loss = sum((o * (k + 1.0)).sum() for k, o in enumerate(outs))
    wrt = [t for t in ts if hasattr(t, "requires_grad") and t.requires_grad]
    grads = lib.autograd.grad(loss, wrt, create_graph=create_graph)
    second = None
    if create_graph:
        total = sum(g.sum() for g in grads)
        second = [None] * len(wrt)
        if total.requires_grad:  # else the function is linear: no second derivative to take
            second = lib.autograd.grad(total, wrt, allow_unused=True)
            second = [None if g is None else arr(g) for g in second]
    return [arr(o) for o in outs], [arr(g) for g in grads], second


@pytest.mark.parametrize("name, args, kwargs", [
    ("Exp", [X[0]], None),
    ("Linear", [X, W, B], None),
    ("Linear", [X, W], None),
    ("SinCos", [X[1]], None),
    ("ScaleShift", [X[2], 1.5, 0.25], {"mode": "square"}),
    ("Cube", [X[0]], None),
    ("MulNew", [X[0]], {"k": 3.0}),
    ("MulNew", [X[0]], {"w": X[1]}),
])
def test_values_and_gradients_match_pytorch(name, args, kwargs):
    torch = torch_or_skip()
    ours = _run(mg, name, args, kwargs, create_graph=True)
    theirs = _run(torch, name, args, kwargs, create_graph=True)
    for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    for a, b in zip(ours[2], theirs[2]):
        if b is None:
            assert a is None or not np.any(a)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_cube_second_derivative_is_6x_as_in_pytorch():
    xs = np.array([1.5, -2.0, 0.3])
    x = f64(xs)
    y = FN.Cube.apply(x)
    (g,) = mg.autograd.grad(y.sum(), x, create_graph=True)
    assert g.requires_grad
    (h,) = mg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g.array, 3 * xs**2)
    np.testing.assert_allclose(h.array, 6 * xs)
    torch = torch_or_skip()
    tx = f64(xs, lib=torch)
    (tg,) = torch.autograd.grad(user_functions(torch).Cube.apply(tx).sum(), tx, create_graph=True)
    (th,) = torch.autograd.grad(tg.sum(), tx)
    np.testing.assert_allclose(h.array, th.numpy())


def test_third_derivative_through_a_user_function():
    x = f64(0.7)
    (d1,) = mg.autograd.grad(FN.Exp.apply(x * 2), x, create_graph=True)
    (d2,) = mg.autograd.grad(d1, x, create_graph=True)
    (d3,) = mg.autograd.grad(d2, x)
    assert d3.item() == pytest.approx(8 * np.exp(1.4))


# --- ctx, forward and the outputs --------------------------------------------------------------------------

def _probe(lib):
    seen = {}

    class Probe(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, y, flag=False):
            seen["grad_enabled"] = lib.is_grad_enabled()
            seen["needs"] = tuple(ctx.needs_input_grad)
            seen["out_requires_grad"] = (x * k).requires_grad
            ctx.constant = k
            return x * k * y

        @staticmethod
        def backward(ctx, dy):
            seen["needs_bw"] = tuple(ctx.needs_input_grad)
            seen["constant"] = ctx.constant
            return None, None, None, None

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([3.0, 4.0])
    out = Probe.apply(x, 2.0, y, flag=True)
    seen["requires_grad"] = out.requires_grad
    seen["leaf"] = out.grad_fn is None
    out.sum().backward()
    return seen


def test_forward_runs_without_recording_and_ctx_matches_pytorch():
    seen = _probe(mg)
    assert seen == {"grad_enabled": False, "needs": (True, False, False, False), "out_requires_grad": False,
                    "constant": 2.0, "needs_bw": (True, False, False, False), "requires_grad": True,
                    "leaf": False}
    torch = torch_or_skip()
    assert _probe(torch) == seen


def test_nothing_is_recorded_when_no_input_requires_grad_or_under_no_grad():
    x = f64([1.0, 2.0])
    with mg.no_grad():
        y = FN.Exp.apply(x)
    assert y.grad_fn is None and not y.requires_grad
    z = FN.Exp.apply(f64([1.0], grad=False))
    assert z.grad_fn is None and not z.requires_grad
    np.testing.assert_allclose(y.array, np.exp([1.0, 2.0]))


def test_grad_fn_and_class_names():
    y = FN.Exp.apply(f64([1.0]))
    assert y.grad_fn.name == "Exp"
    assert repr(y.grad_fn) == f"<ExpBackward object at {id(y.grad_fn):#x}>" and y.grad_fn.name() == "ExpBackward"
    assert "grad_fn=<ExpBackward>" in repr(y)  # a user Function: no 0, as torch
    assert isinstance(y.grad_fn.saved_tensors[0], mg.Tensor)


def test_saved_tensors_are_the_inputs_and_outputs_themselves():
    got = {}

    class Keep(Function):
        @staticmethod
        def forward(ctx, x, y):
            out = x * y
            ctx.save_for_backward(x, None, out, y + 1)
            return out

        @staticmethod
        def backward(ctx, dy):
            x, none, out, other = ctx.saved_tensors
            got.update(x=x, none=none, out=out, other=other)
            return dy * (other - 1), dy * x

    x, y = f64([1.0, 2.0]), f64([3.0, 4.0])
    out = Keep.apply(x, y)
    out.sum().backward()
    assert got["x"] is x and got["none"] is None
    assert got["out"].grad_fn is out.grad_fn  # the output with its own history, as in PyTorch
    np.testing.assert_array_equal(got["out"].array, [3.0, 8.0])
    np.testing.assert_array_equal(got["other"].array, [4.0, 5.0])
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])
    np.testing.assert_array_equal(y.grad, [1.0, 2.0])


def test_saved_tensors_are_freed_after_backward_with_pytorchs_message():
    x = f64([1.0, 2.0])
    y = FN.Exp.apply(x)
    y.sum().backward(retain_graph=True)
    y.sum().backward()  # retained: a second pass works
    np.testing.assert_allclose(x.grad, 2 * np.exp([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        _ = y.grad_fn.saved_tensors
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.sum().backward()


def test_save_for_backward_takes_only_tensors():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 2

    with pytest.raises(TypeError, match="Bad: save_for_backward can only save Tensors.*argument 1 is a int"):
        Bad.apply(f64([1.0]))


def test_a_non_tensor_item_in_the_outputs_passes_through_with_a_none_gradient():
    got = []

    class WithCount(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, 3

        @staticmethod
        def backward(ctx, dy, dn):
            got.append(dn)
            return dy * 2

    x = f64([1.0, 2.0])
    y, n = WithCount.apply(x)
    assert n == 3
    y.sum().backward()
    assert got == [None]
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_a_list_stays_a_list_and_a_one_tuple_a_tuple():
    class Pair(Function):
        @staticmethod
        def forward(ctx, x):
            return [x * 2, x * 3]

        @staticmethod
        def backward(ctx, a, b):
            return a * 2 + b * 3

    class One(Function):
        @staticmethod
        def forward(ctx, x):
            return (x * 2,)

        @staticmethod
        def backward(ctx, a):
            return a * 2

    x = f64([1.0])
    assert isinstance(Pair.apply(x), list)
    assert isinstance(One.apply(x), tuple) and len(One.apply(x)) == 1


# --- several outputs ----------------------------------------------------------------------------------------

def _materialize_probe(lib, materialize):
    got = []

    class SinCosM(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, ds, dc):
            got.append((None if ds is None else arr(ds).tolist(), None if dc is None else arr(dc).tolist()))
            (x,) = ctx.saved_tensors
            g = 0
            if ds is not None:
                g = g + ds * x.cos()
            if dc is not None:
                g = g - dc * x.sin()
            return g

    x = f64([0.5, 1.0], lib=lib)
    s, c = SinCosM.apply(x)
    s.sum().backward()
    s, c = SinCosM.apply(x)
    (c * 2).sum().backward(retain_graph=True)
    (s.sum() + c.sum()).backward()
    return got, arr(x.grad)


@pytest.mark.parametrize("materialize", [True, False])
def test_an_output_no_gradient_reached_gets_zeros_or_none_as_in_pytorch(materialize):
    got, grad = _materialize_probe(mg, materialize)
    zeros = [0.0, 0.0]
    expected_first = [([1.0, 1.0], zeros if materialize else None), (zeros if materialize else None, [2.0, 2.0])]
    assert got[:2] == expected_first
    assert got[2] == ([1.0, 1.0], [1.0, 1.0])
    torch = torch_or_skip()
    t_got, t_grad = _materialize_probe(torch, materialize)
    assert got == t_got
    np.testing.assert_allclose(grad, t_grad)


def test_outputs_of_several_have_their_own_nodes_for_grad_and_retain_grad():
    x = f64([0.5, 1.0])
    s, c = FN.SinCos.apply(x)
    s.retain_grad()
    loss = (s * c).sum()
    (ds,) = mg.autograd.grad(loss, s, retain_graph=True)
    np.testing.assert_allclose(ds.array, np.cos([0.5, 1.0]))
    loss.backward()
    np.testing.assert_allclose(s.grad, np.cos([0.5, 1.0]))
    np.testing.assert_allclose(x.grad, np.cos(2 * np.array([0.5, 1.0])))


class SinCosOut(Function):
    """(sin x, cos x), saving both outputs.  dx = c · ds − s · dc."""

    @staticmethod
    def forward(ctx, x):
        s, c = x.sin(), x.cos()
        ctx.save_for_backward(s, c)
        return s, c

    @staticmethod
    def backward(ctx, ds, dc):
        s, c = ctx.saved_tensors
        return ds * c - dc * s


@pytest.mark.parametrize("fn", [SinCosOut.apply, lambda x: SinCosOut.apply(x)[0], lambda x: SinCosOut.apply(x)[1]],
                         ids=["both", "first-only", "second-only"])
def test_saved_outputs_of_several_differentiate_again(fn):
    """A saved output is the output with its history, even when the caller dropped that output."""
    x = f64(X[0])
    assert mg.gradcheck(fn, [x])
    assert mg.gradgradcheck(fn, [x])


def test_outputs_of_different_float_dtypes_keep_them():
    class Split(Function):
        @staticmethod
        def forward(ctx, x):
            return x.float() * 2, x * 3

        @staticmethod
        def backward(ctx, a, b):
            assert a.dtype == mg.float32 and b.dtype == mg.float64
            return a.double() * 2 + b * 3

    x = f64([1.0, 2.0])
    a, b = Split.apply(x)
    assert a.dtype == mg.float32 and b.dtype == mg.float64
    (a.sum() + b.sum()).backward()
    np.testing.assert_allclose(x.grad, [5.0, 5.0])


def _max_probe(lib):
    got = []

    class Max(lib.autograd.Function):
        """y = max x, with its index.  dx = dy at the argmax, 0 elsewhere."""

        @staticmethod
        def forward(ctx, x):
            i = x.argmax()
            ctx.mark_non_differentiable(i)
            ctx.save_for_backward(x, i)
            return x.max(), i

        @staticmethod
        def backward(ctx, dy, di):
            got.append(arr(di).tolist())
            x, i = ctx.saved_tensors
            dx = lib.zeros_like(x)
            dx[int(i)] = dy
            return dx

    x = f64([1.0, 5.0, 2.0], lib=lib)
    v, i = Max.apply(x)
    flags = (v.requires_grad, i.requires_grad, i.grad_fn is None)
    v.backward()
    return flags, got, arr(x.grad)


def test_mark_non_differentiable_as_in_pytorch():
    flags, got, grad = _max_probe(mg)
    assert flags == (True, False, True)
    assert got == [0]  # materialized zeros for the index output
    np.testing.assert_array_equal(grad, [0.0, 1.0, 0.0])
    torch = torch_or_skip()
    assert _max_probe(torch) == (flags, got, pytest.approx(grad))


# --- mark_dirty ---------------------------------------------------------------------------------------------

class Double_(Function):
    """x *= 2, in place.  dx = 2 · dy."""

    @staticmethod
    def forward(ctx, x):
        x.mul_(2)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, dy):
        return dy * 2


def test_mark_dirty_modifies_in_place_and_the_returned_tensor_carries_the_history():
    a = f64([1.0, 2.0])
    h = a * 1.5
    y = Double_.apply(h)
    np.testing.assert_array_equal(h.array, [3.0, 6.0])  # modified in place
    assert np.shares_memory(y.array, h.array)
    assert y.grad_fn.name == "Double_"
    y.sum().backward()
    np.testing.assert_array_equal(a.grad, [3.0, 3.0])


def test_mark_dirty_errors_as_in_pytorch():
    with pytest.raises(RuntimeError, match="Double_: a leaf Variable that requires grad has been used in an in-place"):
        Double_.apply(f64([1.0]))

    class NotReturned(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x * 1

        @staticmethod
        def backward(ctx, dy):
            return dy * 2

    with pytest.raises(RuntimeError, match="NotReturned: Some elements marked as dirty .* not returned"):
        NotReturned.apply(f64([1.0]) * 1)


# --- once_differentiable -------------------------------------------------------------------------------------

class CubeOnce(Function):
    """y = x³, with a backward that is not differentiable again."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        assert not mg.is_grad_enabled()
        return 3 * x**2 * dy


def test_once_differentiable_gives_first_gradients():
    x = f64([1.0, -2.0])
    CubeOnce.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 12.0])
    assert mg.gradcheck(CubeOnce.apply, [f64([0.5, 1.5])])


def test_once_differentiable_refuses_a_second_derivative_clearly():
    x = f64([1.0, -2.0])
    (g,) = mg.autograd.grad(CubeOnce.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.array, [3.0, 12.0])
    with pytest.raises(RuntimeError, match="CubeOnce.backward is decorated with @once_differentiable"):
        mg.autograd.grad(g.sum(), x)


# --- errors that name the user's class -----------------------------------------------------------------------

def _fn_returning(grads, forward=lambda ctx, x, y: x * y):
    class MyFn(Function):
        pass

    MyFn.forward = staticmethod(forward)
    MyFn.backward = staticmethod(lambda ctx, dy: grads(dy))
    return MyFn


def test_backward_returning_the_wrong_number_of_gradients():
    MyFn = _fn_returning(lambda dy: dy)
    x, y = f64([1.0, 2.0]), f64([3.0, 4.0])
    with pytest.raises(RuntimeError, match=r"MyFn.backward returned 1 gradient, expected 2 \(one per forward input"):
        MyFn.apply(x, y).sum().backward()
    MyFn = _fn_returning(lambda dy: (dy, dy, dy))
    with pytest.raises(RuntimeError, match="MyFn.backward returned 3 gradients, expected 2"):
        MyFn.apply(x, y).sum().backward()


def test_extra_trailing_nones_are_allowed_as_in_pytorch():
    MyFn = _fn_returning(lambda dy: (dy, dy, None))
    x, y = f64([1.0, 2.0]), f64([3.0, 4.0])
    MyFn.apply(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_a_gradient_of_the_wrong_shape_names_the_input_and_both_shapes():
    MyFn = _fn_returning(lambda dy: (dy, mg.ones(3, dtype=mg.float64)))
    x, y = f64([1.0, 2.0]), f64([3.0, 4.0])
    with pytest.raises(RuntimeError, match=r"MyFn.backward returned a gradient of shape \(3,\) for input 1, "
                                           r"whose shape is \(2,\)"):
        MyFn.apply(x, y).sum().backward()


def test_a_broadcast_gradient_is_summed_to_the_input_as_in_pytorch():
    MyFn = _fn_returning(lambda dy: (mg.ones(4, 2, dtype=mg.float64), None))
    x, y = f64([1.0, 2.0]), f64([3.0, 4.0])
    MyFn.apply(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, 4.0])


def test_a_gradient_for_a_non_tensor_input_or_not_a_tensor():
    MyFn = _fn_returning(lambda dy: (dy, dy), forward=lambda ctx, x, k: x * k)
    with pytest.raises(RuntimeError, match="MyFn.backward returned a gradient for input 1, but forward input 1 "
                                           "is a float, not a Tensor"):
        MyFn.apply(f64([1.0]), 2.0).sum().backward()
    MyFn = _fn_returning(lambda dy: (3.0, None), forward=lambda ctx, x, k: x * k)
    with pytest.raises(TypeError, match="MyFn.backward returned a float as the gradient of input 0"):
        MyFn.apply(f64([1.0]), 2.0).sum().backward()


def test_forward_returning_a_non_tensor():
    MyFn = _fn_returning(lambda dy: dy, forward=lambda ctx, x: x.numpy() * 2)
    with pytest.raises(TypeError, match="MyFn.forward returned a NumPy ndarray; .* returns Tensors"):
        MyFn.apply(f64([1.0]))
    MyFn = _fn_returning(lambda dy: dy, forward=lambda ctx, x: 3.0)
    with pytest.raises(TypeError, match="MyFn.forward returned a float; it must return a Tensor or a tuple"):
        MyFn.apply(f64([1.0]))


def test_calling_the_class_or_forward_directly_says_to_use_apply():
    x = f64([1.0])
    with pytest.warns(DeprecationWarning, match="should not be instantiated"):
        fn = FN.Cube()
    with pytest.raises(RuntimeError, match=r"Legacy autograd function .* Cube.apply\(...\)"):
        fn(x)
    with pytest.raises(TypeError, match=r"Cube.forward\(ctx, ...\) was called directly.* Cube.apply\(...\)"):
        FN.Cube.forward(x)


def test_forward_can_still_be_called_with_a_ctx_from_another_function():
    class Outer(Function):
        @staticmethod
        def forward(ctx, x):
            return FN.Cube.forward(ctx, x) + 1

        @staticmethod
        def backward(ctx, dy):
            return FN.Cube.backward(ctx, dy)

    x = f64([2.0])
    Outer.apply(x).backward()
    np.testing.assert_allclose(x.grad, [12.0])


def test_missing_forward_or_backward():
    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    with pytest.raises(NotImplementedError, match="NoBackward must implement backward"):
        NoBackward.apply(f64([1.0])).sum().backward()

    class NoForward(Function):
        pass

    with pytest.raises(NotImplementedError, match="implement the forward function"):
        NoForward.apply(f64([1.0]))


def test_a_backward_written_for_the_internal_op_base_gets_a_pointer():
    class Internal(Function):
        def forward(self, x):
            return x * 2

        def backward(self, dy):
            (x,) = self.inputs
            return dy * 2

    with pytest.raises(AttributeError, match="matgrad.autograd.op.Op"):
        Internal.apply(f64([1.0])).sum().backward()


def test_vjp_is_backwards_other_name():
    class ByVjp(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def vjp(ctx, dy):
            return dy * 3

    x = f64([1.0])
    ByVjp.apply(x).backward()
    np.testing.assert_array_equal(x.grad, [3.0])


def test_backward_returning_an_input_never_lends_it_as_dot_grad():
    class Half(Function):
        """y = x²/2 (backward ignores dy: fine for a seed of ones)."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x / 2

        @staticmethod
        def backward(ctx, dy):
            return ctx.saved_tensors[0]

    x = f64([1.0, 2.0])
    Half.apply(x).sum().backward()
    Half.apply(x).sum().backward()  # accumulates into .grad: x itself must not change
    np.testing.assert_array_equal(x.array, [1.0, 2.0])
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_ctx_is_a_function_ctx():
    seen = []

    class Look(Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(ctx)
            return x * 1

        @staticmethod
        def backward(ctx, dy):
            return dy

    Look.apply(f64([1.0]))
    assert isinstance(seen[0], FunctionCtx)


# --- the explainer --------------------------------------------------------------------------------------------

def test_the_explainer_shows_a_user_function_by_name_with_its_docstring_rule():
    x = f64([0.5, 1.0])
    out = FN.Cube.apply(x).sum()
    text = str(out.explain(print_table=False, accumulate=True))  # accumulate: into .grad too
    assert "Cube" in text
    assert "y = x³.  dx = 3x² · dy." in text
    np.testing.assert_allclose(x.grad, 3 * np.array([0.5, 1.0]) ** 2)  # explain backpropagates, as backward


def test_the_explainer_shows_every_output_of_a_function_with_several():
    x = f64([0.5, 1.0])
    s, c = FN.SinCos.apply(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = str(mg.explain((s * c).sum(), print_table=False, accumulate=True))
    assert "SinCos" in text and "(sin x, cos x).  dx = cos x · ds − sin x · dc." in text
    np.testing.assert_allclose(x.grad, np.cos(2 * np.array([0.5, 1.0])))
