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

from .errors import UsageError

# settings a resumed run takes from its checkpoint; giving a different value is an error
FIXED_ON_RESUME = ("model", "loss", "optimizer", "lr", "momentum", "weight_decay", "schedule",
                   "batch_size", "seed", "dataset", "limit")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    from matgrad import models

    p = sub.add_parser("train", help="train a model (the seed MLP by default)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("model and recipe (defaults come from the --model recipe)")
    g.add_argument("--model", choices=models.names(), help="recipe to train (default: mlp, the seed recipe)")
    g.add_argument("--loss", choices=("bce", "ce", "mse"))
    g.add_argument("--optimizer", choices=("sgd", "adam", "adamw", "rmsprop", "adagrad"))
    g.add_argument("--lr", type=float, help="learning rate (the peak lr for --schedule onecycle)")
    g.add_argument("--momentum", type=float)
    g.add_argument("--weight-decay", type=float)
    g.add_argument("--schedule", choices=("none", "onecycle", "cosine", "step"))
    g.add_argument("--epochs", type=int)
    g.add_argument("--batch-size", type=int)
    g.add_argument("--seed", type=int, help="random seed for init, dropout and shuffling (default 0)")
    d = p.add_argument_group("data and output")
    d.add_argument("--dataset", choices=("mnist", "fashion-mnist", "digits"),
                   help="default: mnist, falling back to the built-in digits set when MNIST is not found")
    d.add_argument("--data", metavar="DIR", help="folder holding the dataset's IDX files (or DIR/<name>/)")
    d.add_argument("--out", metavar="DIR", help="run folder (default: a new runs/<date-time>/)")
    d.add_argument("--resume", metavar="CKPT", help="continue the run saved in CKPT (model.npz)")
    d.add_argument("--limit", type=int, metavar="N", help="train on the first N samples only (quick tries)")
    d.add_argument("--watch", action="store_true",
                   help="record per-layer gradient norms, update/weight ratios, dead ReLUs (watch.png)")
    d.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def run(args: argparse.Namespace) -> int:
    from matgrad.training.build import check_config
    from matgrad.training.checkpoint import load_checkpoint
    from matgrad.training.trainer import Trainer, TrainingDiverged

    ckpt = None
    if args.resume:
        ckpt = load_checkpoint(args.resume)
        cfg = _resumed_config(args, ckpt)
        check_config(cfg)
        data = _load(cfg, args.data if args.data is not None else cfg.get("data_dir"), explicit=True)[0]
        out = Path(args.out) if args.out else ckpt.path.parent
    else:
        cfg = _new_config(args)
        check_config(cfg)  # before loading data or making a run folder
        data, info = _load(cfg, args.data, explicit=args.dataset is not None or args.data is not None)
        cfg.update(dataset=info.name, input_shape=list(info.input_shape), num_classes=info.num_classes,
                   class_names=info.class_names,
                   data_dir=None if args.data is None else str(Path(args.data).expanduser().resolve()))
        out = _new_run_dir(args.out)
    if cfg.get("limit"):
        data = (data[0][:cfg["limit"]], data[1][:cfg["limit"]], data[2], data[3])
    trainer = Trainer(cfg, data, out, progress=not args.no_progress)
    if ckpt is not None:
        trainer.restore(ckpt)
        print(f"resuming {ckpt.path} after epoch {trainer.epoch} of {cfg['epochs']}")
    _describe(cfg, data, out)
    try:
        metrics = trainer.fit()
    except TrainingDiverged as e:
        print(f"matgrad train: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\ninterrupted in epoch {trainer.epoch + 1}; the checkpoint after epoch {trainer.epoch} is "
              f"kept. Continue with: matgrad train --resume {trainer.ckpt_path}", file=sys.stderr)
        return 130
    if metrics.epochs:
        last = metrics.epochs[-1]
        print(f"done: test accuracy {last['test_accuracy']:.2%} after {last['epoch']} epochs. "
              f"Wrote {out / 'model.npz'}, metrics.json, curves.png"
              + (", watch.png" if cfg["watch"] else ""))
        print(f"next: matgrad eval {out / 'model.npz'}")
    return 0


def _new_config(args: argparse.Namespace) -> dict[str, Any]:
    from matgrad import models

    recipe = models.get(args.model or "mlp")
    cfg = recipe.defaults()
    cfg.pop("description")
    cfg.pop("name")
    cfg.update(cfg.pop("extra"))
    cfg["model"] = recipe.name
    for key in ("loss", "optimizer", "lr", "momentum", "weight_decay", "schedule", "epochs", "batch_size"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    cfg.update(seed=0 if args.seed is None else args.seed, limit=args.limit, watch=bool(args.watch),
               dataset=args.dataset)
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be a positive number of samples, got {args.limit}")
    return cfg


def _resumed_config(args: argparse.Namespace, ckpt: Any) -> dict[str, Any]:
    """The checkpoint's config; only --epochs (to extend), --watch, --data and --out may be given."""
    cfg = dict(ckpt["config"])
    for key in FIXED_ON_RESUME:
        given = getattr(args, key, None)
        if given is not None and given != cfg.get(key):
            flag = "--" + key.replace("_", "-")
            what = "was trained as model" if key == "model" else f"was trained with {flag}"
            raise UsageError(f"checkpoint {ckpt.path} {what} {cfg.get(key)!r}, not {given!r}; "
                             f"a resumed run keeps its settings (leave out {flag}, or start a new run)")
    if args.epochs is not None and args.epochs != cfg["epochs"]:
        if cfg["schedule"] in ("onecycle", "cosine"):
            raise UsageError(f"--epochs cannot change on resume: the {cfg['schedule']} schedule was laid out "
                             f"for {cfg['epochs']} epochs")
        if args.epochs < int(ckpt["epoch"]):
            raise UsageError(f"--epochs {args.epochs} is fewer than the {ckpt['epoch']} already trained")
        cfg["epochs"] = args.epochs
    if args.watch:
        cfg["watch"] = True
    return cfg


def _load(cfg: dict[str, Any], data_dir: str | None, explicit: bool) -> tuple[tuple[np.ndarray, ...], Any]:
    """(X, y, X_test, y_test) as arrays, and the train split's info.

    MNIST asked for implicitly (no --dataset, no --data) falls back to digits when not found.
    """
    from matgrad import models
    from matgrad.data import DatasetNotFound, load_dataset

    name = cfg.get("dataset") or "mnist"
    flatten = models.get(cfg["model"]).flatten_input
    try:
        X, y, info = load_dataset(name, data_dir, train=True, flatten=flatten)
        Xt, yt, _ = load_dataset(name, data_dir, train=False, flatten=flatten)
    except DatasetNotFound as e:
        if explicit:
            raise
        print(f"MNIST was not found, so this run trains on the built-in digits set (1,797 8x8 images).\n"
              f"{e}\n", file=sys.stderr)
        cfg["dataset"] = "digits"
        X, y, info = load_dataset("digits", None, train=True, flatten=flatten)
        Xt, yt, _ = load_dataset("digits", None, train=False, flatten=flatten)
    return (X.data, y.data, Xt.data, yt.data), info


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


def _describe(cfg: dict[str, Any], data: tuple[np.ndarray, ...], out: Path) -> None:
    extra = f", schedule {cfg['schedule']}" if cfg["schedule"] != "none" else ""
    print(f"training {cfg['model']} on {cfg['dataset']} "
          f"({len(data[0]):,} train / {len(data[2]):,} test samples, "
          f"input {tuple(cfg['input_shape'])}, {cfg['num_classes']} classes)\n"
          f"  loss {cfg['loss']}, {cfg['optimizer']} lr {cfg['lr']} momentum {cfg['momentum']} "
          f"weight decay {cfg['weight_decay']}{extra}, batch {cfg['batch_size']}, {cfg['epochs']} epochs, "
          f"seed {cfg['seed']}\n  run folder: {out}")
