"""`python benchmarks/run.py --readme`: the README's figures block rendered from a results JSON.

The benchmarks themselves are never run here (minutes); a small results file stands in.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks import load_bench

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "benchmarks"


readme = load_bench("readme")
machine = load_bench("machine")
recipes = load_bench("recipes")

MACHINE = {
    "cpu": "Intel(R) Xeon(R) Test CPU @ 2.00GHz", "cores": 16, "cores_usable": 16, "threads": 2,
    "blas": [], "blas_env": {},
    "blas_summary": {"name": "scipy-openblas", "version": "0.3.31.188.0", "architecture": "SkylakeX",
                     "num_threads": 2},
    "numpy_simd": {"baseline": ["X86_V2"], "dispatched": ["X86_V3", "X86_V4"]},
    "versions": {"python": "3.11.7", "numpy": "2.4.6", "matgrad": "0.1.0", "torch": "2.13.0+cpu"},
}


def _times(median: float) -> dict[str, float]:
    return {"median": median, "min": median * 0.9, "max": median * 1.1, "n": 3, "number": 1}


def _fake_results() -> dict:
    metrics = {"config": {"dataset": "mnist"},
               "epochs": [{"seconds": s, "test_accuracy": a} for s, a in ((1.7, 0.97), (1.5, 0.9812), (1.6, 0.9831))]}
    rows = [recipes.summarize("mlp", "mnist", metrics, quick=False),
            {"name": "cnn / fashion-mnist", "unit": "s/epoch", "model": "cnn", "dataset": "fashion-mnist",
             "times": {}, "ratios": {}, "skipped": "fashion-mnist not found"}]
    loader = [{"name": "user epoch 784-1024-10 b256, mnist", "unit": "s/epoch",
               "times": {"matgrad": _times(0.5), "torch": _times(1.0)},
               "ratios": {"matgrad/torch": 0.5}, "ratios_paired": {"matgrad/torch": 0.4}}]
    return {"runs": [{"machine": MACHINE, "when": "2026-12-01T10:00:00Z", "quick": False,
                      "results": {"recipes": rows, "loader": loader}}]}


def test_recipe_row_from_metrics_json():
    (row,) = _fake_results()["runs"][0]["results"]["recipes"][:1]
    assert row["epochs"] == 3 and row["test_accuracy"] == 0.9831
    assert row["times"]["matgrad"]["median"] == 1.6 and row["times"]["matgrad"]["max"] == 1.7


def test_readme_flag_rewrites_only_the_marked_block(tmp_path):
    results = tmp_path / "figures.json"
    results.write_text(json.dumps(_fake_results()))
    target = tmp_path / "README.md"
    before, after = "# title\n\nintro\n\n", "\n\n## after\n\ntext\n"
    target.write_text(f"{before}{readme.START}\nstale figures\n{readme.END}{after}")
    cmd = [sys.executable, str(BENCH / "run.py"), "--readme", "--from", str(results), "--readme-file", str(target)]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    text = target.read_text()
    assert text.startswith(before + readme.START + "\n") and text.endswith(readme.END + after)
    block = text[text.index(readme.START):text.index(readme.END)]
    assert "stale" not in block
    # the machine: CPU model, cores, NumPy and its SIMD, BLAS name, version and kernel
    assert ("Intel(R) Xeon(R) Test CPU @ 2.00GHz, 16 cores; NumPy 2.4.6 (SIMD X86_V3 X86_V4); "
            "BLAS scipy-openblas 0.3.31.188.0, kernel SkylakeX, 2 threads; PyTorch 2.13.0+cpu, 2026-12-01") in block
    assert "| `mlp`, the seed recipe | MNIST | 3 | **98.31%** | 1.60 |" in block
    assert "| Fashion-MNIST | - | not run: fashion-mnist not found | - |" in block
    assert "| 784-1024-10, batch 256, real MNIST | 0.500 s | 1.00 s | 2.00× (2.50×) |" in block
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert again.returncode == 0 and "already up to date" in again.stdout


def test_readme_without_markers_is_refused(tmp_path):
    target = tmp_path / "README.md"
    target.write_text("# no markers\n")
    with pytest.raises(ValueError, match="figures:start"):
        readme.rewrite(target, "block")
    assert target.read_text() == "# no markers\n"


def test_machine_names_the_blas_and_its_kernel():
    info = machine.describe()
    assert info["cpu"] and info["cores"] >= 1 and info["versions"]["numpy"]
    blas = info["blas_summary"]
    if not blas["name"] or "openblas" not in blas["name"].lower():
        pytest.skip(f"NumPy's BLAS here is {blas['name']!r}, not OpenBLAS")
    assert blas["version"] and blas["architecture"]  # e.g. 0.3.31, Haswell / SkylakeX / Zen
    assert f"kernel {blas['architecture']}" in readme.machine_line(info)
