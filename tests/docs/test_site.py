"""The documentation site: `mkdocs build --strict` passes, every page is there, and the embedded
step-through pages are in the built site and, in a real browser, step with their Next button."""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PAGES = ["index.html", "install/index.html", "porting/index.html", "recipes/index.html",
         "devices/index.html", "distributed/index.html", "models/index.html", "explain_example/index.html",
         "walkthroughs/j/index.html", "walkthroughs/sigmoid-neuron/index.html",
         "walkthroughs/linear-fit/index.html", "walkthroughs/sqrt-newton/index.html",
         "walkthroughs/seed-mlp/index.html", "graph.svg"]
API = {"tensor": "Tensor", "autograd": "Function", "nn": "Module", "optim": "SGD", "data": "DataLoader",
       "explain": "Explanation"}
STEP_PAGES = ["j.html", "sigmoid_neuron.html", "seed_mlp_step.html"]


def _have(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not _have("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        pytest.skip('the docs tools are not installed (pip install -e ".[docs]")')
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"mkdocs build --strict failed:\n{r.stdout}\n{r.stderr}"
    return out


def test_every_page_is_built(site: Path) -> None:
    for page in PAGES:
        assert (site / page).is_file(), page
    for page in STEP_PAGES:
        assert (site / "pages" / page).is_file(), page
    assert not (site / "make_pages.py").exists()


def test_api_reference_is_rendered_from_the_docstrings(site: Path) -> None:
    for page, name in API.items():
        text = (site / "api" / page / "index.html").read_text(encoding="utf-8")
        assert 'class="doc doc-heading"' in text or "doc-heading" in text, page
        assert name in text, (page, name)


def test_the_step_through_pages_are_embedded(site: Path) -> None:
    embedded = set()
    for html in site.rglob("index.html"):
        for src in re.findall(r'<iframe[^>]*\ssrc="([^"]+)"', html.read_text(encoding="utf-8")):
            target = (html.parent / src).resolve()
            assert target.is_file(), f"{html.relative_to(site)}: iframe {src} points at nothing"
            embedded.add(target.name)
    assert set(STEP_PAGES) <= embedded
    mlp = (site / "walkthroughs" / "seed-mlp" / "index.html").read_text(encoding="utf-8")
    assert "../../pages/seed_mlp_step.html" in mlp
    page = (site / "pages" / "seed_mlp_step.html").read_text(encoding="utf-8")
    assert '<button id="next"' in page and "W1" in page and "ᵀ" in page


def test_make_pages_writes_the_pages_with_matgrads_page_writer(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_pages", ROOT / "docs" / "make_pages.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    written = mod.main(tmp_path)
    assert sorted(p.name for p in written) == sorted(STEP_PAGES)
    for p in written:
        text = p.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and '<button id="next"' in text
        assert (ROOT / "docs" / "pages" / p.name).is_file(), f"run python docs/make_pages.py and commit {p.name}"
    j = (tmp_path / "j.html").read_text(encoding="utf-8")
    assert "= 6" in j and "= 9" in j  # ∂J/∂b = 6, ∂J/∂c = 9


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


@pytest.mark.parametrize("doc, step_page", [("walkthroughs/seed-mlp/index.html", "seed_mlp_step.html"),
                                             ("index.html", "j.html")], ids=["seed-mlp", "home"])
def test_next_walks_the_embedded_page(site: Path, browser, doc: str, step_page: str) -> None:  # noqa: ANN001
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((site / doc).as_uri())
    frame = next((f for f in page.frames if f.url.endswith("/" + step_page)), None)
    assert frame is not None, [f.url for f in page.frames]
    frame.wait_for_selector("#counter")
    m = re.fullmatch(r"step 1 / (\d+)", frame.inner_text("#counter"))
    assert m, frame.inner_text("#counter")
    n = int(m.group(1))
    assert n > 2 and frame.is_disabled("#prev")
    panels = []
    for k in range(2, n + 1):
        frame.click("#next")
        assert frame.inner_text("#counter") == f"step {k} / {n}"
        panels.append(frame.inner_text("#panel"))
    assert frame.is_disabled("#next")
    assert len(set(panels)) == len(panels)  # every step shows something of its own
    if step_page == "seed_mlp_step.html":
        text = "\n".join(panels)
        for grad in ("W1", "b1", "W2", "b2"):
            assert f"∂L/∂{grad}" in text, grad
        assert "Xᵀ" in text and "Hᵀ" in text  # the matrix formulas dW = Xᵀ·dY of both layers
    else:
        assert "∂J/∂b = 6" in panels[-1] and "∂J/∂c = 9" in panels[-1]
    page.close()
    assert errors == []
