"""The explanation as text tables: the forward pass, then the reverse pass step by step.

`model.Explanation.table()` calls these; they read the explanation through `Record`, the
fields they use, so this module needs nothing from model.py (imports go one way).
"""
from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from .values import NOT_DEFINED, Value, finite, plural


class Record(Protocol):
    """What the tables read of an explanation (model.Explanation)."""

    output: str
    value: Value
    forward: list[Any]  # model.ForwardStep
    steps: list[Any]  # model.Step
    grads: dict[str, np.ndarray]
    leaves: dict[str, Value]

#: Columns wider than this wrap onto continuation rows.
WIDTH = 60


def _grid(header: list[str], rows: list[list[str]]) -> str:
    """A plain-text table; a cell with newlines spans several lines of its row."""
    split = [[c.split("\n") for c in row] for row in rows]
    widths = [len(h) for h in header]
    for row in split:
        for j, lines in enumerate(row):
            widths[j] = max(widths[j], *(len(s) for s in lines))
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()
    out = [line, "  ".join("─" * w for w in widths)]
    for row in split:
        height = max(len(c) for c in row)
        for k in range(height):
            cells = [(c[k] if k < len(c) else "").ljust(w) for c, w in zip(row, widths)]
            out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def _wrap(text: str, width: int = WIDTH) -> str:
    words, lines, cur = text.split(" "), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = "  " + w
        else:
            cur = f"{cur} {w}" if cur else w
    lines.append(cur)
    return "\n".join(lines)


def forward_table(exp: Record) -> str:
    """Forward pass: each node in the order computed, with its value (green in the pictures)."""
    rows = [[str(f.index), f.op, _wrap(f.text, 70) + (f"\n{_wrap(f.note, 70)}" if f.note else "")]
            for f in exp.forward]
    leaves = ", ".join(f"{k} = {v}" for k, v in exp.leaves.items())
    head = f"Forward pass ({plural(len(exp.forward), 'node')})" + (f"; inputs {leaves}" if leaves else "")
    return head + "\n" + _grid(["#", "op", "value"], rows)


def backward_table(exp: Record, totals: bool = True) -> str:
    """Reverse pass: upstream gradient × local derivative = gradient sent, node by node."""
    d = f"∂{exp.output}/∂"
    rows = []
    for s in exp.steps:
        up = str(Value.of(s.upstream))
        if len(s.upstream_from) > 1:
            up += "\n(sum of steps " + ", ".join(str(k) for k in s.upstream_from) + ")"
        sent = [o.formula for o in s.inputs if o.formula] or ["(no input needs a gradient)"]
        sent += s.detail
        sent += s.sums
        rows.append([
            str(s.index), s.op, s.output, _wrap(up, 44), _wrap(s.rule, 50) + "\n↳ " + _wrap(s.pattern, 48),
            "\n".join(_wrap(t, 72) for t in sent),
        ])
    grads = "\n".join(f"  {d}{k} = {Value.of(v)}" + ("" if finite(v) else f"  {NOT_DEFINED}")
                      for k, v in exp.grads.items())
    head = f"Reverse pass ({plural(len(exp.steps), 'step')}, from {exp.output} = {exp.value} back to the inputs)"
    body = head + "\n" + _grid(["#", "op", "node", f"upstream {d}node", "local derivative rule",
                                "gradient sent = upstream × local"], rows)
    return body + "\nGradients of the inputs:\n" + grads if totals else body
