"""How the explainer is put together: no circle among its modules (type-only imports counted too),
imports that go down the layers only, and rules keyed by the op classes themselves."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import matgrad as mg
from matgrad.autograd.op import Op
from matgrad.explain import RULES, rule_for
from matgrad.ops import arithmetic, reduction

ROOT = Path(__file__).resolve().parents[2] / "matgrad"
PACKAGES = ("explain", "viz")
#: What the explainer and the pictures may not import: the layers above them.
ABOVE = ("matgrad.models", "matgrad.training", "matgrad.cli")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it: inside functions and `if TYPE_CHECKING:` too."""
    name = _module(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            base = (f"{base}.{node.module}" if node.module else base) if node.level else node.module or ""
            out |= {base} | {f"{base}.{a.name}" for a in node.names}
    return out


GRAPH = {_module(p): _imports(p) for pkg in PACKAGES for p in sorted((ROOT / pkg).glob("*.py"))}


def _cycle() -> list[str]:
    """One circle among the explainer's and the pictures' modules, or []."""
    # a module's own package is running when it loads (`from . import table` reads no package)
    edges = {m: {d for d in deps if d in GRAPH and d != m and not m.startswith(d + ".")} for m, deps in GRAPH.items()}
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(m: str, path: list[str]) -> list[str]:
        state[m] = 1
        for d in sorted(edges[m]):
            if state.get(d) == 1:
                return path[path.index(d):] + [m, d] if d in path else [m, d]
            if d not in state and (found := visit(d, path + [m])):
                return found
        state[m] = 2
        return []

    for m in sorted(edges):
        if m not in state and (found := visit(m, [])):
            return found
    return []


def test_no_circle_among_the_explainers_modules() -> None:
    assert _cycle() == [], " -> ".join(_cycle())
    assert "matgrad.explain.model" in GRAPH and "matgrad.explain.record" in GRAPH  # the model has its own file


def test_the_explainer_imports_nothing_above_it() -> None:
    up = sorted(f"{m} -> {d}" for m, deps in GRAPH.items() for d in deps if d.startswith(ABOVE))
    assert up == []
    # nor the package root: it imports everything, the explainer included
    assert sorted(m for m, deps in GRAPH.items() if "matgrad" in deps) == []


def test_rules_are_keyed_by_op_class() -> None:
    assert RULES, "no rules"
    for op in RULES:
        assert isinstance(op, type) and issubclass(op, Op), op
        assert op.__module__.startswith("matgrad.ops."), op
    assert RULES[arithmetic.Mul].pattern.startswith("multiply swaps")


def test_rule_lookup_is_by_exact_class() -> None:
    a = mg.Tensor(np.array([1.0, 3.0]), requires_grad=True)
    assert rule_for(a.amin().grad_fn) is not rule_for(a.amax().grad_fn)  # AMin subclasses AMax
    assert "minimum" in rule_for(a.amin().grad_fn).text

    class Renamed(arithmetic.Mul):
        """y = a ∘ b, a look-alike of Mul that is not Mul."""

    node = Renamed.__new__(Renamed)
    assert rule_for(node).text == "y = a ∘ b, a look-alike of Mul that is not Mul."  # its own docstring
    std = reduction.Std.__new__(reduction.Std)  # Std subclasses Var but is not the variance
    assert rule_for(std).text != RULES[reduction.Var].text


@pytest.mark.parametrize("make,text,symbol", [
    (lambda x: x ** 2, "J = x^2 = 3^2 = 9", "xᵖ"),
    (lambda x: x * 2, "J = x · 2 = 3 · 2 = 6", "×"),
    (lambda x: mg.tanh(x), "J = tanh(x) = tanh(3) = 0.9951", "tanh"),
    (lambda x: mg.nn.functional.gelu(x), "J = GELU(x) = GELU(3) = 2.996", "gelu"),  # no entry: its name
])
def test_forward_text_and_symbol_come_from_the_rules(make, text: str, symbol: str) -> None:
    x = mg.Tensor(np.float64(3.0), requires_grad=True, name="x")
    exp = mg.explain(make(x), print_table=False, name="J")
    assert (exp.forward[-1].text, exp.forward[-1].symbol) == (text, symbol)
