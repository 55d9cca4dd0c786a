"""A step-through page: one self-contained HTML file (inline SVG, CSS and JS, no network).

It walks the forward pass node by node (values appear in green), then the reverse pass
(gradients appear in red), showing each step's arithmetic, e.g.
`∂J/∂b = ∂J/∂u · c = 3 · 2 = 6`, and ends with the gradients of the inputs.
Next/Previous buttons (ids `next`, `prev`) and the arrow keys move between steps.
"""
from __future__ import annotations

import itertools
import json
import re
import uuid
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ..explain.model import Explanation
from ..explain.values import NOT_DEFINED, Value, finite
from .graph import Graph

CSS = """
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 1.5em; color: #24292f; }
h1 { font-size: 1.3em; margin: 0 0 .6em; }
#graph { overflow-x: auto; border: 1px solid #d0d7de; border-radius: 6px; padding: 4px; }
#panel { margin-top: 1em; padding: .8em 1em; background: #f6f8fa; border-radius: 6px; min-height: 7em; }
#title { font-weight: bold; margin-bottom: .4em; }
#lines div { font-family: 'DejaVu Sans Mono', Menlo, monospace; margin: .15em 0; white-space: pre-wrap; }
#lines div.lgrad { color: #cf222e; } #lines div.lval { color: #1a7f37; }
button { font-size: 1em; padding: .3em 1em; margin-right: .5em; }
#counter { margin-left: .5em; color: #57606a; }
.node.current .shape { stroke: #bf8700; stroke-width: 4; }
.node.future { opacity: .3; }
.node.hasgrad .shape { stroke: #cf222e; stroke-width: 2; }
.node.current.hasgrad .shape { stroke: #bf8700; stroke-width: 4; }
pre { font-size: 12px; overflow-x: auto; }
"""

JS = """
(function () {
  var steps = JSON.parse(document.getElementById('steps-data').textContent);
  var cur = 0;
  function num(v) { return v === '' || v === undefined ? null : Number(v); }
  function show(i) {
    cur = Math.max(0, Math.min(steps.length - 1, i));
    var s = steps[cur];
    var groups = document.querySelectorAll('#graph [data-fwd]');
    for (var k = 0; k < groups.length; k++) {
      var el = groups[k], f = num(el.getAttribute('data-fwd')), b = num(el.getAttribute('data-bwd'));
      var vals = el.querySelectorAll('.val'), grads = el.querySelectorAll('.grad');
      for (var j = 0; j < vals.length; j++) vals[j].style.visibility = f <= s.fwd ? 'visible' : 'hidden';
      for (var j = 0; j < grads.length; j++)
        grads[j].style.visibility = (b !== null && b <= s.bwd) ? 'visible' : 'hidden';
      if (el.classList.contains('node')) {
        el.classList.toggle('future', f > s.fwd);
        el.classList.toggle('hasgrad', b !== null && b <= s.bwd);
        el.classList.toggle('current', s.nodes.indexOf(el.id) >= 0);
      }
    }
    document.getElementById('title').textContent = s.title;
    var box = document.getElementById('lines');
    while (box.firstChild) box.removeChild(box.firstChild);
    for (var k = 0; k < s.lines.length; k++) {
      var d = document.createElement('div');
      d.textContent = s.lines[k][1];
      d.className = s.lines[k][0];
      box.appendChild(d);
    }
    document.getElementById('counter').textContent = 'step ' + (cur + 1) + ' / ' + steps.length;
    document.getElementById('prev').disabled = cur === 0;
    document.getElementById('next').disabled = cur === steps.length - 1;
    document.body.setAttribute('data-step', String(cur));
    var first = s.nodes.length ? document.getElementById(s.nodes[0]) : null;
    if (first && first.scrollIntoView) first.scrollIntoView({block: 'nearest', inline: 'center'});
  }
  function fromHash() {  // #step-7 opens step 7 (as the counter counts)
    var m = /^#step-(\\d+)$/.exec(window.location.hash || '');
    return m ? Number(m[1]) - 1 : null;
  }
  window.addEventListener('hashchange', function () { var k = fromHash(); if (k !== null) show(k); });
  document.getElementById('next').addEventListener('click', function () { show(cur + 1); });
  document.getElementById('prev').addEventListener('click', function () { show(cur - 1); });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowRight') { show(cur + 1); e.preventDefault(); }
    if (e.key === 'ArrowLeft') { show(cur - 1); e.preventDefault(); }
  });
  var start = fromHash();
  show(start === null ? 0 : start);
})();
"""


#: 'steps 2, 3, 3' in a record's sentence: backward-step numbers, which the page renumbers.
_STEPS = re.compile(r"(steps? )(\d+(?:, \d+)*)")


def steps_of(exp: Explanation, g: Graph) -> list[dict[str, Any]]:
    """The page's steps: the inputs, each forward node, each backward node, the inputs' gradients."""
    ids = {n.id: f"node{k}" for k, n in enumerate(g.nodes)}
    by_out = {f.output: f for f in exp.forward}
    n_fwd, n_bwd = len(exp.forward), len(exp.steps)
    d = f"∂{exp.output}/∂"
    given = [k for k in exp.tensors if exp.kinds.get(k) in ("input", "constant")]
    inputs = [("lval", f"{k} = {exp.tensors[k]}") for k in given]
    out = [{"title": "Step 1: the inputs, where the forward pass starts", "lines": inputs,
            "fwd": 0, "bwd": -1, "nodes": [ids[f"t:{k}"] for k in given]}]
    for f in exp.forward:
        lines = [("lval", f.text)] + ([("", f.note)] if f.note else [])
        out.append({"title": f"Step {f.index + 1}: forward {f.index}/{n_fwd}, {f.op}", "lines": lines,
                    "fwd": f.index, "bwd": -1, "nodes": [ids[f"op:{f.index}"], ids[f"t:{f.output}"]]})
    def page(k: int) -> str:  # the page's number of backward step k, as the counter shows it
        return str(n_fwd + 1 + k)

    def renumber(text: str) -> str:  # 'from steps 2, 3' (backward steps) -> the page's step numbers
        return _STEPS.sub(lambda m: m.group(1) + ", ".join(page(int(k)) for k in m.group(2).split(", ")), text)

    for s in exp.steps:
        up = f"upstream {d}{s.output} = {Value.of(s.upstream)}"
        if len(s.upstream_from) > 1:
            up += f"  (a copy sums: gradients of steps {', '.join(page(k) for k in s.upstream_from if k)})"
        lines = [("", up), ("", f"local derivative: {s.rule}"), ("", f"pattern: {s.pattern}")]
        lines += [("lgrad", o.formula) for o in s.inputs if o.formula]
        lines += [("lgrad", t) for t in s.detail]
        lines += [("lgrad", renumber(t)) for t in s.sums]
        f = by_out.get(s.output)
        nodes = [ids[f"t:{s.output}"]] + ([ids[f"op:{f.index}"]] if f else [])
        title = f"Step {page(s.index)}: backward {s.index}/{n_bwd}, {s.op} at {s.output} (gradient × local derivative)"
        out.append({"title": title,
                    "lines": lines, "fwd": n_fwd, "bwd": s.index, "nodes": nodes})
    out.append({"title": f"Step {n_fwd + n_bwd + 2}: done, the gradients of the inputs ({exp.output} = {exp.value})",
                "lines": [("lgrad", f"{d}{k} = {Value.of(v)}" + ("" if finite(v) else f"  {NOT_DEFINED}"))
                          for k, v in exp.grads.items()],
                "fwd": n_fwd, "bwd": n_bwd, "nodes": [ids[f"t:{k}"] for k in exp.grads]})
    return out


def render_page(exp: Explanation, g: Graph, svg: str, title: str) -> str:
    """The whole page as one string."""
    data = json.dumps(steps_of(exp, g), ensure_ascii=False)
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")  # no </script> inside
    tables = escape(exp.forward_table() + "\n\n" + exp.table())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<style>{CSS}</style></head>
<body>
<h1>{escape(title)}</h1>
<div id="graph">{svg}</div>
<div id="controls" style="margin-top:1em">
<button id="prev" type="button">◀ Previous</button><button id="next" type="button">Next ▶</button>
<span id="counter"></span> <small>(or the ← → keys)</small></div>
<div id="panel"><div id="title"></div><div id="lines"></div></div>
<details><summary>The whole explanation as tables</summary><pre>{tables}</pre></details>
<script type="application/json" id="steps-data">{data}</script>
<script>{JS}</script>
</body></html>
"""


#: Each inline page's id is unique in its notebook: two cells never share an element id.
_INLINE = itertools.count(1)


def inline_page(exp: Explanation, title: str | None = None) -> str:
    """The step-through page for a notebook cell (`Explanation._repr_html_`).

    The whole page, scripts inline, in an iframe's `srcdoc`: it fetches nothing, its ids and
    styles cannot meet another cell's (or the notebook's), and it runs the same in JupyterLab,
    classic Notebook and VS Code. The frame's id is unique; drag its corner to resize it.
    """
    from . import page_of  # the package lays out the graph (imports go one way at load)

    page, height = page_of(exp, title)
    uid = f"matgrad-explain-{next(_INLINE)}-{uuid.uuid4().hex[:8]}"
    return (f'<div id="{uid}" class="matgrad-explain" style="resize: vertical; overflow: auto; '
            f'height: {min(height + 360, 1400):.0f}px; border: 1px solid #d0d7de; border-radius: 6px">'
            f'<iframe id="{uid}-frame" title="{escape(exp.output)}: backprop step by step" '
            f'sandbox="allow-scripts" style="width: 100%; height: 100%; border: 0" '
            f"srcdoc={quoteattr(page)}></iframe></div>")
