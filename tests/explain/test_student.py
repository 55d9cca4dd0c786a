"""The explainer as a student meets it (issue 18, part 6): each defect they ran into, pinned."""
from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import matgrad as mg
from matgrad import viz
from matgrad.explain import RULES, explain
from matgrad.viz.html import steps_of

SVG = "{http://www.w3.org/2000/svg}"


def _neuron() -> tuple[mg.Tensor, dict[str, mg.Tensor]]:
    w, x, b = (mg.Tensor(v, requires_grad=True, name=n) for n, v in (("w", 0.5), ("x", 3.0), ("b", 1.0)))
    return mg.tanh(w * x + b), {"w": w, "x": x, "b": b}


def _fxy() -> tuple[mg.Tensor, mg.Tensor, mg.Tensor]:
    x = mg.Tensor(3.0, requires_grad=True, name="x")
    y = mg.Tensor(2.0, requires_grad=True, name="y")
    f = x * x + x * y
    f.name = "f"
    return f, x, y


# --- placeholders ----------------------------------------------------------------------------------------

def _placeholders(rule: str) -> set[str]:
    """The one-letter names a rule uses for its operands (d(tanh x)/dx -> {'x'})."""
    return set(re.findall(r"(?<![A-Za-z])d([a-z])(?![A-Za-z])", rule))


def test_rules_name_operands_u_and_v_never_the_users_letters() -> None:
    for op, rule in RULES.items():
        assert _placeholders(rule.text) <= {"u", "v", "g", "s"}, (op.__name__, rule.text)
    y, _ = _neuron()
    exp = explain(y, print_table=False)
    text = exp.table()
    for clash in ("d(tanh x)/dx", "d(a+b)/db", "/dx", "/db", "/da"):
        assert clash not in text
    assert "d(tanh u)/du" in text and "d(u+v)/dv" in text


def test_a_user_named_u_gets_the_nodes_own_names() -> None:
    b, c = mg.Tensor(3.0, requires_grad=True, name="b"), mg.Tensor(2.0, requires_grad=True, name="c")
    u = b * c
    u.name = "u"
    exp = explain(3 * u, print_table=False)
    rules = [s.rule for s in exp.steps]
    assert "d(b·c)/db = c, d(b·c)/dc = b" in rules  # not d(u·v)/du, which would read as the user's u


# --- a reused variable -----------------------------------------------------------------------------------

def test_parallel_edges_are_drawn_apart_with_labels_apart() -> None:
    f, _, _ = _fxy()
    root = ET.fromstring(viz.svg(f, use_dot=False))
    paths = [p.get("d") for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]
    assert len(paths) == len(set(paths)), "two edges coincide"
    spots = [(float(t.get("x")), float(t.get("y"))) for t in root.iter(f"{SVG}text")
             if t.get("class") in ("val", "grad") and t.get("x") is not None]
    for i, (x1, y1) in enumerate(spots):
        for x2, y2 in spots[i + 1:]:
            assert abs(x1 - x2) > 30 or abs(y1 - y2) >= 10, "labels stack on each other"


def test_the_summed_gradient_is_in_the_picture_and_the_table() -> None:
    f, x, _ = _fxy()
    svg = viz.svg(f)
    assert "a copy sums: ∂f/∂x = " in svg and re.search(r"∂f/∂x = [0-9 +]+ = 8<", svg)
    exp = explain(f, print_table=False)
    assert "∂f/∂x = 8" in exp.table() and "a copy sums" in exp.table()
    np.testing.assert_allclose(exp.grad_of(x), 8.0)


# --- the page's numbering --------------------------------------------------------------------------------

def test_page_numbers_forward_and_backward_steps_as_the_counter_does(tmp_path) -> None:  # noqa: ANN001
    f, _, _ = _fxy()
    exp = explain(f, print_table=False)
    steps = steps_of(exp, viz.graph(exp))
    for k, s in enumerate(steps, 1):
        assert s["title"].startswith(f"Step {k}:"), s["title"]
    text = " ".join(line for s in steps for _, line in s["lines"])
    sums = re.search(r"a copy sums the gradients from steps ([\d, ]+)", text).group(1)
    last = next(k for k, s in enumerate(steps, 1) if any("a copy sums" in line for _, line in s["lines"]))
    # the steps named are backward steps on the page, the last of them this one
    assert max(int(n) for n in sums.split(", ")) == last and min(int(n) for n in sums.split(", ")) > 4
    page = viz.html(f, tmp_path / "p.html").read_text(encoding="utf-8")
    assert "#step-" in page and "location.hash" in page


# --- explaining from Python ------------------------------------------------------------------------------

def test_explain_after_backward_with_a_kept_graph_and_no_side_effect_on_grad() -> None:
    f, x, y = _fxy()
    f.backward(retain_graph=True)
    exp = f.explain(print_table=False)
    assert float(x.grad.item()) == 8.0 and float(y.grad.item()) == 3.0  # not doubled
    np.testing.assert_allclose(exp.grad_of(x), 8.0)


def test_explain_before_backward_leaves_grad_alone_and_backward_still_works() -> None:
    f, x, _ = _fxy()
    f.explain(print_table=False)
    assert x.grad is None
    f.backward()
    assert float(x.grad.item()) == 8.0


def test_explain_after_a_freeing_backward_replays_with_no_side_effect_on_grad() -> None:
    f, x, _ = _fxy()
    f.backward()
    exp = f.explain(print_table=False)  # the freed graph is rebuilt (tests/explain/test_explain_after_backward.py)
    np.testing.assert_allclose(exp.grad_of(x), 8.0)
    assert float(x.grad.item()) == 8.0


def test_tensor_takes_a_name_and_the_record_uses_it() -> None:
    a, b, c = (mg.tensor(v, requires_grad=True, name=n) for n, v in (("a", 5.0), ("b", 3.0), ("c", 2.0)))
    exp = explain(3 * (a + b * c), print_table=False)
    assert list(exp.grads) == ["a", "b", "c"]
    assert [float(exp.grads[k]) for k in "abc"] == [3.0, 6.0, 9.0]


def test_repr_is_the_table_not_a_dataclass_dump() -> None:
    f, _, _ = _fxy()
    exp = explain(f, print_table=False)
    assert repr(exp) == str(exp)
    assert "Explanation(" not in repr(exp) and "Reverse pass" in repr(exp)


# --- the command line ------------------------------------------------------------------------------------

def _cli(*args: str) -> str:
    res = subprocess.run([sys.executable, "-m", "matgrad", "explain", *args], capture_output=True, text=True,
                         timeout=60, check=True)
    return res.stdout


@pytest.mark.parametrize(("expr", "value", "used"), [("relu(a)", "0", "the one from the left"),
                                                     ("abs(a) + relu(a)", "0", "a value between them")])
def test_a_kink_is_named_with_the_one_sided_derivative_used(expr: str, value: str, used: str) -> None:
    out = _cli(expr, f"a={value}")
    assert "DIFFERS" in out
    assert "kink at a = 0" in out and used in out


def test_gradients_are_listed_once() -> None:
    out = _cli("3*(a+b*c)", "a=5", "b=3", "c=2")
    assert "Gradients of the inputs" not in out
    assert len(re.findall(r"^\s*dJ/db\s*=", out, re.M)) == 1
    assert not re.search(r"^\s*∂J/∂b = 6$", out, re.M)
