"""The picture's graph: a box per tensor, a circle per op, edges carrying value and gradient.

Built from an Explanation, so the picture shows exactly the numbers of the printed table:
on each edge the forward value (green) and the gradient flowing back along it (red).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..explain.model import Explanation
from ..explain.values import Value, num, shape_str


@dataclass
class Node:
    id: str  # 't:<name>' for tensors, 'op:<k>' for ops
    kind: str  # 'input', 'constant', 'result', 'output' or 'op'
    label: str  # tensor name or op symbol
    sub: str  # shape (tensors) or op name (ops)
    width: float
    height: float
    x: float = 0.0  # centre, filled in by the layout
    y: float = 0.0
    fwd: int = 0  # forward step at which it has a value (0: from the start)
    bwd: int | None = None  # backward step that visits it (ops) or gives its full gradient (tensors)


@dataclass
class Edge:
    src: str
    dst: str
    value: str  # forward value, green
    grad: str  # gradient flowing back, red ('' when none)
    fwd: int = 0
    bwd: int | None = None


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def node(self, nid: str) -> Node:
        return next(n for n in self.nodes if n.id == nid)


def short(v: Any) -> str:
    """A label small enough for an edge: the number(s), or the mean of a big tensor."""
    if not isinstance(v, Value):
        v = Value.of(v)
    if v.values is not None and int(np.prod(v.shape, dtype=np.int64)) <= 3:
        flat = np.asarray(v.values, dtype=np.float64).ravel()
        return num(flat[0]) if v.is_scalar else "[" + ", ".join(num(x) for x in flat) + "]"
    return f"μ {num(v.mean)}"


def _text_width(s: str, size: float = 13) -> float:
    return 0.62 * size * len(s)


def from_explanation(exp: Explanation) -> Graph:
    """The graph of an explained pass, with every edge's value and gradient."""
    g = Graph()
    by_output = {s.output: s for s in exp.steps}
    produced = {f.output: f.index for f in exp.forward}
    contribs: dict[str, list[int]] = {exp.output: [0]}  # steps that send each tensor a gradient
    for s in exp.steps:
        for o in s.inputs:
            if o.grad is not None:
                contribs.setdefault(o.name, []).append(s.index)
    for name, value in exp.tensors.items():
        kind = exp.kinds.get(name, "result")
        sub = shape_str(value.shape)
        w = max(56.0, _text_width(name, 14) + 20, _text_width(sub, 11) + 16)
        done = max(contribs[name]) if name in contribs else None  # its gradient is complete here
        g.nodes.append(Node(f"t:{name}", kind, name, sub, w, 42.0, fwd=produced.get(name, 0), bwd=done))
    for f in exp.forward:
        oid = f"op:{f.index}"
        sym = f.symbol or f.op.lower()[:7]
        step = by_output.get(f.output)
        w = max(40.0, _text_width(sym, 14) + 18)
        g.nodes.append(Node(oid, "op", sym, f.op, w, 40.0, fwd=f.index, bwd=step.index if step else None))
        for pos, name in enumerate(f.inputs):
            grad = ""
            if step is not None and pos < len(step.inputs) and step.inputs[pos].grad is not None:
                grad = short(step.inputs[pos].grad)
            g.edges.append(Edge(f"t:{name}", oid, short(exp.tensors[name]), grad, fwd=f.index,
                                bwd=step.index if step and grad else None))
        up = short(step.upstream) if step is not None else ""
        first = max(step.upstream_from) if step is not None and step.upstream_from else None
        g.edges.append(Edge(oid, f"t:{f.output}", short(exp.tensors[f.output]), up, fwd=f.index,
                            bwd=first if up else None))
    return g
