"""Imports go one way: low-level helpers -> tensor -> autograd -> ops -> nn/optim/data -> explain/viz
-> models -> training -> cli. Read with `ast` (nothing is imported), imports inside functions included.

Importing `a.b.c` runs the package `a.b` first, so a module also depends on the packages above what it
imports, except its own (already running when it loads) and the root `matgrad`, the public facade.
The one allowed exception: Tensor's methods call up into autograd and ops from inside their bodies
(see matgrad/tensor.py).
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "matgrad"
#: Imports inside function bodies of these modules are not counted: Tensor's methods (see above), and
#: matgrad.cuda's `amp` attribute (torch.cuda.amp's deprecated aliases), which imports matgrad.amp on first use.
LAZY_ALLOWED = {"matgrad.tensor", "matgrad.cuda"}

LAYERS = [
    {"matgrad.dtypes", "matgrad.random", "matgrad.memory", "matgrad.threads", "matgrad.blas",
     "matgrad.kernels", "matgrad.backend", "matgrad.files", "matgrad.devices", "matgrad.cuda",
     "matgrad.cupy_backend", "matgrad.backends", "matgrad.compiler", "matgrad.constants", "matgrad.memory_format",
     "matgrad.version", "matgrad.accelerator"},
    {"matgrad.tensor", "matgrad.creation", "matgrad._autocast", "matgrad.dlpack", "matgrad.finfo", "matgrad.types"},
    {"matgrad.autograd"},
    {"matgrad.ops", "matgrad._methods", "matgrad.linalg", "matgrad.special", "matgrad.promotion",
     "matgrad.creation_more", "matgrad.signal", "matgrad.return_types"},
    {"matgrad.nn", "matgrad.optim", "matgrad.data", "matgrad.utils", "matgrad.serialization", "matgrad.onnx",
     "matgrad.distributed", "matgrad._pt_reader", "matgrad._safetensors_io", "matgrad.distributions",
     "matgrad.amp", "matgrad.testing", "matgrad.func", "matgrad.jit", "matgrad.multiprocessing", "matgrad.profiler",
     "matgrad.cpu"},
    {"matgrad.explain", "matgrad.viz"},
    {"matgrad.models"},
    {"matgrad.training"},
    {"matgrad.cli"},
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, lazy_ok: bool) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    walk(sub, in_function)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                if not (in_function and lazy_ok):
                    found.append(child)
                continue
            walk(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    walk(tree, False)
    return found


def _with_packages(name: str) -> set[str]:
    """`name` and every package above it that importing it runs (the root excepted)."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(2, len(parts) + 1)} & MODULES.keys()


def dependencies(name: str) -> set[str]:
    path = MODULES[name]
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in _imports(ast.parse(path.read_text()), name in LAZY_ALLOWED):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            base = name if is_pkg else name.rpartition(".")[0]
            for _ in range(max(node.level - 1, 0)):
                base = base.rpartition(".")[0]
            if node.level:
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for t in targets:
            if t.split(".")[0] == "matgrad":
                out |= _with_packages(t)
    return out - _with_packages(name)


GRAPH = {name: dependencies(name) for name in MODULES}


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in GRAPH:
        if start in index:
            continue
        work = [(start, iter(sorted(GRAPH[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(GRAPH[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        comp.append(m)
                        if m == node:
                            break
                    if len(comp) > 1:
                        found.append(sorted(comp))
    return found


def layer_of(name: str) -> int | None:
    for i, layer in enumerate(LAYERS):
        if any(name == top or name.startswith(top + ".") for top in layer):
            return i
    return None


def test_no_import_cycles():
    assert cycles() == [], "import circles (each line one circle):\n" + "\n".join(map(", ".join, cycles()))


def test_imports_go_down_the_layers():
    upward = []
    for name, deps in GRAPH.items():
        mine = layer_of(name)
        for dep in deps:
            theirs = layer_of(dep)
            if mine is not None and theirs is not None and theirs > mine:
                upward.append(f"{name} -> {dep}")
    assert upward == [], "imports that go up a layer:\n" + "\n".join(sorted(upward))


def test_no_module_assigns_into_another():
    """`other_module.name = value` at module level hides a dependency (it was how Tensor reached autograd)."""
    offenders = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        imported = {a.asname or a.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                    for a in n.names}
        for node in tree.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                            and target.value.id in imported):
                        offenders.append(f"{name}: {target.value.id}.{target.attr} = ...")
    assert offenders == []


@pytest.mark.parametrize("source, expected", [
    ("a.py: from . import b\nb.py: from . import a", [["pkg.a", "pkg.b"]]),
    ("a.py: from . import b\nb.py: import os", []),
])
def test_the_cycle_finder_finds_cycles(monkeypatch, source, expected):
    """The checker itself: a planted circle is found, a chain is not."""
    graph = {}
    for line in source.splitlines():
        mod, _, stmt = line.partition(": ")
        tree = ast.parse(stmt)
        deps = set()
        for node in _imports(tree, False):
            if isinstance(node, ast.ImportFrom) and node.level:
                deps |= {f"pkg.{a.name}" for a in node.names}
        graph[f"pkg.{mod[:-3]}"] = deps
    monkeypatch.setattr(sys.modules[__name__], "GRAPH", graph)
    assert cycles() == expected
