"""Whole epochs the way a user runs them: each library's own data pipeline, model and optimiser.

The `mlp`/`overhead` sections time the step alone, on batches already in memory. A user's
epoch also pays for the library's batching: matgrad's `DataLoader(TensorDataset(X, Y),
batch_size, shuffle=True)` (one fancy-indexing copy per tensor per batch), PyTorch's
identical code (which indexes the dataset sample by sample and stacks: `default_collate`),
and for MyGrad, which has no loader, slices of the arrays by a shuffled index. Issue 6's
reference figures are of this kind. Each loop also reads `loss.item()` once per batch, as a
training loop that reports its loss does.

As a module, `bench()` runs `python benchmarks/user_epoch.py --lib L --config C ...` in a fresh
process per library and round (alternating) and takes medians. As a script it trains one epoch
per config named and prints one JSON line per config: seconds and the epoch's mean loss.
Data: real MNIST where epoch.mnist_files finds it, else random MNIST-shaped float32
(epoch.load_data). All libraries start from the same weights (mlp.make_problem).
"""
from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import epoch  # noqa: E402
import mlp  # noqa: E402

# name: (network and batch, goals: issue 6's (ended) and issue 19's goal 3, which is judged per process, as here)
CONFIGS: dict[str, tuple[mlp.Spec, list[str]]] = {
    "seed-b256": (mlp.Spec(), ["matgrad/torch <= 1.0 [issue 6; issue 19, goal 3]"]),
    "seed-b32": (mlp.Spec(batch=32), ["matgrad/torch <= 0.714 [issue 6]", "matgrad/torch <= 1.0 [issue 19, goal 3]"]),
    "small-b64": (mlp.Spec((784, 128, 10), 64), ["matgrad/torch <= 0.5 [issue 6]"]),
}
LIBS = ("matgrad", "torch", "mygrad")
EPOCH_SAMPLES = 60_000
ROUNDS = 7  # the machine drifts 20-40% between seconds: the paired median needs several rounds

EpochFn = Callable[[], float]  # trains one epoch, returns its mean loss


def user_epoch(lib_name: str, spec: mlp.Spec, x: np.ndarray, y: np.ndarray, p: mlp.Problem,
               threads: int) -> EpochFn:
    """One epoch as a user writes it: the same code for matgrad and PyTorch, only the import differs.

    DataLoader over a TensorDataset (shuffled), nn.Sequential, BCELoss, SGD with momentum.
    """
    lib = importlib.import_module(lib_name)
    data = importlib.import_module(f"{lib_name}.utils.data")

    lib.set_num_threads(threads)
    lib.manual_seed(0)
    model, loss_fn, opt = mlp.seed_model(lib, spec, p)
    loader = data.DataLoader(data.TensorDataset(lib.from_numpy(x), lib.from_numpy(y)),
                             batch_size=spec.batch, shuffle=True)

    def run() -> float:
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item()
        return total / len(loader)

    return run


def mygrad_epoch(spec: mlp.Spec, x: np.ndarray, y: np.ndarray, p: mlp.Problem, threads: int) -> EpochFn:
    """MyGrad has no data loader: its user slices the arrays by a shuffled index (mlp's step)."""
    step = mlp.mygrad_step(spec, p)
    rng = np.random.default_rng(0)

    def run() -> float:
        order = rng.permutation(len(x))
        total, batches = 0.0, 0
        for i in range(0, len(x), spec.batch):
            idx = order[i:i + spec.batch]
            total += step(x[idx], y[idx]).item()  # type: ignore[attr-defined]
            batches += 1
        return total / batches

    return run


EPOCHS = {"matgrad": functools.partial(user_epoch, "matgrad"), "torch": functools.partial(user_epoch, "torch"),
          "mygrad": mygrad_epoch}


def train(lib: str, configs: list[str], samples: int, threads: int) -> list[dict[str, Any]]:
    """Per config, a warm-up epoch, then one timed epoch in this process: its seconds (the loop
    only) and mean loss. The warm-up takes the one-time costs (BLAS thread start, first-touch
    of the optimizer's buffers, lazy initialisation) out of the figure, as later epochs of a
    real run are free of them."""
    x, y, source = epoch.load_data(samples)
    out = []
    for name in configs:
        spec = CONFIGS[name][0]
        run = EPOCHS[lib](spec, x, y, mlp.make_problem(spec), threads)
        run()  # warm-up epoch, untimed
        t0 = time.perf_counter()
        loss = run()
        out.append({"lib": lib, "config": name, "seconds": time.perf_counter() - t0,
                    "mean_loss": loss, "samples": len(x), "data": source})
    return out


def run_subprocess(lib: str, configs: list[str], samples: int, threads: int) -> list[dict[str, Any]]:
    cmd = [sys.executable, str(HERE / "user_epoch.py"), "--lib", lib, "--config", ",".join(configs),
           "--samples", str(samples), "--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"user-style epoch for {lib} failed:\n{proc.stderr[-2000:]}")
    return [json.loads(line) for line in proc.stdout.strip().splitlines() if line.startswith("{")]


def available() -> list[str]:
    """The libraries that can run here (MyGrad is an optional peer)."""
    libs = [lib for lib in LIBS if lib == "matgrad" or importlib.util.find_spec(lib) is not None]
    for lib in set(LIBS) - set(libs):
        print(f"  ({lib} is not installed: its column is left out)")
    return libs


def bench(threads: int, quick: bool = False) -> list[dict[str, Any]]:
    """One row per config: seconds per 60,000-sample epoch, median [min-max] over rounds.

    Full: every (round, config, library) in its own process, 7 rounds. Quick: a tenth of an
    epoch, one round, one process per library running the three configs (scaled ×10). Each
    process warms up with one untimed epoch first.
    """
    libs = available()
    samples, rounds = (6_000, 1) if quick else (EPOCH_SAMPLES, ROUNDS)
    batches = [list(CONFIGS)] if quick else [[c] for c in CONFIGS]
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in range(rounds):
        for configs in batches:
            for lib in libs if r % 2 == 0 else reversed(libs):
                for res in run_subprocess(lib, configs, samples, threads):
                    runs.setdefault((res["config"], lib), []).append(res)
                    print(f"    {res['config']} {lib} round {r + 1}: {res['seconds']:.2f} s "
                          f"(mean loss {res['mean_loss']:.4f})", flush=True)
    scale = EPOCH_SAMPLES / samples
    rows = []
    for name, (spec, goal) in CONFIGS.items():
        times, losses = {}, {}
        for lib in libs:
            secs = [res["seconds"] * scale for res in runs[(name, lib)]]
            times[lib] = {"median": statistics.median(secs), "min": min(secs), "max": max(secs),
                          "n": len(secs), "number": 1}
            losses[lib] = statistics.median(res["mean_loss"] for res in runs[(name, lib)])
        ratios, mins, paired = {}, {}, {}
        for other in libs[1:]:
            ratios[f"matgrad/{other}"] = times["matgrad"]["median"] / times[other]["median"]
            mins[f"matgrad/{other}"] = times["matgrad"]["min"] / times[other]["min"]
            ours, theirs = runs[(name, "matgrad")], runs[(name, other)]  # round r's runs were adjacent
            paired[f"matgrad/{other}"] = statistics.median(a["seconds"] / b["seconds"] for a, b in zip(ours, theirs))
        data = runs[(name, libs[0])][0]["data"]
        label = f"user epoch {spec.label}, {data}" + (f" ({samples} samples ×{scale:.0f})" if quick else "")
        rows.append({"name": label, "unit": "s/epoch", "times": times, "ratios": ratios,
                     "ratios_of_min": mins, "ratios_paired": paired, "goal": goal, "mean_loss": losses})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", required=True, choices=LIBS)
    parser.add_argument("--config", default=",".join(CONFIGS),
                        help=f"comma-separated, out of {', '.join(CONFIGS)}")
    parser.add_argument("--samples", type=int, default=EPOCH_SAMPLES)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    configs = [c for c in args.config.split(",") if c]
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown config(s) {', '.join(unknown)}; choose from {', '.join(CONFIGS)}")
    for res in train(args.lib, configs, args.samples, args.threads):
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
