"""Where the cnn recipe's step spends its time, op by op: matgrad (as `matgrad train` runs it) against PyTorch.

    python benchmarks/profile_cnn.py [--rounds 3] [--steps 10] [--threads 2]

Each library profiles the step of benchmarks/bench_conv.py's `cnn_step` (3 × conv-BN-ReLU-pool, AdamW,
cross-entropy, batch 128) with its own profiler (`matgrad.profiler` / `torch.profiler`, CPU), in a fresh
process per library and round, the libraries alternating. Each op's self time is put in a group (conv,
batch norm, ReLU, max pool; forward or backward; the rest), and each group's ms per step is the median
over the rounds. The step's wall time is measured apart, before the profiler starts. matgrad runs with
the two settings its command makes for a conv net (freed memory kept, OpenBLAS's idle threads asleep
soon: bench_conv.py's `command` case). The profilers cost time of their own, so the groups add up to
more than the wall time; compare the groups with each other, and the libraries group by group.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

GROUPS = ["conv fwd", "conv bwd", "batch norm fwd", "batch norm bwd", "relu fwd", "relu bwd", "max pool fwd",
          "max pool bwd", "rest"]


def group(name: str) -> str:
    """The group of a profiler row, from the op's name in either library (torch's ReLU backward is
    threshold_backward; matgrad's batch norm is Normalize)."""
    n = name.lower()
    if "conv" in n:
        kind = "conv"
    elif "batch_norm" in n or "normalize" in n:
        kind = "batch norm"
    elif "relu" in n or "clamp_min" in n or "threshold" in n:
        kind = "relu"
    elif "pool" in n:
        kind = "max pool"
    else:
        return "rest"
    return f"{kind} {'bwd' if 'backward' in n else 'fwd'}"


def worker(lib_name: str, steps: int, threads: int) -> dict[str, float]:
    """ms per step: each group's self time under the profiler, and the wall time without it."""
    import importlib

    import bench_conv

    lib = importlib.import_module(lib_name)
    lib.set_num_threads(threads)
    if lib_name == "matgrad":
        from matgrad.memory import keep_freed_memory

        keep_freed_memory()
        bench_conv._as_the_command()
    step = bench_conv.cnn_step(lib, lib_name)
    for _ in range(5):
        step()
    walls = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        walls.append(time.perf_counter() - t0)
    prof = lib.profiler.profile(activities=[lib.profiler.ProfilerActivity.CPU])
    with prof:
        for _ in range(steps):
            step()
    out = dict.fromkeys(GROUPS, 0.0)
    for row in prof.key_averages():
        out[group(row.key)] += row.self_cpu_time_total / 1e3 / steps
    out["wall"] = statistics.median(walls) * 1e3
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.steps, args.threads)))
        return
    import machine
    import readme

    import matgrad

    matgrad.set_num_threads(args.threads)  # so that the header names the threads the workers use
    print(f"machine: {readme.machine_line(machine.describe())}", flush=True)
    libs = ["matgrad", "torch"]
    rows: dict[str, list[dict[str, float]]] = {lib: [] for lib in libs}
    for r in range(args.rounds):
        for lib in libs if r % 2 == 0 else reversed(libs):
            cmd = [sys.executable, __file__, "--worker", lib, "--steps", str(args.steps),
                   "--threads", str(args.threads)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            rows[lib].append(json.loads(done.stdout.strip().splitlines()[-1]))
    med = {lib: {k: statistics.median(row[k] for row in rows[lib]) for k in rows[lib][0]} for lib in libs}
    print(f"ms per step, median of {args.rounds} rounds ({args.steps} profiled steps each); self time by group")
    print(f"  {'':16}{'matgrad':>9}{'torch':>9}{'difference':>12}")
    for k in GROUPS + ["profiled, all", "wall (unprofiled)"]:
        if k == "profiled, all":
            a, b = (sum(med[lib][g] for g in GROUPS) for lib in libs)
        elif k == "wall (unprofiled)":
            a, b = med["matgrad"]["wall"], med["torch"]["wall"]
        else:
            a, b = med["matgrad"][k], med["torch"][k]
        print(f"  {k:16}{a:9.1f}{b:9.1f}{a - b:+12.1f}")


if __name__ == "__main__":
    main()
