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


def test_backprop_tour_notebook_runs_and_shows_the_right_numbers() -> None:
    """examples/backprop_tour.ipynb, run by a real kernel: every cell runs, and the inline pages carry the numbers."""
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install nbclient)")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (pip install nbclient)")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install ipykernel)")
    import html

    nb = nbformat.read(EXAMPLES / "backprop_tour.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(o.output_type != "error" for c in code for o in c.outputs)

    def pages(c) -> list[str]:  # noqa: ANN001 - a notebook cell
        return [html.unescape(o.data["text/html"]) for o in c.outputs if "text/html" in o.get("data", {})]

    def text(c) -> str:  # noqa: ANN001
        return "".join(o.get("text", "") for o in c.outputs if o.output_type == "stream")

    j = next(c for c in code if 'J.name = "J"' in c.source)
    (page,) = pages(j)
    assert "<iframe" in page and "<script src" not in page
    for line in ("∂J/∂a = 3", "∂J/∂b = 6", "∂J/∂c = 9", "∂J/∂b = ∂J/∂t1 · c = 3 · 2 = 6"):
        assert line in page, line
    assert "a.grad after explain(): None" in text(next(c for c in code if "a.grad after" in c.source))
    assert any("image/svg+xml" in o.get("data", {}) for c in code if c.source.strip() == "exp.svg()"
               for o in c.outputs)
    neuron = next(c for c in code if "sigmoid(" in c.source)
    assert "'w0': -0.2" in text(neuron) and "'x1': -0.59" in text(neuron)
    mlp = next(c for c in code if "binary_cross_entropy" in c.source)
    (page,) = pages(mlp)
    for f in ("dW1 (32×784) = dt1ᵀ (32×8) · X (8×784)", "db1 (32) = Σ over the 8 rows of dt1 (8×32)",
              "dW2 (10×32) = dt3ᵀ (10×8) · t2 (8×32)", "dt2 (8×32) = dt3 (8×10) · W2 (10×32)"):
        assert f in page and f in text(mlp)
    newton = next(c for c in code if "create_graph" in c.source)
    assert "dL/dx at x = 1: -4.0" in text(newton) and "1.41421356237" in text(newton)
    watch = next(c for c in code if "grad_norms(deep_net(0.01))" in c.source)
    ratio = float(re.search(r"first layer's gradient is ([\de.+-]+) of", text(watch)).group(1))
    assert ratio < 1e-6  # the badly initialised net's gradient vanishes on the way back
    ids = [re.search(r'<div id="([^"]+)"', p).group(1) for c in code for p in pages(c)]
    assert len(ids) == 4 and len(set(ids)) == 4  # two pages in one notebook never share an element id
