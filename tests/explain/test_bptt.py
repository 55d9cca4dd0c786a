"""Backprop through time (examples/bptt.py): each time step's share of ∂L/∂w, as the explainer records
it, against a hand derivation and float64 finite differences; and softmax's routing on the page."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import matgrad as mg
import matgrad.nn.functional as F
from matgrad import viz
from matgrad.explain import explain

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bptt.py"


@pytest.fixture(scope="module")
def bptt():
    spec = importlib.util.spec_from_file_location("bptt_example", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bptt_example"] = mod
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop("bptt_example", None)


def loss_untied(ws, u, h0, xs, target):
    """L with a separate recurrent weight at each time step: ∂L/∂w_t is time step t's share."""
    h = h0
    for w, x in zip(ws, xs):
        h = np.tanh(w * h + u * x)
    return 0.5 * (h - target) ** 2


def by_hand(w, u, h0, xs, target):
    """BPTT written out: δ_t = ∂L/∂a_t; share_t = δ_t·h_{t−1}; δ_{t−1} = δ_t·w·(1 − h_{t−1}²)."""
    hs = [h0]
    for x in xs:
        hs.append(np.tanh(w * hs[-1] + u * x))
    T = len(xs)
    d_h = {T: hs[T] - target}
    shares = {}
    for t in range(T, 0, -1):
        delta = d_h[t] * (1 - hs[t] ** 2)
        shares[t] = delta * hs[t - 1]
        d_h[t - 1] = delta * w
    return shares, d_h


@pytest.mark.parametrize("w", [0.5, 1.0, 1.5, 3.0])
def test_each_time_steps_share_is_the_hand_derivation_and_a_finite_difference(bptt, w):
    loss, leaves = bptt.unroll(w)
    exp = explain(loss, print_table=False, accumulate=True)  # also fills .grad
    got = bptt.shares_of(exp, leaves)
    shares, d_h = by_hand(w, bptt.U, bptt.H0, bptt.XS, bptt.TARGET)
    assert sorted(got.shares) == [1, 2, 3]
    for t in (1, 2, 3):
        assert got.shares[t] == pytest.approx(shares[t], rel=1e-12, abs=1e-15)
    for t in (0, 1, 2, 3):
        assert got.d_h[t] == pytest.approx(d_h[t], rel=1e-12, abs=1e-15)
    # the shares sum to the gradient, which is w.grad
    assert sum(got.shares.values()) == pytest.approx(got.grad_w, rel=1e-12)
    assert float(leaves["w"].grad) == got.grad_w
    # float64 central differences: of each use of w alone (the share), and of the tied w (the total)
    eps = 1e-6
    args = (bptt.U, bptt.H0, bptt.XS, bptt.TARGET)
    for t in (1, 2, 3):
        up, down = [w] * 3, [w] * 3
        up[t - 1] += eps
        down[t - 1] -= eps
        fd = (loss_untied(up, *args) - loss_untied(down, *args)) / (2 * eps)
        assert got.shares[t] == pytest.approx(fd, rel=1e-6, abs=1e-10)
    fd = (loss_untied([w + eps] * 3, *args) - loss_untied([w - eps] * 3, *args)) / (2 * eps)
    assert got.grad_w == pytest.approx(fd, rel=1e-6, abs=1e-10)


def test_the_gradient_vanishes_then_explodes_then_saturates(bptt):
    ratio = {}
    for w in bptt.WS:
        loss, leaves = bptt.unroll(w)
        s = bptt.shares_of(explain(loss, print_table=False), leaves)
        ratio[w] = abs(s.d_h[0]) / abs(s.d_h[3])
    assert ratio[0.5] < 0.2 and ratio[1.5] > 2 and ratio[3.0] < 1


def test_uses_lists_each_use_of_a_reused_leaf_with_its_step():
    w = mg.Tensor(np.float64(2.0), requires_grad=True, name="w")
    x = mg.Tensor(np.float64(3.0), requires_grad=True, name="x")
    y = w * x + w * w
    exp = explain(y, print_table=False)
    uses = exp.uses(w)
    assert sorted(float(g) for _, g in uses) == [2.0, 2.0, 3.0]  # from w·x: x; from w·w: w twice
    assert sum(float(g) for _, g in uses) == float(exp.grad_of(w)) == 7.0
    assert exp.uses("x")[0][0].op == "Mul"


def test_the_example_prints_the_shares_and_the_table(bptt, capsys):
    rows = bptt.main(["--no-table"])
    out = capsys.readouterr().out
    assert len(rows) == 4
    shares = [float(v) for v in re.findall(r"t = \d: ∂L/∂a\d · h\d = ([-+\d.]+)", out)]
    total = float(re.search(r"= ([-+\d.]+)  \(a copy sums\)", out).group(1))
    assert len(shares) == 3 and sum(shares) == pytest.approx(total, abs=2e-6)
    assert re.search(r"^\s+1\.5\s", out, re.M) and re.search(r"^\s+3\.0\s", out, re.M)


# --- attention: the softmax routes the gradient to each key ---------------------------------------------

def attention():
    q = mg.tensor(np.array([[[1.0, 0.5]]]), requires_grad=True)
    k = mg.tensor(np.array([[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5]]]), requires_grad=True)
    v = mg.tensor(np.array([[[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]]]), requires_grad=True)
    q.name, k.name, v.name = "q", "K", "V"
    out = F.scaled_dot_product_attention(q, k, v)
    loss = out.sum()
    loss.name = "loss"
    return loss, q, k, v


def expected_routing(q, k, v):
    s = (q.array @ np.swapaxes(k.array, -1, -2)) / np.sqrt(2)
    p = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
    dp = np.ones((1, 1, 2)) @ np.swapaxes(v.array, -1, -2)  # d loss / d p = 1ᵀ·Vᵀ
    mean = float((p * dp).sum())
    return p.ravel(), dp.ravel(), mean, (p * (dp - mean)).ravel()


def test_the_softmax_step_names_the_routing_to_each_key():
    loss, q, k, v = attention()
    exp = explain(loss, print_table=False, accumulate=True)  # also fills .grad
    (step,) = [s for s in exp.steps if s.op == "Softmax"]
    p, dp, mean, dx = expected_routing(q, k, v)
    text = "\n".join(step.detail)
    assert f"Σ {step.output}·d{step.output} = {mean:.4g}" in text
    for i in range(3):
        assert f"= {p[i]:.4g} · ({dp[i]:.4g} − {mean:.4g}) = {dx[i]:.4g}" in text
    assert "weighted mean" in step.pattern
    table = exp.table()
    assert all(f"{x:.4g}" in table for x in dx)
    assert step.to_dict()["detail"] == step.detail


def test_the_step_through_page_shows_the_per_key_numbers(tmp_path):
    loss, q, k, v = attention()
    path = viz.html(loss, tmp_path / "attn.html")
    page = path.read_text(encoding="utf-8")
    data = page.split('id="steps-data">', 1)[1].split("</script>", 1)[0]
    p, dp, mean, dx = expected_routing(q, k, v)
    for i in range(3):
        assert f"{p[i]:.4g} · ({dp[i]:.4g} − {mean:.4g}) = {dx[i]:.4g}" in data
    assert "softmax routes" in data


def test_the_readme_shows_the_examples_own_output(bptt, capsys):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ python examples/bptt.py --no-table\n", 1)[1].split("```", 1)[0]
    bptt.main(["--no-table"])
    out = capsys.readouterr().out.splitlines()
    lines = [ln for ln in block.splitlines() if ln.strip()]
    assert 5 <= len(lines) <= 12
    for line in lines:
        assert line in out, f"README line not in the example's output: {line!r}"
