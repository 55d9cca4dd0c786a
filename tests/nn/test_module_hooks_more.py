"""Module: get_parameter/get_buffer/set_submodule, extra state, state_dict hooks, to_empty, type, compile."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn as nn


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the test compares whatever was raised
        return type(e).__name__, str(e)
    return None


def _seq(lib):
    m = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU())
    m.register_buffer("b", None)
    m.register_buffer("steps", lib.zeros(1))
    return m


@pytest.mark.parametrize("call", [
    ("get_submodule", "5"), ("get_submodule", "0.x"), ("get_submodule", "0.weight"), ("get_submodule", "2"),
    ("get_parameter", "0.bias2"), ("get_parameter", "0."), ("get_parameter", "b"), ("get_parameter", "x.y"),
    ("get_parameter", "steps"), ("get_buffer", "0.weight"), ("get_buffer", "x.steps"), ("get_buffer", "nope"),
])
def test_path_errors_match_torch(call):
    torch = pytest.importorskip("torch")
    name, target = call
    ours = _error(lambda: getattr(_seq(mg), name)(target))
    theirs = _error(lambda: getattr(_seq(torch), name)(target))
    assert ours == theirs and ours is not None


def test_get_parameter_and_buffer():
    m = _seq(mg)
    assert m.get_parameter("0.weight") is m[0].weight
    assert m.get_buffer("steps") is m.steps
    assert m.get_buffer("b") is None
    assert m.get_submodule("") is m


@pytest.mark.parametrize("target, strict", [("", False), ("0.weight", False), ("a.b", False), ("zz", True),
                                            ("steps", False)])
def test_set_submodule_errors_match_torch(target, strict):
    torch = pytest.importorskip("torch")
    ours = _error(lambda: _seq(mg).set_submodule(target, mg.nn.ReLU(), strict=strict))
    theirs = _error(lambda: _seq(torch).set_submodule(target, torch.nn.ReLU(), strict=strict))
    assert ours == theirs and ours is not None


def test_set_submodule_not_a_module_matches_torch():
    torch = pytest.importorskip("torch")
    ours = _error(lambda: _seq(mg).set_submodule("0", 3))
    theirs = _error(lambda: _seq(torch).set_submodule("0", 3))
    assert ours[0] == theirs[0] == "ValueError"
    assert ours[1] == theirs[1].replace("torch.nn", "matgrad.nn") or "is not an nn.Module" in ours[1]


def test_set_submodule_replaces_and_adds():
    m = nn.Sequential(nn.Sequential(nn.Linear(2, 2)), nn.ReLU())
    new = nn.Tanh()
    m.set_submodule("0.0", new)
    assert m[0][0] is new
    m.set_submodule("0.extra", nn.ReLU())
    assert isinstance(m[0].extra, nn.ReLU)
    with pytest.raises(AttributeError, match="has no attribute `fresh`"):
        m.set_submodule("fresh", nn.ReLU(), strict=True)


def _with_extra(lib):
    class Counter(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(2, 2)
            self.count = 0

        def get_extra_state(self):
            return {"count": self.count}

        def set_extra_state(self, state):
            self.count = state["count"]

    outer = lib.nn.Sequential(Counter(), lib.nn.ReLU())
    return outer


def test_extra_state_keys_match_torch_and_round_trip():
    torch = pytest.importorskip("torch")
    ours, theirs = _with_extra(mg), _with_extra(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours[0].count = 7
    sd = ours.state_dict()
    assert sd["0._extra_state"] == {"count": 7}
    fresh = _with_extra(mg)
    assert fresh.load_state_dict(sd) == ((), ()) or list(fresh.load_state_dict(sd)) == [[], []]
    assert fresh[0].count == 7


def test_extra_state_missing_and_unexpected_match_torch():
    torch = pytest.importorskip("torch")
    for lib in (mg, torch):
        sd = _with_extra(lib).state_dict()
        del sd["0._extra_state"]
        res = _with_extra(lib).load_state_dict(sd, strict=False)
        assert list(res.missing_keys) == ["0._extra_state"]
        sd2 = lib.nn.Linear(2, 2).state_dict()
        sd2["_extra_state"] = 1
        res2 = lib.nn.Linear(2, 2).load_state_dict(sd2, strict=False)
        assert list(res2.unexpected_keys) == ["_extra_state"]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "0._extra_state"'):
        _with_extra(mg).load_state_dict({k: v for k, v in _with_extra(mg).state_dict().items() if "extra" not in k})


def test_base_get_extra_state_raises():
    with pytest.raises(RuntimeError, match="get_extra_state"):
        nn.Linear(2, 2).get_extra_state()
    with pytest.raises(RuntimeError, match="set_extra_state"):
        nn.Linear(2, 2).set_extra_state(None)


def _hook_run(lib):
    """Record every state_dict / load_state_dict hook call on a two-level model, in order."""
    events = []
    model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Sequential(lib.nn.Linear(2, 1)))
    for name, m in model.named_modules():
        m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars, n=name: events.append(("pre", n, prefix,
                                                                                             keep_vars)))
        m.register_state_dict_post_hook(
            lambda mod, sd, prefix, meta, n=name: events.append(("post", n, prefix, sorted(sd), meta["version"])))

        def load_pre(mod, sd, prefix, meta, strict, missing, unexpected, errors, n=name):
            events.append(("load_pre", n, prefix, strict, list(missing), list(unexpected), list(errors)))

        m.register_load_state_dict_pre_hook(load_pre)
        m.register_load_state_dict_post_hook(
            lambda mod, keys, n=name: events.append(("load_post", n, list(keys.missing_keys),
                                                     list(keys.unexpected_keys))))
    sd = model.state_dict(keep_vars=True)
    sd = {k: v for k, v in sd.items() if k != "1.0.bias"}
    sd["junk"] = sd["0.bias"]
    res = model.load_state_dict(sd, strict=False)
    return events, (list(res.missing_keys), list(res.unexpected_keys))


def test_state_dict_hooks_order_and_arguments_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _hook_run(mg), _hook_run(torch)
    ours_events = [e for e in ours[0] if e[0] != "load_pre"]
    theirs_events = [e for e in theirs[0] if e[0] != "load_pre"]
    assert ours_events == theirs_events
    assert ours[1] == theirs[1]
    # pre-hooks: same modules, prefixes and strict flag (the lists differ: see load_state_dict's docstring)
    assert [e[:4] for e in ours[0] if e[0] == "load_pre"] == [e[:4] for e in theirs[0] if e[0] == "load_pre"]


def test_state_dict_post_hook_must_return_none():
    m = nn.Linear(2, 2)
    m.register_state_dict_post_hook(lambda *a: {})
    with pytest.raises(RuntimeError, match="must return None"):
        m.state_dict()


def test_state_dict_post_hook_edits_in_place_and_handle_removes():
    m = nn.Linear(2, 2)
    def drop_bias(mod, sd, prefix, meta):
        del sd[prefix + "bias"]

    h = m.register_state_dict_post_hook(drop_bias)
    assert list(m.state_dict()) == ["weight"]
    h.remove()
    assert list(m.state_dict()) == ["weight", "bias"]


@pytest.mark.parametrize("lib_name", ["matgrad", "torch"])
def test_load_post_hook_can_add_and_clear_keys(lib_name):
    lib = mg if lib_name == "matgrad" else pytest.importorskip("torch")
    m = lib.nn.Linear(2, 2)
    h = m.register_load_state_dict_post_hook(lambda mod, keys: keys.missing_keys.append("made_up"))
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "made_up"'):
        m.load_state_dict(m.state_dict())
    h.remove()
    m.register_load_state_dict_post_hook(lambda mod, keys: keys.unexpected_keys.clear())
    sd = dict(m.state_dict())
    sd["extra"] = sd["bias"]
    assert list(m.load_state_dict(sd).unexpected_keys) == []


def test_load_post_hook_returning_a_value_fails():
    m = nn.Linear(2, 2)
    m.register_load_state_dict_post_hook(lambda mod, keys: keys)
    with pytest.raises(AssertionError, match="not expected to return new values"):
        m.load_state_dict(m.state_dict())


def test_load_pre_hook_can_rename_and_report_errors():
    m = nn.Linear(2, 2)
    sd = {"w": mg.ones(2, 2), "bias": mg.zeros(2)}

    def rename(mod, state_dict, prefix, meta, strict, missing, unexpected, errors):
        state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")

    h = m.register_load_state_dict_pre_hook(rename)
    m.load_state_dict(sd)
    np.testing.assert_array_equal(m.weight.array, np.ones((2, 2)))
    h.remove()
    m.register_load_state_dict_pre_hook(lambda mod, *a: a[-1].append("bad checkpoint"))
    with pytest.raises(RuntimeError, match="bad checkpoint"):
        m.load_state_dict(m.state_dict(), strict=False)


def test_to_empty_keeps_shapes_dtypes_and_identity():
    m = nn.Linear(3, 2).double()
    w = m.weight
    m.weight.grad = np.ones((2, 3))
    assert m.to_empty(device="cpu") is m
    assert m.weight is w and m.weight.shape == (2, 3) and m.weight.dtype == mg.float64
    assert m.weight.grad.shape == (2, 3) and m.weight.grad.dtype == mg.float64
    assert m.to_empty(device=None, recurse=False) is m
    with pytest.raises(TypeError):
        m.to_empty("cpu")  # keyword-only, as PyTorch


def test_type_casts_every_tensor_like_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    assert ours.type(mg.float64) is ours
    theirs.type(torch.float64)
    assert {k: str(v.dtype).split(".")[-1] for k, v in ours.state_dict().items()} == \
        {k: str(v.dtype).split(".")[-1] for k, v in theirs.state_dict().items()}


def test_share_memory_and_compile_return_like_torch():
    m = nn.Linear(2, 2)
    assert m.share_memory() is m
    x = mg.ones(1, 2)
    before = m(x).array.copy()
    assert m.compile() is None
    assert m.compile(mode="max-autotune") is None
    np.testing.assert_array_equal(m(x).array, before)
    with pytest.raises(RuntimeError, match="Unrecognized mode"):
        m.compile(mode="fastest")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.share_memory()


def test_missing_method_list_shrank():
    torch = pytest.importorskip("torch")
    wanted = ["get_parameter", "get_buffer", "set_submodule", "get_extra_state", "set_extra_state",
              "register_load_state_dict_pre_hook", "register_load_state_dict_post_hook",
              "register_state_dict_pre_hook", "register_state_dict_post_hook", "to_empty", "type",
              "share_memory", "compile"]
    assert all(hasattr(torch.nn.Module, n) for n in wanted)
    assert [n for n in wanted if not hasattr(nn.Module, n)] == []


def test_to_empty_onto_the_test_device():
    from matgrad import devices
    from tests.devices.conftest import fake_backend
    from tests.devices.fake_cupy import ndarray

    before = devices.set_cuda_backend(fake_backend())
    try:
        m = nn.Linear(3, 2)
        w = m.weight
        w.grad = np.ones((2, 3), dtype=np.float32)
        m.to_empty(device="cuda")
        assert m.weight is w and isinstance(w.array, ndarray) and w.array.shape == (2, 3)
        assert isinstance(w.grad.array, ndarray)
        assert m.weight.device == mg.device("cuda", 0)
        m.to_empty(device="cpu")
        assert isinstance(w.array, np.ndarray) and w.array.dtype == np.float32
    finally:
        devices.restore_cuda_backend(before)
