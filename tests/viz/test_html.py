"""The step-through page: self-contained, and in a real browser Next walks every step."""
from __future__ import annotations

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
