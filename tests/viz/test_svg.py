"""matgrad.viz.draw: a well-formed, self-contained SVG naming every node, laid out without overlaps."""
from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import matgrad as mg
from matgrad import viz
from matgrad.explain import explain
from matgrad.viz import layout as layout_mod

NS = "{http://www.w3.org/2000/svg}"


def _mlp() -> tuple[mg.Tensor, dict[str, mg.Tensor]]:
    rng = np.random.default_rng(0)
    X = mg.Tensor(rng.standard_normal((4, 3)), requires_grad=True, name="X")
    W = mg.Tensor(rng.standard_normal((3, 2)), requires_grad=True, name="W")
    b = mg.Tensor(rng.standard_normal(2), requires_grad=True, name="b")
    h = mg.relu(X @ W + b)
    h.name = "h"
    L = (h * h).mean() + b.sum()
    L.name = "L"
    return L, {"X": X, "W": W, "b": b}


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{NS}text")]


@pytest.mark.parametrize("use_dot", [False, True])
def test_svg_parses_and_names_every_node(tmp_path: Path, use_dot: bool) -> None:
    L, leaves = _mlp()
    path = viz.draw(L, tmp_path / "g.svg", use_dot=use_dot)
    root = ET.parse(path).getroot()
    texts = _texts(root)
    exp = explain(L, print_table=False, retain_graph=True, accumulate=False)
    for name in exp.tensors:  # every tensor box, by name
        assert name in texts, name
    for f in exp.forward:  # every op circle, by op name
        assert f.op in texts, f.op
    assert "h" in texts and "4×2" in texts  # shapes on tensors
    # no external references: a self-contained picture
    raw = path.read_text(encoding="utf-8")
    assert "href=\"http" not in raw and "<image" not in raw
    # drawing did not touch .grad, and the graph is still there for backward
    assert all(t.grad is None for t in leaves.values())
    L.backward()
    assert leaves["W"].grad.shape == (3, 2)


def test_values_green_and_gradients_red(tmp_path: Path) -> None:
    x = mg.Tensor(np.float64(-2), requires_grad=True, name="x")
    y = mg.Tensor(np.float64(5), requires_grad=True, name="y")
    z = mg.Tensor(np.float64(-4), requires_grad=True, name="z")
    f = (x + y) * z
    f.name = "f"
    root = ET.parse(viz.draw(f, tmp_path / "f.svg", use_dot=False)).getroot()
    vals = ["".join(t.itertext()) for t in root.iter(f"{NS}text") if t.get("class") == "val"]
    grads = ["".join(t.itertext()) for t in root.iter(f"{NS}text") if t.get("class") == "grad"]
    assert {"-2", "5", "-4", "3", "-12"} <= set(vals)
    assert {"-4", "3", "1"} <= set(grads)  # df/dx = df/dy = -4, df/dz = 3, df/df = 1


def test_builtin_layout_has_no_overlaps_and_flows_left_to_right() -> None:
    L, _ = _mlp()
    g = viz.graph(L)
    layout_mod.layout(g, col_gap=100, use_dot=False)
    nodes = {n.id: n for n in g.nodes}
    for e in g.edges:
        assert nodes[e.src].x < nodes[e.dst].x
    for i, a in enumerate(g.nodes):
        for b in g.nodes[i + 1:]:
            apart_x = abs(a.x - b.x) >= (a.width + b.width) / 2
            apart_y = abs(a.y - b.y) >= (a.height + b.height) / 2
            assert apart_x or apart_y, (a.label, b.label)


def test_dot_positions_are_used_when_graphviz_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    L, _ = _mlp()
    g = viz.graph(L)
    n = len(g.nodes)
    plain = "graph 1 10 5\n" + "".join(
        f"node n{i} {i + 1} 2.5 1 0.5 \"\" solid box black lightgrey\n" for i in range(n)
    )
    monkeypatch.setattr(layout_mod.shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(layout_mod.subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout=plain + "stop\n", stderr=""))
    layout_mod.layout(g, col_gap=100)
    assert [round(node.x) for node in g.nodes] == [72 * (i + 1) + 24 for i in range(n)]
    assert {round(node.y) for node in g.nodes} == {round(72 * 2.5) + 24}


def test_broken_graphviz_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    L, _ = _mlp()
    g = viz.graph(L)

    def fail(*a: object, **k: object) -> None:
        raise subprocess.CalledProcessError(1, "dot")

    monkeypatch.setattr(layout_mod.shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(layout_mod.subprocess, "run", fail)
    w, h = layout_mod.layout(g, col_gap=100)
    assert w > 0 and h > 0 and len({(n.x, n.y) for n in g.nodes}) == len(g.nodes)


def test_names_are_escaped(tmp_path: Path) -> None:
    a = mg.Tensor(np.float64(1), requires_grad=True, name="<a&b>")
    out = a * 2
    root = ET.parse(viz.draw(out, tmp_path / "e.svg")).getroot()
    assert "<a&b>" in _texts(root)


def test_write_is_atomic_and_errors_are_clear(tmp_path: Path) -> None:
    L, _ = _mlp()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        viz.draw(L, tmp_path / "missing" / "g.svg")
    viz.draw(L, tmp_path / "g.svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.svg"]  # no temp file left behind
