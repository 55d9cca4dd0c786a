"""The README's figures: rendered from a results JSON into the block between two markers.

    python benchmarks/run.py --readme                          # measure, save figures.json, rewrite the block
    python benchmarks/run.py --readme --from benchmarks/figures.json   # rewrite the block only

The JSON is {"note": optional text, "runs": [payload, ...]}, each payload as run.py writes it ({"machine", "when",
"quick", "results": {section: rows}}); a run's `label` and its machine's `note` are printed
when present. Each run's tables are headed by the machine they were measured on: the CPU,
its cores, NumPy and its SIMD level, the BLAS, its version and the kernel that ran.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

START = "<!-- figures:start -->"
END = "<!-- figures:end -->"
COMMAND = "python benchmarks/run.py --readme"

RECIPES = {
    "mlp": "`mlp`, the seed recipe",
    "mlp-best": "`mlp-best` (784-1024-1024-10, dropout, AdamW + one-cycle)",
    "cnn": "`cnn` (3 × conv-BN-ReLU-pool, AdamW + one-cycle)",
    "lstm": "`lstm` (row-by-row: 28 steps of 28 pixels, LSTM 128, Adam + one-cycle)",
    "vit": "`vit` (7×7 patches, 4 pre-norm Transformer layers of width 64, AdamW + one-cycle)",
}
DATASETS = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "digits": "digits (8×8)"}


def _num(x: float) -> str:
    """Three significant digits (1.20, 0.210, 41.0), whole numbers from 100 up."""
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:#.3g}"


def _epoch_label(name: str) -> str:
    """'user epoch 784-1024-10 b256, mnist' -> '784-1024-10, batch 256, real MNIST'."""
    name = name.removeprefix("user epoch ")
    m = re.fullmatch(r"(\S+) b(\d+), ([\w-]+)(.*)", name)
    if not m:
        return name
    net, batch, data, rest = m.groups()
    data = "real MNIST" if data == "mnist" else f"{data} data"
    return f"{net}, batch {batch}, {data}{rest}"


def machine_line(m: dict[str, Any]) -> str:
    """'AMD EPYC, 2 cores; NumPy 2.4.6 (SIMD X86_V3); BLAS scipy-openblas 0.3.31, kernel Haswell, 2 threads'."""
    unknown = "not recorded"
    versions = {k: v for k, v in m.get("versions", {}).items() if v and v != unknown}
    blas = m.get("blas_summary") or {}
    if not blas and m.get("blas"):  # threadpoolctl's list, as older results hold it
        pool = next((b for b in m["blas"] if b.get("user_api") == "blas"), m["blas"][0])
        blas = {"name": pool.get("internal_api"), "version": pool.get("version"),
                "architecture": pool.get("architecture"), "num_threads": pool.get("num_threads")}
    simd = m.get("numpy_simd", {}).get("dispatched")
    cpu, cores = m.get("cpu") or unknown, m.get("cores")
    parts = [cpu if f"{cores}-core" in cpu else f"{cpu}, {cores or '?'} cores"]
    numpy = f"NumPy {versions['numpy']}" if "numpy" in versions else f"NumPy (version {unknown})"
    if simd is not None:
        numpy += f" (SIMD {' '.join(simd) or 'baseline only'})"
    parts.append(numpy)
    threads = blas.get("num_threads") or m.get("threads")
    parts.append(f"BLAS {blas.get('name') or unknown} {blas.get('version') or '(version ' + unknown + ')'}, "
                 f"kernel {blas.get('architecture') or unknown}" + (f", {threads} threads" if threads else ""))
    env = m.get("blas_env") or {}
    if env:
        parts.append("env " + " ".join(f"{k}={v}" for k, v in env.items()))
    if versions.get("torch"):
        parts.append(f"PyTorch {versions['torch']}")
    return "; ".join(parts)


def recipes_table(rows: list[dict[str, Any]]) -> list[str]:
    out = ["| recipe (`--model`) | data | epochs | test accuracy | seconds per epoch |", "|---|---|---|---|---|"]
    for r in rows:
        name = RECIPES.get(r.get("model", ""), f"`{r.get('model', r['name'])}`")
        data = DATASETS.get(r.get("dataset", ""), r.get("dataset", ""))
        if r.get("skipped"):
            out.append(f"| {name} | {data} | - | not run: {r['skipped']} | - |")
            continue
        secs = r["times"]["matgrad"]["median"]
        out.append(f"| {name} | {data} | {r['epochs']} | **{r['test_accuracy']:.2%}** | {_num(secs)} |")
    return out


def loader_table(rows: list[dict[str, Any]]) -> list[str]:
    libs = [lib for lib in ("matgrad", "torch", "mygrad") if any(lib in r["times"] for r in rows)]
    names = {"matgrad": "matgrad", "torch": "PyTorch", "mygrad": "MyGrad"}
    head = "| whole epoch as a user writes it | " + " | ".join(names[lib] for lib in libs)
    has_torch = "torch" in libs
    if has_torch:
        head += " | matgrad throughput vs PyTorch (paired)"
    out = [head + " |", "|---" * (1 + len(libs) + has_torch) + "|"]
    for r in rows:
        label = _epoch_label(r["name"])
        cells = [f"{_num(r['times'][lib]['median'])} s" if lib in r["times"] else "-" for lib in libs]
        if has_torch:
            ratio, paired = r["ratios"].get("matgrad/torch"), r.get("ratios_paired", {}).get("matgrad/torch")
            cells.append("-" if ratio is None else f"{1 / ratio:.2f}×"
                         + (f" ({1 / paired:.2f}×)" if paired else ""))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return out


def render(figures: dict[str, Any]) -> str:
    """The Markdown between the markers (markers excluded)."""
    lines = [f"<!-- generated by `{COMMAND}` from benchmarks/figures.json: edit that, or rerun -->"]
    if figures.get("note"):
        lines += ["", figures["note"]]
    for run in figures["runs"]:
        m = run.get("machine", {})
        head = f"**{run['label']}.** " if run.get("label") else ""
        when = f", {run['when'][:10]}" if run.get("when") else ""
        lines += ["", f"{head}Measured on {machine_line(m)}{when}"
                  + (" (a `--quick` run: fewer samples, not for comparison)" if run.get("quick") else "") + "."]
        if m.get("note"):
            lines += ["", m["note"]]
        results = run.get("results", {})
        if results.get("recipes"):
            lines += [""] + recipes_table(results["recipes"])
        if results.get("loader"):
            lines += [""] + loader_table(results["loader"])
    return "\n".join(lines)


def rewrite(readme: Path, block: str) -> bool:
    """Replace what lies between START and END in `readme` with `block`; True if the file changed."""
    text = readme.read_text()
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ValueError(f"{readme}: expected one {START} ... {END} pair to put the figures between")
    head, rest = text.split(START)
    _, tail = rest.split(END)
    new = f"{head}{START}\n{block}\n{END}{tail}"
    if new == text:
        return False
    fd, tmp = tempfile.mkstemp(dir=readme.parent, prefix=readme.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(new)
        os.chmod(tmp, readme.stat().st_mode & 0o777)
        os.replace(tmp, readme)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def update(readme: Path, figures_json: Path) -> bool:
    """Render `figures_json` into `readme`'s marked block."""
    return rewrite(readme, render(json.loads(figures_json.read_text())))
