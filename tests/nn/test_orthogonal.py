"""nn.utils.parametrizations.orthogonal: values and gradients as PyTorch's for every map, shape and mode."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn
from matgrad.nn.utils import parametrizations as P
from matgrad.nn.utils.parametrizations import _householder_product, _OrthMaps, _Orthogonal

SHAPES = [(4, 4), (5, 3), (3, 5), (2, 4, 3)]
MODES = [("matrix_exp", True), ("cayley", True), ("householder", True), ("householder", False),
         ("matrix_exp", False), ("cayley", False)]


def _new_x(shape, householder, dtype):
    """A point to move `original` to: random, with ±1 on the diagonal for the Householder map (whose diagonal
    only enters through its integer part)."""
    x = (np.random.default_rng(1).standard_normal(shape) * 0.5).astype(dtype)
    if householder:
        idx = np.arange(min(shape[-2:]))
        x[..., idx, idx] = np.where(x[..., idx, idx] < 0, -1.0, 1.0)
    return x


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("orthogonal_map, triv", MODES)
def test_values_and_gradients_match_torch(orthogonal_map, triv, shape, dtype):
    torch = pytest.importorskip("torch")
    from torch.nn.utils.parametrizations import orthogonal as torch_orthogonal

    w = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    tm = torch.nn.Module()
    tm.weight = torch.nn.Parameter(torch.tensor(w))
    m = nn.Module()
    m.weight = nn.Parameter(mg.tensor(w))
    torch_orthogonal(tm, orthogonal_map=orthogonal_map, use_trivialization=triv)
    P.orthogonal(m, orthogonal_map=orthogonal_map, use_trivialization=triv)
    rtol, atol = (1e-10, 1e-12) if dtype == "float64" else (1e-5, 2e-6)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert m.weight.dtype == getattr(mg, dtype) and m.weight.shape == tuple(shape)
    if not (triv and shape[-1] != shape[-2] and len(shape) == 2):  # else base's completion is random (RNG)
        np.testing.assert_allclose(m.weight.numpy(), tm.weight.detach().numpy(), rtol=rtol, atol=atol)
    x = _new_x(m.parametrizations.weight.original.shape, orthogonal_map == "householder", dtype)
    with torch.no_grad():
        tm.parametrizations.weight.original.copy_(torch.tensor(x))
    m.load_state_dict({k: mg.tensor(v.numpy()) for k, v in tm.state_dict().items()})  # base too
    np.testing.assert_allclose(m.weight.numpy(), tm.weight.detach().numpy(), rtol=rtol, atol=atol)
    q = m.weight.numpy().astype(np.float64)
    if q.shape[-2] < q.shape[-1]:
        q = np.swapaxes(q, -1, -2)
    np.testing.assert_allclose(np.swapaxes(q, -1, -2) @ q, np.broadcast_to(np.eye(q.shape[-1]), q.shape[:-2] +
                                                                            (q.shape[-1],) * 2), atol=atol * 10)
    seed = np.random.default_rng(2).standard_normal(shape).astype(dtype)
    (m.weight * mg.tensor(seed)).sum().backward()
    (tm.weight * torch.tensor(seed)).sum().backward()
    np.testing.assert_allclose(m.parametrizations.weight.original.grad.numpy(),
                               tm.parametrizations.weight.original.grad.numpy(), rtol=rtol * 10, atol=atol * 10)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)])
@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_gradients_by_finite_differences(orthogonal_map, shape):
    w = mg.tensor(np.random.default_rng(3).standard_normal(shape))
    orth = _Orthogonal(w, getattr(_OrthMaps, orthogonal_map))
    orth.right_inverse(w)  # fills base
    x = _new_x(shape, orthogonal_map == "householder", "float64")
    if orthogonal_map == "householder":
        x[x == 1.0], x[x == -1.0] = 1.5, -1.5  # the integer part stays put under the finite differences
    assert mg.gradcheck(lambda a: orth(a), [mg.tensor(x, requires_grad=True)])


def test_householder_product_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(4).standard_normal((2, 5, 3))
    tau = np.random.default_rng(5).standard_normal((2, 3))
    ours = _householder_product(mg.tensor(a), mg.tensor(tau))
    theirs = torch.linalg.householder_product(torch.tensor(a), torch.tensor(tau))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-13)
    assert mg.gradcheck(_householder_product, [mg.tensor(a, requires_grad=True), mg.tensor(tau, requires_grad=True)])


def test_assigning_an_orthogonal_matrix_and_training_keep_it_orthogonal():
    mg.manual_seed(0)
    m = P.orthogonal(nn.Linear(4, 4))
    assert type(m).__name__ == "ParametrizedLinear"
    assert m.parametrizations.weight[0].orthogonal_map is _OrthMaps.matrix_exp
    assert P.orthogonal(nn.Linear(4, 3)).parametrizations.weight[0].orthogonal_map is _OrthMaps.householder
    q, _ = np.linalg.qr(np.random.default_rng(6).standard_normal((4, 4)))
    m.weight = mg.tensor(q.astype(np.float32))
    np.testing.assert_allclose(m.weight.numpy(), q, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(m.parametrizations.weight.original.numpy(), -np.eye(4))
    opt = mg.optim.SGD(m.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (m(mg.randn(8, 4)) ** 2).sum().backward()
        opt.step()
    w = m.weight.numpy()
    assert np.abs(w - q).max() > 1e-3  # it moved, and stayed orthogonal
    np.testing.assert_allclose(w.T @ w, np.eye(4), atol=1e-5)


def test_errors_as_torch():
    m = P.orthogonal(nn.Linear(4, 4), orthogonal_map="matrix_exp", use_trivialization=False)
    assert "base" not in m.parametrizations.weight[0]._buffers
    with pytest.raises(NotImplementedError, match="not possible to assign to the matrix exponential"):
        m.weight = mg.eye(4)
    with pytest.raises(ValueError, match=r"Expected a matrix or batch of matrices of shape \(4, 4\)"):
        P.orthogonal(nn.Linear(4, 4)).weight = mg.eye(3)
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                                         "Got: foo"):
        P.orthogonal(nn.Linear(4, 4), orthogonal_map="foo")
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor of 1 dimensions."):
        P.orthogonal(nn.BatchNorm1d(4))
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'nope'"):
        P.orthogonal(nn.Linear(4, 4), name="nope")


# --- old-style weight_norm checkpoints into the parametrization (PyTorch's _weight_norm_compat_hook) ---------
@pytest.mark.parametrize("dim", [0, None])
def test_old_weight_norm_checkpoint_loads_into_the_parametrization(dim):
    torch = pytest.importorskip("torch")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.nn.utils.weight_norm is deprecated there
        old = torch.nn.Sequential(torch.nn.utils.weight_norm(torch.nn.Conv1d(2, 3, 2), dim=dim))
    sd = {k: mg.tensor(v.detach().numpy()) for k, v in old.state_dict().items()}
    assert list(sd) == ["0.bias", "0.weight_g", "0.weight_v"]
    m = nn.Sequential(P.weight_norm(nn.Conv1d(2, 3, 2), dim=dim))
    assert m.load_state_dict(sd) == ([], [])
    assert list(sd) == ["0.bias", "0.weight_g", "0.weight_v"]  # the caller's dict is left as it was
    np.testing.assert_array_equal(m[0].parametrizations.weight.original1.numpy(), sd["0.weight_v"].numpy())
    np.testing.assert_allclose(m[0].weight.numpy(), old[0].weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    x = np.random.default_rng(0).standard_normal((2, 2, 5)).astype(np.float32)
    np.testing.assert_allclose(m(mg.tensor(x)).numpy(), old(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    # the new keys still load, and a checkpoint with only one of the two old keys is not renamed
    assert m.load_state_dict(m.state_dict()) == ([], [])
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "0.weight_g"'):
        m.load_state_dict({"0.bias": sd["0.bias"], "0.weight_g": sd["0.weight_g"]})


@pytest.mark.parametrize("orthogonal_map, triv", [("matrix_exp", True), ("cayley", True), ("householder", True),
                                                  ("householder", False)])
def test_on_the_test_device(orthogonal_map, triv):
    from matgrad import devices
    from tests.devices.conftest import fake_backend
    from tests.devices.fake_cupy import ndarray

    before = devices.set_cuda_backend(fake_backend())
    try:
        w = np.random.default_rng(0).standard_normal((5, 3))
        host, dev = nn.Module(), nn.Module()
        host.weight = nn.Parameter(mg.tensor(w))
        dev.weight = nn.Parameter(mg.tensor(w).to(devices.device("cuda", 0)))
        for m in (host, dev):
            P.orthogonal(m, orthogonal_map=orthogonal_map, use_trivialization=triv)
        dev.load_state_dict(host.state_dict())  # the same base
        assert isinstance(dev.weight.array, ndarray)
        np.testing.assert_allclose(dev.weight.array.get(), host.weight.numpy(), rtol=1e-12, atol=1e-13)
        dev.weight.sum().backward()
        host.weight.sum().backward()
        g = dev.parametrizations.weight.original.grad.array
        assert isinstance(g, ndarray)
        np.testing.assert_allclose(g.get(), host.parametrizations.weight.original.grad.numpy(), rtol=1e-12, atol=1e-13)
    finally:
        devices.restore_cuda_backend(before)
