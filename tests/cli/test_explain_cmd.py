"""`matgrad explain EXPR name=value ...`: tables, the finite-difference check, --json, --svg, --html."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import warnings
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


# --- what a newcomer hit (issue 12) ------------------------------------------------------------------

def _strict_json(text: str) -> dict:
    """JSON as the standard defines it: Infinity and NaN are not numbers there."""
    def refuse(word: str) -> None:
        raise AssertionError(f"{word} in the JSON output: not valid JSON")
    return json.loads(text, parse_constant=refuse)


def _result_lines(out: str) -> dict[str, str]:
    return {s.split("=")[0].strip(): s for s in out.splitlines() if s.strip().startswith("dJ/d")}


def test_infinite_gradient_is_not_defined_and_never_agrees(capsys: pytest.CaptureFixture) -> None:
    assert _run(["a/b", "a=1", "b=0"]) == 0
    out = capsys.readouterr().out
    lines = _result_lines(out)
    assert set(lines) == {"dJ/da", "dJ/db"}
    for line in lines.values():
        assert "not defined" in line
        assert "agrees" not in line and "DIFFERS" not in line
    assert "Result: J = inf" in out and "not defined" in out.split("Result:")[1].splitlines()[0]


@pytest.mark.parametrize("argv", [["log(x)", "x=0"], ["sqrt(x)", "x=0"], ["x**9**9", "x=10"],
                                  ["exp(x)", "x=1000"], ["x/x", "x=0"]])
def test_values_that_are_not_finite_are_never_checked_as_agreeing(
        argv: list[str], capsys: pytest.CaptureFixture) -> None:
    assert _run(argv) == 0
    out = capsys.readouterr().out
    assert "agrees" not in out
    assert all("not defined" in line for line in _result_lines(out).values())


def test_finite_gradient_next_to_an_undefined_finite_difference(capsys: pytest.CaptureFixture) -> None:
    # log(x) at 1e-7 is defined, but x − h is negative: the check cannot be made there
    assert _run(["log(x)", "x=1e-7"]) == 0
    line = _result_lines(capsys.readouterr().out)["dJ/dx"]
    assert "1e+07" in line and "agrees" not in line and "DIFFERS" not in line
    assert "finite difference not defined" in line


@pytest.mark.parametrize("argv,code", [
    (["9**9**9**9"], 2), (["x*9**9**9**9", "x=1"], 2), (["log(x)", "x=0"], 0), (["a/b", "a=1", "b=0"], 0),
    (["x**-1", "x=0"], 0), (["exp(x)*0", "x=1000"], 0),
])
def test_no_numpy_warning_reaches_the_output(argv: list[str], code: int, capsys: pytest.CaptureFixture) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning, NumPy's RuntimeWarning included, fails the run
        assert _run(argv) == code
        assert _run([*argv, "--json"]) == code
    err = capsys.readouterr().err
    assert "Warning" not in err and ".py" not in err


def test_the_command_prints_no_warning_in_a_real_process() -> None:
    res = subprocess.run([sys.executable, "-m", "matgrad", "explain", "a/b + log(b)", "a=1", "b=0"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert "Warning" not in res.stdout and "agrees" not in res.stdout


@pytest.mark.parametrize("argv,words,at", [
    (["9**9**9**9"], "9**9**9 overflows: it is too large for float64", 3),
    (["x*9**9**9**9", "x=1"], "9**9**9 overflows", 5),
    (["x*(1/0)", "x=1"], "1/0 divides by zero", 3),
    (["x+log(0)", "x=1"], "log(0) is the log of 0", 2),
])
def test_numbers_alone_that_are_not_finite_are_refused_plainly(argv: list[str], words: str, at: int,
                                                                capsys: pytest.CaptureFixture) -> None:
    assert _run(argv) == 2
    err = capsys.readouterr().err
    assert words in err and "not defined for any values" in err
    shown, caret = err.splitlines()[-2:]
    assert shown.strip() == argv[0] and caret.index("^") == shown.index(argv[0]) + at


def test_json_with_values_that_are_not_finite_is_valid_json(capsys: pytest.CaptureFixture) -> None:
    assert _run(["a/b", "a=1", "b=0", "--json"]) == 0
    d = _strict_json(capsys.readouterr().out)
    assert d["value"] is None and d["grads"] == {"a": None, "b": None}
    assert set(d["not_finite"]) >= {"J", "dJ/da", "dJ/db"}
    assert any("not finite" in n for n in d["notes"])


def test_caret_for_xor_says_to_use_double_star(capsys: pytest.CaptureFixture) -> None:
    assert _run(["x^2", "x=3"]) == 2
    err = capsys.readouterr().err
    assert "use ** for powers" in err and "x**2" in err


@pytest.mark.parametrize("argv", [
    ["a.b", "a=1"], ["a*b", "a=1"], ["a*2", "a=1", "q=3"], ["3*4"], ["a*2", "a"], ["x^2", "x=1"],
])
def test_errors_carry_the_commands_prefix(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    assert _run(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("matgrad explain: error: "), err
    assert "explain: explain:" not in err and err.count("error:") == 1


def test_unwritable_picture_path_carries_the_prefix(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert _run(["a*2", "a=1", "--svg", str(tmp_path / "no" / "g.svg")]) == 2
    assert capsys.readouterr().err.startswith("matgrad explain: error: could not write")


def test_one_node_and_one_step_are_singular(capsys: pytest.CaptureFixture) -> None:
    assert _run(["2*x", "x=1"]) == 0
    out = capsys.readouterr().out
    assert "Forward pass (1 node)" in out and "Reverse pass (1 step," in out
    assert "1 nodes" not in out and "1 steps" not in out
    assert _run(["3*(a+b*c)", "a=5", "b=3", "c=2"]) == 0
    out = capsys.readouterr().out
    assert "Forward pass (3 nodes)" in out and "Reverse pass (3 steps," in out
