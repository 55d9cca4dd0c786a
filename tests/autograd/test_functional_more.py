"""autograd.functional: vjp, jvp, jacobian, hessian, vhp, hvp against torch.autograd.functional in
float64 (values, the nesting of tuples, create_graph, strict errors), and against finite differences."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad.autograd import functional as F

try:
    import torch
    import torch.autograd.functional as TF
except ImportError:
    torch = TF = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")
_rng = np.random.default_rng(0)
X, Y = _rng.standard_normal(3), _rng.standard_normal((2, 3))
V, W = _rng.standard_normal(3), _rng.standard_normal((2, 3))
U2 = _rng.standard_normal((2, 3))


def f_pair(x, y):  # two inputs, two outputs
    return (x.sin() * y).sum(0), (x * x).sum() * y


def f_one(x):  # one input, one output
    return x.exp() * x.sum()


def s_pair(x, y):  # one-element output of two inputs
    return (x.sin() * y.exp()).sum() + (x * x).sum() * (y * y).sum()


def s_one(x):
    return x.sin().sum() * x.prod()


def unused(x, y):  # ignores y
    return (x * x).sum()


def _compare(ours, theirs, path="result"):
    """Same nesting of tuples, same shapes, values to 1e-10 (torch's forward-mode Jacobian nests lists)."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _compare(a, b, f"{path}[{i}]")
        return
    assert isinstance(ours, mg.Tensor), path
    assert tuple(ours.shape) == tuple(theirs.shape), path
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=path)


def _args(lib, *arrays):
    make = torch.tensor if lib == "torch" else mg.tensor
    ts = tuple(make(a) for a in arrays)
    return ts if len(ts) > 1 else ts[0]


_CASES = [
    ("jacobian", f_pair, (X, Y), None, {}),
    ("jacobian", f_one, (X,), None, {}),
    ("jacobian", f_one, (X,), None, {"vectorize": True}),
    ("jacobian", f_pair, (X, Y), None, {"vectorize": True, "strategy": "forward-mode"}),
    ("jacobian", unused, (X, Y), None, {}),
    ("hessian", s_pair, (X, Y), None, {}),
    ("hessian", s_one, (X,), None, {}),
    ("hessian", s_one, (X,), None, {"vectorize": True, "outer_jacobian_strategy": "forward-mode"}),
    ("hessian", unused, (X, Y), None, {}),
    ("vjp", f_one, (X,), (V,), {}),
    ("vjp", f_pair, (X, Y), (V, U2), {}),
    ("vjp", s_one, (X,), None, {}),
    ("vjp", unused, (X, Y), None, {}),
    ("jvp", f_one, (X,), (V,), {}),
    ("jvp", f_pair, (X, Y), (V, W), {}),
    ("vhp", s_pair, (X, Y), (V, W), {}),
    ("vhp", s_one, (X,), (V,), {}),
    ("hvp", s_pair, (X, Y), (V, W), {}),
    ("hvp", s_one, (X,), (V,), {}),
    ("hvp", unused, (X, Y), (V, W), {}),
]


@needs_torch
@pytest.mark.parametrize("name, fn, inputs, v, kwargs", _CASES,
                         ids=[f"{c[0]}-{c[1].__name__}-{i}" for i, c in enumerate(_CASES)])
def test_matches_torch(name, fn, inputs, v, kwargs):
    extra_t = () if v is None else (_args("torch", *v),)
    extra_m = () if v is None else (_args("mg", *v),)
    theirs = getattr(TF, name)(fn, _args("torch", *inputs), *extra_t, **kwargs)
    ours = getattr(F, name)(fn, _args("mg", *inputs), *extra_m, **kwargs)
    _compare(ours, theirs)


@needs_torch
@pytest.mark.parametrize("name", ["vjp", "jvp", "vhp", "hvp", "jacobian", "hessian"])
def test_create_graph_differentiates_again(name):
    """With create_graph=True the result is on a graph of the inputs (and of v): its gradient matches torch's."""
    fn = {"vjp": f_one, "jvp": f_one, "jacobian": f_one}.get(name, s_one)
    results = []
    for lib, make in (("torch", torch.tensor), ("mg", mg.tensor)):
        x = make(X, requires_grad=True)
        v = make(V, requires_grad=True)
        funcs = TF if lib == "torch" else F
        out = getattr(funcs, name)(fn, x, *(() if name in ("jacobian", "hessian") else (v,)), create_graph=True)
        res = out if name in ("jacobian", "hessian") else out[1]
        assert res.requires_grad
        wanted = (x,) if name in ("jacobian", "hessian") else (x, v)
        grads = (torch.autograd.grad if lib == "torch" else mg.autograd.grad)((res * res).sum(), wanted)
        results.append(tuple(g.detach().numpy() if lib == "torch" else g.numpy() for g in grads))
    for theirs, ours in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_results_are_detached_and_inputs_untouched():
    x = mg.tensor(X, requires_grad=True)
    out, res = F.vjp(f_one, x, mg.tensor(V))
    assert not out.requires_grad and not res.requires_grad and x.grad is None
    with mg.no_grad():  # works under no_grad too, as torch's
        jac = F.jacobian(f_one, x)
    assert jac.shape == (3, 3) and not jac.requires_grad


def test_jacobian_and_hessian_against_finite_differences():
    x = X.copy()
    eps = 1e-6
    jac = F.jacobian(f_one, mg.tensor(x)).numpy()
    hes = F.hessian(s_one, mg.tensor(x)).numpy()
    for k in range(3):
        d = np.zeros(3)
        d[k] = eps
        col = (f_one(mg.tensor(x + d)).numpy() - f_one(mg.tensor(x - d)).numpy()) / (2 * eps)
        np.testing.assert_allclose(jac[:, k], col, rtol=1e-6, atol=1e-8)
        gp = F.vjp(s_one, mg.tensor(x + d))[1].numpy()
        gm = F.vjp(s_one, mg.tensor(x - d))[1].numpy()
        np.testing.assert_allclose(hes[:, k], (gp - gm) / (2 * eps), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hes, hes.T, rtol=1e-12, atol=1e-12)


def test_hvp_equals_vhp_for_smooth_function():
    x, y, v, w = (mg.tensor(a) for a in (X, Y, V, W))
    _, hv = F.hvp(s_pair, (x, y), (v, w))
    _, vh = F.vhp(s_pair, (x, y), (v, w))
    for a, b in zip(hv, vh):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("name, fn, inputs, v, kwargs", [
    ("vjp", f_one, (X,), None, {}),
    ("vjp", f_one, (X,), (V[:2],), {}),
    ("vjp", f_pair, (X, Y), (V,), {}),
    ("jvp", f_one, (X,), None, {}),
    ("jvp", f_pair, (X, Y), (V, V), {}),
    ("vjp", unused, (X, Y), None, {"strict": True}),
    ("jacobian", unused, (X, Y), None, {"strict": True}),
    ("jacobian", f_one, (X,), None, {"strategy": "sideways"}),
    ("jacobian", f_one, (X,), None, {"strategy": "forward-mode"}),
    ("jacobian", f_one, (X,), None, {"strategy": "forward-mode", "vectorize": True, "create_graph": True}),
    ("jacobian", f_one, (X,), None, {"vectorize": True, "strict": True}),
    ("jacobian", lambda x: x.detach(), (X,), None, {"strict": True}),
    ("hessian", f_one, (X,), None, {}),
    ("hessian", lambda x: (x * 2.0).sum(), (X,), None, {"strict": True}),
    ("hessian", s_one, (X,), None, {"outer_jacobian_strategy": "other"}),
    ("vhp", f_one, (X,), (V,), {}),
    ("hvp", s_one, (X,), None, {}),
    ("hvp", unused, (X, Y), (V, W), {"strict": True}),
    ("vhp", lambda x: (x * 2.0).sum(), (X,), (V,), {"strict": True}),
])
def test_errors_match_torch(name, fn, inputs, v, kwargs):
    extra_t = () if v is None else (_args("torch", *v),)
    extra_m = () if v is None else (_args("mg", *v),)
    with pytest.raises(Exception) as theirs:
        getattr(TF, name)(fn, _args("torch", *inputs), *extra_t, **kwargs)
    with pytest.raises(theirs.type) as ours:
        getattr(F, name)(fn, _args("mg", *inputs), *extra_m, **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_non_tensor_inputs_are_refused():
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        F.jacobian(f_one, [1.0, 2.0])
    with pytest.raises(TypeError, match="value at index 1"):
        F.vjp(f_pair, (mg.tensor(X), 3.0))


def test_reachable_as_matgrad_autograd_functional():
    assert mg.autograd.functional.hessian is F.hessian
