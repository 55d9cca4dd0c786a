"""The graph as SVG: boxes for tensors, circles for ops, values in green, gradients in red."""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from .graph import Graph, _text_width
from .layout import layout

GREEN = "#1a7f37"
RED = "#cf222e"
FILL = {"input": "#ddf4ff", "constant": "#f6f8fa", "result": "#ffffff", "output": "#fff8c5", "op": "#eaeef2"}

STYLE = """
text { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; }
.name { font-size: 14px; font-weight: bold; fill: #24292f; }
.sub { font-size: 11px; fill: #57606a; }
.val { font-size: 12px; fill: GREEN; }
.grad { font-size: 12px; fill: RED; }
.edge { fill: none; stroke: #6e7781; stroke-width: 1.4; }
""".replace("GREEN", GREEN).replace("RED", RED)


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
    for k, e in enumerate(g.edges):
        a, b = nodes[e.src], nodes[e.dst]
        x1, y1 = a.x + a.width / 2, a.y
        x2, y2 = b.x - b.width / 2, b.y
        mx = (x1 + x2) / 2
        path = f"M {x1:.1f} {y1:.1f} C {mx:.1f} {y1:.1f}, {mx:.1f} {y2:.1f}, {x2:.1f} {y2:.1f}"
        attrs = f'data-fwd="{e.fwd}" data-bwd="{"" if e.bwd is None else e.bwd}"'
        out.append(f'<g class="edgegroup" id="edge{k}" {attrs}>')
        out.append(f'<path class="edge" d="{path}" marker-end="url(#arrow)"/>')
        # labels sit near the start of the edge, where the arrow leaves the box
        lx = x1 + min(14.0, (x2 - x1) / 4)
        ly = y1 + (y2 - y1) * 0.12
        out.append(f'<text class="val" x="{lx:.1f}" y="{ly - 6:.1f}">{escape(e.value)}</text>')
        if e.grad:
            out.append(f'<text class="grad" x="{lx:.1f}" y="{ly + 15:.1f}">{escape(e.grad)}</text>')
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
            out.append(f'<text class="name" x="{n.x:.1f}" y="{n.y - 2:.1f}" text-anchor="middle">'
                       f"{escape(n.label)}</text>")
            out.append(f'<text class="sub" x="{n.x:.1f}" y="{n.y + 13:.1f}" text-anchor="middle">'
                       f"{escape(n.sub)}</text>")
        out.append("</g>")
    out.append("</g>")
    legend_y = height + top - 8
    out.append(f'<text class="val" x="8" y="{legend_y:.0f}">green: forward value</text>')
    out.append(f'<text class="grad" x="150" y="{legend_y:.0f}">red: gradient of the output</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
