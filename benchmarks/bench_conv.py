"""Conv2d on the `cnn` recipe's layers: matgrad's stride-1 path against its im2col path and PyTorch.

The cnn recipe's three convolutions (batch 128, 3×3, padding 1, no bias): 1→32 on 28×28,
32→64 on 14×14, 64→128 on 7×7, and 32→64 on 28×28 (issue 19's layer). Each forward alone
and forward + backward (the input's gradient too, except for the first layer, as in the
network); then the whole recipe step (3 × conv-BN-ReLU-pool, linear, cross-entropy, AdamW).

Every library runs in its own process, alternately (A B B A ...), each sample long enough to
time; PyTorch's OpenMP threads and NumPy's BLAS threads would otherwise fight over the cores.
Both use the same number of threads. Cases:
  matgrad  as a user calls it (shifted products at stride 1, matgrad/ops/conv.py; on several threads the first
           convolution has OpenBLAS's idle threads sleep after 2^20 cycles, threads.conv_blas_timeout; from the
           first backward pass, freed memory kept for reuse, memory.keep_for_training)
  im2col   matgrad with the stride-1 path turned off (the general im2col path)
  torch    torch.nn.functional.conv2d, or the same network in torch.nn
  command  the cnn step only: matgrad as the `matgrad` command runs it, with freed memory kept for reuse
           (matgrad.keep_freed_memory(), its own process: the setting is the process's), subnormal floats
           flushed to zero (matgrad.set_flush_denormal) and, on several threads, OpenBLAS's idle threads put to
           sleep after 2^20 cycles (threads.set_blas_thread_timeout)
  old      with --against REV: that revision's matgrad (as benchmarks/ab.py exports it)
  gemm     a bound, not a conv: the layer's products alone, each as ONE NumPy matmul on operands already laid
           out (im2col's shapes: Y₂ = W₂·cols, dcols = W₂ᵀ·dY₂, dW₂ = dY₂·colsᵀ; for the cnn step, its three
           layers' products). No conv written with NumPy does fewer or larger products, so where gemm/torch > 1
           PyTorch's conv is faster than NumPy's BLAS can multiply, and no NumPy code can reach it.
  floor    a bound on the whole cnn step, not a step: `gemm`'s products for its three convolutions, then at each
           block's shape the least NumPy work of BatchNorm, ReLU and 2×2 max-pooling, forward + backward
           (bench_cnn_parts.py --floor: the fewest passes over memory, on preallocated arrays), of one thread's
           share of the channels only (1/threads of them), as if the shares ran side by side at no cost. No layout
           copy, allocation, loss, linear layer or optimizer: a NumPy step takes longer than this, so where
           floor/torch ≥ 1 no NumPy code reaches PyTorch's step.
Goal (issue 19): matgrad within 1.0× of PyTorch.

    python benchmarks/bench_conv.py [--repeats 7] [--quick] [--against HEAD] [--json]
"""
from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from timing import Stats, row  # noqa: E402

LAYERS = [(128, 1, 32, 28), (128, 32, 64, 14), (128, 64, 128, 7), (128, 32, 64, 28)]  # (batch, in, out, size)
#: What a case's library name imports as.
_LIBS = {"im2col": "matgrad", "command": "matgrad", "gemm": "matgrad", "floor": "matgrad"}
PAUSE_S = 0.15  # between two processes' samples: the last one's idle threads stop spinning first


# --- what runs inside a worker process -----------------------------------------------------
def _layer_step(lib: Any, n: int, cin: int, cout: int, size: int, backward: bool) -> Callable[[], None]:
    """One conv2d forward (and backward) in `lib`: matgrad, an exported matgrad, or torch."""
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((n, cin, size, size), dtype=np.float32), requires_grad=backward and cin > 1)
    w = lib.tensor(rng.standard_normal((cout, cin, 3, 3), dtype=np.float32) * np.float32(0.1),
                   requires_grad=backward)

    def step() -> None:
        x.grad = w.grad = None
        y = lib.nn.functional.conv2d(x, w, None, padding=1)
        if backward:
            y.backward(lib.ones_like(y))
    return step


def _torch_cnn(torch: Any) -> Any:
    """matgrad.models.cnn's network, in torch.nn."""
    nn, layers, c = torch.nn, [], 1
    for out in (32, 64, 128):
        layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(), nn.MaxPool2d(2)]
        c = out
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 3 * 3, 10))


def cnn_step(lib: Any, name: str, batch: int = 128) -> Callable[[], None]:
    """One training step of the cnn recipe's network: AdamW, cross-entropy, a fixed batch."""
    lib.manual_seed(0)
    if name == "torch":
        model = _torch_cnn(lib)
    else:
        model = importlib.import_module(f"{lib.__name__}.models.cnn").build_cnn((1, 28, 28), 10)
    opt = lib.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    rng = np.random.default_rng(0)
    x = lib.from_numpy(rng.random((batch, 1, 28, 28), dtype=np.float32))
    y = lib.from_numpy(rng.integers(0, 10, batch))
    loss_fn = lib.nn.CrossEntropyLoss()

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def _products(layers: list[tuple[int, int, int, int, str]]) -> Callable[[], None]:
    """The layers' matrix products alone, as single NumPy matmuls on preallocated operands (the `gemm` bound).

    Each layer is (batch, in, out, size, products), products naming which of Y₂ = W₂·cols ("y"),
    dW₂ = dY₂·colsᵀ ("w") and dcols = W₂ᵀ·dY₂ ("x") to run, in float32 with im2col's shapes (3×3,
    padding 1: as many output pixels as input pixels).
    """
    rng = np.random.default_rng(0)
    calls = []
    for n, cin, cout, size, products in layers:
        m, k = n * size * size, cin * 9
        w2, cols = rng.standard_normal((cout, k), dtype=np.float32), rng.standard_normal((k, m), dtype=np.float32)
        dy2 = rng.standard_normal((cout, m), dtype=np.float32)
        made = {"y": (w2, cols, np.empty((cout, m), np.float32)), "w": (dy2, cols.T, np.empty((cout, k), np.float32)),
                "x": (w2.T, dy2, np.empty((k, m), np.float32))}
        calls += [made[p] for p in products]

    def step() -> None:
        for a, b, out in calls:
            np.matmul(a, b, out=out)
    return step


def _floor_step() -> Callable[[], None]:
    """The `floor` case: the cnn step's conv products, then one thread's share of BatchNorm's, ReLU's and pooling's
    least NumPy work at each block's shape (a slice of the channels, on arrays of its own)."""
    import bench_cnn_parts

    import matgrad

    products = _products([(128, c, o, size, "ywx" if c > 1 else "yw") for _, c, o, size in LAYERS[:3]])
    ways = matgrad.get_num_threads()
    share = [bench_cnn_parts._floor_case(what, (n, c // ways, h, w))
             for n, c, h, w in bench_cnn_parts.SHAPES for what in ("bn", "relu", "pool")]

    def step() -> None:
        products()
        for fn in share:
            fn()
    return step


def _general_path(fn: Callable[[], None]) -> Callable[[], None]:
    """fn with matgrad's stride-1 conv path turned off, so every conv takes im2col."""
    from matgrad.ops import conv

    def step() -> None:
        saved, conv._MIN_CHANNELS = conv._MIN_CHANNELS, 1 << 62
        try:
            fn()
        finally:
            conv._MIN_CHANNELS = saved
    return step


def _make(case: str) -> Callable[[], None]:
    """The callable for 'LIB:WHAT', WHAT being 'cnn' or 'n,cin,cout,size,fwd|bwd'."""
    name, what = case.split(":")
    if name == "gemm":  # the cnn's three convolutions (the first gets no input gradient, as in the network)
        if what == "cnn":
            return _products([(128, c, o, size, "ywx" if c > 1 else "yw") for _, c, o, size in LAYERS[:3]])
        n, cin, cout, size, mode = what.split(",")
        return _products([(int(n), int(cin), int(cout), int(size),
                           "y" if mode == "fwd" else "ywx" if int(cin) > 1 else "yw")])
    if name == "floor":
        return _floor_step()
    lib = importlib.import_module(_LIBS.get(name, name))
    if what == "cnn":
        fn = cnn_step(lib, lib.__name__)
    else:
        n, cin, cout, size, mode = what.split(",")
        fn = _layer_step(lib, int(n), int(cin), int(cout), int(size), mode == "bwd")
    return _general_path(fn) if name == "im2col" else fn


def _run(fn: Callable[[], None], number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - t0


def _worker(conn: Any, threads: int, path: list[str], keep: bool = False) -> None:
    """Serve ('case', number) requests: number 0 warms up and answers calls per sample, else seconds per call.
    keep: first have the allocator keep freed memory, as the `matgrad` command does."""
    sys.path[:0] = path
    if keep:
        from matgrad.memory import keep_freed_memory

        keep_freed_memory()
    cases: dict[str, Callable[[], None]] = {}
    pinned = False
    while (msg := conn.recv()) is not None:
        case, number, min_sample_s = msg
        try:
            if case not in cases:
                if _new_row(cases, case):  # free the last row's models first, so that no row runs beside
                    cases.clear()  # an earlier row's arrays
                    gc.collect()
                lib = importlib.import_module(_LIBS.get(case.split(":")[0], case.split(":")[0]))
                if not pinned:
                    lib.set_num_threads(threads)
                    pinned = True
                    if keep:  # and, as the command does for a conv net, OpenBLAS's threads sleep soon when idle
                        _as_the_command()
                cases[case] = _make(case)
            fn = cases[case]
            if number == 0:
                fn()
                fn()
                number, t = 1, _run(fn, 1)
                while t < min_sample_s:
                    number = max(number + 1, int(number * min_sample_s / max(t, 1e-9) * 1.1))
                    t = _run(fn, number)
                conn.send(number)
            else:
                gc.collect()
                conn.send(_run(fn, number) / number)
        except Exception as e:  # reported in the parent, which raises it
            conn.send(RuntimeError(f"{case}: {type(e).__name__}: {e}"))


def _new_row(cases: dict[str, Any], case: str) -> bool:
    """Whether `case` ('lib:what') starts a new row: the cases built so far are another row's (another what)."""
    what = case.split(":", 1)[1]
    return any(c.split(":", 1)[1] != what for c in cases)


def process_for(case: str) -> str:
    """The worker process that runs `case` ('lib:what'): the library's own, the comparisons' shared one."""
    lib = case.split(":")[0]
    return "aux" if lib in ("im2col", "gemm", "floor") else lib


def _as_the_command() -> None:
    """What `matgrad train` does for a conv net on several CPU threads (matgrad/cli/train_cmd.py)."""
    from matgrad import threads as mg_threads

    mg_threads.conv_blas_timeout()  # before the first step, as train_cmd._quiet_blas_threads
    from matgrad.denormal import set_flush_denormal

    set_flush_denormal(True)  # as matgrad/cli/main.py


# --- the parent: one worker per library, samples alternating ---------------------------------
class Workers:
    """A process per library, started on first use: 'matgrad', 'command', 'torch' and 'old' each have their own,
    and the comparisons (im2col, gemm, floor) share one more, so no library runs beside another's arrays. In one
    process with those three (2 threads, AMD EPYC Zen 3) the cnn step as a script read matgrad/torch 1.06-1.07
    against the command's 0.93-0.97 (paired, two runs); on its own 0.83-0.96 against 0.82-0.97."""

    def __init__(self, threads: int, path: list[str]) -> None:
        self.threads, self.path, self.procs = threads, path, {}
        self.ctx = mp.get_context("spawn")

    def ask(self, case: str, number: int, min_sample_s: float) -> Any:
        lib = process_for(case)
        if lib not in self.procs:
            here, there = self.ctx.Pipe()
            proc = self.ctx.Process(target=_worker, args=(there, self.threads, self.path, lib == "command"),
                                    daemon=True)
            proc.start()
            self.procs[lib] = (proc, here)
        here = self.procs[lib][1]
        here.send((case, number, min_sample_s))
        answer = here.recv()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self) -> None:
        for proc, conn in self.procs.values():
            conn.send(None)
            proc.join(timeout=10)


def interleaved_procs(workers: Workers, cases: dict[str, str], repeats: int, min_sample_s: float) -> dict[str, Stats]:
    """Seconds per call of each case ({label: 'lib:what'}), samples alternating between processes."""
    numbers = {label: workers.ask(case, 0, min_sample_s) for label, case in cases.items()}
    samples: dict[str, list[float]] = {label: [] for label in cases}
    labels = list(cases)
    for r in range(repeats):
        for label in labels if r % 2 == 0 else reversed(labels):
            time.sleep(PAUSE_S)
            samples[label].append(workers.ask(cases[label], numbers[label], min_sample_s))
    return {k: Stats(statistics.median(s), min(s), max(s), len(s), numbers[k], tuple(s)) for k, s in samples.items()}


def run(repeats: int = 7, quick: bool = False, threads: int | None = None, against: str | None = None,
        layers: list[tuple[int, int, int, int]] | None = None, cnn: bool = True) -> list[dict[str, Any]]:
    """One row per layer and mode, and one for the cnn step: ms per call of each case and their ratios."""
    import matgrad as mg

    threads = threads or mg.get_num_threads()
    libs = ["matgrad", "im2col", "gemm"] + (["torch"] if importlib.util.find_spec("torch") else [])
    path = [str(HERE), str(HERE.parent)]
    with tempfile.TemporaryDirectory() as tmp:
        if against:
            import ab

            old = ab.export_old(against, Path(tmp))
            path.insert(0, tmp)
            libs.append(old)
        workers = Workers(threads, path)
        layers = LAYERS if layers is None else layers
        whats = [(f"{n},{cin},{cout},{size},{mode}", f"conv2d {cin}→{cout} 3×3, batch {n}, {size}×{size}, "
                  + ("fwd" if mode == "fwd" else "fwd+bwd")) for n, cin, cout, size in layers
                 for mode in ("fwd", "bwd")]
        if cnn:
            whats.append(("cnn", "cnn recipe step (3 × conv-BN-ReLU-pool, AdamW), batch 128"))
        rows = []
        try:
            for what, name in whats:
                cases = {("old" if lib == libs[-1] and against else lib): f"{lib}:{what}" for lib in libs}
                if what == "cnn":
                    cases["command"] = f"command:{what}"
                    cases["floor"] = f"floor:{what}"
                stats = interleaved_procs(workers, cases, 3 if quick else repeats, 0.1 if quick else 0.25)
                r = row(name, "ms", stats, (("matgrad", "torch"), ("command", "torch"), ("matgrad", "im2col"),
                                            ("matgrad", "old"), ("gemm", "torch"), ("matgrad", "gemm"),
                                            ("floor", "torch"), ("command", "floor")),
                        scale=1e3, threads=threads,
                        goal=_GOALS.get(what.rsplit(",", 1)[-1], []))
                rows.append(r)
                print("  " + _line(r), flush=True)
        finally:
            workers.close()
    return rows


#: Issue 19's goal 1, by case: each conv layer forward + backward, and the cnn recipe's step, as the `matgrad`
#: command runs the recipe and as a script runs the same model (judged by run.py: timing.judge).
_GOALS = {
    "bwd": ["matgrad/torch <= 1.0 [issue 19, goal 1]"],
    "cnn": ["command/torch <= 1.0 [issue 19, goal 1, as the command runs it]",
            "matgrad/torch <= 1.0 [issue 19, goal 1, as a script]"],
}


def _line(r: dict[str, Any]) -> str:
    times = ", ".join(f"{k} {v['median']:.1f}" for k, v in r["times"].items())
    ratios = ", ".join(f"{k} {v:.2f}" for k, v in r["ratios_paired"].items())
    return f"{r['name']}: {times} ms; paired {ratios}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--against", metavar="REV", help="also time this git revision's matgrad ('old')")
    ap.add_argument("--layers", help="which of the layers, by index: e.g. 12")
    ap.add_argument("--no-cnn", action="store_true", help="skip the whole-network step")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args()
    import machine
    import readme

    print(f"machine: {readme.machine_line(machine.describe())}", flush=True)
    layers = [LAYERS[int(i)] for i in args.layers] if args.layers is not None else None  # "": none
    rows = run(args.repeats, args.quick, args.threads, args.against, layers, not args.no_cnn)
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
