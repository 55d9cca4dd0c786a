"""The picture's graph: a box per tensor, a circle per op, edges carrying value and gradient.

Built from an Explanation, so the picture shows exactly the numbers of the printed table:
on each edge the forward value (green) and the gradient flowing back along it (red).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..explain.model import Explanation
from ..explain.values import Value, num, sample, shape_str


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
    value: str = ""  # a scalar tensor's value, shown in its box (green)
    total: str = ""  # the gradient of a tensor used several times: 'a copy sums: ∂f/∂x = 3 + 3 + 2 = 8' (red)
    heat: Any = None  # a tensor's values and gradient as small grids of colours (heatmap.Heat), or None


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


#: A heat map's largest side, in pixels, and the size of its cells.
HEAT = 64.0


def heat_cell(grid: Any) -> float:
    rows, cols = grid.shape
    return max(2.0, min(8.0, HEAT / max(rows, cols, 1)))


def heat_size(heat: Any) -> tuple[float, float]:
    """Width and height of a node's heat maps: values, then the gradient beside them."""
    if heat is None:
        return 0.0, 0.0
    grids = [h for h in heat if h is not None]
    ws = [h.shape[1] * heat_cell(h) for h in grids]
    return sum(ws) + 8 * (len(ws) - 1), max(h.shape[0] * heat_cell(h) for h in grids)


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
    d = f"∂{exp.output}/∂"
    grad_of: dict[str, Any] = {s.output: s.upstream for s in exp.steps}  # ∂out/∂(each result)
    grad_of.update(exp.grads)
    for name, value in exp.tensors.items():
        kind = exp.kinds.get(name, "result")
        sub = shape_str(value.shape)
        done = max(contribs[name]) if name in contribs else None  # its gradient is complete here
        scalar = value.is_scalar or int(np.prod(value.shape, dtype=np.int64)) == 1
        shown = short(value) if scalar and kind != "constant" else ""
        total = ""
        if len(contribs.get(name, [])) > 1 and name in exp.grads:  # used more than once: a copy sums
            parts = [short(o.grad) for s in exp.steps for o in s.inputs if o.name == name and o.grad is not None]
            total = f"a copy sums: {d}{name} = " + (" + ".join(parts) + " = " if scalar else "") \
                + short(exp.grads[name])
        heat = None
        if name in exp.samples:  # a tensor: small heat maps of its values and its gradient
            gr = grad_of.get(name)
            heat = (exp.samples[name], None if gr is None else sample(gr))
        hw, hh = heat_size(heat)
        w = max(56.0, _text_width(name, 14) + 20, _text_width(sub, 11) + 16, _text_width(total, 11) + 16,
                hw + 16)
        h = 42.0 + (14.0 if shown else 0.0) + (14.0 if total else 0.0) + (hh + 6 if heat else 0.0)
        g.nodes.append(Node(f"t:{name}", kind, name, sub, w, h, fwd=produced.get(name, 0), bwd=done,
                            value=shown, total=total, heat=heat))
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
