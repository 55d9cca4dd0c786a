"""The expression reader refuses everything but arithmetic, and runs nothing it refuses."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matgrad.explain.expr import (
    ExpressionError,
    build,
    finite_difference,
    parse,
    parse_assignments,
    split_name,
)

UNSAFE = [
    ("__import__('os')", "calling __import__"),
    ("__import__('os').system('touch pwned')", "calling __import__('os').system"),
    ("a.__class__", "attribute access"),
    ("open('x')", "calling open"),
    ("[x for x in y]", "comprehensions"),
    ("'a'*10**9", "str literal"),
    ("lambda: 1", "lambdas"),
    ("(lambda q: q)(a)", "calling"),
    ("a[0]", "subscripts"),
    ("eval('1')", "calling eval"),
    ("max(a, b, key=1)", "keyword"),
    ("max(*a)", "starred"),
    ("a if b else c", "if-else"),
    ("a < b", "comparisons"),
    ("f'{a}'", "strings"),
    ("(a := 3)", ":="),
    ("a // b", "FloorDiv"),
    ("a @ b", "MatMult"),
    ("_secret + 1", "names may not start with _"),
    ("True + a", "bool literal"),
    ("1j * a", "complex literal"),
    ("exp(a, b)", "takes 1 argument"),
]


@pytest.mark.parametrize("source,why", UNSAFE)
def test_unsafe_expressions_are_refused_with_a_caret(source: str, why: str) -> None:
    with pytest.raises(ExpressionError) as e:
        parse(source)
    msg = str(e.value)
    assert why in msg
    lines = msg.splitlines()
    assert lines[-2].strip() == source and lines[-1].strip() == "^"


def test_caret_points_at_the_offending_part() -> None:
    with pytest.raises(ExpressionError) as e:
        parse("a + b.real * 2")
    shown, caret = str(e.value).splitlines()[-2:]
    assert shown[caret.index("^"):].startswith("b.real")


def test_refused_expressions_run_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for source in ("open('x', 'w')", "__import__('os').system('touch pwned')", "__import__('os').mkdir('d')"):
        with pytest.raises(ExpressionError):
            parse(source)
    assert list(tmp_path.iterdir()) == []


def test_huge_and_deep_inputs_are_refused() -> None:
    with pytest.raises(ExpressionError, match="characters long"):
        parse("a+" * 300 + "a")
    with pytest.raises(ExpressionError, match="nested 45 deep"):
        parse("(" * 45 + "a" + ")" * 45)
    with pytest.raises(ExpressionError, match="nested"):
        parse("exp(" * 41 + "a" + ")" * 41)
    with pytest.raises(ExpressionError, match="not a valid expression"):
        parse("a +* b")
    with pytest.raises(ExpressionError, match="empty"):
        parse("   ")
    with pytest.raises(ExpressionError, match="too large"):
        parse("1" * 400 + ".0 * a")
    with pytest.raises(ExpressionError, match="too large"):
        parse("1" * 400 + " * a")


def test_build_evaluates_in_float64() -> None:
    tree = parse("3*(a+b*c) - max(a, c)/sqrt(b) + relu(-a) + sigmoid(0)*tanh(c) + abs(-a)**2 + sin(a)*cos(b)")
    v = {"a": 5.0, "b": 3.0, "c": 2.0}
    out, inputs = build(tree, v)
    a, b, c = 5.0, 3.0, 2.0
    expected = 3 * (a + b * c) - max(a, c) / np.sqrt(b) + 0.5 * np.tanh(c) + a**2 + np.sin(a) * np.cos(b)
    assert out.dtype == np.float64
    assert out.item() == pytest.approx(expected, rel=1e-14)
    assert list(inputs) == ["a", "b", "c"]
    out.backward()
    for k in inputs:
        assert float(inputs[k].grad) == pytest.approx(finite_difference(tree, v, k), rel=1e-6, abs=1e-8)


def test_missing_values_and_bad_assignments() -> None:
    with pytest.raises(ExpressionError, match="no value given for variable 'c'"):
        build(parse("a*c"), {"a": 1.0})
    with pytest.raises(ExpressionError, match="NAME=VALUE"):
        parse_assignments(["a5"])
    with pytest.raises(ExpressionError, match="must be a number"):
        parse_assignments(["a=five"])
    with pytest.raises(ExpressionError, match="finite"):
        parse_assignments(["a=nan"])
    assert parse_assignments(["a=5", "b=-3.5"]) == {"a": 5.0, "b": -3.5}
    assert split_name("f = (x+y)*z") == ("f", " (x+y)*z")
    assert split_name("a == b") == (None, "a == b")
