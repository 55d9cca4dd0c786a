"""What a change bought: this checkout's training step against an earlier revision's, in one process.

    python benchmarks/ab.py REV [--threads N] [--rounds R]

Timing two versions in separate processes on a shared machine mostly measures the machine:
its speed drifts by tens of percent over seconds. Here the earlier revision's `matgrad`
package is exported (`git archive`) and imported under another name, `matgrad_<rev>`, next to
this checkout's `matgrad`; both build the same seed-recipe step from the same weights and
batches (mlp.user_step), and short samples of each alternate, A B B A ..., so both share
every moment's noise. Both models are built anew every round, so where their arrays land in
memory (which moved a whole run's ratio by up to ~2% when each was built once) varies and
averages out. Prints, per configuration, each side's median µs per step and the median of
the per-round ratios new/old (< 1: this checkout is faster), with how many rounds it won.
"""
from __future__ import annotations

import argparse
import importlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

import bench_conv  # noqa: E402
import bench_seq  # noqa: E402
import mlp  # noqa: E402

CONFIGS = {
    "784-1024-10 b256": mlp.Spec(),
    "784-1024-10 b32": mlp.Spec(batch=32),
    "784-1024-10 b16": mlp.Spec(batch=16),
    "784-128-10 b64": mlp.Spec((784, 128, 10), 64),
    "8-8-4 b2 (overhead only)": mlp.Spec((8, 8, 4), 2),
}


def export_old(rev: str, into: Path) -> str:
    """Unpack `rev`'s matgrad/ as the package matgrad_<rev> under `into`; return its name."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    name = f"matgrad_{sha}"
    blob = subprocess.run(["git", "archive", "--format=tar", sha, "matgrad"], cwd=ROOT, check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    shutil.move(str(into / "matgrad"), str(into / name))
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the earlier revision (a commit, tag or branch)")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (default: as set)")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--cnn", action="store_true", help="also the cnn recipe's step (batch 128)")
    parser.add_argument("--seq", action="store_true",
                        help="also bench_seq.py's steps (an LSTM, a Transformer encoder layer and the vit recipe's "
                             "network, batch 128)")
    parser.add_argument("--only-extra", action="store_true", help="with --cnn or --seq: leave out the MLP steps")
    args = parser.parse_args()

    import matgrad

    if args.threads:
        matgrad.set_num_threads(args.threads)
    threads = matgrad.get_num_threads()
    with tempfile.TemporaryDirectory() as tmp:
        old_name = export_old(args.rev, Path(tmp))
        sys.path.insert(0, tmp)
        old = importlib.import_module(old_name)  # its own imports are relative: it stands alone
        if Path(matgrad.__file__).resolve().parent != ROOT / "matgrad":
            sys.exit(f"this checkout's matgrad is shadowed by {matgrad.__file__}; run from a venv without it")
        print(f"matgrad ({Path(matgrad.__file__).parent}) against {old_name} ({Path(old.__file__).parent}), "
              f"{threads} BLAS thread(s), {args.rounds} rounds; µs per step, median")
        configs: dict[str, mlp.Spec | str] = {} if args.only_extra else dict(CONFIGS)
        if args.cnn:
            configs["cnn b128 (AdamW)"] = "cnn"
        if args.seq:
            configs["lstm b128 (SGD)"] = "lstm"
            configs["transformer layer b128 (SGD)"] = "transformer"
            configs["vit recipe b128 (AdamW)"] = "vit"
        for label, spec in configs.items():
            libs = ("matgrad", old_name)
            if spec == "cnn":
                def build(lib: str) -> Callable[[], None]:
                    return bench_conv.cnn_step(importlib.import_module(lib), lib)
                reps = 2
            elif isinstance(spec, str):
                def build(lib: str, case: str = spec) -> Callable[[], None]:
                    return bench_seq.make_step(lib, case, threads)
                reps = 3
            else:
                p = mlp.make_problem(spec)

                def build(lib: str, spec: mlp.Spec = spec, p: mlp.Problem = p) -> Callable[[], None]:
                    return mlp._cycler(mlp.user_step(lib, spec, p, threads), p)
                reps = max(5, int(0.05 / (spec.batch * 2e-6 + 5e-5)))  # samples of about 50 ms
            times: dict[str, list[float]] = {lib: [] for lib in libs}
            for r in range(args.rounds + 2):
                # Both steps are built anew every round: where a model's arrays land in memory moves
                # a step's time by up to ~2% for a whole run; new arrays each round average that out.
                steps = {lib: build(lib) for lib in libs}
                for step in steps.values():
                    step()  # the first step allocates what the later ones reuse
                    step()
                order = list(steps) if r % 2 else list(steps)[::-1]
                for lib in order:
                    t0 = time.perf_counter()
                    for _ in range(reps):
                        steps[lib]()
                    if r >= 2:  # two warm-up rounds
                        times[lib].append((time.perf_counter() - t0) / reps * 1e6)
                del steps
            new, old = np.array(times["matgrad"]), np.array(times[old_name])
            ratio = new / old
            print(f"  {label:26s} new {np.median(new):8.1f}  old {np.median(old):8.1f}  "
                  f"new/old {np.median(ratio):.3f} (faster in {(ratio < 1).sum()}/{len(ratio)} rounds)")


if __name__ == "__main__":
    main()
