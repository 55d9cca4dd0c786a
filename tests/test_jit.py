"""matgrad.jit: torch.jit's names with their eager meaning (matgrad has no TorchScript): script/trace return
what they get, the decorators return the function, is_scripting/is_tracing are False, fork runs at once,
save/load raise with what to do instead. Compared with torch.jit where torch's eager behaviour is defined."""
from __future__ import annotations

import typing
import warnings
from typing import Dict, List, Optional, Tuple, Union  # noqa: UP035  (torch.jit.isinstance's own spelling)

import numpy as np
import pytest

import matgrad as mg
import matgrad.jit as jit
import matgrad.nn as nn


def _model():
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_script_returns_the_object_itself():
    m = _model()

    def f(x):
        return x * 2

    assert jit.script(m) is m and jit.script(f) is f and jit.script(nn.Linear) is nn.Linear
    assert jit.script(m, example_inputs=[(mg.ones(1, 3),)]) is m
    assert not isinstance(jit.script(m), jit.ScriptModule) and not isinstance(jit.script(f), jit.ScriptFunction)
    with pytest.warns(FutureWarning, match="`optimize` is deprecated"):
        assert jit.script(f, optimize=True) is f


def test_trace_returns_func_and_takes_torchs_keywords():
    m = _model()
    x = mg.randn(5, 3)
    traced = jit.trace(m, x, check_trace=False, check_inputs=[(x,)], check_tolerance=1e-4, strict=False,
                       _force_outplace=False, example_kwarg_inputs=None, _store_inputs=True)
    assert traced is m
    np.testing.assert_array_equal(traced(x).numpy(), m(x).numpy())
    fn = jit.trace(lambda a: a + 1, (x,))
    np.testing.assert_array_equal(fn(x).numpy(), (x + 1).numpy())
    assert jit.trace(m, example_kwarg_inputs={"input": x}) is m
    with pytest.raises(RuntimeError, match="example_kwarg_inputs should be a dict"):  # torch's error for a module
        jit.trace(m)
    with pytest.raises(RuntimeError, match="example_kwarg_inputs should be a dict"):
        jit.trace(m, example_kwarg_inputs=[x])
    with pytest.raises(TypeError, match="example_inputs"):  # and for a function
        jit.trace(lambda a: a)
    assert jit.trace(m, (x,), example_kwarg_inputs=[x]) is m  # with example_inputs, torch ignores the other
    with pytest.raises(TypeError, match="function or a Module"):
        jit.trace(3, (x,))


def test_trace_module_checks_its_inputs_as_torch():
    m = _model()
    x = mg.randn(2, 3)
    assert jit.trace_module(m, {"forward": x}) is m
    with pytest.raises(AttributeError, match="expected a dictionary of \\(method_name, input\\) pairs"):
        jit.trace_module(m, (x,))
    with pytest.raises(AttributeError, match="expected torch.nn.Module as the first argument"):
        jit.trace_module(lambda a: a, {"forward": x})
    with pytest.raises(AttributeError, match="no attribute 'encode'"):
        jit.trace_module(m, {"encode": x})


def test_trace_errors_are_torchs():
    torch = pytest.importorskip("torch")
    tm = torch.nn.Linear(2, 2)
    with pytest.raises(AttributeError) as t_err, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.trace_module(tm, (torch.ones(2),))
    with pytest.raises(AttributeError) as m_err:
        jit.trace_module(nn.Linear(2, 2), (mg.ones(2),))
    assert str(t_err.value) == str(m_err.value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13 deprecates torch.jit.trace
        for t_fn, m_fn in ((tm, nn.Linear(2, 2)), (lambda a: a, lambda a: a)):
            with pytest.raises((TypeError, RuntimeError)) as t_err:
                torch.jit.trace(t_fn)
            with pytest.raises((TypeError, RuntimeError)) as m_err:
                jit.trace(m_fn)
            assert type(t_err.value) is type(m_err.value)


def test_decorators_return_the_function():
    def f(x):
        return x + 1

    for deco in (jit.ignore, jit.unused, jit.export, jit.script_method, jit.interface, jit.script_if_tracing):
        assert deco(f) is f
    assert jit.ignore(drop=True)(f) is f and jit.ignore(False)(f) is f
    with pytest.raises(RuntimeError, match="must be a bool or a function but got yes"):
        jit.ignore("yes")


def test_decorated_methods_run_eagerly_in_a_module():
    class M(nn.Module):
        @jit.export
        def double(self, x):
            return x * 2

        @jit.ignore
        def as_numpy(self, x):
            return x.numpy()

        @jit.unused
        def unused_path(self, x):
            return x - 1

        def forward(self, x):
            if jit.is_scripting() or jit.is_tracing():
                raise AssertionError("matgrad never scripts or traces")
            return self.double(x) + self.unused_path(x)

    m = jit.script(M())
    x = mg.tensor([1.0, 2.0])
    np.testing.assert_array_equal(m(x).numpy(), [2.0, 5.0])
    np.testing.assert_array_equal(m.as_numpy(x), [1.0, 2.0])


def test_script_module_is_a_module_nothing_else_is():
    class Old(jit.ScriptModule):  # a TorchScript-era model: runs as a plain Module
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 1)

        @jit.script_method
        def forward(self, x):
            return self.lin(x)

    m = Old()
    assert isinstance(m, nn.Module) and isinstance(m, jit.ScriptModule)
    assert [n for n, _ in m.named_parameters()] == ["lin.weight", "lin.bias"]
    assert m(mg.ones(3, 2)).shape == (3, 1)
    assert not isinstance(nn.Linear(2, 2), jit.ScriptModule) and not isinstance(_model, jit.ScriptFunction)


def test_flags_match_torch_in_eager_code():
    assert jit.is_scripting() is False and jit.is_tracing() is False
    torch = pytest.importorskip("torch")
    assert torch.jit.is_scripting() is jit.is_scripting() and torch.jit.is_tracing() is jit.is_tracing()


def test_annotate_attribute_final():
    v = [1, 2]
    assert jit.annotate(List[int], v) is v
    assert jit.Attribute(v, List[int]) is v  # torch's meaning with the JIT off
    assert jit.Final is typing.Final


def test_fork_runs_at_once_and_wait_gives_the_result():
    calls = []

    def f(a, b=0):
        calls.append((a, b))
        return a + b

    fut = jit.fork(f, 1, b=2)
    assert calls == [(1, 2)]  # already run
    assert isinstance(fut, jit.Future) and fut.done()
    assert fut.wait() == 3 and jit.wait(fut) == 3 and fut.value() == 3
    assert fut.then(lambda done: done.value() * 10).wait() == 30
    seen = []
    fut.add_done_callback(lambda done: seen.append(done.wait()))
    assert seen == [3]

    def bad(x):
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):  # torch's eager fork raises at the call too
        jit.fork(bad, 1)


def test_fork_matches_torch():
    torch = pytest.importorskip("torch")
    t = torch.jit.fork(lambda a, b=0: a * b, 3, b=4)
    assert jit.fork(lambda a, b=0: a * b, 3, b=4).wait() == t.wait() == torch.jit.wait(t)

    def bad(x):
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        torch.jit.fork(bad, 1)


def test_freeze_and_optimize_for_inference():
    m = _model()
    with pytest.raises(RuntimeError, match="only implemented for modules in eval mode"):
        jit.freeze(m)
    assert jit.freeze(m.eval(), preserved_attrs=["x"], optimize_numerics=False) is m
    m.train()
    assert jit.optimize_for_inference(m) is m and not m.training


def test_fusion_settings():
    assert jit.onednn_fusion_enabled() is False
    try:
        jit.enable_onednn_fusion(True)
        assert jit.onednn_fusion_enabled() is True
    finally:
        jit.enable_onednn_fusion(False)
    old = jit.set_fusion_strategy([("DYNAMIC", 3)])
    assert old == [("STATIC", 2), ("DYNAMIC", 10)]
    assert jit.set_fusion_strategy(old) == [("DYNAMIC", 3)]
    with pytest.raises(ValueError, match="FusionBehavior only supported 'STATIC' or 'DYNAMIC', got: X"):
        jit.set_fusion_strategy([("X", 2)])
    with pytest.warns(UserWarning, match="Only works in script mode"):
        with jit.strict_fusion():
            pass


def test_fusion_strategy_default_is_torchs():
    torch = pytest.importorskip("torch")
    old = torch.jit.set_fusion_strategy([("STATIC", 2)])
    torch.jit.set_fusion_strategy(old)
    mine = jit.set_fusion_strategy([("STATIC", 2)])
    jit.set_fusion_strategy(mine)
    assert mine == old


def test_save_and_load_raise_and_say_what_to_do(tmp_path):
    with pytest.raises(RuntimeError, match=r"cannot write TorchScript.*matgrad\.save\(model\.state_dict\(\), f\)"):
        jit.save(_model(), tmp_path / "m.pt")
    with pytest.raises(RuntimeError, match=r"cannot read TorchScript.*onnx"):
        jit.load(tmp_path / "m.pt", map_location="cpu")
    with pytest.raises(RuntimeError, match="no TorchScript"):
        jit.export_opnames(_model())


_ISINSTANCE_CASES = [
    ([1, 2], List[int]), ([1, "a"], List[int]), ([[1], [2]], List[List[int]]), ([[1], ["a"]], List[List[int]]),
    ({"a": 1}, Dict[str, int]), ({"a": "b"}, Dict[str, int]), ({1: 1}, Dict[str, int]),
    ({"a": [1.0]}, Dict[str, List[float]]), ((1, "a"), Tuple[int, str]), ((1, 2), Tuple[int, str]),
    ((1,), Tuple[int, int]), (None, Optional[int]), (3, Optional[int]), ("x", Optional[int]),  # noqa: UP045
    (3, Union[str, int]), (3.0, Union[str, int]), ([1], Union[List[int], int]), (3, int), (True, int),
    ("s", (int, str)), (2.0, (int, str)), ([1, 2], list[int]), ({"a": 1}, dict[str, int]), ((1, 2), tuple[int, int]),
    (None, int | None), ([1], List[int] | None),
]


@pytest.mark.parametrize("obj, target", _ISINSTANCE_CASES)
def test_isinstance_matches_torch(obj, target):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert jit.isinstance(obj, target) == torch.jit.isinstance(obj, target)


def test_isinstance_known_answers_and_errors():
    assert jit.isinstance([1, 2], List[int]) and not jit.isinstance([1, "a"], List[int])
    assert jit.isinstance(mg.ones(2), mg.Tensor)
    with pytest.warns(UserWarning, match="inner type of a container is lost"):
        assert jit.isinstance([], List[str])
    with pytest.raises(RuntimeError, match="Attempted to use list without a contained type"):
        jit.isinstance([1], list)
    with pytest.raises(RuntimeError, match="must be a type or a tuple of types"):
        jit.isinstance(1, [int])


def test_every_public_torch_jit_name_is_here():
    torch = pytest.importorskip("torch")
    skip = {"CompilationUnit": "a TorchScript compilation unit holds compiled code; matgrad compiles none"}
    missing = [n for n in torch.jit.__all__ if n not in skip and not hasattr(jit, n)]
    assert missing == []
    assert all(not hasattr(jit, n) for n in skip)


def test_is_a_subpackage_only():
    assert mg.jit is jit and not hasattr(mg, "script") and mg.trace is not jit.trace  # matgrad.trace: the matrix's
