"""matgrad.func (torch.func) and matgrad.nn.utils.stateless: values, structures and errors against torch,
gradients against finite differences, composition (grad of grad, vmap of grad)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg
from matgrad.func import functional_call, grad, grad_and_value, hessian, jacrev, jvp, stack_module_state, vjp, vmap


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def rnd(*shape, seed=0):
    return np.random.default_rng(seed + 17 * len(shape)).standard_normal(shape)


def M(a, requires_grad=False):
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def T(torch, a, requires_grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def arr(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def assert_tree_close(ours, theirs, rtol=1e-10, atol=1e-12):
    """Same structure (tuples, lists, dicts) and values."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs)
        for k in theirs:
            assert_tree_close(ours[k], theirs[k], rtol, atol)
    elif isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_tree_close(a, b, rtol, atol)
    else:
        assert isinstance(ours, mg.Tensor), type(ours)
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(arr(ours), arr(theirs), rtol=rtol, atol=atol)


def numeric_grad(f, x, eps=1e-6):
    """Central differences of a scalar function of one float64 array."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (f(xp) - f(xm)) / (2 * eps)
    return g


# --- functional_call --------------------------------------------------------------------------------

def _mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2)).double()


def _new_state(seed=1):
    shapes = {"0.weight": (4, 3), "0.bias": (4,), "1.weight": (4,), "1.bias": (4,), "3.weight": (2, 4),
              "3.bias": (2,)}
    params = {k: rnd(*s, seed=seed + i) for i, (k, s) in enumerate(shapes.items())}
    buffers = {"1.running_mean": rnd(4, seed=seed + 10), "1.running_var": 1.0 + rnd(4, seed=seed + 11) ** 2}
    return params, buffers


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("as_tuple", [False, True])
def test_functional_call_matches_torch_with_batchnorm_buffer(torch, training, as_tuple):
    ours, theirs = _mlp(mg), _mlp(torch)
    ours.train(training)
    theirs.train(training)
    originals = {**dict(ours.named_parameters()), **dict(ours.named_buffers())}
    original_arrays = {k: v.detach().numpy().copy() for k, v in originals.items()}
    params, buffers = _new_state()
    p_m = {k: M(v, requires_grad=True) for k, v in params.items()}
    b_m = {k: M(v) for k, v in buffers.items()}
    p_t = {k: T(torch, v, requires_grad=True) for k, v in params.items()}
    b_t = {k: T(torch, v) for k, v in buffers.items()}
    x = rnd(5, 3, seed=3)
    if as_tuple:
        out_m = functional_call(ours, (p_m, b_m), (M(x),))
        out_t = torch.func.functional_call(theirs, (p_t, b_t), (T(torch, x),))
    else:
        out_m = functional_call(ours, {**p_m, **b_m}, M(x))
        out_t = torch.func.functional_call(theirs, {**p_t, **b_t}, T(torch, x))
    np.testing.assert_allclose(arr(out_m), arr(out_t), rtol=1e-10, atol=1e-12)
    # gradients reach the passed tensors
    (out_m ** 2).sum().backward()
    (out_t ** 2).sum().backward()
    for k in params:
        np.testing.assert_allclose(p_m[k].grad.numpy(), p_t[k].grad.numpy(), rtol=1e-9, atol=1e-12)
    # the passed running statistics were updated as torch's (train mode), the module's own were not touched
    for k in buffers:
        np.testing.assert_allclose(b_m[k].numpy(), b_t[k].numpy(), rtol=1e-10, atol=1e-12)
    assert training != np.allclose(b_m["1.running_mean"].numpy(), buffers["1.running_mean"])
    for k, v in {**dict(ours.named_parameters()), **dict(ours.named_buffers())}.items():
        assert v is originals[k]
        if k.endswith("num_batches_tracked"):  # not passed, so the module's own counts the call, as in torch
            continue
        np.testing.assert_array_equal(v.detach().numpy(), original_arrays[k])
    assert isinstance(ours[0].weight, mg.nn.Parameter)


def test_functional_call_gradient_finite_differences():
    model = mg.nn.Linear(3, 2).double()
    x = M(rnd(4, 3))
    w0 = rnd(2, 3, seed=5)

    def loss(w):
        return float(functional_call(model, {"weight": M(w)}, (x,)).tanh().sum().item())

    w = M(w0, requires_grad=True)
    functional_call(model, {"weight": w}, (x,)).tanh().sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), numeric_grad(loss, w0), rtol=1e-6, atol=1e-8)
    assert model.weight.grad is None


def test_functional_call_restores_on_error_and_kwargs():
    class Net(mg.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = mg.nn.Linear(2, 2)

        def forward(self, x, *, scale=1.0):
            if scale < 0:
                raise ValueError("negative scale")
            return self.lin(x) * scale

    net = Net()
    weight = net.lin.weight
    x = mg.ones(1, 2)
    new = mg.zeros(2, 2)
    out = functional_call(net, {"lin.weight": new}, (x,), {"scale": 2.0})
    np.testing.assert_allclose(out.detach().numpy(), 2 * net.lin.bias.detach().numpy()[None], rtol=1e-6)
    with pytest.raises(ValueError, match="negative scale"):
        functional_call(net, {"lin.weight": new}, (x,), {"scale": -1.0})
    assert net.lin.weight is weight
    assert "weight" in net.lin._parameters and "weight" not in net.lin._buffers


def test_functional_call_errors_and_strict(torch):
    model = mg.nn.Linear(2, 2)
    x = mg.ones(1, 2)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        functional_call(model, ({"weight": mg.ones(2, 2)}, {"weight": mg.ones(2, 2)}), (x,))
    with pytest.raises(ValueError, match="to be a dict, or a list/tuple of dicts"):
        functional_call(model, 3, (x,))
    with pytest.raises(RuntimeError, match=r"Missing key\(s\): 'bias'"):
        functional_call(model, {"weight": mg.ones(2, 2)}, (x,), strict=True)
    with pytest.raises(RuntimeError, match=r"Unexpected key\(s\): 'other'"):
        functional_call(model, {"weight": mg.ones(2, 2), "bias": mg.ones(2), "other": mg.ones(1)}, (x,),
                        strict=True)
    # torch raises the same errors
    tmodel = torch.nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match=r"Missing key\(s\): 'bias'"):
        torch.func.functional_call(tmodel, {"weight": torch.ones(2, 2)}, (torch.ones(1, 2),), strict=True)


def test_functional_call_tie_weights():
    class Tied(mg.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = mg.nn.Linear(2, 2, bias=False)
            self.b = mg.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    net = Tied().double()
    x = M(np.eye(2))
    w = M(2 * np.eye(2))
    out = functional_call(net, {"a.weight": w}, (x,))
    np.testing.assert_allclose(out.numpy(), 4 * np.eye(2))
    out = functional_call(net, {"a.weight": w}, (x,), tie_weights=False)  # b keeps its own weight
    np.testing.assert_allclose(out.detach().numpy(), (x @ w.T @ net.b.weight.T).detach().numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="which are tied"):
        functional_call(net, {"a.weight": w, "b.weight": M(np.eye(2))}, (x,))


def test_stateless_functional_call_is_the_same_and_deprecated():
    from matgrad.nn.utils import stateless

    model = mg.nn.Linear(2, 3).double()
    params = {"weight": M(rnd(3, 2)), "bias": M(rnd(3))}
    x = M(rnd(4, 2))
    with pytest.warns(FutureWarning, match="deprecated"):
        a = stateless.functional_call(model, params, (x,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = functional_call(model, params, (x,))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_allclose(a.numpy(), x.numpy() @ params["weight"].numpy().T + params["bias"].numpy())


# --- grad, vjp, jvp, jacobians, hessian ----------------------------------------------------------------

def f2(x, y):
    return (x.sin() * y).sum() + (x ** 2).sum() * y.sum()


@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1, 0), -1])
def test_grad_matches_torch(torch, argnums):
    x, y = rnd(3, seed=1), rnd(3, seed=2)
    ours = grad(f2, argnums=argnums)(M(x), M(y))
    theirs = torch.func.grad(f2, argnums=argnums)(T(torch, x), T(torch, y))
    assert_tree_close(ours, theirs)
    assert not (ours[0] if isinstance(ours, tuple) else ours).requires_grad


def test_grad_finite_differences_and_gradcheck_of_grad():
    x0, y = rnd(4, seed=3), M(rnd(4, seed=4))
    g = grad(f2)(M(x0), y)
    np.testing.assert_allclose(g.numpy(), numeric_grad(lambda a: f2(M(a), y).item(), x0), rtol=1e-6, atol=1e-8)
    # grad(f) is itself differentiable: its own backward checked against finite differences
    assert mg.gradcheck(lambda x: grad(f2)(x, y), (M(x0, requires_grad=True),))


def test_grad_pytrees_has_aux_and_grad_and_value(torch):
    x, w = rnd(2, 3, seed=5), rnd(3, seed=6)

    def f(params, x):
        out = (x @ params["w"]).tanh().sum() * params["s"][0]
        return out, {"out": out * 2}

    def f_plain(params, x):
        return f(params, x)[0]

    pm = {"w": M(w), "s": (M(1.5),)}
    pt = {"w": T(torch, w), "s": (T(torch, 1.5),)}
    assert_tree_close(grad(f, has_aux=True)(pm, M(x)), torch.func.grad(f, has_aux=True)(pt, T(torch, x)))
    assert_tree_close(grad_and_value(f_plain)(pm, M(x)), torch.func.grad_and_value(f_plain)(pt, T(torch, x)))
    assert_tree_close(grad_and_value(f, argnums=(0, 1), has_aux=True)(pm, M(x)),
                      torch.func.grad_and_value(f, argnums=(0, 1), has_aux=True)(pt, T(torch, x)))


def test_grad_of_grad_and_under_no_grad(torch):
    def cube(x):
        return (x ** 3).sum() * x.sum().sin()

    x = rnd(seed=7)  # 0-d
    ours = grad(grad(cube))(M(x))
    theirs = torch.func.grad(torch.func.grad(cube))(T(torch, x))
    assert_tree_close(ours, theirs)
    third = grad(grad(grad(cube)))(M(x))
    assert_tree_close(third, torch.func.grad(torch.func.grad(torch.func.grad(cube)))(T(torch, x)))
    with mg.no_grad():
        assert_tree_close(grad(cube)(M(x)), torch.func.grad(cube)(T(torch, x)))


def test_grad_keeps_outer_graph(torch):
    """An input that requires grad: the gradient stays differentiable, as torch's."""
    x0 = rnd(3, seed=8)
    xm, xt = M(x0, requires_grad=True), T(torch, x0, requires_grad=True)
    gm, gt = grad(lambda x: (x ** 3).sum())(xm), torch.func.grad(lambda x: (x ** 3).sum())(xt)
    assert gm.requires_grad and gt.requires_grad
    gm.sum().backward()
    gt.sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_grad_errors():
    x = M(rnd(3))
    with pytest.raises(RuntimeError, match="to return a scalar Tensor, got tensor with 1 dims"):
        grad(lambda x: x * 2)(x)
    with pytest.raises(RuntimeError, match="to return a Tensor, got"):
        grad(lambda x: 3.0)(x)
    with pytest.raises(RuntimeError, match=r"should be a tuple: \(output, aux\)"):
        grad(lambda x: x.sum(), has_aux=True)(x)
    with pytest.raises(RuntimeError, match="Got argnum=2, but only 1 positional inputs"):
        grad(lambda x: x.sum(), argnums=2)(x)
    with pytest.raises(RuntimeError, match="argnums elements must be unique"):
        grad(f2, argnums=(0, 0))(x, x)
    with pytest.raises(RuntimeError, match="argnums must be int or Tuple"):
        grad(f2, argnums=[0, 1])(x, x)
    with pytest.raises(ValueError, match="must be Tensor"):
        grad(lambda x: x, argnums=0)(3.0)


def _f_multi(x, y):
    return {"a": x.sin() * y, "b": (x.exp().sum() * y, y ** 2)}


def test_vjp_matches_torch(torch):
    x, y = rnd(3, seed=9), rnd(3, seed=10)
    ct = {"a": rnd(3, seed=11), "b": (rnd(3, seed=12), rnd(3, seed=13))}
    out_m, fn_m = vjp(_f_multi, M(x), M(y))
    out_t, fn_t = torch.func.vjp(_f_multi, T(torch, x), T(torch, y))
    assert_tree_close(out_m, out_t)
    ct_m = {"a": M(ct["a"]), "b": (M(ct["b"][0]), M(ct["b"][1]))}
    ct_t = {"a": T(torch, ct["a"]), "b": (T(torch, ct["b"][0]), T(torch, ct["b"][1]))}
    assert_tree_close(fn_m(ct_m), fn_t(ct_t))
    assert_tree_close(fn_m(ct_m), fn_t(ct_t))  # callable again
    # has_aux, one primal (the result is still a tuple)
    out_m, fn_m, aux_m = vjp(lambda x: (x.sin(), x.cos()), M(x), has_aux=True)
    out_t, fn_t, aux_t = torch.func.vjp(lambda x: (x.sin(), x.cos()), T(torch, x), has_aux=True)
    assert_tree_close((out_m, aux_m, fn_m(M(ct["a"]))), (out_t, aux_t, fn_t(T(torch, ct["a"]))))
    with pytest.raises(RuntimeError, match="pytree structure of cotangents"):
        vjp(_f_multi, M(x), M(y))[1](M(x))


def test_jvp_matches_torch(torch):
    x, y, tx, ty = (rnd(3, seed=s) for s in (14, 15, 16, 17))
    ours = jvp(_f_multi, (M(x), M(y)), (M(tx), M(ty)))
    theirs = torch.func.jvp(_f_multi, (T(torch, x), T(torch, y)), (T(torch, tx), T(torch, ty)))
    assert_tree_close(ours, theirs)
    # an output that does not depend on the inputs has a zero tangent; has_aux
    ours = jvp(lambda x: (x * 0 + 1, mg.ones(2, dtype=mg.float64)), (M(x),), (M(tx),))
    np.testing.assert_array_equal(ours[1][1].numpy(), np.zeros(2))
    ours = jvp(lambda x: (x.exp(), x), (M(x),), (M(tx),), has_aux=True)
    theirs = torch.func.jvp(lambda x: (x.exp(), x), (T(torch, x),), (T(torch, tx),), has_aux=True)
    assert_tree_close(ours, theirs)
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        jvp(lambda x: x, M(x), M(tx))
    with pytest.raises(RuntimeError, match="same shape"):
        jvp(lambda x: x, (M(x),), (M(rnd(2)),))


@pytest.mark.parametrize("jac", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_jacobians_match_torch(torch, jac, argnums):
    x, y = rnd(3, seed=18), rnd(2, 3, seed=19)

    def f(x, y):
        return {"p": y @ x.sin(), "q": (x * y).exp()}

    ours = getattr(mg.func, jac)(f, argnums=argnums)(M(x), M(y))
    theirs = getattr(torch.func, jac)(f, argnums=argnums)(T(torch, x), T(torch, y))
    assert_tree_close(ours, theirs)


def test_jacrev_has_aux_pytree_input_and_errors(torch):
    x = rnd(3, seed=20)

    def f(d):
        return d["x"].tanh() * d["s"], d["x"].sum()

    ours = jacrev(f, has_aux=True)({"x": M(x), "s": M(2.0)})
    theirs = torch.func.jacrev(f, has_aux=True)({"x": T(torch, x), "s": T(torch, 2.0)})
    assert_tree_close(ours, theirs)
    with pytest.raises(RuntimeError, match="Got argnum=1"):
        jacrev(f, argnums=1)({"x": M(x)})
    with pytest.raises(ValueError, match="chunk_size"):
        jacrev(f, chunk_size=0)


@pytest.mark.parametrize("argnums", [0, (0, 1)])
def test_hessian_matches_torch(torch, argnums):
    x, y = rnd(3, seed=21), rnd(2, seed=22)

    def f(x, y):
        return (x.sin() ** 2).sum() * (y ** 3).sum() + x.prod()

    assert_tree_close(hessian(f, argnums=argnums)(M(x), M(y)),
                      torch.func.hessian(f, argnums=argnums)(T(torch, x), T(torch, y)))


def test_hessian_finite_differences():
    x0 = rnd(3, seed=23)

    def f(x):
        return (x.exp() * x.sin()).sum()

    h = hessian(f)(M(x0)).numpy()
    for i in range(3):
        num = numeric_grad(lambda a, i=i: grad(f)(M(a))[i].item(), x0)
        np.testing.assert_allclose(h[i], num, rtol=1e-6, atol=1e-8)


# --- vmap --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("in_dims,out_dims", [(0, 0), ((1, None), 0), ((0, None), 1), ((-1, None), -1)])
def test_vmap_in_out_dims_match_torch(torch, in_dims, out_dims):
    x, w = rnd(4, 4, seed=24), rnd(4, 3, seed=25)

    def f(x, w):
        return (x @ w).tanh()

    xs_m, xs_t = M(x), T(torch, x)
    w_m, w_t = M(w), T(torch, w)
    if in_dims == 0:
        w_m, w_t = M(rnd(4, 4, 3, seed=26)), T(torch, rnd(4, 4, 3, seed=26))
    ours = vmap(f, in_dims, out_dims)(xs_m, w_m)
    theirs = torch.func.vmap(f, in_dims, out_dims)(xs_t, w_t)
    assert_tree_close(ours, theirs)


def test_vmap_nested_in_dims_multiple_outputs_and_kwargs(torch):
    a, b, c = rnd(3, 2, seed=27), rnd(2, 3, seed=28), rnd(2, seed=29)

    def f(pair, c, *, scale):
        x, y = pair
        return {"s": (x * y).sum() * scale, "v": (x + c, y * c)}

    ours = vmap(f, in_dims=((0, 1), None), out_dims={"s": 0, "v": (1, 0)})((M(a), M(b)), M(c), scale=2.0)
    theirs = torch.func.vmap(f, in_dims=((0, 1), None), out_dims={"s": 0, "v": (1, 0)})(
        (T(torch, a), T(torch, b)), T(torch, c), scale=2.0)
    assert_tree_close(ours, theirs)
    # vmap of vmap: an outer product
    outer = vmap(vmap(lambda u, v: u * v, (None, 0)), (0, None))(M(a[:, 0]), M(b[0]))
    np.testing.assert_allclose(outer.numpy(), np.outer(a[:, 0], b[0]), rtol=1e-12)


def test_vmap_gradient_flows_through():
    x0, w0 = rnd(4, 3, seed=30), rnd(3, seed=31)
    x, w = M(x0, requires_grad=True), M(w0, requires_grad=True)
    vmap(lambda x, w: (x * w).sin().sum(), (0, None))(x, w).sum().backward()
    expected_w = (np.cos(x0 * w0) * x0).sum(0)
    np.testing.assert_allclose(w.grad.numpy(), expected_w, rtol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), np.cos(x0 * w0) * w0, rtol=1e-10)


def test_vmap_errors():
    f = lambda x, y: x + y  # noqa: E731
    with pytest.raises(ValueError, match="same size in the mapped dimension, got sizes \\[2, 3\\]"):
        vmap(f)(mg.ones(2, 3), mg.ones(3, 3))
    with pytest.raises(ValueError, match="We cannot vmap over non-Tensor arguments"):
        vmap(f)(mg.ones(2), 3.0)
    with pytest.raises(ValueError, match="Tensor of dimensionality 1 so expected in_dim"):
        vmap(f, in_dims=(1, None))(mg.ones(2), mg.ones(1))
    with pytest.raises(ValueError, match="in_dims is not compatible with the structure"):
        vmap(f, in_dims=(0,))(mg.ones(2), mg.ones(2))
    with pytest.raises(ValueError, match="Expected at least one Tensor to vmap over"):
        vmap(f, in_dims=None)(mg.ones(2), mg.ones(2))
    with pytest.raises(ValueError, match="got no inputs"):
        vmap(lambda: mg.ones(1))()
    with pytest.raises(ValueError, match="must only return Tensors"):
        vmap(lambda x: 1.0)(mg.ones(2))
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        vmap(f, randomness="sometimes")
    with pytest.raises(ValueError, match="chunk_size should be None or greater than 0"):
        vmap(f, chunk_size=0)


def test_vmap_randomness_same_and_different():
    mg.manual_seed(0)
    same = vmap(lambda x: x + mg.rand(3), randomness="same")(mg.zeros(4, 3))
    assert np.allclose(same.numpy(), same.numpy()[0])
    different = vmap(lambda x: x + mg.rand(3), randomness="different")(mg.zeros(4, 3))
    assert not np.allclose(different.numpy(), different.numpy()[0])


def test_per_sample_gradients_match_torch(torch):
    """vmap(grad(loss)) over a batch, with functional_call: torch.func's per-sample-gradient recipe."""
    ours_model = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.Tanh(), mg.nn.Linear(4, 1)).double()
    theirs_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()
    state = {k: rnd(*v.shape, seed=40 + i) for i, (k, v) in enumerate(ours_model.state_dict().items())}
    x, y = rnd(5, 3, seed=50), rnd(5, 1, seed=51)

    def make_loss(lib, model):
        def loss(params, xi, yi):
            out = lib.func.functional_call(model, params, (xi.unsqueeze(0),))
            return ((out - yi.unsqueeze(0)) ** 2).mean()
        return loss

    ours = vmap(grad(make_loss(mg, ours_model)), in_dims=(None, 0, 0))(
        {k: M(v) for k, v in state.items()}, M(x), M(y))
    theirs = torch.func.vmap(torch.func.grad(make_loss(torch, theirs_model)), in_dims=(None, 0, 0))(
        {k: T(torch, v) for k, v in state.items()}, T(torch, x), T(torch, y))
    assert_tree_close(ours, theirs)
    # one sample's gradient equals an ordinary backward on that sample alone
    params = {k: M(v, requires_grad=True) for k, v in state.items()}
    make_loss(mg, ours_model)(params, M(x[2]), M(y[2])).backward()
    for k in state:
        np.testing.assert_allclose(ours[k].numpy()[2], params[k].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_stack_module_state_ensemble_matches_torch(torch):
    ours_models = [mg.nn.Linear(3, 2).double() for _ in range(4)]
    theirs_models = [torch.nn.Linear(3, 2).double() for _ in range(4)]
    for i, (m, t) in enumerate(zip(ours_models, theirs_models)):
        w, b = rnd(2, 3, seed=60 + i), rnd(2, seed=70 + i)
        m.weight.data, m.bias.data = M(w), M(b)
        with torch.no_grad():
            t.weight.copy_(T(torch, w))
            t.bias.copy_(T(torch, b))
    x = rnd(5, 3, seed=80)
    params_m, buffers_m = stack_module_state(ours_models)
    params_t, buffers_t = torch.func.stack_module_state(theirs_models)
    assert_tree_close((params_m, buffers_m), (params_t, buffers_t))
    assert params_m["weight"].requires_grad and params_m["weight"].is_leaf

    def run(lib, base):
        return lambda p, b, x: lib.func.functional_call(base, (p, b), (x,))

    ours = vmap(run(mg, ours_models[0]), in_dims=(0, 0, None))(params_m, buffers_m, M(x))
    theirs = torch.func.vmap(run(torch, theirs_models[0]), in_dims=(0, 0, None))(params_t, buffers_t,
                                                                                   T(torch, x))
    assert_tree_close(ours, theirs)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(params_m["weight"].grad.numpy(), params_t["weight"].grad.numpy(), rtol=1e-10)
    with pytest.raises(RuntimeError, match="Expected at least one model"):
        stack_module_state([])
    with pytest.raises(RuntimeError, match="same class"):
        stack_module_state([mg.nn.Linear(3, 2), mg.nn.Tanh()])
    with pytest.raises(RuntimeError, match="same training/eval mode"):
        stack_module_state([mg.nn.Linear(3, 2), mg.nn.Linear(3, 2).eval()])
