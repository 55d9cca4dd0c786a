"""`matgrad train`: train a model recipe on MNIST, Fashion-MNIST or the built-in digits set.

With no flags it trains the seed recipe (784 -> 1024 ReLU -> 10 sigmoid, BCE, SGD momentum)
on MNIST where it is found, else on the 8x8 digits set that ships with matgrad. It never
downloads on its own: it says where it looked and how to get the data.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .errors import UsageError, add_device_option, error, pick_device, plural, warning

# settings a resumed run takes from its checkpoint; giving a different value is an error
FIXED_ON_RESUME = ("model", "loss", "optimizer", "lr", "momentum", "weight_decay", "schedule",
                   "batch_size", "seed", "dataset", "limit")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    from matgrad import models
    from matgrad.training.config import LOSSES, OPTIMIZERS, SCHEDULES

    def recipes(field: str) -> str:
        """"mlp 1.0, mlp-best 0.001, cnn 0.005": each recipe's default for `field`."""
        return ", ".join(f"{r.name} {getattr(r, field)}" for r in models.RECIPES.values())

    p = sub.add_parser("train", help="train a model (the seed MLP by default)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("model and recipe (a flag left out takes the --model recipe's value)")
    g.add_argument("--model", choices=models.names(), help="recipe to train (default: mlp, the seed recipe)")
    g.add_argument("--loss", choices=LOSSES, help=f"loss function (default: {recipes('loss')})")
    g.add_argument("--optimizer", choices=OPTIMIZERS, help=f"optimizer (default: {recipes('optimizer')})")
    g.add_argument("--lr", type=float,
                   help=f"learning rate, the peak lr for --schedule onecycle (default: {recipes('lr')})")
    g.add_argument("--momentum", type=float, help=f"momentum of sgd and rmsprop (default: {recipes('momentum')})")
    g.add_argument("--weight-decay", type=float, help=f"weight decay (default: {recipes('weight_decay')})")
    g.add_argument("--schedule", choices=SCHEDULES, help=f"lr schedule (default: {recipes('schedule')})")
    g.add_argument("--epochs", type=int, help=f"passes over the training set (default: {recipes('epochs')})")
    g.add_argument("--batch-size", type=int, help=f"samples per step (default: {recipes('batch_size')})")
    g.add_argument("--seed", type=int, help="random seed for init, dropout and shuffling (default: 0)")
    d = p.add_argument_group("data and output")
    d.add_argument("--dataset", choices=("mnist", "fashion-mnist", "digits"),
                   help="data set to train on (default: mnist, falling back to the built-in digits set when "
                        "MNIST is not found)")
    d.add_argument("--data", metavar="DIR",
                   help="folder holding the dataset's IDX files, or DIR/<name>/ (default: look in "
                        "$MATGRAD_DATA, ~/.cache/matgrad, /usr/share/datasets)")
    d.add_argument("--out", metavar="DIR", help="run folder (default: a new runs/<date-time>/)")
    d.add_argument("--resume", metavar="CKPT", help="continue the run saved in CKPT (model.npz) (default: a new run)")
    d.add_argument("--limit", type=int, metavar="N",
                   help="train on the first N samples only, for quick tries (default: all)")
    d.add_argument("--watch", action="store_true",
                   help="record per-layer gradient norms, update/weight ratios, dead ReLUs (watch.png) "
                        "(default: off)")
    d.add_argument("--no-progress", action="store_true",
                   help="no progress bar (default: a bar when the output is a terminal, plain lines otherwise)")
    d.add_argument("--logdir", metavar="DIR",
                   help="write TensorBoard event files into DIR; 'none' writes none (default: <run folder>/tb "
                        "when tensorboardX is installed)")
    d.add_argument("--no-tensorboard", action="store_true",
                   help="write no TensorBoard event files (= --logdir none; default: write them when tensorboardX "
                        "is installed)")
    d.add_argument("--ranks", type=int, metavar="N",
                   help="train data-parallel on N processes of this machine: re-runs this command under "
                        "`mpiexec -n N` (needs matgrad[mpi]). Under mpiexec already, leave it out; --batch-size "
                        "stays the global batch, split over the ranks (default: one process)")
    add_device_option(d)
    d.add_argument("--log-every", type=int, metavar="N",
                   help="log TensorBoard scalars and sample --watch every N steps, and at each epoch's end "
                        "(default: 50)")
    return p


def run(args: argparse.Namespace) -> int:
    """Train; under `mpiexec -n N` (or with --ranks N) data-parallel, rank 0 alone printing and writing."""
    ranks = getattr(args, "ranks", None)
    if ranks is not None:
        return _relaunch(ranks)
    from matgrad import distributed as dist

    if not dist.launched_by_mpiexec():
        return _run(args)
    if not dist.is_available():
        raise UsageError(f"started by mpiexec, but {dist.MPI_MISSING}")
    dist.init_process_group("mpi")
    if dist.get_world_size() == 1:
        return _run(args)
    rank = dist.get_rank()
    if rank != 0:  # rank 0 alone prints; errors still reach the real stderr (see matgrad.distributed)
        import os

        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
        args.no_progress = True
    try:
        code = _run(args)
    except SystemExit:
        raise
    except BaseException as e:  # a usage error on one rank (e.g. its --out) must not leave the others waiting
        dist.abort(f"{type(e).__name__}: {e}")
        raise
    if code:
        dist.abort(f"training stopped with status {code}", code)
    return code


def _relaunch(n: int) -> int:
    """`matgrad train ... --ranks N` -> `mpiexec -n N <python> -m matgrad train ...` (without --ranks)."""
    import os
    import shutil
    import subprocess

    if n < 1:
        raise UsageError(f"--ranks must be at least 1, got {n}")
    from matgrad import distributed as dist

    if dist.launched_by_mpiexec():
        raise UsageError("--ranks starts its own mpiexec; under mpiexec already, leave --ranks out")
    here = os.path.dirname(sys.executable)
    mpiexec = shutil.which("mpiexec", path=here + os.pathsep + os.environ.get("PATH", ""))
    if mpiexec is None or not dist.is_available():
        raise UsageError(f"--ranks needs mpiexec and mpi4py: pip install \"matgrad[mpi]\" "
                         f"({'mpiexec not found' if mpiexec is None else 'mpi4py cannot load an MPI library'})")
    argv, skip = [], False
    for a in sys.argv[1:]:
        if skip:
            skip = False
        elif a == "--ranks":
            skip = True
        elif not a.startswith("--ranks="):
            argv.append(a)
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    return subprocess.call([mpiexec, "-n", str(n), sys.executable, "-m", "matgrad", *argv], env=env)


def _shared_out(make: Any) -> Path:
    """The run folder: made by rank 0 alone and told to the others (one folder, not one per rank)."""
    from matgrad import distributed as dist

    if not dist.is_initialized() or dist.get_world_size() == 1:
        return make()
    out = make() if dist.get_rank() == 0 else None
    return Path(dist.broadcast_bytes(None if out is None else str(out).encode()).decode())


def _run(args: argparse.Namespace) -> int:
    from matgrad.training import plots
    from matgrad.training.checkpoint import load_checkpoint
    from matgrad.training.trainer import Trainer, TrainingDiverged

    device = _device(args)  # before the data: a bad --device fails fast
    ckpt = None
    if args.resume:
        ckpt = load_checkpoint(args.resume)
        cfg = _resumed_config(args, ckpt)
        data_dir = args.data if args.data is not None else cfg.data_dir
        data, info = _load(cfg.dataset, data_dir, cfg.flatten_input)
        _check_data_fits(cfg, info, ckpt.path)
        out = Path(args.out) if args.out else ckpt.path.parent
    else:
        cfg, data = _new_config_and_data(args)
        out = _shared_out(lambda: _new_run_dir(args.out))
    logdir = _logdir(args, out)
    trainer = Trainer(cfg, data, out, progress=not args.no_progress and _interactive(), logdir=logdir, device=device)
    blas_note = _quiet_blas_threads(trainer)
    if ckpt is not None:
        trainer.restore(ckpt)
        print(f"resuming {ckpt.path} after epoch {trainer.epoch} of {cfg.epochs}")
    _describe(cfg, trainer, out, blas_note)
    if logdir is not None:
        print(f"  TensorBoard: tensorboard --logdir {logdir}")
    if not trainer.plots:
        warning("train", plots.MISSING)
    try:
        metrics = trainer.fit()
    except TrainingDiverged as e:
        error("train", str(e))
        return 1
    except KeyboardInterrupt:
        print(f"\ninterrupted in epoch {trainer.epoch + 1}; the checkpoint after epoch {trainer.epoch} is "
              f"kept. Continue with: matgrad train --resume {trainer.ckpt_path}", file=sys.stderr)
        return 130
    if metrics.epochs:
        last = metrics.epochs[-1]
        wrote = ["metrics.json"] + (["curves.png"] + (["watch.png"] if cfg.watch else []) if trainer.plots else [])
        print(f"done: test accuracy {last['test_accuracy']:.2%} after {plural(last['epoch'], 'epoch')}. "
              f"Wrote {out / 'model.npz'}, {', '.join(wrote)}")
        print(f"next: matgrad eval {out / 'model.npz'}")
    return 0


def _device(args: argparse.Namespace) -> Any:
    """The run's device from --device; auto stays on the CPU under mpiexec (data-parallel runs on the CPU)."""
    from matgrad import devices
    from matgrad import distributed as dist

    name = getattr(args, "device", None)
    if name in (None, "auto") and dist.is_initialized() and dist.get_world_size() > 1:
        return devices.CPU
    return pick_device("train", name)


def _logdir(args: argparse.Namespace, out: Path) -> Path | None:
    """Where TensorBoard event files go: --logdir, else <run folder>/tb when tensorboardX is installed."""
    from matgrad.training import tensorboard

    given = getattr(args, "logdir", None)
    if getattr(args, "no_tensorboard", False) or (given is not None and given.lower() == "none"):
        return None
    if not tensorboard.available():
        if given is not None:
            raise UsageError(f"--logdir {given} needs tensorboardX; get it with: pip install \"matgrad[tensorboard]\" "
                             "(or leave out --logdir)")
        warning("train", tensorboard.MISSING)
        return None
    return Path(given) if given is not None else out / "tb"


def _interactive() -> bool:
    """Whether a progress bar can be drawn: stdout and stderr (where tqdm draws) are both terminals.

    Anywhere else (a log file, a pipe) the bar's carriage returns would land in the text, so the
    trainer prints its plain line per epoch only.
    """
    return _isatty(sys.stdout) and _isatty(sys.stderr)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False


def _new_config_and_data(args: argparse.Namespace) -> tuple[Any, tuple[np.ndarray, ...]]:
    """The run's config, made once from the recipe, the flags and the data set actually loaded."""
    from matgrad import models
    from matgrad.training.config import TrainConfig

    recipe = models.get(args.model or "mlp")
    data, info = _load_new(args, recipe.flatten_input)
    cfg = TrainConfig.for_new_run(
        recipe, dataset=info.name, input_shape=info.input_shape, num_classes=info.num_classes,
        class_names=info.class_names, loss=args.loss, optimizer=args.optimizer, lr=args.lr,
        momentum=args.momentum, weight_decay=args.weight_decay, schedule=args.schedule, epochs=args.epochs,
        batch_size=args.batch_size, seed=args.seed, limit=args.limit, watch=bool(args.watch),
        log_every=args.log_every,
        data_dir=None if args.data is None else str(Path(args.data).expanduser().resolve()))
    return cfg, data


def _resumed_config(args: argparse.Namespace, ckpt: Any) -> Any:
    """The checkpoint's config; only --epochs (to extend), --watch, --data and --out may be given."""
    cfg = ckpt.config
    for key in FIXED_ON_RESUME:
        given = getattr(args, key, None)
        if given is not None and given != getattr(cfg, key):
            flag = "--" + key.replace("_", "-")
            what = "was trained as model" if key == "model" else f"was trained with {flag}"
            raise UsageError(f"checkpoint {ckpt.path} {what} {getattr(cfg, key)!r}, not {given!r}; "
                             f"a resumed run keeps its settings (leave out {flag}, or start a new run)")
    epochs = None
    if args.epochs is not None and args.epochs != cfg.epochs:
        if cfg.schedule in ("onecycle", "cosine"):
            raise UsageError(f"--epochs cannot change on resume: the {cfg.schedule} schedule was laid out "
                             f"for {plural(cfg.epochs, 'epoch')}")
        if args.epochs < int(ckpt["epoch"]):
            raise UsageError(f"--epochs {args.epochs} is fewer than the {ckpt['epoch']} already trained")
        epochs = args.epochs
    return cfg.resumed(epochs=epochs, watch=True if args.watch else None, log_every=args.log_every)


def _load(name: str, data_dir: str | None, flatten: bool) -> tuple[tuple[np.ndarray, ...], Any]:
    """(X, y, X_test, y_test) as arrays, and the train split's info."""
    from matgrad.data import load_dataset

    X, y, info = load_dataset(name, data_dir, train=True, flatten=flatten)
    Xt, yt, _ = load_dataset(name, data_dir, train=False, flatten=flatten)
    return (X.array, y.array, Xt.array, yt.array), info


def _load_new(args: argparse.Namespace, flatten: bool) -> tuple[tuple[np.ndarray, ...], Any]:
    """The data of a new run. MNIST asked for implicitly (no --dataset, no --data) falls back to digits."""
    from matgrad.data import DatasetNotFound

    try:
        return _load(args.dataset or "mnist", args.data, flatten)
    except DatasetNotFound as e:
        if args.dataset is not None or args.data is not None:
            raise
        print(f"MNIST was not found, so this run trains on the built-in digits set (1,797 8x8 images).\n"
              f"{e}\n", file=sys.stderr)
        return _load("digits", None, flatten)


def _check_data_fits(cfg: Any, info: Any, path: Path) -> None:
    """UsageError when the data found for a resumed run is not the shape the model was built for."""
    if tuple(info.input_shape) != cfg.input_shape or info.num_classes != cfg.num_classes:
        raise UsageError(f"{path} was trained on {cfg.dataset} (input {cfg.input_shape}, "
                         f"{plural(cfg.num_classes, 'class', 'classes')}); the {info.name} data found has input "
                         f"{tuple(info.input_shape)} and {plural(info.num_classes, 'class', 'classes')}. "
                         f"Pass --data with the folder it was trained from")


def _new_run_dir(out: str | None) -> Path:
    """`out` if given (it must not already hold a run), else a fresh runs/<date-time>[-n]/."""
    if out is not None:
        path = Path(out)
        if (path / "model.npz").exists():
            raise UsageError(f"{path} already holds a run (model.npz); pick another --out, or continue it "
                             f"with --resume {path / 'model.npz'}")
        path.mkdir(parents=True, exist_ok=True)
        return path
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        path = Path("runs") / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            path.mkdir(parents=True, exist_ok=False)
            return path
        except FileExistsError:
            continue
    raise UsageError("could not create a new folder under runs/; pass --out DIR")


def _describe(cfg: Any, trainer: Any, out: Path, blas_note: str = "") -> None:
    extra = f", schedule {cfg.schedule}" if cfg.schedule != "none" else ""
    print(f"training {cfg.model} on {cfg.dataset} "
          f"({len(trainer.X):,} train / {plural(len(trainer.X_test), 'test sample')}, "
          f"input {cfg.input_shape}, {plural(cfg.num_classes, 'class', 'classes')})\n"
          f"  loss {cfg.loss}, {cfg.optimizer} lr {cfg.lr} momentum {cfg.momentum} "
          f"weight decay {cfg.weight_decay}{extra}, batch {cfg.batch_size}, {plural(cfg.epochs, 'epoch')}, "
          f"seed {cfg.seed}\n  device: {trainer.device_name}{blas_note}\n  run folder: {out}")


def _quiet_blas_threads(trainer: Any) -> str:
    """On the CPU with several threads, have a conv net's OpenBLAS threads sleep soon after each product;
    returns what to add to the device line ("" when nothing changed).

    What the first convolution would do in any script (threads.conv_blas_timeout), done before the first step
    so that the device line can say so. Other models are left as they are: the seed MLP, the lstm and the
    vit recipes' steps were even or slower with it (0.95-1.05x, 1.04x, 1.02x). The user's own
    OPENBLAS_THREAD_TIMEOUT is kept.
    """
    from matgrad import threads
    from matgrad.nn.conv import Conv1d, _ConvNd

    if trainer.on_gpu or not any(isinstance(m, (_ConvNd, Conv1d)) for m in trainer.model.modules()):
        return ""
    if not threads.conv_blas_timeout():
        return ""
    return f", {threads.get_num_threads()} threads (OpenBLAS's sleep after 2^{threads.CONV_BLAS_TIMEOUT} idle cycles)"
