"""The graph as SVG: boxes for tensors, circles for ops, values in green, gradients in red."""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import numpy as np

from .graph import Graph, Node, _text_width, heat_cell, heat_size
from .layout import layout

GREEN = "#1a7f37"
RED = "#cf222e"
PARALLEL = 40.0  # how far apart parallel edges bend
FILL = {"input": "#ddf4ff", "constant": "#f6f8fa", "result": "#ffffff", "output": "#fff8c5", "op": "#eaeef2"}

STYLE = """
text { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; }
.name { font-size: 14px; font-weight: bold; fill: #24292f; }
.sub { font-size: 11px; fill: #57606a; }
.val { font-size: 12px; fill: GREEN; }
.grad { font-size: 12px; fill: RED; }
.edge { fill: none; stroke: #6e7781; stroke-width: 1.4; }
""".replace("GREEN", GREEN).replace("RED", RED)


def _cubic(t: float, *pts: tuple[float, float]) -> tuple[float, float]:
    """The point at t of the cubic Bézier curve through control points pts."""
    c = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3)
    return sum(k * p[0] for k, p in zip(c, pts)), sum(k * p[1] for k, p in zip(c, pts))


def _colour(v: float, scale: float) -> str:
    """Blue for negative, white for 0, red for positive, by |v| / scale."""
    t = 0.0 if scale == 0 or not np.isfinite(v) else max(-1.0, min(1.0, v / scale))
    far = (178, 24, 43) if t > 0 else (33, 102, 172)
    r, g, b = (round(255 + (c - 255) * abs(t)) for c in far)
    return f"#{r:02x}{g:02x}{b:02x}"


def _heat(n: Node, top: float) -> list[str]:
    """A node's heat maps side by side: its values (class val) and its gradient (class grad)."""
    w, _ = heat_size(n.heat)
    x = n.x - w / 2
    out = []
    for kind, grid in zip(("val", "grad"), n.heat):
        if grid is None:
            continue
        cell = heat_cell(grid)
        finite = grid[np.isfinite(grid)]
        scale = float(np.abs(finite).max()) if finite.size else 0.0
        what = "values" if kind == "val" else "gradient"
        rows, cols = grid.shape
        out.append(f'<g class="{kind} heat"><title>{what} of {escape(n.label)} ({escape(n.sub)}), '
                   f"{rows}×{cols} sampled; |max| {scale:.3g}</title>")
        for i in range(rows):
            for j in range(cols):
                out.append(f'<rect x="{x + j * cell:.1f}" y="{top + i * cell:.1f}" width="{cell:.1f}" '
                           f'height="{cell:.1f}" fill="{_colour(float(grid[i, j]), scale)}"/>')
        out.append("</g>")
        x += cols * cell + 8
    return out


def render(g: Graph, title: str = "", use_dot: bool = True) -> str:
    """The SVG document (a string) for a graph; element ids let the HTML page highlight them."""
    label_w = max([_text_width(s, 12) for e in g.edges for s in (e.value, e.grad)] + [60])
    width, height = layout(g, col_gap=max(90.0, label_w + 36), use_dot=use_dot)
    top = 30.0 if title else 0.0
    height += 20.0  # room for the legend
    index = {n.id: k for k, n in enumerate(g.nodes)}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height + top:.0f}" '
        f'viewBox="0 0 {width:.0f} {height + top:.0f}" role="img">',
        f"<title>{escape(title or 'computational graph')}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#6e7781"/></marker></defs>',
        f"<style>{STYLE}</style>",
        f'<rect x="0" y="0" width="{width:.0f}" height="{height + top:.0f}" fill="white"/>',
    ]
    if title:
        out.append(f'<text x="{width / 2:.1f}" y="20" text-anchor="middle" class="name">'
                   f"{escape(title)}</text>")
    out.append(f'<g transform="translate(0,{top:.0f})">')
    nodes = {n.id: n for n in g.nodes}
    placed: list[tuple[float, float, float]] = []  # edge labels so far: centre x, y and half width
    for k, e in enumerate(g.edges):
        a, b = nodes[e.src], nodes[e.dst]
        # parallel edges (x · x) are bent apart, each with its own labels
        twins = [j for j, f in enumerate(g.edges) if (f.src, f.dst) == (e.src, e.dst)]
        bend = (twins.index(k) - (len(twins) - 1) / 2) * PARALLEL
        x1, y1 = a.x + a.width / 2, a.y + bend * 0.3
        x2, y2 = b.x - b.width / 2, b.y + bend * 0.2
        mx = (x1 + x2) / 2
        path = (f"M {x1:.1f} {y1:.1f} C {mx:.1f} {y1 + bend:.1f}, {mx:.1f} {y2 + bend:.1f}, "
                f"{x2:.1f} {y2:.1f}")
        attrs = f'data-fwd="{e.fwd}" data-bwd="{"" if e.bwd is None else e.bwd}"'
        out.append(f'<g class="edgegroup" id="edge{k}" {attrs}>')
        out.append(f'<path class="edge" d="{path}" marker-end="url(#arrow)"/>')
        # labels sit along the edge, where no other edge's labels are: never stacked on each other
        lw = max(_text_width(e.value, 12), _text_width(e.grad, 12)) / 2 + 4
        for t in (0.5, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6):
            lx, ly = _cubic(t, (x1, y1), (mx, y1 + bend), (mx, y2 + bend), (x2, y2))
            if not any(abs(lx - px) < lw + pw and abs(ly - py) < 30 for px, py, pw in placed):
                break
        placed.append((lx, ly, lw))
        out.append(f'<text class="val" x="{lx:.1f}" y="{ly - 4:.1f}" text-anchor="middle">{escape(e.value)}</text>')
        if e.grad:
            out.append(f'<text class="grad" x="{lx:.1f}" y="{ly + 13:.1f}" text-anchor="middle">'
                       f"{escape(e.grad)}</text>")
        out.append("</g>")
    for n in g.nodes:
        k = index[n.id]
        name = n.label if n.kind != "op" else n.sub
        attrs = (f'id="node{k}" class="node {n.kind}" data-name={quoteattr(name)} '
                 f'data-fwd="{n.fwd}" data-bwd="{"" if n.bwd is None else n.bwd}"')
        out.append(f"<g {attrs}>")
        tip = f"{n.sub} ({n.label})" if n.kind == "op" else f"{n.label} ({n.sub}, {n.kind})"
        out.append(f"<title>{escape(tip)}</title>")
        if n.kind == "op":
            out.append(f'<ellipse class="shape" cx="{n.x:.1f}" cy="{n.y:.1f}" rx="{n.width / 2:.1f}" '
                       f'ry="{n.height / 2:.1f}" fill="{FILL["op"]}" stroke="#57606a" stroke-width="1.2"/>')
            out.append(f'<text class="name" x="{n.x:.1f}" y="{n.y + 5:.1f}" text-anchor="middle">'
                       f"{escape(n.label)}</text>")
            out.append(f'<text class="sub" x="{n.x:.1f}" y="{n.y + n.height / 2 + 12:.1f}" '
                       f'text-anchor="middle">{escape(n.sub)}</text>')
        else:
            out.append(f'<rect class="shape" x="{n.x - n.width / 2:.1f}" y="{n.y - n.height / 2:.1f}" '
                       f'width="{n.width:.1f}" height="{n.height:.1f}" rx="5" fill="{FILL[n.kind]}" '
                       'stroke="#57606a" stroke-width="1.2"/>')
            top = n.y - n.height / 2
            out.append(f'<text class="name" x="{n.x:.1f}" y="{top + 19:.1f}" text-anchor="middle">'
                       f"{escape(n.label)}</text>")
            line = top + 34
            if n.value:  # a scalar shows its value in its box
                out.append(f'<text class="val" x="{n.x:.1f}" y="{line:.1f}" text-anchor="middle">'
                           f"= {escape(n.value)}</text>")
                line += 14
            out.append(f'<text class="sub" x="{n.x:.1f}" y="{line:.1f}" text-anchor="middle">'
                       f"{escape(n.sub)}</text>")
            if n.total:  # a tensor used several times: its summed gradient
                line += 14
                out.append(f'<text class="grad total" x="{n.x:.1f}" y="{line:.1f}" text-anchor="middle">'
                           f"{escape(n.total)}</text>")
            if n.heat is not None:  # a tensor: heat maps of its values (green pass) and gradient (red)
                out.extend(_heat(n, line + 6))
        out.append("</g>")
    out.append("</g>")
    legend_y = height + top - 8
    out.append(f'<text class="val" x="8" y="{legend_y:.0f}">green: forward value</text>')
    out.append(f'<text class="grad" x="150" y="{legend_y:.0f}">red: gradient of the output</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
