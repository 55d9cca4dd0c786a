"""Sequence models, one training step: matgrad against PyTorch, each library in its own process.

Three cases (issue 20; vit for issue 19), float32, the same code for both libraries (only the module differs):

- lstm: nn.LSTM(28 → 128, batch_first) over 28 steps of 28 features (row-by-row MNIST), batch
  128, a Linear(128 → 10) head on the last output, cross-entropy, SGD momentum 0.9;
- transformer: nn.TransformerEncoderLayer(d_model 64, 4 heads, feed-forward 256, dropout 0,
  batch_first) over sequences of 16, batch 128, mean-pooled into a Linear(64 → 10) head,
  cross-entropy, SGD momentum 0.9;
- vit: the `vit` recipe's network (matgrad/models/vit.py) written with `lib.nn`: 28×28 images cut into 16
  patches of 7×7, Linear(49 → 64) + a learned position embedding, 4 pre-norm TransformerEncoderLayers
  (64, 4 heads, feed-forward 128, ReLU), LayerNorm, the mean over the tokens, Linear(64 → 10); batch
  128, cross-entropy, AdamW (weight decay 0.05), as the recipe trains it.

A step is zero_grad, forward, loss, backward, optimizer step, and `loss.item()`. As a module,
`bench()` runs `python benchmarks/bench_seq.py --lib L --case C` in a fresh process per library
and round (alternating), each process timing a few steps after warm-up, and takes the median
step. Goal: matgrad within 2× of PyTorch (matgrad/torch <= 2).

    python benchmarks/bench_seq.py [--rounds 2] [--steps 5]     # the comparison
    python benchmarks/bench_seq.py --lib matgrad --case lstm    # one process: JSON per step
"""
from __future__ import annotations

import argparse
import importlib
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
sys.path[:0] = [str(HERE), str(HERE.parent)]

CASES = {
    "lstm": "LSTM step: hidden 128, sequence 28, input 28, batch 128",
    "transformer": "TransformerEncoderLayer step: d_model 64, 4 heads, ff 256, sequence 16, batch 128",
    "vit": "vit recipe step: 16 patches of 7×7, 4 pre-norm layers of d_model 64, batch 128, AdamW",
}
BATCH = 128


def make_step(lib_name: str, case: str, threads: int) -> Callable[[], float]:
    """One training step of `case` in `lib_name` (matgrad or torch), on fixed random data."""
    lib = importlib.import_module(lib_name)
    nn = lib.nn
    lib.set_num_threads(threads)
    lib.manual_seed(0)
    rng = np.random.default_rng(0)
    if case == "lstm":
        x = lib.from_numpy(rng.standard_normal((BATCH, 28, 28), dtype=np.float32))
        rnn, head = nn.LSTM(28, 128, batch_first=True), nn.Linear(128, 10)

        def forward(x: Any) -> Any:
            out, _ = rnn(x)
            return head(out[:, -1])
        params = list(rnn.parameters()) + list(head.parameters())
    elif case == "vit":
        x = lib.from_numpy(rng.random((BATCH, 1, 28, 28), dtype=np.float32))
        embed, head = nn.Linear(49, 64), nn.Linear(64, 10)
        pos = nn.Parameter(lib.from_numpy(rng.normal(0.0, 0.02, (1, 16, 64)).astype(np.float32)))
        layer = nn.TransformerEncoderLayer(64, 4, dim_feedforward=128, dropout=0.0, activation="relu",
                                           batch_first=True, norm_first=True)
        encoder = nn.TransformerEncoder(layer, 4, norm=nn.LayerNorm(64), enable_nested_tensor=False)

        def forward(x: Any) -> Any:
            patches = x.reshape(BATCH, 1, 4, 7, 4, 7).permute(0, 2, 4, 1, 3, 5).reshape(BATCH, 16, 49)
            return head(encoder(embed(patches) + pos).mean(dim=1))
        params = [pos] + list(embed.parameters()) + list(encoder.parameters()) + list(head.parameters())
    else:
        x = lib.from_numpy(rng.standard_normal((BATCH, 16, 64), dtype=np.float32))
        layer = nn.TransformerEncoderLayer(64, 4, dim_feedforward=256, dropout=0.0, batch_first=True)
        head = nn.Linear(64, 10)

        def forward(x: Any) -> Any:
            return head(layer(x).mean(1))
        params = list(layer.parameters()) + list(head.parameters())
    y = lib.from_numpy(rng.integers(0, 10, BATCH).astype(np.int64))
    loss_fn = nn.CrossEntropyLoss()
    opt = (lib.optim.AdamW(params, lr=1e-3, weight_decay=0.05) if case == "vit"
           else lib.optim.SGD(params, lr=0.01, momentum=0.9))

    def step() -> float:
        opt.zero_grad()
        loss = loss_fn(forward(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def time_steps(lib: str, case: str, steps: int, warmup: int, threads: int) -> dict[str, Any]:
    """In this process: `warmup` untimed steps, then `steps` timed one by one."""
    step = make_step(lib, case, threads)
    losses = [step() for _ in range(warmup)]
    secs = []
    for _ in range(steps):
        t0 = time.perf_counter()
        losses.append(step())
        secs.append(time.perf_counter() - t0)
    return {"lib": lib, "case": case, "seconds": secs, "first_loss": losses[0], "threads": threads}


def run_subprocess(lib: str, case: str, steps: int, warmup: int, threads: int) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE / "bench_seq.py"), "--lib", lib, "--case", case, "--steps", str(steps),
           "--warmup", str(warmup), "--threads", str(threads)]
    env = {**os.environ, **{v: str(threads) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                      "MKL_NUM_THREADS")}}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"bench_seq {lib} {case} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench(threads: int | None = None, quick: bool = False, rounds: int | None = None,
          steps: int | None = None) -> list[dict[str, Any]]:
    """One row per case: ms per training step, median [min-max] over every timed step of every round."""
    import matgrad as mg

    threads = threads or mg.get_num_threads()
    libs = ["matgrad"] + (["torch"] if importlib.util.find_spec("torch") else [])
    rounds = rounds or (1 if quick else 2)
    steps = steps or (3 if quick else 5)
    rows = []
    for case, label in CASES.items():
        runs: dict[str, list[dict[str, Any]]] = {lib: [] for lib in libs}
        for r in range(rounds):
            for lib in libs if r % 2 == 0 else reversed(libs):
                res = run_subprocess(lib, case, steps, 2, threads)
                runs[lib].append(res)
                print(f"    {case} {lib} round {r + 1}: median {statistics.median(res['seconds']) * 1e3:.1f} ms "
                      f"(first loss {res['first_loss']:.4f})", flush=True)
        times = {}
        for lib in libs:
            ms = [s * 1e3 for res in runs[lib] for s in res["seconds"]]
            times[lib] = {"median": statistics.median(ms), "min": min(ms), "max": max(ms), "n": len(ms), "number": 1}
        ratios, mins, paired = {}, {}, {}
        if "torch" in times:
            ratios["matgrad/torch"] = times["matgrad"]["median"] / times["torch"]["median"]
            mins["matgrad/torch"] = times["matgrad"]["min"] / times["torch"]["min"]
            paired["matgrad/torch"] = statistics.median(
                statistics.median(a["seconds"]) / statistics.median(b["seconds"])
                for a, b in zip(runs["matgrad"], runs["torch"]))
        rows.append({"name": label, "unit": "ms", "times": times, "ratios": ratios, "ratios_of_min": mins,
                     "ratios_paired": paired, "goal": "matgrad/torch <= 2.0 [issue 20]", "threads": threads})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", choices=["matgrad", "torch"], help="time one library in this process (JSON out)")
    ap.add_argument("--case", choices=sorted(CASES), default="lstm")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.lib:
        threads = args.threads or os.cpu_count() or 1
        print(json.dumps(time_steps(args.lib, args.case, args.steps, args.warmup, threads)))
        return
    import machine
    import readme

    print(f"machine: {readme.machine_line(machine.describe())}")
    for r in bench(args.threads, rounds=args.rounds, steps=args.steps):
        cells = ", ".join(f"{k} {v['median']:.1f} ms [{v['min']:.1f}-{v['max']:.1f}]" for k, v in r["times"].items())
        ratio = f"  matgrad/torch {r['ratios']['matgrad/torch']:.2f}" if r["ratios"] else ""
        print(f"{r['name']}: {cells}{ratio}  (threads {r['threads']})")


if __name__ == "__main__":
    main()
