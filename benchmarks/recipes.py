"""The recipes as a user trains them: `matgrad train --model M --dataset D`, test accuracy and seconds per epoch.

Each (recipe, dataset) pair trains in a fresh process with the recipe's defaults and seed 0,
into a temporary run folder; its metrics.json gives the final test accuracy and each epoch's
seconds (training plus the pass over the test set). These are the README's headline figures.

Data: found as `matgrad train` finds it ($MATGRAD_DATA, the user cache, /usr/share/datasets),
or in the data folder beside the repository (../shared/data), or --data DIR.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BESIDE_REPO = REPO.parent / "shared" / "data"

# (recipe, dataset): the README's rows
RUNS = (("mlp", "mnist"), ("mlp-best", "mnist"), ("mlp-best", "fashion-mnist"),
        ("cnn", "mnist"), ("cnn", "fashion-mnist"), ("lstm", "mnist"), ("vit", "mnist"))
QUICK_LIMIT = 6_000


def data_dir(name: str, given: str | os.PathLike | None = None) -> Path | None:
    """--data DIR if given; else None when matgrad finds `name` itself; else the folder beside the repo."""
    if given is not None:
        return Path(given)
    try:
        from matgrad.data import DatasetNotFound, locate
        try:
            locate(name, train=True)
            return None
        except DatasetNotFound:
            pass
    except ImportError:  # pragma: no cover - run from elsewhere
        pass
    return BESIDE_REPO if (BESIDE_REPO / name).is_dir() else None


def command(model: str, dataset: str, out: Path, data: Path | None, quick: bool) -> list[str]:
    cmd = [sys.executable, "-m", "matgrad", "train", "--model", model, "--dataset", dataset,
           "--seed", "0", "--out", str(out), "--no-progress"]
    if data is not None:
        cmd += ["--data", str(data)]
    if quick:
        cmd += ["--limit", str(QUICK_LIMIT), "--epochs", "1"]
    return cmd


def summarize(model: str, dataset: str, metrics: dict[str, Any], quick: bool) -> dict[str, Any]:
    """One row from a run's metrics.json: final test accuracy, seconds per epoch median [min-max]."""
    epochs = metrics["epochs"]
    secs = [e["seconds"] for e in epochs]
    return {
        "name": f"{model} / {dataset}" + (f" (quick: {QUICK_LIMIT} samples, 1 epoch)" if quick else ""),
        "unit": "s/epoch", "model": model, "dataset": dataset, "epochs": len(epochs),
        "test_accuracy": epochs[-1]["test_accuracy"],
        "times": {"matgrad": {"median": statistics.median(secs), "min": min(secs), "max": max(secs),
                              "n": len(secs), "number": 1}},
        "ratios": {},
    }


def bench(threads: int, quick: bool = False, data: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """One row per (recipe, dataset); a pair whose data is missing gets a row saying so."""
    rows = []
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    for model, dataset in RUNS:
        with tempfile.TemporaryDirectory(prefix="matgrad-recipe-") as tmp:
            out = Path(tmp) / "run"
            cmd = command(model, dataset, out, data_dir(dataset, data), quick)
            t0 = time.perf_counter()
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp)
            wall = time.perf_counter() - t0
            metrics_file = out / "metrics.json"
            if done.returncode != 0 or not metrics_file.exists():
                reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                print(f"    {model} / {dataset}: skipped ({reason[0]})", flush=True)
                rows.append({"name": f"{model} / {dataset}", "unit": "s/epoch", "model": model,
                             "dataset": dataset, "times": {}, "ratios": {}, "skipped": reason[0]})
                continue
            metrics = json.loads(metrics_file.read_text())
            trained_on = metrics.get("config", {}).get("dataset", dataset)
            if trained_on != dataset:  # a fallback (e.g. to digits) is not the figure asked for
                print(f"    {model} / {dataset}: skipped (trained on {trained_on})", flush=True)
                rows.append({"name": f"{model} / {dataset}", "unit": "s/epoch", "model": model,
                             "dataset": dataset, "times": {}, "ratios": {},
                             "skipped": f"{dataset} not found (trained on {trained_on})"})
                continue
            row = summarize(model, dataset, metrics, quick)
        row["wall_seconds"] = wall
        print(f"    {row['name']}: {row['test_accuracy']:.2%} after {row['epochs']} epochs, "
              f"{row['times']['matgrad']['median']:.1f} s/epoch", flush=True)
        rows.append(row)
    return rows
