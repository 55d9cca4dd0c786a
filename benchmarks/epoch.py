"""A full training epoch of the seed recipe (or the cnn recipe's network), each run in its own process, with
peak memory.

As a module, `bench()` runs `python benchmarks/epoch.py --lib L ...` for each library in
turn (alternating, several rounds) and takes medians. As a script it trains one epoch
and prints one JSON line: the epoch's seconds and the process's memory:
  peak_rss_mb      the whole process's peak resident memory (the kernel's VmHWM): imports,
                   data, and training together. (getrusage's ru_maxrss is reported too, but
                   Linux carries it over exec from the parent, so it can be the parent's.)
  base_rss_mb      resident memory just before training (imports, data and model loaded)
  train_peak_mb    the peak while training alone, minus base_rss_mb: what the training
                   itself costs (the kernel's VmHWM counter is reset before the epoch)
Data: the real MNIST training set where the tests find it (mnist_files: $MATGRAD_DATA, the
data folder beside the repo, the user cache, /usr/share/datasets), else 60,000 × 784 random
float32 with random one-hot labels (same shapes, same work).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
TRAIN_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")


def mnist_files() -> tuple[Path, Path] | None:
    """MNIST's training images and labels (.gz or raw), looked for as the tests look.

    Not through matgrad.data: importing matgrad would add to the memory of the PyTorch and
    NumPy processes this module measures.
    """
    roots = [Path(os.environ["MATGRAD_DATA"])] if os.environ.get("MATGRAD_DATA") else []
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "matgrad"
    roots += [HERE.parent.parent / "shared" / "data", cache, Path("/usr/share/datasets")]
    for root in roots:
        for folder in (root / "mnist", root):
            found = [next((p for p in (folder / s, folder / (s + ".gz")) if p.is_file()), None) for s in TRAIN_FILES]
            if all(found):
                return found[0], found[1]
    return None


def _read(path: Path, offset: int) -> np.ndarray:
    with (gzip.open(path) if path.suffix == ".gz" else open(path, "rb")) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load_data(samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """(X float32 in [0, 1], one-hot Y float32, source name), `samples` rows."""
    files = mnist_files()
    rng = np.random.default_rng(seed)
    if files is not None:
        raw = _read(files[0], 16).reshape(-1, 784)[:samples]
        y = _read(files[1], 8)[:samples]
        x = np.multiply(raw, np.float32(1 / 255), dtype=np.float32)
        del raw
        source = "mnist"
    else:
        x = rng.random((samples, 784), dtype=np.float32)
        y = rng.integers(0, 10, samples)
        source = "random"
    onehot = np.zeros((len(y), 10), np.float32)
    onehot[np.arange(len(y)), y] = 1
    return x, onehot, source


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM), so the training's own peak can be read."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _cnn_step(lib: str, threads: int) -> Any:
    """The cnn recipe's network (bench_conv's, the same in torch.nn), AdamW and cross-entropy: step(x, onehot)."""
    import importlib

    import bench_conv

    mod = importlib.import_module(lib)
    mod.set_num_threads(threads)
    mod.manual_seed(0)
    model = (bench_conv._torch_cnn(mod) if lib == "torch"
             else importlib.import_module(f"{lib}.models.cnn").build_cnn((1, 28, 28), 10))
    opt = mod.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = mod.nn.CrossEntropyLoss()

    def step(x: np.ndarray, y: np.ndarray) -> None:
        opt.zero_grad()
        loss = loss_fn(model(mod.from_numpy(x.reshape(-1, 1, 28, 28))), mod.from_numpy(y.argmax(1)))
        loss.backward()
        opt.step()
    return step


def train_one_epoch(lib: str, batch: int, samples: int, threads: int, model: str = "mlp") -> dict[str, object]:
    """Build the seed model (or the cnn) in `lib`, train one shuffled epoch, measure time and memory."""
    sys.path.insert(0, str(HERE))
    import mlp

    x, y, source = load_data(samples)
    if model == "cnn":
        step = _cnn_step(lib, threads)
    else:
        spec = mlp.Spec(batch=batch)
        step = mlp.make_step(lib, spec, mlp.make_problem(spec), threads)
    order = np.random.default_rng(1).permutation(len(x))
    base = _status_mb("VmRSS")
    setup_peak = _status_mb("VmHWM")  # imports + data + model
    reset = _reset_peak()
    t0 = time.perf_counter()
    for i in range(0, len(x), batch):
        idx = order[i : i + batch]
        step(x[idx], y[idx])
    seconds = time.perf_counter() - t0
    return {
        "lib": lib, "model": model, "seconds": seconds, "samples": len(x), "data": source,
        "peak_rss_mb": max(setup_peak, _status_mb("VmHWM")),
        "base_rss_mb": base,
        "train_peak_mb": _status_mb("VmHWM") - base if reset else float("nan"),
        # Linux keeps ru_maxrss across exec, so it can be the parent's peak: shown, not used.
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_subprocess(lib: str, batch: int, samples: int, threads: int, model: str = "mlp") -> dict[str, object]:
    """One epoch in a fresh interpreter, so each library's memory is its own."""
    cmd = [sys.executable, str(HERE / "epoch.py"), "--lib", lib, "--batch", str(batch),
           "--samples", str(samples), "--threads", str(threads), "--model", model]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"epoch run for {lib} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench(libs: list[str], threads: int, quick: bool = False, batch: int = 256, model: str = "mlp",
          samples: int | None = None) -> list[dict[str, object]]:
    """Rows: epoch seconds, whole-process peak and training peak (MB), medians over rounds."""
    samples, rounds = (6_000, 1) if quick else (samples or 60_000, 3)
    runs: dict[str, list[dict[str, object]]] = {lib: [] for lib in libs}
    for r in range(rounds):
        for lib in libs if r % 2 == 0 else reversed(libs):
            runs[lib].append(run_subprocess(lib, batch, samples, threads, model))
            print(f"    epoch {lib} round {r + 1}: {runs[lib][-1]['seconds']:.2f} s", flush=True)
    rows = []
    data = runs[libs[0]][0]["data"]
    for key, unit, label in (("seconds", "s", "epoch"), ("peak_rss_mb", "MB", "peak RSS (process)"),
                             ("train_peak_mb", "MB", "peak RSS (training only)")):
        times = {}
        for lib, rs in runs.items():
            values = [float(r[key]) for r in rs]  # type: ignore[arg-type]
            times[lib] = {"median": statistics.median(values), "min": min(values), "max": max(values),
                          "n": len(values), "number": 1}
        ratios = {f"matgrad/{o}": times["matgrad"]["median"] / times[o]["median"]
                  for o in libs if o != "matgrad" and "matgrad" in times and times[o]["median"]}
        name = f"{label} b{batch}, {samples} {data} samples" + (", cnn" if model == "cnn" else "")
        rows.append({"name": name, "unit": unit,
                     "times": times, "ratios": ratios})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", required=True, choices=["matgrad", "torch", "numpy"])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp",
                        help="cnn: the cnn recipe's network with AdamW (matgrad and torch only)")
    args = parser.parse_args()
    print(json.dumps(train_one_epoch(args.lib, args.batch, args.samples, args.threads, args.model)))


if __name__ == "__main__":
    main()
