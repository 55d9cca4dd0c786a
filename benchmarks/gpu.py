"""matgrad on an NVIDIA GPU, in one go: the op table, the recipes' accuracy, epoch times, kernels per step.

Prepared to run once on a GPU machine (made for an H200 with CuPy and PyTorch installed and no
network) within about 8 minutes, from the repository root:

    python benchmarks/gpu.py                      # everything; results to $OUT/gpu.json (or benchmarks/results/)
    python benchmarks/gpu.py results.json         # ... to that file
    python benchmarks/gpu.py --only step,train    # some sections: step, train, epoch, ops
    python benchmarks/gpu.py --data DIR           # MNIST in DIR/mnist/ (default: $MATGRAD_DATA, shared/data,
                                                  # ../shared/data, then where matgrad looks)
    python benchmarks/gpu.py --dry-run            # no GPU needed: every section on a tiny scale, on the
                                                  # CuPy-like test device (tests/devices) or --device cpu

Sections, run in this order so that the figures that matter most come first; the JSON is rewritten
after each, so a run cut short keeps what it measured, and `--budget-s` (default 450) is shared:

- step (targets "a seed-MLP step within 2x of PyTorch CUDA" and "count the kernels"): the seed MLP
  (784 -> 1024 ReLU -> 10 sigmoid, BCE, SGD momentum 0.9, batch 256, float32) from the same weights
  on the same 8 batches, resident on the GPU, in matgrad and in PyTorch CUDA: the median step time
  (N steps then one synchronize, so both libraries overlap host and GPU as they can), the same with
  `loss.item()` each step (as a training loop does), and the CUDA kernels each launches per step.
  Kernels are counted with PyTorch's profiler (Kineto over CUPTI), which records every kernel the
  process launches on the device, CuPy's included: the events whose device type is CUDA, less
  memcpy/memset, over 10 profiled steps after warm-up, divided by 10. Where the profiler sees no
  kernels at all (no CUPTI), the count is reported as null with the reason.
- train (targets ">= 98.0% / >= 99.3%" and "10x / 20x faster"): `matgrad train --device cuda` as a
  user runs it (the CLI, in this process) for the seed recipe, 10 epochs, and the cnn recipe, 3, on
  MNIST; each epoch's seconds (training plus the test pass, as benchmarks/figures.json's CPU
  figures) and the final test accuracy, against the 2-core CPU figures read from figures.json.
- epoch: one epoch's training loop (60,000 samples, the recipe's batch, the same shuffled batches
  resident on the GPU, no test pass, constant lr) of the same two models in matgrad and PyTorch CUDA.
- ops (target "every op agrees with the CPU within float32 tolerance"): every row of the op table
  (the rows tests/devices/test_ops_on_device.py runs on the test device) in float32 on cuda and on
  the CPU: outputs, gradients and gradients of gradients, each element within relative 1e-4 of the
  CPU's, or within 1e-4 of the array's largest magnitude for elements near 0. Rows that draw random
  numbers (dropout and the like) cannot agree across devices and are listed as such. CuPy compiles
  each new kernel on first use, so this takes the rest of the budget; rows not reached are counted.

Without a usable GPU (and without --dry-run) it prints one line saying why and exits with status 2.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import traceback
import types
from pathlib import Path
from typing import Any, Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import matgrad as mg  # noqa: E402 - after the repository is on the path
from matgrad import devices  # noqa: E402

SECTIONS = ("step", "train", "epoch", "ops")
TARGETS = {"seed_accuracy": 0.980, "cnn_accuracy": 0.993, "seed_speedup": 10.0, "cnn_speedup": 20.0,
           "step_ratio": 2.0}
OPS_RTOL = 1e-4
PROFILED_STEPS = 10


# --- where things are ---------------------------------------------------------------------------

def _out_path(given: str | None) -> Path:
    if given:
        return Path(given)
    if os.environ.get("OUT"):
        return Path(os.environ["OUT"]) / "gpu.json"
    return REPO / "benchmarks" / "results" / "gpu.json"


def _data_dir(given: str | None) -> str | None:
    """A folder holding mnist/ (IDX files), or None to let matgrad look in its usual places."""
    candidates = [given, os.environ.get("MATGRAD_DATA"), REPO / "shared" / "data", REPO.parent / "shared" / "data"]
    for c in candidates:
        if c and (Path(c) / "mnist").is_dir():
            return str(c)
    return given


def _cpu_figures() -> dict[str, Any]:
    """The 2-core CPU's seconds per epoch (with the test pass) and accuracy, from benchmarks/figures.json."""
    path = REPO / "benchmarks" / "figures.json"
    found: dict[str, Any] = {}
    try:
        runs = json.loads(path.read_text())["runs"]
    except (OSError, ValueError, KeyError):
        return found
    for run in runs:
        for row in run.get("results", {}).get("recipes", []):
            if row.get("dataset") == "mnist" and row.get("model") in ("mlp", "cnn"):
                found[row["model"]] = {"seconds_per_epoch": row["times"]["matgrad"]["median"],
                                       "test_accuracy": row.get("test_accuracy"), "when": run.get("when"),
                                       "machine": run.get("machine", {}).get("cpu"), "source": str(path.name)}
    return found


# --- the device ---------------------------------------------------------------------------------

class Ctx:
    """What every section needs: the device, the budget, the data, PyTorch's device, dry-run scale."""

    def __init__(self, args: argparse.Namespace, device_kind: str) -> None:
        self.args = args
        self.dry = bool(args.dry_run)
        self.kind = device_kind  # "cuda" (a real GPU), "fake" (the test device), "cpu"
        self.device = mg.device("cpu") if device_kind == "cpu" else mg.device("cuda", 0)
        self.start = time.perf_counter()
        self.budget_s = float(args.budget_s)
        self.data_dir = _data_dir(args.data)
        self.torch, self.torch_device, self.torch_note = _torch(device_kind)

    def left(self) -> float:
        return self.budget_s - (time.perf_counter() - self.start)

    def sync(self) -> None:
        if self.device.type == "cuda":
            devices.cuda_backend().synchronize(0)

    def torch_sync(self) -> None:
        if self.torch is not None and self.torch_device == "cuda":
            self.torch.cuda.synchronize()


def _torch(kind: str) -> tuple[Any, str | None, str]:
    """(torch or None, the device PyTorch runs on, a note)."""
    try:
        import torch
    except ImportError:
        return None, None, "PyTorch is not installed: no PyTorch columns"
    if kind == "cuda":
        if torch.cuda.is_available():
            return torch, "cuda", f"PyTorch {torch.__version__} (CUDA {torch.version.cuda})"
        return None, None, f"PyTorch {torch.__version__} sees no CUDA device: no PyTorch columns"
    return torch, "cpu", f"dry run: PyTorch {torch.__version__} on the CPU, to exercise the code"


def _choose_device(args: argparse.Namespace) -> tuple[str | None, str]:
    """("cuda" | "fake" | "cpu", note) or (None, why there is no GPU)."""
    want = args.device or ("fake" if args.dry_run else "cuda")
    if want == "cuda":
        if devices.cuda_available():
            return "cuda", ""
        return None, devices.cuda_unavailable_reason() or "no CUDA device"
    if not args.dry_run:
        return None, f"--device {want} is only for --dry-run"
    if want == "fake":
        try:
            from tests.devices.conftest import fake_backend
        except ImportError as e:  # pytest or the tests folder missing
            print(f"gpu.py: the test device cannot be loaded ({e}); the dry run uses the CPU", file=sys.stderr)
            return "cpu", "dry run on the CPU"
        devices.set_cuda_backend(fake_backend())
        return "fake", "dry run on the CuPy-like test device (tests/devices/fake_cupy.py)"
    return "cpu", "dry run on the CPU"


def _machine(ctx: Ctx) -> dict[str, Any]:
    info: dict[str, Any] = {"python": platform.python_version(), "numpy": np.__version__,
                            "matgrad": getattr(mg, "__version__", None), "cpu_count": os.cpu_count(),
                            "device_kind": ctx.kind, "device": None, "torch": ctx.torch_note}
    if ctx.device.type == "cuda":
        from matgrad.training.device import describe

        info["device"] = describe(ctx.device)
    if ctx.kind == "cuda":
        import cupy

        rt = cupy.cuda.runtime
        info.update(cupy=cupy.__version__, cuda_runtime=rt.runtimeGetVersion(), cuda_driver=rt.driverGetVersion(),
                    gpu_count=rt.getDeviceCount())
    return info


# --- models in both libraries -------------------------------------------------------------------

def _torch_twin(model: Any, torch: Any, device: str) -> Any:
    """The same network in PyTorch, with the same weights (matgrad's state_dict keys are PyTorch's)."""
    from matgrad import nn
    from matgrad.devices import to_host
    from matgrad.models.cnn import AsImage

    tnn = torch.nn

    class Reshape(tnn.Module):
        def __init__(self, shape: tuple[int, ...]) -> None:
            super().__init__()
            self.shape = tuple(shape)

        def forward(self, x: Any) -> Any:
            return x.reshape(x.shape[0], *self.shape)

    layers = []
    for m in model:
        if isinstance(m, nn.Linear):
            layers.append(tnn.Linear(m.in_features, m.out_features, bias=m.bias is not None))
        elif isinstance(m, nn.Conv2d):
            layers.append(tnn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, stride=m.stride,
                                     padding=m.padding, bias=m.bias is not None))
        elif isinstance(m, nn.BatchNorm2d):
            layers.append(tnn.BatchNorm2d(m.num_features, eps=m.eps, momentum=m.momentum))
        elif isinstance(m, nn.MaxPool2d):
            layers.append(tnn.MaxPool2d(m.kernel_size, stride=m.stride, padding=m.padding))
        elif isinstance(m, AsImage):
            layers.append(Reshape(m.shape))
        else:
            layers.append(getattr(tnn, type(m).__name__)())  # ReLU, Sigmoid, Flatten
    twin = tnn.Sequential(*layers)
    state = {k: torch.from_numpy(np.array(to_host(v.array))) for k, v in model.state_dict().items()}
    twin.load_state_dict(state)
    return twin.to(device)


def _recipe_parts(name: str, lr: float | None = None) -> tuple[Any, Any, Callable[[Any], Any], tuple[int, ...], int]:
    """(model on the CPU, loss, optimizer factory, input shape, batch) of a recipe, constant lr."""
    from matgrad import models, nn, optim

    recipe = models.get(name)
    shape = (784,) if recipe.flatten_input else (1, 28, 28)
    mg.manual_seed(0)
    model = recipe.build(shape, 10)
    loss = {"bce": nn.BCELoss, "ce": nn.CrossEntropyLoss}[recipe.loss]()
    lr = recipe.lr if lr is None else lr
    if recipe.optimizer == "sgd":
        def make(params):
            return optim.SGD(params, lr=lr, momentum=recipe.momentum)
    else:
        def make(params):
            return optim.AdamW(params, lr=lr, weight_decay=recipe.weight_decay)
    return model, loss, make, shape, recipe.batch_size


def _torch_parts(name: str, twin: Any, torch: Any, lr: float | None = None) -> tuple[Any, Any]:
    from matgrad import models

    recipe = models.get(name)
    loss = {"bce": torch.nn.BCELoss, "ce": torch.nn.CrossEntropyLoss}[recipe.loss]()
    lr = recipe.lr if lr is None else lr
    if recipe.optimizer == "sgd":
        return loss, torch.optim.SGD(twin.parameters(), lr=lr, momentum=recipe.momentum)
    return loss, torch.optim.AdamW(twin.parameters(), lr=lr, weight_decay=recipe.weight_decay)


def _batches(ctx: Ctx, shape: tuple[int, ...], batch: int, n: int, onehot: bool, seed: int = 0
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n batches' worth of MNIST train images (random pixels where MNIST is not found): X, labels, targets."""
    X = y = None
    if not ctx.dry:
        with contextlib.suppress(Exception):
            from matgrad.data import load_dataset

            Xt, yt, _ = load_dataset("mnist", ctx.data_dir, train=True, flatten=len(shape) == 1)
            X, y = Xt.array, yt.array
    if X is None:
        rng = np.random.default_rng(seed)
        X = rng.random((max(n * batch, batch), *shape), dtype=np.float32)
        y = rng.integers(0, 10, len(X))
    order = np.random.default_rng(seed).permutation(len(X))[: n * batch]
    X, y = np.ascontiguousarray(X[order]), y[order].astype(np.int64)
    target = np.eye(10, dtype=np.float32)[y] if onehot else y
    return X, y, target


# --- step: the seed MLP's step in both libraries, and its kernels -------------------------------

def _median_step(step: Callable[[int], Any], sync: Callable[[], None], n: int, rounds: int = 5) -> float:
    """Median over rounds of (n steps, then one synchronize) / n, in milliseconds."""
    times = []
    for _ in range(rounds):
        sync()
        t0 = time.perf_counter()
        for i in range(n):
            step(i)
        sync()
        times.append((time.perf_counter() - t0) / n * 1e3)
    return statistics.median(times)


def _count_kernels(ctx: Ctx, step: Callable[[int], Any], sync: Callable[[], None]) -> dict[str, Any]:
    """CUDA kernels launched per step, seen by PyTorch's profiler (CUPTI sees CuPy's launches too)."""
    try:
        return _profile_kernels(ctx, step, sync)
    except Exception as e:  # noqa: BLE001 - a profiler that cannot start must not lose the step's timings
        return {"per_step": None, "why": f"the profiler failed: {type(e).__name__}: {e}"}


def _profile_kernels(ctx: Ctx, step: Callable[[int], Any], sync: Callable[[], None]) -> dict[str, Any]:
    torch = ctx.torch
    if torch is None:
        return {"per_step": None, "why": ctx.torch_note}
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if ctx.torch_device == "cuda" else [])
    sync()
    with profile(activities=activities) as prof:
        for i in range(PROFILED_STEPS):
            step(i)
        sync()
    kernels: dict[str, int] = {}
    copies = 0
    for e in prof.events():
        if e.device_type != DeviceType.CUDA:
            continue
        if e.name.lower().startswith(("memcpy", "memset")):
            copies += 1
            continue
        kernels[e.name] = kernels.get(e.name, 0) + 1
    total = sum(kernels.values())
    if total == 0:
        why = ("dry run: no CUDA device to profile" if ctx.torch_device != "cuda"
               else "the profiler saw no CUDA kernels (CUPTI unavailable?)")
        return {"per_step": None, "why": why, "method": "torch.profiler (Kineto/CUPTI)"}
    top = sorted(kernels.items(), key=lambda kv: -kv[1])[:25]
    return {"per_step": total / PROFILED_STEPS, "copies_per_step": copies / PROFILED_STEPS,
            "method": f"torch.profiler (Kineto/CUPTI), CUDA device events over {PROFILED_STEPS} steps",
            "top": [{"kernel": k[:120], "per_step": v / PROFILED_STEPS} for k, v in top]}


def section_step(ctx: Ctx) -> dict[str, Any]:
    """The seed MLP's step: matgrad vs PyTorch CUDA, time and kernels."""
    n_batches, n = 8, (3 if ctx.dry else 50)
    model, loss_fn, make_opt, shape, batch = _recipe_parts("mlp", lr=0.1)
    X, _, T = _batches(ctx, shape, batch, n_batches, onehot=True)
    twin = _torch_twin(model, ctx.torch, ctx.torch_device) if ctx.torch is not None else None
    model.to(ctx.device)
    opt = make_opt(model.parameters())
    xs = [mg.from_numpy(X[i * batch:(i + 1) * batch]).to(ctx.device) for i in range(n_batches)]
    ts = [mg.from_numpy(T[i * batch:(i + 1) * batch]).to(ctx.device) for i in range(n_batches)]
    last: list[Any] = [None]

    def mg_step(i: int) -> None:
        opt.zero_grad()
        loss = loss_fn(model(xs[i % n_batches]), ts[i % n_batches])
        loss.backward()
        opt.step()
        last[0] = loss

    def mg_step_item(i: int) -> None:
        mg_step(i)
        last[0].item()

    out: dict[str, Any] = {"model": "784-1024-10 ReLU sigmoid, BCE, SGD momentum 0.9, batch 256, float32",
                           "losses": {}, "note": "losses after 5 steps from the same weights and batches agree"}
    for i in range(5):  # warm-up: CuPy compiles each kernel on first use
        mg_step(i)
    out["losses"]["matgrad_after_5_steps"] = [float(last[0].item())]
    out["matgrad_ms"] = _median_step(mg_step, ctx.sync, n)
    out["matgrad_item_ms"] = _median_step(mg_step_item, ctx.sync, n)
    out["matgrad_kernels"] = _count_kernels(ctx, mg_step, ctx.sync)
    if twin is not None:
        torch = ctx.torch
        tloss, topt = _torch_parts("mlp", twin, torch, lr=0.1)
        txs = [torch.from_numpy(X[i * batch:(i + 1) * batch]).to(ctx.torch_device) for i in range(n_batches)]
        tts = [torch.from_numpy(T[i * batch:(i + 1) * batch]).to(ctx.torch_device) for i in range(n_batches)]
        tlast: list[Any] = [None]

        def t_step(i: int) -> None:
            topt.zero_grad()
            loss = tloss(twin(txs[i % n_batches]), tts[i % n_batches])
            loss.backward()
            topt.step()
            tlast[0] = loss

        def t_step_item(i: int) -> None:
            t_step(i)
            tlast[0].item()

        for i in range(5):
            t_step(i)
        out["losses"]["torch_after_5_steps"] = [float(tlast[0].item())]
        out["torch_ms"] = _median_step(t_step, ctx.torch_sync, n)
        out["torch_item_ms"] = _median_step(t_step_item, ctx.torch_sync, n)
        out["torch_kernels"] = _count_kernels(ctx, t_step, ctx.torch_sync)
        out["ratio_matgrad_over_torch"] = out["matgrad_ms"] / out["torch_ms"]
        out["ratio_with_item"] = out["matgrad_item_ms"] / out["torch_item_ms"]
    return out


# --- train: the recipes through the CLI ---------------------------------------------------------

def section_train(ctx: Ctx) -> dict[str, Any]:
    """`matgrad train --device cuda` for the seed recipe (10 epochs) and cnn (3), with the CPU figures."""
    from matgrad.cli.main import main as cli

    cpu = _cpu_figures()
    out: dict[str, Any] = {"cpu_figures": cpu, "runs": {}}
    for model, epochs in (("mlp", 10), ("cnn", 3)):
        if ctx.left() < 30:
            out["runs"][model] = {"skipped": "time budget spent"}
            continue
        with tempfile.TemporaryDirectory() as tmp:
            if ctx.dry:
                epochs, data = 1, ["--dataset", "digits", "--limit", "300"]
            else:
                data = ["--dataset", "mnist"] + (["--data", ctx.data_dir] if ctx.data_dir else [])
            argv = ["train", "--model", model, "--epochs", str(epochs), *data, "--device",
                    "cuda" if ctx.device.type == "cuda" else "cpu", "--out", str(Path(tmp) / "run"),
                    "--no-progress", "--no-tensorboard", "--seed", "0"]
            t0 = time.perf_counter()
            try:
                code = cli(argv)
            except Exception as e:  # noqa: BLE001 - one recipe failing must not lose the other's figures
                out["runs"][model] = {"error": f"{type(e).__name__}: {e}", "argv": argv,
                                      "traceback": traceback.format_exc()[-2000:]}
                continue
            wall = time.perf_counter() - t0
            metrics_path = Path(tmp) / "run" / "metrics.json"
            if code != 0 or not metrics_path.exists():
                out["runs"][model] = {"error": f"matgrad train exited with status {code}", "argv": argv}
                continue
            m = json.loads(metrics_path.read_text())
        secs = [e["seconds"] for e in m["epochs"]]
        steady = statistics.median(secs[1:]) if len(secs) > 1 else secs[0]  # the first epoch compiles kernels
        run = {"argv": argv, "device": m.get("device"), "epochs": len(secs), "seconds_per_epoch": secs,
               "steady_seconds_per_epoch": steady, "wall_s": wall,
               "test_accuracy": m["epochs"][-1]["test_accuracy"],
               "accuracy_per_epoch": [e["test_accuracy"] for e in m["epochs"]]}
        if model in cpu:
            run["cpu_seconds_per_epoch"] = cpu[model]["seconds_per_epoch"]
            run["speedup_vs_cpu"] = cpu[model]["seconds_per_epoch"] / steady
        out["runs"][model] = run
    return out


# --- epoch: the same epoch in matgrad and PyTorch -----------------------------------------------

def section_epoch(ctx: Ctx) -> dict[str, Any]:
    """One epoch's training loop per library, same model, same batches on the device, constant lr."""
    out: dict[str, Any] = {}
    for name, lr in (("mlp", 0.1), ("cnn", 1e-3)):
        if ctx.left() < 30:
            out[name] = {"skipped": "time budget spent"}
            continue
        try:
            out[name] = _epoch_row(ctx, name, lr)
        except Exception as e:  # noqa: BLE001 - one model failing must not lose the other's figures
            out[name] = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-2000:]}
    return out


def _epoch_row(ctx: Ctx, name: str, lr: float) -> dict[str, Any]:
    """matgrad's and PyTorch's seconds for one epoch of recipe `name` (a warm-up of 3 steps first)."""
    model, loss_fn, make_opt, shape, batch = _recipe_parts(name, lr=lr)
    steps = 4 if ctx.dry else -(-60_000 // batch)
    X, _, T = _batches(ctx, shape, batch, steps, onehot=name == "mlp", seed=1)
    twin = _torch_twin(model, ctx.torch, ctx.torch_device) if ctx.torch is not None else None
    model.to(ctx.device)
    opt = make_opt(model.parameters())
    Xd, Td = mg.from_numpy(X).to(ctx.device), mg.from_numpy(T).to(ctx.device)

    def mg_epoch(count: int) -> float:
        ctx.sync()
        t0 = time.perf_counter()
        for i in range(count):
            xb, tb = Xd[i * batch:(i + 1) * batch], Td[i * batch:(i + 1) * batch]
            opt.zero_grad()
            loss = loss_fn(model(xb), tb)
            loss.backward()
            opt.step()
            loss.item()  # a training loop reads its loss every step
        ctx.sync()
        return time.perf_counter() - t0

    mg_epoch(min(3, steps))  # warm-up: CuPy compiles each kernel on first use
    row: dict[str, Any] = {"steps": steps, "batch": batch, "lr": lr, "matgrad_s": mg_epoch(steps)}
    if twin is not None:
        torch = ctx.torch
        tloss, topt = _torch_parts(name, twin, torch, lr=lr)
        tX, tT = torch.from_numpy(X).to(ctx.torch_device), torch.from_numpy(T).to(ctx.torch_device)

        def t_epoch(count: int) -> float:
            ctx.torch_sync()
            t0 = time.perf_counter()
            for i in range(count):
                xb, tb = tX[i * batch:(i + 1) * batch], tT[i * batch:(i + 1) * batch]
                topt.zero_grad()
                loss = tloss(twin(xb), tb)
                loss.backward()
                topt.step()
                loss.item()
            ctx.torch_sync()
            return time.perf_counter() - t0

        t_epoch(min(3, steps))
        row["torch_s"] = t_epoch(steps)
        row["ratio_matgrad_over_torch"] = row["matgrad_s"] / row["torch_s"]
    cpu = _cpu_figures().get(name)
    if cpu:
        row["cpu_seconds_per_epoch_with_test_pass"] = cpu["seconds_per_epoch"]
    return row


# --- ops: the op table on the GPU against the CPU -----------------------------------------------

def _ensure_pytest() -> str:
    """The op tables are pytest modules: where pytest is not installed, a stand-in for what they use at import."""
    try:
        import pytest  # noqa: F401

        return "pytest"
    except ImportError:
        pass

    class _Skip(Exception):
        pass

    class _Param:
        def __init__(self, *values: Any, id: str | None = None, marks: Any = ()) -> None:  # noqa: A002
            self.values, self.id, self.marks = values, id, marks

    class _Mark:
        def __getattr__(self, name: str) -> Any:
            return lambda *a, **k: (lambda f: f)

    def skip(reason: str = "") -> None:
        raise _Skip(reason)

    skip.Exception = _Skip  # type: ignore[attr-defined]

    def importorskip(name: str, *a: Any, **k: Any) -> Any:
        try:
            return importlib.import_module(name)
        except ImportError:
            raise _Skip(f"{name} missing") from None

    stub = types.ModuleType("pytest")
    stub.param, stub.mark, stub.skip, stub.importorskip = _Param, _Mark(), skip, importorskip
    stub.fixture = lambda *a, **k: (a[0] if a and callable(a[0]) else (lambda f: f))
    stub.approx = lambda x, *a, **k: x
    stub.raises = stub.warns = lambda *a, **k: contextlib.nullcontext()
    sys.modules["pytest"] = stub
    return "a stand-in for pytest (not installed)"


def _run_row(fn: Any, arrays: list[np.ndarray], second: bool, dev: Any) -> tuple[list, list, list]:
    """(outputs, gradients, gradients of gradients) as float32 host arrays, as test_ops_on_device's _run."""
    from matgrad.devices import to_host

    def host(t: Any) -> Any:
        return None if t is None else to_host(t.detach().array)

    with dev:
        xs = [mg.tensor(a, dtype=mg.float32, requires_grad=True) for a in arrays]
        outs = fn(*xs)
        outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
        rng = np.random.default_rng(1)
        diff = [o for o in outs if o.requires_grad]
        grads = ggs = [None] * len(xs)
        if diff:
            y = sum((o * mg.tensor(rng.standard_normal(o.shape), dtype=mg.float32)).sum() for o in diff)
            grads = list(mg.autograd.grad(y, xs, create_graph=second, allow_unused=True))
            live = [g for g in grads if g is not None and g.requires_grad]
            if second and live:
                z = sum((g * mg.tensor(rng.standard_normal(g.shape), dtype=mg.float32)).sum() for g in live)
                ggs = list(mg.autograd.grad(z, xs, allow_unused=True))
        off = [str(t.device) for t in [*outs, *[g for g in grads if g is not None]] if t.device.type != dev.type]
        if off:
            raise AssertionError(f"results on {sorted(set(off))}, not on {dev}")
    return [host(o) for o in outs], [host(g) for g in grads], [host(g) for g in ggs]


def _compare(cpu: tuple, gpu: tuple) -> tuple[bool, float, str]:
    """(agree, worst relative error, where) over outputs, gradients, gradients of gradients."""
    worst, where = 0.0, ""
    for what, a, b in zip(("output", "gradient", "grad of grad"), cpu, gpu):
        for i, (x, y) in enumerate(zip(a, b)):
            if (x is None) != (y is None):
                return False, float("inf"), f"{what} {i}: only {'the GPU' if x is None else 'the CPU'} has one"
            if x is None:
                continue
            x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
            if x.shape != y.shape:
                return False, float("inf"), f"{what} {i}: shape {y.shape} on the GPU, {x.shape} on the CPU"
            finite = np.isfinite(x)
            if not np.array_equal(finite, np.isfinite(y)) or not np.array_equal(x[~finite], y[~finite]):
                if not (np.isnan(x[~finite]).all() and np.isnan(y[~finite]).all()):
                    return False, float("inf"), f"{what} {i}: non-finite values differ"
            if not finite.any():
                continue
            scale = float(np.abs(x[finite]).max())
            err = np.abs(y[finite] - x[finite]) / np.maximum(np.abs(x[finite]), max(scale, 1e-30))
            e = float(err.max()) if err.size else 0.0
            if e > worst:
                worst, where = e, f"{what} {i}"
    return worst <= OPS_RTOL, worst, where


def section_ops(ctx: Ctx) -> dict[str, Any]:
    """Every op-table row in float32 on the device against the CPU."""
    how = _ensure_pytest()
    from tests.devices.test_ops_on_device import _rows
    from tests.helpers import make_inputs

    rows = _rows()
    if ctx.dry:
        rows = rows[:6]
    out: dict[str, Any] = {"rows": len(rows), "tolerance": f"relative {OPS_RTOL} (float32)", "loaded_with": how,
                           "agree": 0, "differ": [], "errors": [], "random": [], "not_reached": 0}
    cpu_dev = mg.device("cpu")
    for k, r in enumerate(rows):
        if ctx.left() < 5:
            out["not_reached"] = len(rows) - k
            break
        fn, shapes, opts = r.values[0], r.values[-2], r.values[-1]
        second = opts.get("second", True)
        try:
            arrays = make_inputs(shapes, positive=opts.get("positive", False))
            mg.manual_seed(0)
            cpu = _run_row(fn, arrays, second, cpu_dev)
            mg.manual_seed(0)
            gpu = _run_row(fn, arrays, second, ctx.device)
        except Exception as e:  # noqa: BLE001 - one row's failure is a finding, not the end of the run
            out["errors"].append({"row": r.id, "error": f"{type(e).__name__}: {str(e)[:300]}"})
            continue
        ok, worst, where = _compare(cpu, gpu)
        if ok:
            out["agree"] += 1
        else:
            mg.manual_seed(1)  # a row whose CPU runs differ with the seed draws random numbers
            other = _run_row(fn, arrays, second, cpu_dev)
            entry = {"row": r.id, "worst_relative_error": worst, "where": where}
            (out["random"] if not _compare(cpu, other)[0] else out["differ"]).append(entry)
    return out


# --- the run --------------------------------------------------------------------------------------

SECTION_FUNCS = {"step": section_step, "train": section_train, "epoch": section_epoch, "ops": section_ops}


def _targets(results: dict[str, Any]) -> dict[str, Any]:
    """Each issue target: the figure, the goal, met or not (None where not measured)."""
    s = results["sections"]
    train = s.get("train", {}).get("runs", {})
    step = s.get("step", {})
    ops = s.get("ops", {})

    def check(value: Any, goal: float, higher: bool = True) -> dict[str, Any]:
        met = None if value is None else (value >= goal if higher else value <= goal)
        return {"value": value, "goal": goal, "met": met}

    return {
        "seed_accuracy": check(train.get("mlp", {}).get("test_accuracy"), TARGETS["seed_accuracy"]),
        "cnn_accuracy": check(train.get("cnn", {}).get("test_accuracy"), TARGETS["cnn_accuracy"]),
        "seed_speedup_vs_2core_cpu": check(train.get("mlp", {}).get("speedup_vs_cpu"), TARGETS["seed_speedup"]),
        "cnn_speedup_vs_2core_cpu": check(train.get("cnn", {}).get("speedup_vs_cpu"), TARGETS["cnn_speedup"]),
        "seed_step_vs_torch_cuda": check(step.get("ratio_matgrad_over_torch"), TARGETS["step_ratio"], higher=False),
        "kernels_per_seed_step": {"value": step.get("matgrad_kernels", {}).get("per_step"),
                                  "torch": step.get("torch_kernels", {}).get("per_step")},
        "ops_agree": {"value": f"{ops.get('agree')}/{ops.get('rows')}" if ops else None,
                      "met": (not ops.get("differ") and not ops.get("errors") and not ops.get("not_reached"))
                      if ops and "agree" in ops else None},
    }


def _write(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2, default=str) + "\n")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", nargs="?", help="results JSON (default: $OUT/gpu.json, else benchmarks/results/gpu.json)")
    p.add_argument("--only", help=f"comma-separated sections of {','.join(SECTIONS)} (default: all)")
    p.add_argument("--data", metavar="DIR", help="folder holding mnist/ (default: $MATGRAD_DATA, shared/data, "
                                                 "../shared/data, then matgrad's usual places)")
    p.add_argument("--budget-s", type=float, default=450.0, help="seconds for all sections (default: 450)")
    p.add_argument("--dry-run", action="store_true", help="no GPU needed: each section on a tiny scale")
    p.add_argument("--device", choices=("cuda", "fake", "cpu"),
                   help="cuda (default); with --dry-run: fake (the test device, default) or cpu")
    args = p.parse_args(argv)
    only = SECTIONS if not args.only else tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = set(only) - set(SECTIONS)
    if unknown:
        p.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    path = _out_path(args.out)
    kind, note = _choose_device(args)
    results: dict[str, Any] = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "argv": sys.argv[1:] if argv is None
                               else argv, "dry_run": bool(args.dry_run), "note": note, "sections": {}}
    if kind is None:
        msg = (f"benchmarks/gpu.py needs an NVIDIA GPU with CuPy, and there is none here: {note}. "
               'On a GPU machine: pip install "matgrad[cuda]"; to check the script anywhere: --dry-run')
        print(msg, file=sys.stderr)
        results["error"] = msg
        with contextlib.suppress(OSError):
            _write(path, results)
        return 2
    ctx = Ctx(args, kind)
    results["machine"] = _machine(ctx)
    print(f"gpu.py: {results['machine']['device'] or 'cpu'} ({note or 'a real GPU'}); {ctx.torch_note}; "
          f"budget {ctx.budget_s:.0f} s; results -> {path}", flush=True)
    for name in SECTIONS:
        if name not in only:
            continue
        if ctx.left() <= 0:
            results["sections"][name] = {"skipped": "time budget spent"}
            continue
        t0 = time.perf_counter()
        try:
            results["sections"][name] = SECTION_FUNCS[name](ctx)
        except Exception as e:  # noqa: BLE001 - report and go on: the other sections' figures still count
            results["sections"][name] = {"error": f"{type(e).__name__}: {e}",
                                         "traceback": traceback.format_exc()[-3000:]}
        results["sections"][name]["section_s"] = round(time.perf_counter() - t0, 2)
        results["targets"] = _targets(results)
        if ctx.dry:
            results["targets"]["note"] = "dry run: a tiny scale, not on a GPU; these values are not figures"
        _write(path, results)
        print(f"gpu.py: {name} done in {time.perf_counter() - t0:.1f} s"
              + (f" (error: {results['sections'][name]['error']})" if "error" in results["sections"][name] else ""),
              flush=True)
    print(json.dumps(results.get("targets", {}), indent=1))
    print(f"gpu.py: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
