"""matgrad.utils.hooks: RemovableHandle (what tensor, module and optimizer hooks return, and PyTorch's own
`RemovableHandle(hooks_dict)` form), unserializable_hook and warn_if_has_hooks, compared with torch.utils.hooks."""
from __future__ import annotations

import warnings

import pytest

import matgrad as mg
import matgrad.nn as nn
from matgrad.utils import hooks
from matgrad.utils.hooks import RemovableHandle, unserializable_hook, warn_if_has_hooks


def test_every_register_hook_returns_a_removable_handle():
    m = nn.Linear(2, 2)
    x = mg.ones(2, requires_grad=True)
    opt = mg.optim.SGD(m.parameters(), lr=0.1)
    handles = [m.register_forward_hook(lambda *a: None), m.register_forward_pre_hook(lambda *a: None),
               m.register_full_backward_hook(lambda *a: None), x.register_hook(lambda g: g),
               opt.register_step_post_hook(lambda *a: None)]
    assert all(isinstance(h, RemovableHandle) for h in handles)
    assert all(isinstance(h.id, int) for h in handles)
    assert mg.utils.hooks is hooks


def test_remove_and_with_block_take_the_hook_off():
    m = nn.Linear(2, 2)
    calls = []
    h = m.register_forward_hook(lambda mod, args, out: calls.append(1))
    m(mg.ones(1, 2))
    h.remove()
    h.remove()  # twice: nothing
    m(mg.ones(1, 2))
    assert calls == [1]
    with m.register_forward_hook(lambda mod, args, out: calls.append(2)) as h2:
        assert isinstance(h2, RemovableHandle)
        m(mg.ones(1, 2))
    m(mg.ones(1, 2))
    assert calls == [1, 2] and len(m._forward_hooks) == 0


def test_torchs_own_form_picks_an_id_the_caller_stores_under():
    d: dict = {}
    extra: dict = {}
    more: dict = {}
    h = RemovableHandle(d, extra_dict=extra)
    d[h.id] = "hook"
    extra[h.id] = True
    h2 = RemovableHandle(d, extra_dict=[extra, more])
    assert h2.id != h.id
    d[h2.id], extra[h2.id], more[h2.id] = "hook2", True, True
    h.remove()
    assert d == {h2.id: "hook2"} and extra == {h2.id: True}
    with h2:
        pass
    assert d == {} and extra == {} and more == {}


def test_ids_never_collide_with_a_modules_own_hooks():
    """Code that puts hooks in a module's dict itself (handle = RemovableHandle(m._forward_hooks)) must not
    overwrite, or be overwritten by, hooks registered the usual way."""
    m = nn.Linear(2, 2)
    calls = []
    m.register_forward_hook(lambda *a: calls.append("a"))
    h = RemovableHandle(m._forward_hooks)
    m._forward_hooks[h.id] = lambda *a: calls.append("b")
    m.register_forward_hook(lambda *a: calls.append("c"))
    assert len(m._forward_hooks) == 3
    m(mg.ones(1, 2))
    assert calls == ["a", "b", "c"]


def test_handle_interface_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils import hooks as torch_hooks

    th = torch.nn.Linear(2, 2).register_forward_hook(lambda *a: None)
    mh = nn.Linear(2, 2).register_forward_hook(lambda *a: None)
    for name in ("id", "remove", "__enter__", "__exit__"):
        assert hasattr(th, name) and hasattr(mh, name), name
    public = [n for n in dir(torch_hooks) if not n.startswith("_")]
    skip = {"BackwardHook": "torch's internal machinery for module backward hooks (matgrad: nn/backward_hooks.py)",
            "Any": "typing", "OrderedDict": "collections", "torch": "torch itself", "warnings": "the stdlib module",
            "weakref": "the stdlib module"}
    assert [n for n in public if n not in skip and not hasattr(hooks, n)] == []


def test_unserializable_hook_marks_the_function():
    def f(g):
        return g

    assert unserializable_hook(f) is f and f.__torch_unserializable__ is True


def _warnings_of(fn, t):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(t)
    return [str(w.message) for w in caught]


def test_warn_if_has_hooks():
    leaf = mg.ones(2, requires_grad=True)
    assert _warnings_of(warn_if_has_hooks, leaf) == []
    leaf.register_hook(lambda g: g)
    leaf.register_hook(unserializable_hook(lambda g: g))
    msgs = _warnings_of(warn_if_has_hooks, leaf)
    assert len(msgs) == 1 and "will not be serialized" in msgs[0] and "unserializable_hook" in msgs[0]
    mid = leaf * 2
    mid.register_hook(lambda g: g)
    assert len(_warnings_of(warn_if_has_hooks, mid)) == 1
    assert _warnings_of(warn_if_has_hooks, mg.ones(2)) == []


def test_warn_if_has_hooks_warns_as_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.hooks import unserializable_hook as t_unserializable
    from torch.utils.hooks import warn_if_has_hooks as t_warn

    t = torch.ones(2, requires_grad=True)
    x = mg.ones(2, requires_grad=True)
    for tensor, mark in ((t, t_unserializable), (x, unserializable_hook)):
        tensor.register_hook(lambda g: g)
        tensor.register_hook(mark(lambda g: g))
    assert len(_warnings_of(t_warn, t)) == len(_warnings_of(warn_if_has_hooks, x)) == 1
