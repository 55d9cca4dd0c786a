"""The examples' walkthroughs: each explanation holds the textbook gradients exactly."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name: str) -> ModuleType:
    path = EXAMPLES / f"{name}.py"
    if not path.exists():
        pytest.fail(f"missing example {path}")
    spec = importlib.util.spec_from_file_location(f"examples_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_explain_j(capsys: pytest.CaptureFixture) -> None:
    exp = _load("explain_j").main()
    assert {k: float(v) for k, v in exp.grads.items()} == {"a": 3.0, "b": 6.0, "c": 9.0}
    assert float(exp.value.values) == 33.0
    out = capsys.readouterr().out
    assert "∂J/∂b = ∂J/∂u · c = 3 · 2 = 6" in out and "∂J/∂c = ∂J/∂u · b = 3 · 3 = 9" in out


def test_explain_fxyz() -> None:
    exp = _load("explain_fxyz").main()
    assert {k: float(v) for k, v in exp.grads.items()} == {"x": -4.0, "y": -4.0, "z": 3.0}
    step_q = next(s for s in exp.steps if s.output == "q")
    assert step_q.pattern.startswith("add distributes")


@pytest.mark.parametrize("fused", [False, True])
def test_explain_sigmoid_neuron(fused: bool) -> None:
    exp = _load("explain_sigmoid_neuron").main(fused=fused)
    g = {k: round(float(v), 2) for k, v in exp.grads.items()}
    assert (g["w0"], g["w1"], g["w2"]) == (-0.20, -0.39, 0.20)
    assert (g["x0"], g["x1"]) == (0.39, -0.59)
    assert len(exp.steps) == (5 if fused else 8)  # σ is one node; by hand: /, +1, exp, neg
    # the gradient at the neuron's input is (1 − f)·f = 0.1966 either way
    first_add = next(s for s in exp.steps if s.op == "Add" and s.inputs[-1].name == "w2")
    assert float(first_add.upstream) == pytest.approx(0.19661193, abs=1e-8)


def test_one_weight_chain(capsys: pytest.CaptureFixture) -> None:
    losses = _load("one_weight_chain").main([])
    assert losses[-1] < 1e-3
    assert "predict(1) = -1, predict(-1) = 1" in capsys.readouterr().out


def test_sqrt_newton(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "curves.png"
    gd, nt = _load("sqrt_newton").main(["--a", "3", "--out", str(out)])
    assert abs(nt[-1] - 3 ** 0.5) < 1e-12
    assert abs(gd[-1] - 3 ** 0.5) < 1e-6
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
