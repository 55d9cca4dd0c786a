"""Sequential, ModuleList and ModuleDict."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn


def test_sequential_runs_in_order_and_indexes():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = mg.randn(5, 3)
    np.testing.assert_allclose(seq(x).array, seq[2](seq[1](seq[0](x))).array)
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is seq[0]
    seq.append(nn.Sigmoid())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and isinstance(seq[1], nn.Linear)
    seq.insert(0, nn.Identity())
    assert isinstance(seq[0], nn.Identity) and len(seq) == 4
    with pytest.raises(IndexError, match="out of range"):
        seq[10]


def test_sequential_from_ordered_dict():
    seq = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.ReLU()))
    assert seq.fc is seq[0] and list(seq.state_dict()) == ["fc.weight", "fc.bias"]


def test_module_list():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    ml += [nn.Sigmoid()]
    assert [type(m).__name__ for m in ml][3:] == ["ReLU", "Tanh", "Sigmoid"]
    assert isinstance(ml[-1], nn.Sigmoid) and len(ml[1:3]) == 2
    ml.insert(0, nn.Identity())
    assert isinstance(ml[0], nn.Identity) and list(ml._modules)[-1] == "6"
    del ml[0]
    assert isinstance(ml[0], nn.Linear)
    assert list(ml.state_dict())[:2] == ["0.weight", "0.bias"]
    with pytest.raises(TypeError, match="iterable of modules"):
        ml.extend(nn.Linear(1, 1))


def test_module_dict():
    md = nn.ModuleDict({"enc": nn.Linear(2, 3), "act": nn.ReLU()})
    assert list(md.keys()) == ["enc", "act"] and "enc" in md and len(md) == 2
    md["dec"] = nn.Linear(3, 2)
    assert [n for n, _ in md.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    assert md.pop("act").__class__ is nn.ReLU and list(md) == ["enc", "dec"]
    md.update([("out", nn.Sigmoid())])
    assert isinstance(md["out"], nn.Sigmoid)
    with pytest.raises(KeyError, match="keys are"):
        md["nope"]
