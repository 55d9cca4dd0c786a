"""Signature parity with PyTorch: every parameter PyTorch's function or class takes, matgrad's counterpart
takes too, by name, and the positional ones in PyTorch's order, so ported code that passes an argument by name
or by position never meets a TypeError (or a value in the wrong slot).

Areas: torch.nn.functional, torch.nn's classes, torch.optim and its lr_scheduler, torch.utils.data,
torch.nn.init, torch.linalg and torch.distributions. A class is compared by its __init__. A name PyTorch has
and matgrad lacks altogether is not this test's business (only counterparts are compared). Functions
PyTorch implements in C++ have no Python signature; their documented one (the docstring's first
`name(...)` line) is read instead.

A matgrad `**kwargs` does not count as taking a name: write the name out, or list it in SKIP saying why.
A known gap goes in SKIP with a comment, so a new one fails here.
"""
from __future__ import annotations

import importlib
import inspect
import re
from typing import Any, Callable

import pytest

torch = pytest.importorskip("torch")

# (label, PyTorch's module, matgrad's module, the least number of counterparts compared: a floor against a
# comparison that silently compares nothing)
AREAS = [
    ("F", "torch.nn.functional", "matgrad.nn.functional", 120),
    ("nn", "torch.nn", "matgrad.nn", 150),
    ("optim", "torch.optim", "matgrad.optim", 12),
    ("lr_scheduler", "torch.optim.lr_scheduler", "matgrad.optim.lr_scheduler", 18),
    ("data", "torch.utils.data", "matgrad.utils.data", 15),
    ("init", "torch.nn.init", "matgrad.nn.init", 20),
    ("linalg", "torch.linalg", "matgrad.linalg", 30),
    ("distributions", "torch.distributions", "matgrad.distributions", 55),
]

# C++ functions whose docstring has no `name(...)` line: their parameters as its Args section lists them
# (all positional). A new unreadable one fails test_every_pytorch_parameter_name_is_taken until listed here.
HAND_READ: dict[str, list[str]] = {
    "F.conv_tbc": ["input", "weight", "bias", "pad"],
}

# matgrad's linalg functions take no out= yet (the top-level functions' ops/out.py accepts_out could give it)
_LINALG_OUT = [
    "cholesky", "cholesky_ex", "cond", "cross", "det", "eigh", "eigvalsh", "householder_product", "inv", "inv_ex",
    "lu", "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "matrix_norm", "matrix_power", "matrix_rank",
    "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd", "svdvals",
    "tensorinv", "tensorsolve", "vecdot", "vector_norm",
]
# "label.name" -> the parameter names matgrad's counterpart does not take, each group with its reason
SKIP: dict[str, set[str]] = {f"linalg.{name}": {"out"} for name in _LINALG_OUT}
# torch.linalg.norm names its first parameter `input` (linalg's others say A); matgrad's says A: a known gap
SKIP["linalg.norm"] = {"out", "input"}
# "label.name" -> why its positional parameters may differ from PyTorch's order (known gaps only)
POSITIONAL_SKIP: dict[str, str] = {
    "linalg.norm": "the first parameter is named A in matgrad, input in PyTorch (see SKIP)",
    # PyTorch's docstring shows vander(x, N=None), but its function takes N by keyword only, as matgrad's
    "linalg.vander": "N is keyword-only in both; PyTorch's docstring shows it positional",
}


def params(f: Callable[..., Any]) -> list[str]:
    """Names of explicit parameters."""
    return [p.name for p in inspect.signature(f).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def positional(f: Callable[..., Any]) -> list[str] | None:
    """The names that can be passed by position, in order; None where *args takes any number."""
    ps = inspect.signature(f).parameters.values()
    if any(p.kind == p.VAR_POSITIONAL for p in ps):
        return None
    return [p.name for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _split_top(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def documented(name: str, f: Callable[..., Any]) -> tuple[list[str], list[str]] | None:
    """(all names, positional names) from the docstring's `name(...)` signature of a C++ function; None if none."""
    doc = f.__doc__ or ""
    m = re.search(r"^\s*(?:[\w.]+\.)?" + re.escape(name) + r"\(", doc, re.M)
    if m is None:
        return None
    depth, i = 1, m.end()
    while i < len(doc) and depth:
        depth += {"(": 1, ")": -1}.get(doc[i], 0)
        i += 1
    names, pos, keyword_only = [], [], False
    for part in _split_top(doc[m.end():i - 1]):
        if part in ("*", "/") or part.startswith("*"):
            keyword_only = keyword_only or part.startswith("*")
            continue
        word = part.split("=")[0].split(":")[0].split()[-1]  # "bool pivot=True" -> pivot
        names.append(word)
        if not keyword_only:
            pos.append(word)
    return names, pos


def _signatures(label: str, name: str, theirs: Any, mine: Any) -> tuple[list[str], list[str] | None, Any] | None:
    """PyTorch's names and positional names, and matgrad's callable; None where there is nothing to compare (a
    PyTorch class without an __init__ of its own, e.g. an exception). Raises for an unreadable signature."""
    if inspect.isclass(theirs) and not inspect.isfunction(theirs.__init__):
        return None
    tf = theirs.__init__ if inspect.isclass(theirs) else theirs
    mf = mine.__init__ if inspect.isclass(mine) else mine
    try:
        return params(tf), positional(tf), mf
    except (TypeError, ValueError):
        doc = documented(name, theirs)
        if doc is None:
            if f"{label}.{name}" not in HAND_READ:
                raise LookupError(f"{label}.{name}: PyTorch's signature is unreadable; list it in HAND_READ") from None
            doc = (HAND_READ[f"{label}.{name}"], HAND_READ[f"{label}.{name}"])
        return doc[0], doc[1], mf


def _pairs(torch_mod: str, mg_mod: str) -> list[tuple[str, Any, Any]]:
    tm, mm = importlib.import_module(torch_mod), importlib.import_module(mg_mod)
    out = []
    for name in sorted(dir(tm)):
        if name.startswith("_"):
            continue
        theirs, mine = getattr(tm, name), getattr(mm, name, None)
        if mine is None or not callable(theirs) or inspect.ismodule(theirs) or not callable(mine):
            continue
        out.append((name, theirs, mine))
    return out


@pytest.mark.parametrize("label, torch_mod, mg_mod, least", AREAS, ids=[a[0] for a in AREAS])
def test_every_pytorch_parameter_name_is_taken(label, torch_mod, mg_mod, least):
    problems, compared = [], 0
    for name, theirs, mine in _pairs(torch_mod, mg_mod):
        sig = _signatures(label, name, theirs, mine)
        if sig is None:
            continue
        tnames, _, mf = sig
        mnames = set(params(mf))
        compared += 1
        skip = SKIP.get(f"{label}.{name}", set())
        missing = [p for p in tnames if p not in mnames and p != "self" and p not in skip]
        if missing:
            problems.append(f"{label}.{name}: PyTorch takes {missing}, matgrad's does not")
    assert compared >= least, f"{label}: only {compared} counterparts compared; is the comparison broken?"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("label, torch_mod, mg_mod, least", AREAS, ids=[a[0] for a in AREAS])
def test_positional_parameters_come_in_pytorchs_order(label, torch_mod, mg_mod, least):
    """PyTorch's positional parameters are the first of matgrad's, in the same order (matgrad may take more)."""
    problems = []
    for name, theirs, mine in _pairs(torch_mod, mg_mod):
        sig = _signatures(label, name, theirs, mine)
        if sig is None or sig[1] is None or f"{label}.{name}" in POSITIONAL_SKIP:
            continue
        mpos = positional(sig[2])
        tpos = [p for p in sig[1] if p != "self"]
        if mpos is None:  # *args: matgrad reads the positions itself
            continue
        mpos = [p for p in mpos if p != "self"]
        if mpos[:len(tpos)] != tpos:
            problems.append(f"{label}.{name}: PyTorch's positional order {tpos}, matgrad's {mpos}")
    assert not problems, "\n".join(problems)


def test_the_docstring_reader_reads_pytorchs_documented_signatures():
    """The reader the C++ functions rely on: nested defaults, typed names, the keyword-only star."""
    names, pos = documented("matrix_norm", torch.linalg.matrix_norm)
    assert names == ["A", "ord", "dim", "keepdim", "dtype", "out"] and pos == ["A", "ord", "dim", "keepdim"]
    names, pos = documented("lu_factor", torch.linalg.lu_factor)
    assert names == ["A", "pivot", "out"] and pos == ["A"]
    names, pos = documented("conv2d", torch.nn.functional.conv2d)
    assert names[:3] == ["input", "weight", "bias"] and pos == names


def test_a_gap_is_reported():
    """The comparison itself: a matgrad function without one of PyTorch's names is caught, **kwargs or not."""
    def theirs(input, weight=None, *, reduction="mean"):
        pass

    def mine(input, **kwargs):
        pass

    tnames, tpos, mf = _signatures("F", "x", theirs, mine)
    assert [p for p in tnames if p not in set(params(mf))] == ["weight", "reduction"]
    assert positional(mf)[:len(tpos)] != tpos
