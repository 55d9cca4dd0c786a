"""Instructions per training step, counted by valgrind's callgrind: the machinery's price, free of the VM's noise.

    python benchmarks/bench_instructions.py [--impls numpy,same,ops,captured,matgrad] [--sizes 784,128,10]
        [--batch 64] [--steps 50] [--diff captured,numpy] [--top 15]

Each of mlp.py's steps (`--impls`) runs in a process of its own under callgrind, twice: 20 warm-up
steps and then none, and 20 warm-up steps and then `--steps` more. The difference, over `--steps`,
is the instructions one step executes, whatever the process did to start (imports, the capture's
two traced calls, the warm-up). One BLAS thread and a fixed hash seed, so that a second thread's
spinning is not counted and two runs execute the same code: counts repeat to within 0.1%.

Instructions are not time. OpenBLAS's sgemm kernel retires several per cycle where the interpreter's
code retires about one, and the interpreter misses the instruction cache more; so a step with 5% more
instructions, all of them Python's, takes more than 5% longer. The counts say where a step's work is,
and how much of it is the machinery around the arithmetic; every speed goal is judged by time
(run.py). `--diff a,b` lists the functions whose instructions per step differ most between two
implementations.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
WARMUP = 20

_CHILD = r"""
import sys
sys.path[:0] = [{here!r}, {root!r}]
import mlp
impl, sizes, batch, n = sys.argv[1], tuple(map(int, sys.argv[2].split(","))), int(sys.argv[3]), int(sys.argv[4])
spec = mlp.Spec(sizes, batch)
p = mlp.make_problem(spec)
step = mlp.make_step(impl, spec, p, 1)
for i in range({warmup} + n):
    step(p.xs[i % mlp.N_BATCHES], p.ys[i % mlp.N_BATCHES])
"""


def count(impl: str, sizes: str, batch: int, steps: int, out: Path) -> int:
    """Run `impl`'s warm-up and `steps` steps under callgrind into `out`; its total instructions."""
    code = _CHILD.format(here=str(HERE), root=str(HERE.parent), warmup=WARMUP)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c", code,
                          impl, sizes, str(batch), str(steps)], env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"bench_instructions: {impl} failed under valgrind:\n{run.stderr[-2000:]}")
    for line in out.read_text(errors="replace").splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise SystemExit(f"bench_instructions: no totals in {out}")


def per_function(path: Path) -> Counter:
    """Instructions per function (exclusive), from callgrind_annotate."""
    text = subprocess.run(["callgrind_annotate", "--threshold=100", str(path)], capture_output=True, text=True).stdout
    found: Counter = Counter()
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(.*?) \[", line)
        if m:
            found[m.group(2).split(":")[-1]] += int(m.group(1).replace(",", ""))
    return found


def _step_functions(base: Path, total: Path, steps: int) -> dict[str, float]:
    """Instructions per step by function: the run with `steps` steps less the run without."""
    before, after = per_function(base), per_function(total)
    return {name: (after[name] - before[name]) / steps for name in after.keys() | before.keys()}


def _sources_stamp() -> tuple[int, float]:
    """(how many, the newest change) of matgrad's and benchmarks' .py files: each count's two processes
    import them anew (parsing them, as bytecode is not always cached), so an edit between the two runs
    is counted as step work (a parser's worth of instructions per step)."""
    files = [*HERE.parent.joinpath("matgrad").rglob("*.py"), *HERE.glob("*.py")]
    return len(files), max(f.stat().st_mtime for f in files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--impls", default="numpy,same,ops,captured,matgrad",
                    help="mlp.py's steps to count (numpy, tuned, same, ops, captured, matgrad, torch)")
    ap.add_argument("--sizes", default="784,128,10")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--diff", default="", help="two of --impls, a,b: the functions that differ most per step")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("bench_instructions: needs valgrind (apt install valgrind); it is not on PATH")
    impls = args.impls.split(",")
    diff = args.diff.split(",") if args.diff else []
    if diff and (len(diff) != 2 or not set(diff) <= set(impls)):
        raise SystemExit(f"bench_instructions: --diff takes two of --impls ({args.impls}), got {args.diff!r}")
    sys.path[:0] = [str(HERE), str(HERE.parent)]
    import machine  # after the checks: it imports NumPy
    import readme

    print(f"machine: {readme.machine_line(machine.describe())} (the counts run with one BLAS thread)", flush=True)
    print(f"MLP {args.sizes.replace(',', '-')}, batch {args.batch}: instructions per step, "
          f"over {args.steps} steps after {WARMUP} (callgrind, one BLAS thread)")
    per_step: dict[str, float] = {}
    stamp = _sources_stamp()
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for impl in impls:
            files[impl] = (Path(tmp) / f"{impl}.0", Path(tmp) / f"{impl}.n")
            base = count(impl, args.sizes, args.batch, 0, files[impl][0])
            total = count(impl, args.sizes, args.batch, args.steps, files[impl][1])
            per_step[impl] = (total - base) / args.steps
            print(f"  {impl:9s} {per_step[impl] / 1e6:8.3f} M", flush=True)
        if _sources_stamp() != stamp:
            print("  WARNING: matgrad's or the benchmarks' sources changed during the run: the counts include "
                  "parsing them anew; count again on a tree nobody edits (a git worktree)")
        first = impls[0]
        print("  ratios to " + first + ": " + ", ".join(
            f"{k} {v / per_step[first]:.3f}" for k, v in per_step.items() if k != first))
        if diff:
            a, b = (_step_functions(*files[impl], args.steps) for impl in diff)
            names = sorted(a.keys() | b.keys(), key=lambda n: -abs(a.get(n, 0) - b.get(n, 0)))
            print(f"\n  per step: {diff[0]}, {diff[1]}, difference (the {args.top} largest)")
            for name in names[:args.top]:
                x, y = a.get(name, 0.0), b.get(name, 0.0)
                print(f"  {x:10.0f} {y:10.0f} {x - y:+10.0f}  {name[:80]}")


if __name__ == "__main__":
    main()
