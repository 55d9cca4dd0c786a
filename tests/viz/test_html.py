"""The step-through page: self-contained, and in a real browser Next walks every step."""
from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import matgrad as mg
from matgrad import viz
from matgrad.explain import explain

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _j() -> mg.Tensor:
    a, b, c = (mg.Tensor(np.float64(v), requires_grad=True, name=n) for n, v in zip("abc", (5, 3, 2)))
    u = b * c
    u.name = "u"
    v = a + u
    v.name = "v"
    J = 3 * v
    J.name = "J"
    return J


def _mlp() -> mg.Tensor:
    rng = np.random.default_rng(1)
    X = mg.Tensor(rng.standard_normal((5, 3)), requires_grad=True, name="X")
    W = mg.Tensor(rng.standard_normal((3, 4)), requires_grad=True, name="W")
    L = mg.log_softmax(X @ W, dim=1)[:, 0].mean() * -1 + (W * W).sum() * 0.01
    L.name = "L"
    return L


def test_page_is_self_contained(tmp_path: Path) -> None:
    text = viz.html(_j(), tmp_path / "p.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert '<button id="next"' in text and '<button id="prev"' in text
    assert not re.search(r"<(script|img|link|iframe)[^>]*\s(src|href)=", text)
    assert "@import" not in text and "url(http" not in text
    # the only URL is the SVG namespace name, which is never fetched
    assert set(re.findall(r"https?://[^\s\"'<>]+", text)) <= {"http://www.w3.org/2000/svg"}
    assert "∂J/∂b = ∂J/∂u · c = 3 · 2 = 6" in text


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201 - a Playwright Browser
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("build", [_j, _mlp], ids=["J", "mlp"])
def test_next_walks_every_step(browser, tmp_path: Path, build) -> None:  # noqa: ANN001
    out = build()
    exp = explain(out, print_table=False, retain_graph=True, accumulate=False)
    path = viz.html(exp, tmp_path / "page.html")
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request",
            lambda r: errors.append(f"network: {r.url}") if not r.url.startswith("file:") else None)
    page.goto(path.resolve().as_uri())
    n_steps = 1 + len(exp.forward) + len(exp.steps) + 1
    assert page.inner_text("#counter") == f"step 1 / {n_steps}"
    assert page.is_disabled("#prev")
    seen = []
    for _ in range(n_steps - 1):
        page.click("#next")
        seen.append(page.inner_text("#panel"))
    assert page.is_disabled("#next")
    assert page.inner_text("#counter") == f"step {n_steps} / {n_steps}"
    # forward steps show each value; backward steps each node's gradient arithmetic
    for k, f in enumerate(exp.forward):
        assert f.text in seen[k]
    for k, s in enumerate(exp.steps):
        panel = seen[len(exp.forward) + k]
        assert f"at {s.output}" in panel
        for o in s.inputs:
            if o.formula:
                assert o.formula in panel
    final = seen[-1]
    for name in exp.grads:
        assert f"∂{exp.output}/∂{name} = " in final
    if build is _j:
        assert "∂J/∂a = 3" in final and "∂J/∂b = 6" in final and "∂J/∂c = 9" in final
        # every gradient label is visible at the end, and the current nodes are the inputs
        assert page.locator(".grad").count() == page.locator(".grad:visible").count()
        assert page.locator(".node.current").count() == 3
    # the arrow keys step too
    page.keyboard.press("ArrowLeft")
    assert page.inner_text("#counter") == f"step {n_steps - 1} / {n_steps}"
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#counter") == f"step {n_steps} / {n_steps}"
    page.close()
    assert errors == []


def test_a_gradient_that_is_not_finite_is_shown_as_not_defined(tmp_path: Path) -> None:
    a = mg.Tensor(np.float64(1.0), requires_grad=True, name="a")
    b = mg.Tensor(np.float64(0.0), requires_grad=True, name="b")
    with np.errstate(divide="ignore"):
        J = a / b
    J.name = "J"
    text = viz.html(J, tmp_path / "p.html").read_text(encoding="utf-8")
    assert "not finite (division by zero)" in text
    assert "∂J/∂b = -inf  (not finite: not defined at this point)" in text
    svg = viz.draw(J, tmp_path / "p.svg", use_dot=False).read_text(encoding="utf-8")
    assert "inf" in svg


# --- the matrix view (issue 18, part 2) --------------------------------------------------------------

def _seed_mlp_step() -> mg.Tensor:
    """One step of the seed MLP's shape (in -> hidden, ReLU -> classes, sigmoid + BCE), a small batch."""
    from matgrad.models.mlp import mlp

    model = mlp(784, 10, (32,), sigmoid_output=True)
    for k, p in model.named_parameters():
        p.name = {"0.weight": "W1", "0.bias": "b1", "2.weight": "W2", "2.bias": "b2"}[k]
    rng = np.random.default_rng(0)
    X = mg.tensor(rng.random((8, 784)), dtype=mg.float32, requires_grad=True, name="X")
    T = mg.tensor((rng.random((8, 10)) > 0.5).astype(np.float32), name="T")
    loss = mg.nn.functional.binary_cross_entropy(model(X), T)
    loss.name = "L"
    return loss


#: dW, db and dX of both layers, with the shapes of this batch (8), the hidden width (32) and 784 inputs.
MATRIX_FORMULAS = [
    "dW2 (10×32) = dt3ᵀ (10×8) · t2 (8×32)", "db2 (10) = Σ over the 8 rows of dt3 (8×10)",
    "dt2 (8×32) = dt3 (8×10) · W2 (10×32)",
    "dW1 (32×784) = dt1ᵀ (32×8) · X (8×784)", "db1 (32) = Σ over the 8 rows of dt1 (8×32)",
    "dX (8×784) = dt1 (8×32) · W1 (32×784)",
]


def test_seed_mlp_page_has_the_matrix_formulas_with_real_shapes(tmp_path: Path) -> None:
    text = viz.html(_seed_mlp_step(), tmp_path / "mlp.html").read_text(encoding="utf-8")
    for f in MATRIX_FORMULAS:
        assert f in text, f


def test_tensor_nodes_show_shape_and_heat_maps_scalars_their_value() -> None:
    svg = viz.svg(_seed_mlp_step())
    assert ">8×784<" in svg and ">32×784<" in svg  # the shapes in the boxes
    assert svg.count('class="val heat"') >= 6 and svg.count('class="grad heat"') >= 5
    # sampled: no heat map has more than 16×16 cells
    for block in re.findall(r'<g class="(?:val|grad) heat">(.*?)</g>', svg, re.S):
        assert block.count("<rect") <= 256
    assert re.search(r'class="val"[^>]*>= 0\.\d+</text>', svg)  # the scalar loss shows its value
    j = viz.svg(_j())
    assert ">= 33<" in j and "heat" not in j


def test_seed_mlp_page_in_a_browser(browser, tmp_path: Path) -> None:  # noqa: ANN001
    loss = _seed_mlp_step()
    exp = explain(loss, print_table=False)
    path = viz.html(exp, tmp_path / "mlp.html")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.resolve().as_uri())
    n_steps = 1 + len(exp.forward) + len(exp.steps) + 1
    panels = [page.inner_text("#panel")]
    for _ in range(n_steps - 1):
        page.click("#next")
        panels.append(page.inner_text("#panel"))
    assert page.is_disabled("#next")
    walked = "\n".join(panels)
    for f in MATRIX_FORMULAS:
        assert f in walked, f
    # a step's title carries the number the counter shows
    for k, p in enumerate(panels, 1):
        assert p.startswith(f"Step {k}:"), p[:40]
    # #step-5 opens step 5
    page.goto(path.resolve().as_uri() + "#step-5")
    assert page.inner_text("#counter") == f"step 5 / {n_steps}"
    page.close()
    assert errors == []


def test_inline_pages_in_one_document_do_not_clash(browser, tmp_path: Path) -> None:  # noqa: ANN001
    a, b = explain(_j(), print_table=False), explain(_seed_mlp_step(), print_table=False)
    one, two = a._repr_html_(), b._repr_html_()
    ids = re.findall(r'<div id="([^"]+)"', one) + re.findall(r'<div id="([^"]+)"', two)
    assert len(ids) == 2 and ids[0] != ids[1]
    inner = html.unescape(re.search(r'srcdoc="(.*)"', one, re.S).group(1))  # the page in the frame
    assert not re.search(r"<(script|img|link|iframe)[^>]*\s(src|href)=", inner)
    assert set(re.findall(r"https?://[^\s\"'<>]+", inner)) <= {"http://www.w3.org/2000/svg"}
    assert "∂J/∂a = 3" in one and "∂J/∂b = 6" in one and "∂J/∂c = 9" in one
    path = tmp_path / "notebook.html"
    path.write_text(f"<!DOCTYPE html><html><body>{one}{two}</body></html>", encoding="utf-8")
    page = browser.new_page()
    page.goto(path.resolve().as_uri())
    frames = [page.frame_locator(f"#{i}-frame") for i in ids]
    frames[0].locator("#next").click()
    assert frames[0].locator("#counter").inner_text() == "step 2 / 8"
    assert frames[1].locator("#counter").inner_text().startswith("step 1 / ")
    page.close()
