"""The cnn recipe's step apart from its convolutions: each op's forward + backward at the step's real shapes.

    python benchmarks/bench_cnn_parts.py [--against REV] [--rounds 15] [--threads 1] [--only bn,relu,pool,step]

At batch 128 the cnn's blocks see (128, 32, 28, 28), (128, 64, 14, 14) and (128, 128, 7, 7) float32
activations, laid out as the conv gives them ((C, N, H, W) in memory), and so are their gradients
(a conv's input gradient), but for the last pool's, which comes from Flatten in C order. Per shape: BatchNorm2d in
training (batch_norm forward + backward, running stats updated), ReLU and MaxPool2d(2), each forward
+ backward through the ops; then the whole step (bench_conv.cnn_step). With --against REV that
revision's matgrad is exported next to this one (as benchmarks/ab.py does) and every case alternates
new, old, old, new ... in one process, so both share the machine's noise: prints medians in ms and the
median of the per-round ratios new/old.

    python benchmarks/bench_cnn_parts.py --floor [--rounds 15] [--threads 1]

--floor: per op and shape, the least NumPy work the op needs (the fewest passes over memory that NumPy's
ufuncs and BLAS can do it in, as bare calls on preallocated arrays: no autograd, no allocation, no checks;
see FLOORS), against matgrad's op (forward + backward through the module, interleaved with the floor in
one process) and PyTorch's (BatchNorm2d, ReLU, MaxPool2d on contiguous NCHW tensors, in its own process,
the same thread count). The floor's ufuncs run on one thread: compare it at --threads 1.
"""
from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import bench_conv  # noqa: E402

SHAPES = [(128, 32, 28, 28), (128, 64, 14, 14), (128, 128, 7, 7)]


def _activation(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """A float32 (N, C, H, W) array laid out as a conv's output, (C, N, H, W) in memory."""
    n, c, h, w = shape
    return rng.standard_normal((c, n, h, w), dtype=np.float32).transpose(1, 0, 2, 3)


def _case(lib, what: str, shape: tuple[int, ...]) -> Callable[[], None]:
    """forward + backward of one op of the cnn's blocks in `lib`, on fresh-looking but fixed data."""
    rng = np.random.default_rng(0)
    x = lib.from_numpy(_activation(shape, rng)).requires_grad_()  # (lib.tensor would copy it to C order)
    dy_shape = shape if what != "pool" else shape[:2] + (shape[2] // 2, shape[3] // 2)
    dy = _activation(dy_shape, rng)
    if what == "pool" and shape[2] < 14:  # the last pool's gradient comes from Flatten: in C order
        dy = np.ascontiguousarray(dy)
    dy = lib.from_numpy(dy)
    if what == "bn":
        mod = lib.nn.BatchNorm2d(shape[1])
    elif what == "relu":
        mod = lib.nn.ReLU()
    elif what == "pool":
        mod = lib.nn.MaxPool2d(2)
    else:
        raise ValueError(what)

    def step() -> None:
        x.grad = None
        for p in mod.parameters():
            p.grad = None
        mod(x).backward(dy)
    return step


def _time(fn: Callable[[], None], reps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


# --- --floor: the least NumPy work, matgrad's and PyTorch's --------------------------------------------------
#: What each floor row times, as passes over memory (R: a BLAS read-only pass, the per-channel sums; E: an
#: elementwise ufunc pass; S: a strided one, every other element of every other row).
FLOORS = {
    "bn": "fwd: Σx, Σx² (2R), x·scale (E), +shift (E); bwd: Σdy, Σdy·x (2R), dx = (dy - (x·a + b))·c (4E): 4R + 6E",
    "relu": "fwd: clip(x, 0, inf) (E); bwd: y > 0 (E, bool), dy·mask (E, casting): 3E",
    "pool": "fwd: y = max of the four pixels (3S; no winner kept); bwd: dx's row pairs = dy·factor (2E, complex "
            "views, the factors given): 3S + 2E",
}


def _floor_case(what: str, shape: tuple[int, ...]) -> Callable[[], None]:
    """The bare NumPy calls of FLOORS[what] at `shape` (laid out as the conv gives it), on preallocated arrays."""
    rng = np.random.default_rng(0)
    n, c, h, w = shape
    x = _activation(shape, rng)
    if what == "bn":
        x2 = x.transpose(1, 0, 2, 3).reshape(c, -1)  # (C, N·H·W): a view, the conv's layout
        dy2 = _activation(shape, rng).transpose(1, 0, 2, 3).reshape(c, -1)
        y2, dx2 = np.empty_like(x2), np.empty_like(x2)
        ones = np.ones(x2.shape[1], x2.dtype)
        k = [rng.standard_normal((c, 1), dtype=np.float32) for _ in range(5)]

        def step() -> None:
            x2 @ ones
            [row @ row for row in x2]  # BLAS row dots, one pass
            np.multiply(x2, k[0], out=y2)
            np.add(y2, k[1], out=y2)
            dy2 @ ones
            [a @ b for a, b in zip(dy2, x2)]
            np.multiply(x2, k[2], out=dx2)
            np.add(dx2, k[3], out=dx2)
            np.subtract(dy2, dx2, out=dx2)
            np.multiply(dx2, k[4], out=dx2)
        return step
    if what == "relu":
        dy = _activation(shape, rng)
        y, mask, dx = np.empty_like(x), np.empty_like(x, dtype=bool), np.empty_like(x)

        def step() -> None:
            np.clip(x, 0, np.inf, out=y)
            np.greater(y, 0, out=mask)
            np.multiply(dy, mask, dtype=dy.dtype, out=dx)
        return step
    if what == "pool":
        ho, wo = h // 2, w // 2
        y = np.empty_like(x, shape=(n, c, ho, wo))
        dy = _activation((n, c, ho, wo), rng)
        dx = np.empty_like(x)
        cx = np.complex64
        factors = [np.array([1, 1j, 0, 0], cx).take(rng.integers(0, 4, y.shape)) for _ in range(2)]
        a, b = x[:, :, 0:2 * ho:2, 0:2 * wo:2], x[:, :, 0:2 * ho:2, 1:2 * wo:2]
        cc, d = x[:, :, 1:2 * ho:2, 0:2 * wo:2], x[:, :, 1:2 * ho:2, 1:2 * wo:2]
        rows = [dx[:, :, r:2 * ho:2, :2 * wo].view(cx) for r in (0, 1)]

        def step() -> None:
            np.maximum(a, b, out=y)
            np.maximum(y, cc, out=y)
            np.maximum(y, d, out=y)
            np.multiply(dy, factors[0], out=rows[0])
            np.multiply(dy, factors[1], out=rows[1])
        return step
    raise ValueError(what)


_TORCH = r"""
import json, statistics, sys, time
import torch
threads, rounds, shapes, whats = json.loads(sys.argv[1])
torch.set_num_threads(threads)
out = {}
for what in whats:
    for shape in shapes:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(*shape, generator=g).requires_grad_()
        mod = {"bn": lambda: torch.nn.BatchNorm2d(shape[1]), "relu": torch.nn.ReLU,
               "pool": lambda: torch.nn.MaxPool2d(2)}[what]()
        dy = torch.randn(*mod(x).shape, generator=g)
        def step():
            x.grad = None
            for p in mod.parameters():
                p.grad = None
            mod(x).backward(dy)
        step(); step()
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter(); step(); times.append((time.perf_counter() - t0) * 1e3)
        out[f"{what} {tuple(shape)}"] = statistics.median(times)
print(json.dumps(out))
"""


def _torch_times(threads: int, rounds: int, whats: list[str]) -> dict[str, float]:
    """PyTorch's medians (ms) for each op and shape, from a process of its own; {} without torch."""
    import json
    import subprocess

    try:
        run = subprocess.run([sys.executable, "-c", _TORCH, json.dumps([threads, rounds, SHAPES, whats])],
                             capture_output=True, text=True, check=True)
    except subprocess.CalledProcessError as e:
        print(f"  (PyTorch: {e.stderr.strip().splitlines()[-1] if e.stderr.strip() else e})")
        return {}
    return json.loads(run.stdout)


def floor(threads: int, rounds: int, whats: list[str]) -> None:
    """Print, per op and shape: the floor (FLOORS), matgrad's and PyTorch's fwd+bwd, medians in ms."""
    import matgrad

    theirs = _torch_times(threads, rounds, whats)
    print(f"{threads} thread(s), {rounds} rounds; ms per forward + backward, median; matgrad/floor: median of "
          "per-round ratios (floor and matgrad interleaved in one process; PyTorch in its own)")
    print(f"  {'':28s} {'floor':>7s} {'matgrad':>8s} {'torch':>7s} {'matgrad/floor':>14s} {'torch/floor':>12s}")
    sums = {"floor": 0.0, "matgrad": 0.0, "torch": 0.0}
    for what in whats:
        for shape in SHAPES:
            label = f"{what} {shape}"
            fns = {"floor": _floor_case(what, shape), "matgrad": _case(matgrad, what, shape)}
            for fn in fns.values():
                fn()
                fn()
            times: dict[str, list[float]] = {k: [] for k in fns}
            for r in range(rounds):
                for k in (fns if r % 2 else list(fns)[::-1]):
                    times[k].append(_time(fns[k], 1) * 1e3)
            med = {k: statistics.median(v) for k, v in times.items()}
            ratio = statistics.median([a / b for a, b in zip(times["matgrad"], times["floor"])])
            t = theirs.get(f"{what} {tuple(shape)}", float("nan"))
            sums["floor"] += med["floor"]
            sums["matgrad"] += med["matgrad"]
            sums["torch"] += t
            print(f"  {label:28s} {med['floor']:7.2f} {med['matgrad']:8.2f} {t:7.2f} {ratio:14.2f}"
                  f" {t / med['floor']:12.2f}", flush=True)
    print(f"  {'sum':28s} {sums['floor']:7.2f} {sums['matgrad']:8.2f} {sums['torch']:7.2f}")
    print("  passes counted by each floor row:")
    for what in whats:
        print(f"    {what}: {FLOORS[what]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="an earlier revision to compare with (exported as ab.py does)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", default="bn,relu,pool,step", help="comma-separated: bn, relu, pool, step")
    parser.add_argument("--floor", action="store_true", help="the least NumPy work per op, matgrad's, PyTorch's")
    args = parser.parse_args()

    import matgrad

    matgrad.set_num_threads(args.threads)
    if args.floor:
        floor(args.threads, args.rounds, [w for w in args.only.split(",") if w in FLOORS])
        return
    libs = ["matgrad"]
    with tempfile.TemporaryDirectory() as tmp:
        if args.against:
            import ab

            name = ab.export_old(args.against, Path(tmp))
            sys.path.insert(0, tmp)
            importlib.import_module(name)
            libs.append(name)
        only = args.only.split(",")
        cases: list[tuple[str, Callable[[str], Callable[[], None]], int]] = []
        for what in ("bn", "relu", "pool"):
            if what in only:
                for shape in SHAPES:
                    cases.append((f"{what} {shape}",
                                  lambda lib, w=what, s=shape: _case(importlib.import_module(lib), w, s), 5))
        if "step" in only:
            cases.append(("cnn step b128", lambda lib: bench_conv.cnn_step(importlib.import_module(lib), lib), 1))
        print(f"{args.threads} thread(s), {args.rounds} rounds; ms per forward + backward, median"
              + (f"; new/old: median of per-round ratios against {libs[1]}" if len(libs) > 1 else ""))
        for label, make, reps in cases:
            fns = {lib: make(lib) for lib in libs}
            for fn in fns.values():
                fn()
                fn()
            times: dict[str, list[float]] = {lib: [] for lib in libs}
            for r in range(args.rounds):
                for lib in (libs if r % 2 else libs[::-1]):
                    times[lib].append(_time(fns[lib], reps) * 1e3)
            line = f"  {label:28s} new {statistics.median(times['matgrad']):7.2f}"
            if len(libs) > 1:
                ratio = [a / b for a, b in zip(times["matgrad"], times[libs[1]])]
                line += (f"  old {statistics.median(times[libs[1]]):7.2f}  new/old {statistics.median(ratio):.3f}"
                         f" (faster in {sum(q < 1 for q in ratio)}/{len(ratio)})")
            print(line, flush=True)


if __name__ == "__main__":
    main()
