"""nn.utils.prune: masks equal to torch.nn.utils.prune's on the same weights (away from ties, where
the two libraries' topk orders differ), the weight_orig/weight_mask reparametrization and its state_dict
keys, the forward pre-hook, iterative pruning, remove, gradients to weight_orig, random methods' counts
and structure, and errors."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn
from matgrad.nn.utils import prune
from tests.helpers import assert_close

try:
    import torch
    import torch.nn.utils.prune as torch_prune
except ImportError:
    torch = torch_prune = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


def _weights(shape, seed=0):
    """Random float32 values, all |values| distinct and channel norms distinct (no ties for topk)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    magnitudes = rng.permutation(np.linspace(0.05, 2.0, n))
    return (magnitudes * rng.choice([-1.0, 1.0], n)).reshape(shape).astype(np.float32)


def _linear_pair(out_features=6, in_features=5, seed=0):
    w, b = _weights((out_features, in_features), seed), _weights((out_features,), seed + 1)
    ours = nn.Linear(in_features, out_features)
    ours.weight.data, ours.bias.data = mg.tensor(w), mg.tensor(b)
    if torch is None:
        return ours, None
    theirs = torch.nn.Linear(in_features, out_features)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
        theirs.bias.copy_(torch.tensor(b))
    return ours, theirs


def _conv_pair(seed=0):
    w, b = _weights((4, 3, 2, 2), seed), _weights((4,), seed + 1)
    ours = nn.Conv2d(3, 4, 2)
    ours.weight.data, ours.bias.data = mg.tensor(w), mg.tensor(b)
    theirs = torch.nn.Conv2d(3, 4, 2)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
        theirs.bias.copy_(torch.tensor(b))
    return ours, theirs


def test_reparametrization_hook_and_state_dict():
    m, _ = _linear_pair()
    prune.l1_unstructured(m, "weight", amount=0.4)
    assert [name for name, _ in m.named_parameters()] == ["bias", "weight_orig"]
    assert [name for name, _ in m.named_buffers()] == ["weight_mask"]
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert int((m.weight_mask == 0).sum()) == 12  # round(0.4 * 30)
    assert np.array_equal(m.weight.numpy(), (m.weight_orig * m.weight_mask).numpy())
    assert prune.is_pruned(m) and prune.is_pruned(nn.Sequential(m))
    # the hook recomputes weight from weight_orig before each call
    with mg.no_grad():
        m.weight_orig.fill_(3.0)
    x = mg.ones(2, 5)
    y = m(x)
    assert np.array_equal(m.weight.numpy(), 3.0 * m.weight_mask.numpy())
    assert_close(y.numpy(), (x @ m.weight.t() + m.bias).numpy(), rtol=1e-6)


def test_gradient_flows_to_weight_orig_through_the_mask():
    m, _ = _linear_pair()
    prune.random_unstructured(m, "weight", amount=10)
    x = mg.tensor(_weights((3, 5), 7))
    m(x).sum().backward()
    expected = np.broadcast_to(x.numpy().sum(0), (6, 5)) * m.weight_mask.numpy()
    assert_close(m.weight_orig.grad.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert np.all(m.weight_orig.grad.numpy()[m.weight_mask.numpy() == 0] == 0)


def test_pruned_linear_gradcheck():
    m = nn.Linear(4, 3).double()
    prune.l1_unstructured(m, "weight", amount=5)
    x = mg.tensor(np.random.default_rng(3).standard_normal((2, 4)), requires_grad=True)

    def f(x, w):  # the hook's weight_orig * weight_mask, through the method's prune()
        return nn.functional.linear(x, prune.L1Unstructured(0).prune(w, default_mask=m.weight_mask), m.bias)

    w = mg.tensor(m.weight_orig.numpy().copy(), requires_grad=True)
    assert mg.autograd.gradcheck(f, (x, w))


def test_remove_makes_it_permanent():
    m, _ = _linear_pair()
    prune.l1_unstructured(m, "weight", amount=3)
    pruned = m.weight.numpy().copy()
    prune.remove(m, "weight")
    assert list(m.state_dict()) == ["bias", "weight"]
    assert isinstance(m.weight, nn.Parameter) and np.array_equal(m.weight.numpy(), pruned)
    assert not prune.is_pruned(m)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(m, "weight")


@needs_torch
@pytest.mark.parametrize("amount", [0, 1, 7, 0.0, 0.25, 0.5, 1.0, 30])
def test_l1_unstructured_matches_torch(amount):
    ours, theirs = _linear_pair()
    prune.l1_unstructured(ours, "weight", amount=amount)
    torch_prune.l1_unstructured(theirs, "weight", amount=amount)
    assert np.array_equal(ours.weight_mask.numpy(), theirs.weight_mask.numpy())
    assert np.array_equal(ours.weight.numpy(), theirs.weight.detach().numpy())


@needs_torch
@pytest.mark.parametrize("n, dim", [(1, 0), (2, 0), (2, 1), (float("inf"), -1), (3, 1), (-float("inf"), 0)])
def test_ln_structured_matches_torch(n, dim):
    ours, theirs = _conv_pair()
    prune.ln_structured(ours, "weight", amount=0.5, n=n, dim=dim)
    torch_prune.ln_structured(theirs, "weight", amount=0.5, n=n, dim=dim)
    assert np.array_equal(ours.weight_mask.numpy(), theirs.weight_mask.numpy())


@needs_torch
def test_importance_scores_and_custom_mask_match_torch():
    ours, theirs = _linear_pair()
    scores = _weights((6, 5), 11)
    prune.l1_unstructured(ours, "weight", amount=8, importance_scores=mg.tensor(scores))
    torch_prune.l1_unstructured(theirs, "weight", amount=8, importance_scores=torch.tensor(scores))
    assert np.array_equal(ours.weight_mask.numpy(), theirs.weight_mask.numpy())
    mask = (np.arange(6) % 2).astype(np.float32)
    prune.custom_from_mask(ours, "bias", mask=mg.tensor(mask))
    torch_prune.custom_from_mask(theirs, "bias", mask=torch.tensor(mask))
    assert np.array_equal(ours.bias.numpy(), theirs.bias.detach().numpy())
    assert list(ours.state_dict()) == list(theirs.state_dict())


@needs_torch
def test_iterative_pruning_matches_torch():
    ours, theirs = _conv_pair(seed=4)
    steps = [("l1_unstructured", {"amount": 0.2}), ("ln_structured", {"amount": 1, "n": 2, "dim": 0}),
             ("l1_unstructured", {"amount": 5}), ("ln_structured", {"amount": 0.34, "n": 1, "dim": 1}),
             ("identity", {})]
    for fn, kwargs in steps:
        getattr(prune, fn)(ours, "weight", **kwargs)
        getattr(torch_prune, fn)(theirs, "weight", **kwargs)
        assert np.array_equal(ours.weight_mask.numpy(), theirs.weight_mask.numpy()), fn
    hooks = list(ours._forward_pre_hooks.values())
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer) and len(hooks[0]) == len(steps)
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32)
    assert_close(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


@needs_torch
def test_global_unstructured_matches_torch():
    (a, ta), (b, tb) = _linear_pair(seed=0), _linear_pair(4, 6, seed=2)
    prune.l1_unstructured(a, "weight", amount=3)  # an earlier mask is respected
    torch_prune.l1_unstructured(ta, "weight", amount=3)
    params = [(a, "weight"), (b, "weight"), (b, "bias")]
    torch_params = [(ta, "weight"), (tb, "weight"), (tb, "bias")]
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=0.3)
    torch_prune.global_unstructured(torch_params, pruning_method=torch_prune.L1Unstructured, amount=0.3)
    for (m, name), (t, _) in zip(params, torch_params):
        assert np.array_equal(getattr(m, name + "_mask").numpy(), getattr(t, name + "_mask").numpy())
    scores = {(b, "bias"): mg.tensor(_weights((4,), 9))}
    prune.global_unstructured(params, prune.L1Unstructured, importance_scores=scores, amount=4)
    torch_prune.global_unstructured(torch_params, torch_prune.L1Unstructured,
                                    importance_scores={(tb, "bias"): torch.tensor(_weights((4,), 9))}, amount=4)
    for (m, name), (t, _) in zip(params, torch_params):
        assert np.array_equal(getattr(m, name + "_mask").numpy(), getattr(t, name + "_mask").numpy())


def test_random_unstructured_count_and_iteration():
    mg.manual_seed(0)
    m, _ = _linear_pair()
    prune.random_unstructured(m, "weight", amount=0.5)
    first = m.weight_mask.numpy().copy()
    assert int((first == 0).sum()) == 15
    prune.random_unstructured(m, "weight", amount=5)  # five more among the fifteen left
    second = m.weight_mask.numpy()
    assert int((second == 0).sum()) == 20 and np.all(second[first == 0] == 0)


def test_random_structured_prunes_whole_channels():
    mg.manual_seed(1)
    m = nn.Conv2d(3, 6, 2)
    prune.random_structured(m, "weight", amount=2, dim=0)
    mask = m.weight_mask.numpy()
    per_channel = mask.reshape(6, -1)
    assert np.all((per_channel == 0).all(1) | (per_channel == 1).all(1))
    assert int((per_channel == 0).all(1).sum()) == 2
    prune.random_structured(m, "weight", amount=0.5, dim=1)
    per_input = m.weight_mask.numpy().transpose(1, 0, 2, 3).reshape(3, -1)
    assert int((per_input == 0).all(1).sum()) == 2  # round(0.5 * 3) of the three input channels
    assert int((m.weight_mask.numpy().reshape(6, -1) == 0).all(1).sum()) >= 2


def test_prune_method_on_a_tensor():
    t = mg.tensor([[0.5, -3.0], [2.0, -0.1]])
    assert prune.L1Unstructured(amount=2).prune(t).tolist() == [[0.0, -3.0], [2.0, 0.0]]
    assert prune.LnStructured(amount=1, n=1, dim=0).prune(t).tolist() == [[0.5, -3.0], [0.0, 0.0]]


@needs_torch
@pytest.mark.parametrize("call", [
    lambda p, m: p.l1_unstructured(m, "weight", amount=-1),
    lambda p, m: p.l1_unstructured(m, "weight", amount=1.5),
    lambda p, m: p.l1_unstructured(m, "weight", amount="half"),
    lambda p, m: p.l1_unstructured(m, "weight", amount=31),
    lambda p, m: p.ln_structured(m, "bias", amount=1, n=2, dim=0),
    lambda p, m: p.ln_structured(m, "weight", amount=1, n=2, dim=2),
    lambda p, m: p.random_structured(m, "weight", amount=7, dim=0),
    lambda p, m: p.remove(m, "bias"),
])
def test_errors_match_torch(call):
    ours, theirs = _linear_pair()
    with pytest.raises(Exception) as expected:
        call(torch_prune, theirs)
    with pytest.raises(expected.type) as got:
        call(prune, ours)
    assert str(got.value).split(" of module")[0].split("torch.Size")[0] == \
        str(expected.value).split(" of module")[0].split("torch.Size")[0]
    # a failed first pruning leaves the module as it was
    assert "weight" in dict(ours.named_parameters()) and not prune.is_pruned(ours)


def test_container_rejects_other_names():
    m, _ = _linear_pair()
    prune.identity(m, "weight")
    method = prune.L1Unstructured(1)
    method._tensor_name = "bias"
    with pytest.raises(ValueError, match="Can only add pruning methods acting on the parameter named 'weight'"):
        prune.PruningContainer(m._forward_pre_hooks[next(iter(m._forward_pre_hooks))]).add_pruning_method(method)
    with pytest.raises(TypeError, match="is not a BasePruningMethod subclass"):
        prune.PruningContainer(method).add_pruning_method(object())
