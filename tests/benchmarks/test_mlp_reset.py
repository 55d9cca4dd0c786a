"""benchmarks/mlp.py: every implementation's step goes back to its starting weights and momentum on reset, so
each is timed at the same point of the training (its gradients never turn subnormal, see mlp.RESET_EVERY)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))
try:
    spec = importlib.util.spec_from_file_location("_bench_mlp", BENCH / "mlp.py")
    mlp = importlib.util.module_from_spec(spec)
    sys.modules["_bench_mlp"] = mlp  # (its dataclasses look their module up)
    spec.loader.exec_module(mlp)
finally:
    sys.path.remove(str(BENCH))

SPEC = mlp.Spec((12, 16, 4), 8)  # small: the same code paths as the benchmark's sizes
IMPLS = ["matgrad", "captured", "torch", "numpy", "tuned", "same", "ops"]


def _losses(step, p, count):
    return [step(p.xs[i % mlp.N_BATCHES], p.ys[i % mlp.N_BATCHES]).item() for i in range(count)]


@pytest.mark.parametrize("impl", IMPLS)
def test_reset_repeats_the_first_steps(impl):
    if impl == "torch":
        pytest.importorskip("torch")
    p = mlp.make_problem(SPEC)
    step = mlp.make_step(impl, SPEC, p, 1)
    first = _losses(step, p, 5)  # steps 2-5 use the momentum the earlier ones left
    assert len(set(first)) > 1  # training moves the loss: a reset that did nothing would be seen below
    step.reset()
    again = _losses(step, p, 5)
    assert again == first  # bit for bit: the same weights, a zero momentum (0.9·0 + g = g)


def test_reset_agrees_across_implementations():
    """After a reset every implementation restarts from the same point: their losses agree again."""
    p = mlp.make_problem(SPEC)
    runs = {}
    for impl in ("matgrad", "numpy", "tuned"):
        step = mlp.make_step(impl, SPEC, p, 1)
        _losses(step, p, 7)
        step.reset()
        runs[impl] = _losses(step, p, 3)
    np.testing.assert_allclose(runs["matgrad"], runs["numpy"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(runs["matgrad"], runs["tuned"], rtol=1e-5, atol=1e-6)


def test_cycler_resets_every_reset_every_steps(monkeypatch):
    monkeypatch.setattr(mlp, "RESET_EVERY", 16)
    p = mlp.make_problem(SPEC)
    seen = []

    def fn(x, y):
        seen.append(next(i for i, xs in enumerate(p.xs) if xs is x))

    fn.reset = lambda: seen.append("reset")
    step = mlp._cycler(fn, p)
    for _ in range(33):
        step()
    assert [i for i, s in enumerate(seen) if s == "reset"] == [16, 33]  # before calls 17 and 33
    batches = [s for s in seen if s != "reset"]
    assert batches == [i % mlp.N_BATCHES for i in range(33)]
