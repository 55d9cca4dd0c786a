"""Write the README's pictures into docs/img/ from the real thing, each screenshot-sized.

    python docs/make_pictures.py            # writes docs/img/*.png

- notebook_cell.png: the J = 3(a + bc) cell of examples/backprop_tour.ipynb, run by a real
  kernel (nbclient + ipykernel), its output (`Explanation._repr_html_`) shown as JupyterLab
  shows a cell, opened at a backward step.
- matrix_page.png: the step-through page of one seed MLP step (docs/make_pages.py's), opened at
  the first layer's backward step, where dW, db and dX are written with their shapes.
- tensorboard_scalars.png: a short real `matgrad train` on the built-in digits with --logdir;
  its event files read back with TensorBoard's own EventAccumulator and drawn with matplotlib
  as TensorBoard's scalars dashboard draws them (the raw curve faint, a smoothed one on top).

Needs Playwright with Chromium (`pip install playwright`, `apt-get install chromium`),
nbclient + ipykernel, matplotlib, tensorboardX and tensorboard. The PNGs are committed, so
the README shows them without running anything; rerun this script when what they show changes.
"""
from __future__ import annotations

import html
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IMG = Path(__file__).resolve().parent / "img"
WIDTH = 900  # px: the pictures' width, about what a README column shows at full size
MAX_BYTES = 150_000
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


# --- saving -----------------------------------------------------------------------------------------------

def save_png(png: bytes, path: Path) -> Path:
    """Write a PNG, in a 256-colour palette when that is what keeps it under MAX_BYTES."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    if img.width > WIDTH:  # a device scale above 1 gives more pixels than the README needs
        img = img.resize((WIDTH, round(img.height * WIDTH / img.width)), Image.LANCZOS)
    for colors in (None, 256, 128, 64):
        buf = io.BytesIO()
        (img if colors is None else img.quantize(colors, dither=Image.Dither.NONE)).save(buf, "PNG", optimize=True)
        if buf.tell() <= MAX_BYTES:
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path


# --- the browser ------------------------------------------------------------------------------------------

class Browser:
    """Headless Chromium through Playwright, one page per picture."""

    def __enter__(self) -> Browser:
        from playwright.sync_api import sync_playwright

        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.browser.close()
        self._pw.stop()

    def page(self, height: int, width: int = WIDTH) -> Any:
        page = self.browser.new_page(viewport={"width": width, "height": height})
        page.on("request", lambda r: _offline(r.url))
        return page


def _offline(url: str) -> None:
    if not url.startswith(("file:", "about:", "data:")):
        raise RuntimeError(f"the page asked for {url}: the pictures are made offline")


def _step(frame: Any, k: int) -> None:
    """Open step k of a step-through page (as its counter counts) by pressing Next."""
    while int(frame.inner_text("#counter").split()[1]) < k:
        frame.click("#next")


def _find_step(frame: Any, text: str) -> int:
    """The first step whose panel shows `text` (walking the page with Next from the start)."""
    total = int(frame.inner_text("#counter").split()[-1])
    for k in range(1, total + 1):
        _step(frame, k)
        if text in frame.inner_text("#panel"):
            return k
    raise RuntimeError(f"no step of the page shows {text!r}")


# --- 1. the notebook cell ---------------------------------------------------------------------------------

NOTEBOOK = ROOT / "examples" / "backprop_tour.ipynb"

CELL_CSS = """
body { margin: 0; padding: 14px 18px; background: #fff; font: 13px/1.4 system-ui, -apple-system, "Segoe UI",
       Roboto, "Helvetica Neue", Arial, sans-serif; color: #212121; }
.cell { display: grid; grid-template-columns: 64px 1fr; row-gap: 6px; border-left: 3px solid #1976d2;
        padding: 6px 6px 6px 0; }
.prompt { font: 13px/1.4 "DejaVu Sans Mono", Menlo, monospace; color: #307fc1; text-align: right;
          padding: 5px 8px 0 0; }
.prompt.out { color: #bf5b3d; }
.input { background: #f5f5f5; border: 1px solid #e0e0e0; border-radius: 2px; padding: 5px 8px; }
.input pre { margin: 0; font: 13px/1.35 "DejaVu Sans Mono", Menlo, monospace; }
.output { min-width: 0; }
"""


def notebook_cell_html() -> tuple[str, str]:
    """The J = 3(a + bc) cell's source and its HTML output, from the notebook run by a real kernel."""
    import nbclient
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    upto = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and 'J.name = "J"' in c.source)
    nb.cells = nb.cells[:upto + 1]  # the cells before it and the cell itself: the rest is not shown
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    cell = nb.cells[upto]
    (out,) = [o.data["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]
    return cell.source, out


def highlighted(code: str) -> str:
    """Python source coloured as Jupyter colours it (pygments), or plain when pygments is missing."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return f"<pre>{html.escape(code)}</pre>"
    return highlight(code, PythonLexer(), HtmlFormatter(noclasses=True, nowrap=False, style="default"))


def notebook_cell(browser: Browser, out: Path) -> Path:
    source, output = notebook_cell_html()
    n = 3  # the execution count a reader sees on the tour's first example
    page_html = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{CELL_CSS}</style></head><body>"
                 f"<div class='cell'><div class='prompt'>[{n}]:</div><div class='input'>{highlighted(source)}</div>"
                 f"<div class='prompt out'>[{n}]:</div><div class='output'>{output}</div></div></body></html>")
    path = Path(tempfile.mkdtemp()) / "cell.html"
    path.write_text(page_html, encoding="utf-8")
    page = browser.page(1200)
    page.goto(path.as_uri())
    frame = page.frame_locator("iframe").first
    frame.locator("#next").wait_for()
    inner = page.frames[1]
    _find_step(inner, "∂J/∂b = ∂J/∂t1 · c")  # a backward step: upstream × local, with the numbers
    fit = inner.evaluate("document.documentElement.scrollHeight") + 4  # the frame as tall as its page: no blank
    page.evaluate(f"document.querySelector('.matgrad-explain').style.height = '{fit}px'")
    return save_png(page.locator(".cell").screenshot(), out)


# --- 2. the matrix page -----------------------------------------------------------------------------------

def seed_mlp_step() -> Any:
    """One step of the seed recipe at its real size: 784 → 1024 ReLU → 10 sigmoid, BCE on one-hot labels, batch 256."""
    import numpy as np

    import matgrad as mg
    from matgrad.models.mlp import seed_mlp

    mg.manual_seed(0)
    model = seed_mlp((28, 28), 10)
    for k, p in model.named_parameters():
        p.name = {"0.weight": "W1", "0.bias": "b1", "2.weight": "W2", "2.bias": "b2"}[k]
    rng = np.random.default_rng(0)
    X = mg.tensor(rng.random((256, 784)), dtype=mg.float32, name="X")  # pixels in [0, 1), as MNIST's
    T = mg.tensor(np.eye(10, dtype=np.float32)[rng.integers(0, 10, 256)], name="T")
    loss = mg.nn.functional.binary_cross_entropy(model(X), T)
    loss.name = "L"
    return loss


def matrix_page(browser: Browser, out: Path) -> Path:
    from matgrad import viz

    path = viz.html(seed_mlp_step(), Path(tempfile.mkdtemp()) / "seed_mlp_step.html",
                    title="One step of the seed MLP, in the matrix view")
    page = browser.page(700, width=1150)  # wider than the picture: the graph around the step fits, scaled down
    page.goto(path.as_uri())
    _find_step(page.main_frame, "dW2 (")  # the output layer's backward step: dW2, db2 and dX with their shapes
    page.evaluate("document.querySelector('details').remove()")  # (the tables' fold: nothing to see closed)
    return save_png(page.screenshot(full_page=True), out)


# --- 3. TensorBoard's scalars -----------------------------------------------------------------------------

TB_TAGS = [("train/loss", "train/loss"), ("train/lr", "train/lr"), ("train/samples_per_s", "train/samples_per_s")]
TB_ORANGE = "#ff7043"


#: A short run of the seed recipe on the built-in digits, logging every 2 steps (about 70 steps in all).
TRAIN = ["--dataset", "digits", "--epochs", "3", "--batch-size", "64", "--schedule", "onecycle", "--log-every", "2"]


def train_run(run: Path) -> Path:
    """Run `matgrad train` (TRAIN) with its run folder in `run`; the logdir it wrote."""
    logdir = run / "tb"
    cmd = [sys.executable, "-m", "matgrad", "train", *TRAIN, "--no-progress", "--out", str(run),
           "--logdir", str(logdir)]
    subprocess.run(cmd, check=True, cwd=run, stdout=subprocess.DEVNULL)
    return logdir


def smooth(values: list[float], weight: float = 0.6) -> list[float]:
    """TensorBoard's smoothing: an exponential moving average, debiased at the start."""
    out, last, n = [], 0.0, 0
    for v in values:
        last, n = last * weight + (1 - weight) * v, n + 1
        out.append(last / (1 - weight**n))
    return out


def tensorboard_scalars(out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with tempfile.TemporaryDirectory() as tmp:
        acc = EventAccumulator(str(train_run(Path(tmp))), size_guidance={"scalars": 0})
        acc.Reload()
        series = {tag: ([e.step for e in acc.Scalars(tag)], [e.value for e in acc.Scalars(tag)]) for tag, _ in TB_TAGS}

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9})
    fig, axes = plt.subplots(1, 3, figsize=(WIDTH / 100, 2.9), dpi=100)
    fig.patch.set_facecolor("#f5f5f5")
    for ax, (tag, title) in zip(axes, TB_TAGS):
        steps, values = series[tag]
        ax.set_facecolor("white")
        ax.plot(steps, values, color=TB_ORANGE, alpha=0.3, lw=1)
        ax.plot(steps, smooth(values), color=TB_ORANGE, lw=1.6)
        ax.set_title(title, loc="left", fontsize=10, color="#212121")
        ax.grid(True, color="#e0e0e0", lw=0.8)
        ax.tick_params(colors="#616161", labelsize=8, length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        ax.set_xlabel("step", color="#616161", fontsize=8)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:g}k" if abs(v) >= 1000 else f"{v:g}"))
    fig.suptitle(f"TensorBoard · SCALARS  —  matgrad train {' '.join(TRAIN)}",
                 x=0.012, ha="left", fontsize=9.5, color="#424242")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor=fig.get_facecolor())
    plt.close(fig)
    return save_png(buf.getvalue(), out)


def main(out: Path = IMG) -> list[Path]:
    written = [tensorboard_scalars(out / "tensorboard_scalars.png")]
    with Browser() as browser:
        written += [notebook_cell(browser, out / "notebook_cell.png"), matrix_page(browser, out / "matrix_page.png")]
    return written


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else IMG):
        print(f"wrote {p} ({p.stat().st_size:,} bytes)")
