"""Module: registration, traversal, modes, state_dict round trips and their errors."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 2)
        self.register_buffer("steps", mg.zeros(1))
        self.register_buffer("cache", mg.zeros(2), persistent=False)
        self.scale = nn.Parameter(mg.ones(1))
        self.note = "plain attribute"

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def test_attributes_are_registered():
    net = Net()
    assert list(net._parameters) == ["scale"]
    assert list(net._modules) == ["fc1", "act", "fc2"]
    assert list(net._buffers) == ["steps", "cache"]
    assert net.note == "plain attribute" and "note" not in net._parameters
    names = ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_parameters()] == names
    assert len(list(net.parameters())) == 5
    assert [n for n, _ in net.named_buffers()] == ["steps", "cache"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert len(list(net.modules())) == 4 and len(list(net.children())) == 3
    assert net.get_submodule("fc1") is net.fc1


def test_shared_parameter_is_listed_once():
    a = nn.Linear(2, 2)
    seq = nn.Sequential(a, a)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.modules())) == 2


def test_register_errors_name_the_problem():
    net = Net()
    with pytest.raises(TypeError, match="Parameter or None"):
        net.scale = mg.ones(1)
    with pytest.raises(KeyError, match="already exists"):
        net.register_buffer("note", mg.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        net.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="not a Module"):
        net.add_module("x", 3)

    class NoInit(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        NoInit()


def test_reassigning_and_deleting():
    net = Net()
    net.fc1 = nn.Identity()
    assert isinstance(net.fc1, nn.Identity) and "fc1.weight" not in net.state_dict()
    net.register_parameter("extra", None)
    assert "extra" not in dict(net.named_parameters())
    del net.fc2
    assert "fc2" not in net._modules
    with pytest.raises(AttributeError, match="no attribute 'fc2'"):
        net.fc2  # noqa: B018


def test_train_eval_and_requires_grad():
    net = Net()
    assert net.training and net.fc1.training
    assert net.eval() is net
    assert not net.training and not net.fc1.training
    net.train()
    assert net.fc2.training
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_zero_grad_both_ways():
    net = Net()
    net(mg.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_order_sharing_and_persistence():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["scale", "steps", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert sd["fc1.weight"].array is net.fc1.weight.array  # shares memory, as torch
    assert not sd["fc1.weight"].requires_grad and sd["fc1.weight"].grad_fn is None


def test_state_dict_round_trip():
    a, b = Net(), Net()
    a.steps.array[:] = 7
    x = mg.randn(3, 4)
    res = b.load_state_dict(a.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    np.testing.assert_array_equal(a(x).array, b(x).array)
    assert b.steps.item() == 7
    weight = b.fc1.weight
    b.load_state_dict({k: v.numpy().copy() for k, v in a.state_dict().items()})  # NumPy values too
    assert b.fc1.weight is weight  # copied in place: an optimizer still holds the same Parameter


def test_state_dict_from_another_model_names_every_problem():
    net = Net()
    other = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    before = net.fc1.weight.array.copy()
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict({**other.state_dict(), "fc1.weight": mg.zeros(9, 9)})
    msg = str(err.value)
    assert 'Missing key(s) in state_dict: "scale", "steps", "fc1.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "0.weight", "0.bias", "2.weight", "2.bias"' in msg
    assert "size mismatch for fc1.weight: copying a param with shape (9, 9)" in msg
    np.testing.assert_array_equal(net.fc1.weight.array, before)  # nothing half-loaded


def test_load_state_dict_non_strict():
    net = Net()
    sd = net.state_dict()
    del sd["scale"]
    sd["junk"] = mg.zeros(1)
    res = Net().load_state_dict(sd, strict=False)
    assert res.missing_keys == ["scale"] and res.unexpected_keys == ["junk"]
    with pytest.raises(RuntimeError, match="size mismatch"):
        Net().load_state_dict({"fc1.weight": mg.zeros(1)}, strict=False)


def test_apply_visits_children_first():
    net = Net()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Net"]

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)

    net.apply(init)
    assert not net.fc1.bias.array.any()


def test_dtype_casts_keep_parameter_objects():
    net = Net()
    w = net.fc1.weight
    assert net.double() is net
    assert net.fc1.weight is w and w.dtype == np.float64 and net.steps.dtype == np.float64
    net.to(mg.float32)
    assert w.dtype == np.float32
    net.to("cpu")
    with pytest.raises(RuntimeError, match="no CUDA device is available"):  # PyTorch's kind of error
        net.to("cuda")
    net.float()
    assert net(mg.randn(2, 4)).dtype == np.float32


def test_repr_like_torch():
    torch = pytest.importorskip("torch")
    mine = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Dropout(0.2), nn.Linear(1024, 10, bias=False),
                         nn.Sigmoid(), nn.LeakyReLU(0.1), nn.Softmax(dim=1), nn.Flatten())
    theirs = torch.nn.Sequential(torch.nn.Linear(784, 1024), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                 torch.nn.Linear(1024, 10, bias=False), torch.nn.Sigmoid(),
                                 torch.nn.LeakyReLU(0.1), torch.nn.Softmax(dim=1), torch.nn.Flatten())
    assert repr(mine) == repr(theirs)
    assert repr(Net()).startswith("Net(\n  (fc1): Linear(in_features=4, out_features=3, bias=True)\n")


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    seen = []
    h = lin.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    p = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    out = lin(mg.ones(3, 2))
    np.testing.assert_allclose(out.array, np.broadcast_to(lin.bias.array, (3, 2)))
    h.remove()
    p.remove()
    lin(mg.ones(1, 2))
    assert seen == [(3, 2)]


def test_missing_forward_is_explained():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_deepcopy_and_pickle_keep_structure_and_values():
    import copy
    import pickle

    net = Net()
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert list(clone.state_dict()) == list(net.state_dict())
        assert isinstance(clone.fc1.weight, nn.Parameter) and clone.fc1.weight is not net.fc1.weight
        np.testing.assert_array_equal(clone.fc1.weight.array, net.fc1.weight.array)
