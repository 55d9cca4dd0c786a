"""The scripts in examples/ run and print real results (small sizes via their flags)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(script: str, *args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_linear_fit_finds_the_line_and_plots_it(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = run("linear_fit.py", "--steps", "150", "--out", str(tmp_path / "fit.png"))
    w, b = map(float, re.search(r"fitted y = ([\d.-]+)x \+ ([\d.-]+)", out).groups())
    assert abs(w - 4) < 0.1 and abs(b - 0.6) < 0.05
    assert (tmp_path / "fit.png").read_bytes()[:4] == b"\x89PNG"


def test_y_equals_wx_three_ways() -> None:
    out = run("y_equals_wx_sgd.py", "--epochs", "4", "--samples", "100")
    assert len(re.findall(r"epoch \d  w = ", out)) == 12  # w printed per epoch, three methods
    finals = dict(re.findall(r"(SGD|mini-batch SGD|momentum) ([\d.]+)", out.splitlines()[-1]))
    assert abs(float(finals["SGD"]) - 3) < 0.05 and abs(float(finals["mini-batch SGD"]) - 3) < 0.1
    assert abs(float(finals["momentum"]) - 3) < 0.5


def test_two_layer_softmax_separates_the_data() -> None:
    out = run("two_layer_softmax.py", "--data", "blobs", "--steps", "200")
    losses = [float(x) for x in re.findall(r"loss ([\d.]+) \(data", out)]
    assert losses[0] == pytest.approx(1.0986, abs=1e-3)  # ln 3: uniform guesses at the start
    assert losses[-1] < 0.2
    assert float(re.search(r"final training accuracy on blobs: ([\d.]+)%", out).group(1)) > 95


@pytest.mark.slow  # trains the 784-1024-10 network shape on the digits set for two epochs
def test_mnist_mlp_falls_back_to_digits() -> None:
    out = run("mnist_mlp.py", "--epochs", "2")
    accs = [float(a) for a in re.findall(r"digits .* test accuracy ([\d.]+)%", out)]
    assert len(accs) == 2 and accs[-1] > 60


def test_bptt_shares_sum_to_the_gradient() -> None:
    out = run("bptt.py")
    shares = [float(v) for v in re.findall(r"t = \d: ∂L/∂a\d · h\d = ([-+\d.]+)", out)]
    total = float(re.search(r"= ([-+\d.]+)  \(a copy sums\)", out).group(1))
    assert len(shares) == 3 and sum(shares) == pytest.approx(total, abs=2e-6)
    assert "∂L/∂w: a copy sums the gradients from steps 7, 11, 15" in out  # the explainer's own table
