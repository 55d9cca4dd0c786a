"""Pictures of backprop: `draw` (an SVG of the graph) and `html` (a step-through page).

Both take an output tensor (they explain it without touching any `.grad`) or an
Explanation already made, and write one self-contained file atomically.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..explain.model import VIEWS, Explanation
from ..explain.record import explain
from ..files import write_text_atomic
from .graph import Graph, from_explanation
from .html import inline_page, render_page
from .svg import render


def _explanation(output: Any) -> Explanation:
    if isinstance(output, Explanation):
        return output
    # retain_graph: drawing must not use up a graph the caller may still backward through
    return explain(output, retain_graph=True, print_table=False, accumulate=False)


def graph(output: Any) -> Graph:
    """The laid-out-ready graph (boxes, circles, labelled edges) of a tensor or Explanation."""
    return from_explanation(_explanation(output))


class Picture(str):
    """An SVG document: a str, which Jupyter draws as the picture (`_repr_svg_`)."""

    def _repr_svg_(self) -> str:
        return str(self)


def svg(output: Any, title: str | None = None, use_dot: bool = True) -> Picture:
    """The SVG document of the graph, as a string (drawn inline in Jupyter)."""
    exp = _explanation(output)
    head = title if title is not None else f"{exp.output} = {exp.value}"
    return Picture(render(from_explanation(exp), head, use_dot))


def page_of(output: Any, title: str | None = None) -> tuple[str, float]:
    """The step-through page as a string, and the height of its picture."""
    exp = _explanation(output)
    g = from_explanation(exp)
    head = title if title is not None else f"Backprop step by step: {exp.output} = {exp.value}"
    picture = render(g, "")  # lays g out; the page reuses its node ids
    height = max((n.y + n.height / 2 for n in g.nodes), default=0.0) + 40
    return render_page(exp, g, picture, head), height


def draw(output: Any, path: str | os.PathLike, title: str | None = None, use_dot: bool = True) -> Path:
    """Write an SVG of the graph: a box per tensor (with its shape), a circle per op, and on
    each edge the forward value (green) and the gradient (red). Uses Graphviz's `dot` for
    the layout when installed, else a built-in layered layout. Returns the path."""
    return write_text_atomic(path, svg(output, title, use_dot))


def html(output: Any, path: str | os.PathLike, title: str | None = None) -> Path:
    """Write a self-contained page stepping through the forward then the backward pass."""
    return write_text_atomic(path, page_of(output, title)[0])


VIEWS["html"] = inline_page  # how a notebook shows an Explanation (model.py may not import viz)
VIEWS["svg"] = svg

__all__ = ["draw", "html", "svg", "graph", "page_of", "Picture"]
