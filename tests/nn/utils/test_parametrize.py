"""parametrize (register/remove/cached/right_inverse/chains), parametrizations.weight_norm and
spectral_norm, and the older weight_norm / spectral_norm hooks: values, gradients, state_dict keys,
reprs and errors against torch.nn.utils where it is installed, and explicit values where they are known."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn
from matgrad.nn.utils import parametrizations, parametrize
from tests.helpers import assert_close

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")
RTOL, ATOL = 1e-5, 1e-6


class Symmetric(nn.Module):
    """X ↦ triu(X) + triu(X, 1)ᵀ, with right_inverse = triu (a right inverse on symmetric matrices)."""

    def forward(self, x):
        return x.triu() + x.triu(1).mT

    def right_inverse(self, a):
        return a.triu()


class Double(nn.Module):
    def forward(self, x):
        return 2 * x


def _torch_twins():
    """The same two parametrizations as torch Modules, under the same class names (for repr)."""
    class Symmetric(torch.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).mT

        def right_inverse(self, a):
            return a.triu()

    class Double(torch.nn.Module):
        def forward(self, x):
            return 2 * x

    return Symmetric, Double


def _linear_pair(n_in=3, n_out=3, seed=0):
    """A torch Linear and a matgrad Linear with the same float32 weights."""
    tm = torch.nn.Linear(n_in, n_out)
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(rng.standard_normal((n_out, n_in)), dtype=torch.float32))
        tm.bias.copy_(torch.tensor(rng.standard_normal(n_out), dtype=torch.float32))
    m = nn.Linear(n_in, n_out)
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return tm, m


def _sd(tmodule):
    return {k: v.detach().numpy().copy() for k, v in tmodule.state_dict().items()}


def _forward_backward(m, tm, x):
    """Run both on x with the same weighted-sum loss; return (mine, theirs) outputs."""
    out, tout = m(mg.tensor(x)), tm(torch.tensor(x))
    w = np.linspace(-1.0, 1.0, out.array.size, dtype=np.float32).reshape(out.shape)
    (out * mg.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    return out, tout


def _assert_grads_match(m, tm):
    theirs = dict(tm.named_parameters())
    mine = dict(m.named_parameters())
    assert list(mine) == list(theirs)
    for k, p in mine.items():
        assert_close(p.grad.array, theirs[k].grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=k)


X = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)


# --- parametrize ---------------------------------------------------------------------------------------
def test_register_makes_weight_a_property_of_original():
    m = nn.Linear(3, 3)
    w = m.weight
    parametrize.register_parametrization(m, "weight", Symmetric())
    assert type(m).__name__ == "ParametrizedLinear" and isinstance(m, nn.Linear)
    assert parametrize.type_before_parametrizations(m) is nn.Linear
    assert parametrize.is_parametrized(m) and parametrize.is_parametrized(m, "weight")
    assert not parametrize.is_parametrized(m, "bias")
    assert m.parametrizations.weight.original is w  # the same Parameter, values = right_inverse(W) = triu(W)
    np.testing.assert_array_equal(w.array, np.triu(w.array))
    np.testing.assert_array_equal(m.weight.array, m.weight.array.T)
    assert [k for k, _ in m.named_parameters()] == ["bias", "parametrizations.weight.original"]
    assert "weight" not in m._parameters
    assert type(nn.Linear(3, 3)) is nn.Linear  # the subclass belongs to this module only


@needs_torch
def test_parametrized_linear_matches_torch_values_grads_keys_repr():
    TSym, TDouble = _torch_twins()
    tm, m = _linear_pair()
    torch.nn.utils.parametrize.register_parametrization(tm, "weight", TSym())
    torch.nn.utils.parametrize.register_parametrization(tm, "weight", TDouble())
    parametrize.register_parametrization(m, "weight", Symmetric())
    parametrize.register_parametrization(m, "weight", Double())
    assert list(m.state_dict()) == list(tm.state_dict())
    assert repr(m) == repr(tm)
    assert repr(m.parametrizations.weight) == repr(tm.parametrizations.weight)
    assert_close(m.weight.array, tm.weight.detach().numpy(), rtol=RTOL, atol=ATOL)
    out, tout = _forward_backward(m, tm, X)
    assert_close(out.array, tout.detach().numpy(), rtol=RTOL, atol=ATOL)
    _assert_grads_match(m, tm)


@needs_torch
def test_torch_state_dict_loads_into_parametrized_module():
    TSym, _ = _torch_twins()
    tm, _ = _linear_pair(seed=2)
    torch.nn.utils.parametrize.register_parametrization(tm, "weight", TSym())
    m = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
    m.load_state_dict(tm.state_dict())  # torch tensors as they come
    assert_close(m.weight.array, tm.weight.detach().numpy(), rtol=RTOL, atol=ATOL)


def test_assignment_goes_through_right_inverse():
    m = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
    original = m.parametrizations.weight.original
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 5.0], [3.0, 5.0, 6.0]], dtype=np.float32)
    m.weight = mg.tensor(a)
    assert m.parametrizations.weight.original is original
    np.testing.assert_array_equal(original.array, np.triu(a))
    np.testing.assert_array_equal(m.weight.array, a)
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        m.weight = nn.Parameter(mg.zeros(3, 3))
    parametrize.register_parametrization(m, "weight", Double())  # no right_inverse: cannot assign any more
    with pytest.raises(RuntimeError, match="parametrization Double does not implement right_inverse"):
        m.weight = mg.tensor(a)


def test_remove_parametrizations_both_ways():
    m = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
    original = m.parametrizations.weight.original
    sym = m.weight.array.copy()
    parametrize.remove_parametrizations(m, "weight")  # leave_parametrized=True: keeps the symmetric value
    assert type(m) is nn.Linear and not hasattr(m, "parametrizations")
    assert m.weight is original and isinstance(m.weight, nn.Parameter)
    np.testing.assert_array_equal(m.weight.array, sym)
    assert [k for k, _ in m.named_parameters()] == ["bias", "weight"]  # re-registered last, as torch

    parametrize.register_parametrization(m, "weight", Double())
    before = m.parametrizations.weight.original.array.copy()
    parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    np.testing.assert_array_equal(m.weight.array, before)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(m, "weight")


def test_parametrize_errors():
    m = nn.Linear(3, 4)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element with name"):
        parametrize.register_parametrization(m, "foo", Double())

    class Flat(nn.Module):
        def forward(self, x):
            return x.reshape(-1)

    with pytest.raises(ValueError, match="may not change the shape of the tensor"):
        parametrize.register_parametrization(m, "weight", Flat())
    assert not parametrize.is_parametrized(m) and type(m) is nn.Linear
    parametrize.register_parametrization(m, "weight", Flat(), unsafe=True)
    assert m.weight.shape == (12,)


def test_cached_computes_once_and_buffers_can_be_parametrized():
    calls = []

    class Counting(nn.Module):
        def forward(self, x):
            calls.append(1)
            return x + 1

    m = nn.BatchNorm1d(3)
    parametrize.register_parametrization(m, "running_mean", Counting())  # a buffer: original is a buffer
    calls.clear()
    assert [k for k, _ in m.named_buffers()][-1] == "parametrizations.running_mean.original"
    with parametrize.cached():
        a, b = m.running_mean, m.running_mean
    assert a is b and len(calls) == 1
    m.running_mean  # noqa: B018 (an access outside cached() computes again)
    assert len(calls) == 2
    np.testing.assert_array_equal(a.array, np.ones(3, dtype=np.float32))


def test_deepcopy_keeps_parametrization_and_pickle_refuses():
    import pickle

    m = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
    c = copy.deepcopy(m)
    assert c.parametrizations.weight.original is not m.parametrizations.weight.original
    np.testing.assert_array_equal(c.weight.array, m.weight.array)
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m)


# --- parametrizations.weight_norm ------------------------------------------------------------------------
def test_weight_norm_rows_have_norm_g():
    m = parametrizations.weight_norm(nn.Linear(4, 3))
    g, v = m.parametrizations.weight.original0, m.parametrizations.weight.original1
    assert g.shape == (3, 1) and v.shape == (3, 4)
    with mg.no_grad():
        g.copy_(mg.tensor([[1.0], [2.0], [0.5]]))
    np.testing.assert_allclose(np.linalg.norm(m.weight.array, axis=1), [1.0, 2.0, 0.5], rtol=1e-6)
    w_dir = m.weight.array / np.linalg.norm(m.weight.array, axis=1, keepdims=True)
    np.testing.assert_allclose(w_dir, v.array / np.linalg.norm(v.array, axis=1, keepdims=True), rtol=1e-5)
    whole = parametrizations.weight_norm(nn.Linear(4, 3), dim=None).parametrizations.weight.original0
    assert whole.shape == ()


@needs_torch
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(dim):
    tm, m = _linear_pair(3, 4, seed=3)
    torch.nn.utils.parametrizations.weight_norm(tm, dim=dim)
    parametrizations.weight_norm(m, dim=dim)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert repr(m) == repr(tm)
    for k, v in tm.state_dict().items():
        assert_close(m.state_dict()[k].array, v.numpy(), rtol=RTOL, atol=ATOL, err_msg=k)
    out, tout = _forward_backward(m, tm, X)
    assert_close(out.array, tout.detach().numpy(), rtol=RTOL, atol=ATOL)
    _assert_grads_match(m, tm)


@needs_torch
def test_weight_norm_conv_matches_torch():
    tm = torch.nn.Conv2d(2, 3, 3)
    torch.nn.utils.parametrizations.weight_norm(tm)
    with torch.no_grad():
        tm.parametrizations.weight.original0.mul_(torch.tensor([0.5, 2.0, 1.5]).reshape(3, 1, 1, 1))
    m = parametrizations.weight_norm(nn.Conv2d(2, 3, 3))
    m.load_state_dict(_sd(tm))
    x = np.random.default_rng(4).standard_normal((2, 2, 5, 5)).astype(np.float32)
    out, tout = _forward_backward(m, tm, x)
    assert_close(out.array, tout.detach().numpy(), rtol=RTOL, atol=ATOL)
    _assert_grads_match(m, tm)


# --- parametrizations.spectral_norm ----------------------------------------------------------------------
def test_spectral_norm_divides_by_the_largest_singular_value():
    mg.manual_seed(0)
    m = parametrizations.spectral_norm(nn.Linear(6, 4))
    w = m.parametrizations.weight.original.array.astype(np.float64)
    for _ in range(30):  # more power iterations: u, v converge to the top singular pair
        m.weight  # noqa: B018
    sigma = np.linalg.svd(w, compute_uv=False)[0]
    assert_close(m.weight.array, w / sigma, rtol=1e-4, atol=1e-6)
    assert np.linalg.norm(m.parametrizations.weight[0]._u.array) == pytest.approx(1.0, rel=1e-6)
    one_d = parametrizations.spectral_norm(nn.LayerNorm(5))
    np.testing.assert_allclose(np.linalg.norm(one_d.weight.array), 1.0, rtol=1e-6)
    assert [k for k, _ in one_d.named_buffers()] == []


def test_spectral_norm_buffers_move_in_training_only():
    m = parametrizations.spectral_norm(nn.Linear(6, 4))
    sn = m.parametrizations.weight[0]
    m.eval()
    u = sn._u.array.copy()
    m(mg.tensor(X[:, :1].repeat(6, axis=1)))
    np.testing.assert_array_equal(sn._u.array, u)
    m.train()
    with mg.no_grad():
        m.parametrizations.weight.original.mul_(-1.0)  # flips the top singular pair: u must flip too
    m.weight  # noqa: B018
    assert not np.array_equal(sn._u.array, u)
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        parametrizations.spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'foo'"):
        parametrizations.spectral_norm(nn.Linear(2, 2), name="foo")


@needs_torch
@pytest.mark.parametrize("make, dim_default", [
    (lambda lib: lib.nn.Linear(3, 4), 0),
    (lambda lib: lib.nn.ConvTranspose2d(2, 3, 3), 1),
])
def test_spectral_norm_matches_torch_with_its_buffers(make, dim_default):
    tm, m = make(torch), make(mg)
    m.load_state_dict(_sd(tm))
    torch.nn.utils.parametrizations.spectral_norm(tm)
    parametrizations.spectral_norm(m)
    assert m.parametrizations.weight[0].dim == dim_default
    assert list(m.state_dict()) == list(tm.state_dict())
    m.load_state_dict(_sd(tm))  # torch's u and v (drawn at random) into ours
    x = np.random.default_rng(5).standard_normal((2, 3) if dim_default == 0 else (2, 2, 4, 4)).astype(np.float32)
    for _ in range(3):  # training: a power-iteration step per call, on both sides
        out, tout = _forward_backward(m, tm, x)
        assert_close(out.array, tout.detach().numpy(), rtol=RTOL, atol=ATOL)
    for k, v in tm.state_dict().items():
        assert_close(m.state_dict()[k].array, v.numpy(), rtol=1e-4, atol=1e-6, err_msg=k)
    _assert_grads_match(m, tm)
    m.eval(), tm.eval()
    assert_close(m.weight.array, tm.weight.detach().numpy(), rtol=RTOL, atol=ATOL)


# --- the older hooks ----------------------------------------------------------------------------------------
@needs_torch
def test_old_weight_norm_hook_matches_torch():
    tm, m = _linear_pair(3, 4, seed=6)
    with pytest.warns(FutureWarning, match="deprecated"):
        torch.nn.utils.weight_norm(tm)
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        nn.utils.weight_norm(m)
    assert list(m.state_dict()) == list(tm.state_dict()) == ["bias", "weight_g", "weight_v"]
    with torch.no_grad():
        tm.weight_g.mul_(1.5)
    m.load_state_dict(_sd(tm))
    out, tout = _forward_backward(m, tm, X)  # the pre-hook recomputes weight from the new g
    assert_close(out.array, tout.detach().numpy(), rtol=RTOL, atol=ATOL)
    _assert_grads_match(m, tm)
    np.testing.assert_allclose(np.linalg.norm(m.weight.array, axis=1), m.weight_g.array[:, 0], rtol=1e-5)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"), pytest.warns(FutureWarning):
        nn.utils.weight_norm(m)
    nn.utils.remove_weight_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"] and isinstance(m.weight, nn.Parameter)
    assert_close(m.weight.array, tm.weight.detach().numpy(), rtol=RTOL, atol=ATOL)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in"):
        nn.utils.remove_weight_norm(m)


@needs_torch
def test_old_spectral_norm_hook_matches_torch():
    tm, m = _linear_pair(3, 4, seed=7)
    torch.nn.utils.spectral_norm(tm)
    nn.utils.spectral_norm(m)
    assert list(m.state_dict()) == list(tm.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    m.load_state_dict(_sd(tm))  # torch's random u and v
    for _ in range(3):
        out, tout = _forward_backward(m, tm, X)
        assert_close(out.array, tout.detach().numpy(), rtol=RTOL, atol=ATOL)
    _assert_grads_match(m, tm)
    for k in ("weight_u", "weight_v"):
        assert_close(getattr(m, k).array, getattr(tm, k).numpy(), rtol=1e-4, atol=1e-6, err_msg=k)
    m.eval(), tm.eval()
    u = m.weight_u.array.copy()
    m(mg.tensor(X)), tm(torch.tensor(X))
    np.testing.assert_array_equal(m.weight_u.array, u)
    nn.utils.remove_spectral_norm(m)
    torch.nn.utils.remove_spectral_norm(tm)
    assert list(m.state_dict()) == list(tm.state_dict()) == ["bias", "weight"]
    assert_close(m.weight.array, tm.weight.detach().numpy(), rtol=RTOL, atol=ATOL)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found in"):
        nn.utils.remove_spectral_norm(m)
