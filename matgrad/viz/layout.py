"""Where each box goes: Graphviz's `dot` when installed, else a built-in layered layout.

The built-in one is the classic Sugiyama recipe, left to right as in the course figures:
longest-path layering (inputs sit just before their first use), then a few sweeps of
barycentre ordering to untangle the edges, then even spacing.
"""
from __future__ import annotations

import shutil
import subprocess

from .graph import Graph

ROW_GAP = 34.0
MARGIN = 24.0


def layout(g: Graph, col_gap: float, use_dot: bool = True) -> tuple[float, float]:
    """Set every node's centre (x, y); returns the drawing's width and height."""
    if use_dot and shutil.which("dot"):
        try:
            return _dot(g, col_gap)
        except (OSError, ValueError, subprocess.SubprocessError):
            pass  # a broken Graphviz must not stop the picture
    return _layered(g, col_gap)


def _dot(g: Graph, col_gap: float) -> tuple[float, float]:
    """Positions from `dot -Tplain` (inches, y up), scaled to points and flipped."""
    ids = {n.id: f"n{i}" for i, n in enumerate(g.nodes)}
    lines = ["digraph G {", f"rankdir=LR; nodesep={ROW_GAP / 72:.3f}; ranksep={col_gap / 72:.3f};",
             "node [shape=box, fixedsize=true, label=\"\"];"]
    for n in g.nodes:
        lines.append(f"{ids[n.id]} [width={n.width / 72:.3f}, height={n.height / 72:.3f}];")
    for e in g.edges:
        lines.append(f"{ids[e.src]} -> {ids[e.dst]};")
    lines.append("}")
    res = subprocess.run(["dot", "-Tplain"], input="\n".join(lines), capture_output=True, text=True,
                         timeout=20, check=True)
    back = {v: k for k, v in ids.items()}
    height = None
    pos: dict[str, tuple[float, float]] = {}
    for line in res.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == "graph":
            height = float(parts[3]) * 72
        elif parts and parts[0] == "node" and parts[1] in back:
            pos[back[parts[1]]] = (float(parts[2]) * 72, float(parts[3]) * 72)
    if height is None or len(pos) != len(g.nodes):
        raise ValueError("dot -Tplain: unexpected output")
    for n in g.nodes:
        x, y = pos[n.id]
        n.x, n.y = x + MARGIN, height - y + MARGIN
    width = max(n.x + n.width / 2 for n in g.nodes) + MARGIN
    return width, height + 2 * MARGIN


def _layered(g: Graph, col_gap: float) -> tuple[float, float]:
    order = [n.id for n in g.nodes]
    preds: dict[str, list[str]] = {i: [] for i in order}
    succs: dict[str, list[str]] = {i: [] for i in order}
    for e in g.edges:
        preds[e.dst].append(e.src)
        succs[e.src].append(e.dst)
    # longest path from the sources, visiting in a topological order (Kahn)
    indeg = {i: len(preds[i]) for i in order}
    queue = [i for i in order if indeg[i] == 0]
    topo = []
    while queue:
        i = queue.pop(0)
        topo.append(i)
        for s in succs[i]:
            indeg[s] -= 1
            if indeg[s] == 0:
                queue.append(s)
    topo += [i for i in order if i not in set(topo)]  # (a cycle cannot happen; be safe anyway)
    layer: dict[str, int] = {}
    for i in topo:
        layer[i] = max((layer[p] + 1 for p in preds[i] if p in layer), default=0)
    for i in topo:  # a source sits right before its first consumer, not far off to the left
        if not preds[i] and succs[i]:
            layer[i] = max(0, min(layer[s] for s in succs[i]) - 1)
    n_layers = max(layer.values(), default=0) + 1
    layers: list[list[str]] = [[] for _ in range(n_layers)]
    for i in order:
        layers[layer[i]].append(i)
    for sweep in range(6):  # barycentre ordering, alternating directions
        rng = range(1, n_layers) if sweep % 2 == 0 else range(n_layers - 2, -1, -1)
        for li in rng:
            ref = layers[li - 1] if sweep % 2 == 0 else layers[li + 1]
            where = {nid: k for k, nid in enumerate(ref)}
            nbrs = preds if sweep % 2 == 0 else succs
            keyed = []
            for k, nid in enumerate(layers[li]):
                ps = [where[p] for p in nbrs[nid] if p in where]
                keyed.append((sum(ps) / len(ps) if ps else float(k), nid))
            layers[li] = [nid for _, nid in sorted(keyed, key=lambda t: t[0])]
    nodes = {n.id: n for n in g.nodes}
    col_w = [max(nodes[i].width for i in ly) if ly else 0 for ly in layers]
    heights = [sum(nodes[i].height for i in ly) + ROW_GAP * (len(ly) - 1) for ly in layers]
    total_h = max(heights, default=0)
    x = MARGIN
    for li, ly in enumerate(layers):
        y = MARGIN + (total_h - heights[li]) / 2
        for i in ly:
            n = nodes[i]
            n.x, n.y = x + col_w[li] / 2, y + n.height / 2
            y += n.height + ROW_GAP
        x += col_w[li] + col_gap
    return x - col_gap + MARGIN, total_h + 2 * MARGIN
