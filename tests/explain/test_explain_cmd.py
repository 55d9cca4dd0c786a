"""`matgrad explain EXPR name=value ...`: tables, the finite-difference check, --json, --svg, --html."""
from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from matgrad.cli import explain_cmd


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="matgrad")
    explain_cmd.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["explain", *argv])
    assert args.func is explain_cmd.run
    return explain_cmd.run(args)


def test_j_example(capsys: pytest.CaptureFixture) -> None:
    assert _run(["3*(a+b*c)", "a=5", "b=3", "c=2"]) == 0
    out = capsys.readouterr().out
    assert "Result: J = 33" in out
    for var, g in (("a", "3"), ("b", "6"), ("c", "9")):
        line = next(s for s in out.splitlines() if s.strip().startswith(f"dJ/d{var} "))
        assert line.split("=")[1].split()[0] == g
        assert "finite difference" in line and "agrees" in line
    assert "Forward pass" in out and "Reverse pass" in out
    assert out.index("Forward pass") < out.index("Reverse pass") < out.index("Result")


def test_json(capsys: pytest.CaptureFixture) -> None:
    assert _run(["f = (x+y)*z", "x=-2", "y=5", "z=-4", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["value"] == -12
    assert d["grads"] == {"x": -4, "y": -4, "z": 3}
    assert d["output"] == "f"
    assert [s["op"] for s in d["steps"]] == ["Mul", "Add"]
    assert all(abs(d["finite_difference"][k] - d["grads"][k]) < 1e-6 for k in "xyz")


def test_sigmoid_neuron_json(capsys: pytest.CaptureFixture) -> None:
    expr = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
    assert _run([expr, "w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3", "--json"]) == 0
    g = {k: round(v, 2) for k, v in json.loads(capsys.readouterr().out)["grads"].items()}
    assert g == {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}


def test_svg_and_html(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    svg, html = tmp_path / "g.svg", tmp_path / "g.html"
    assert _run(["3*(a+b*c)", "a=5", "b=3", "c=2", "--svg", str(svg), "--html", str(html)]) == 0
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert "<button id=\"next\"" in html.read_text(encoding="utf-8")
    assert "wrote" in capsys.readouterr().err


@pytest.mark.parametrize("argv,msg", [
    (["__import__('os').system('touch pwned')"], "not allowed"),
    (["a.__class__", "a=1"], "attribute access"),
    (["a*b", "a=1"], "no value given for variable 'b'"),
    (["a*2", "a=1", "q=3"], "q not in the expression"),
    (["3*4"], "no variables"),
    (["a*2", "a"], "NAME=VALUE"),
])
def test_bad_input_exits_2_with_a_message(argv: list[str], msg: str, capsys: pytest.CaptureFixture,
                                          monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert _run(argv) == 2
    assert msg in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_refused_expression_never_builds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    calls = []
    monkeypatch.setattr(explain_cmd, "build", lambda *a, **k: calls.append(a))
    for bad in ("open('x')", "[x for x in y]", "'a'*10**9", "lambda: 0", "a+" * 300 + "a"):
        assert _run([bad, "a=1"]) == 2
    assert calls == []
    err = capsys.readouterr().err
    assert err.count("^") >= 4


def test_registered_in_matgrad_main(capsys: pytest.CaptureFixture) -> None:
    main = pytest.importorskip("matgrad.cli.main")
    assert main.main(["explain", "x*x + 1", "x=3", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["value"] == 10 and d["grads"] == {"x": 6}


def test_unwritable_picture_path_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert _run(["a*2", "a=1", "--svg", str(tmp_path / "no" / "g.svg")]) == 2
    err = capsys.readouterr().err
    assert "could not write" in err and "does not exist" in err
