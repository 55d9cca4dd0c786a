"""OpenBLAS's idle threads: spinning 2^28 cycles after a product (its default) or sleeping after 2^k.

    python benchmarks/bench_blas_timeout.py [--threads 2] [--rounds 7] [--only cnn,mlp32,mlp256] [--k 20]

Each case runs in a fresh process per sample, and the two settings alternate (A B B A ...), so they
share the machine's noise; a process is set up as the `matgrad` command sets up its own (freed memory
kept for reuse), and `timeout` then calls matgrad.threads.set_blas_thread_timeout(k), k = 20 as the
command does for a conv net unless --k says otherwise. The workloads:
  cnn     the cnn recipe's training step (3 × conv-BN-ReLU-pool, AdamW, batch 128: bench_conv.cnn_step)
  mlp32   the seed MLP's step as a user writes it, batch 32 (mlp.py's matgrad step)
  mlp256  the same at batch 256
  lstm, vit  those recipes' training steps (their models, optimizers and batch sizes; random images)
Prints the medians (ms per step) and the median of the per-round ratios timeout/default: below 1, the
timeout helps. It is why `matgrad train` sets it for conv nets and not for MLPs.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_CHILD = r"""
import os, resource, sys, time
setting, case, threads, k = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
# OpenBLAS's own 2^28, said aloud, so that a first convolution keeps it (threads.conv_blas_timeout)
if setting == "default":
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = "28"
if setting == "returned":  # (bench_freed_memory.py's: glibc left as it is, as before matgrad kept freed memory)
    os.environ["MATGRAD_KEEP_FREED_MEMORY"] = "0"
sys.path[:0] = [{here!r}, {root!r}]
import matgrad as mg
from matgrad import threads as mg_threads
from matgrad.memory import keep_freed_memory

mg.set_num_threads(threads)
if setting != "returned":
    keep_freed_memory()
if setting == "timeout" and not mg_threads.set_blas_thread_timeout(k):
    sys.exit("this OpenBLAS does not let its thread timeout be set at run time")
if case == "cnn":
    import bench_conv
    step, number, samples = bench_conv.cnn_step(mg, "matgrad"), 1, 12
elif case in ("lstm", "vit"):
    import numpy as np
    from matgrad import models
    recipe = models.get(case)
    mg.manual_seed(0)
    model = recipe.build((1, 28, 28), 10)
    opt = dict(adam=mg.optim.Adam, adamw=mg.optim.AdamW, sgd=mg.optim.SGD)[recipe.optimizer](
        model.parameters(), lr=recipe.lr)
    rng = np.random.default_rng(0)
    x = mg.from_numpy(rng.random((recipe.batch_size, 1, 28, 28), dtype=np.float32))
    y = mg.from_numpy(rng.integers(0, 10, recipe.batch_size))
    loss_fn = mg.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    number, samples = 1, 12
else:
    import mlp
    batch = int(case[3:])
    spec = mlp.Spec((784, 1024, 10), batch)
    problem = mlp.make_problem(spec)
    step = mlp._cycler(mlp.make_step("matgrad", spec, problem, threads), problem)
    number, samples = max(20, 6000 // batch), 9
for _ in range(3):
    step()
times = []
before = resource.getrusage(resource.RUSAGE_SELF)
for _ in range(samples):
    t = time.perf_counter()
    for _ in range(number):
        step()
    times.append((time.perf_counter() - t) / number)
after = resource.getrusage(resource.RUSAGE_SELF)
steps = samples * number
print(statistics.median(times) * 1e3, (after.ru_minflt - before.ru_minflt) / steps,
      (after.ru_stime - before.ru_stime) / steps * 1e3)
"""


def sample(setting: str, case: str, threads: int, k: int) -> tuple[float, float, float]:
    """(ms per step, minor page faults per step, ms of system time per step) of `case` in a fresh process
    set up as `setting` says: default, timeout, or bench_freed_memory.py's returned and kept."""
    code = "import statistics\n" + _CHILD.format(here=str(HERE), root=str(HERE.parent))
    done = subprocess.run([sys.executable, "-c", code, setting, case, str(threads), str(k)],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{case} ({setting}) failed:\n{done.stderr}")
    ms, faults, sys_ms = map(float, done.stdout.split()[-3:])
    return ms, faults, sys_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", default="cnn,mlp32,mlp256")
    parser.add_argument("--k", type=int, default=20, help="the timeout tried: 2^k cycles (4 to 30)")
    args = parser.parse_args()
    sys.path[:0] = [str(HERE), str(HERE.parent)]
    import machine

    blas = machine.blas_summary()
    print(f"machine: {machine.cpu_model()}; BLAS {blas['name']} {blas['version']}, kernel {blas['architecture']}; "
          f"{args.threads} threads")
    settings = ("default", "timeout")
    for case in args.only.split(","):
        times: dict[str, list[float]] = {s: [] for s in settings}
        for r in range(args.rounds):
            for s in settings if r % 2 == 0 else settings[::-1]:
                times[s].append(sample(s, case, args.threads, args.k)[0])
        paired = statistics.median(t / d for t, d in zip(times["timeout"], times["default"]))
        print(f"  {case}: default {statistics.median(times['default']):.2f} ms, timeout 2^{args.k} "
              f"{statistics.median(times['timeout']):.2f} ms; paired timeout/default {paired:.3f} "
              f"({args.rounds} rounds)")


if __name__ == "__main__":
    main()
