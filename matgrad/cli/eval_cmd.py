"""`matgrad eval CKPT`: test accuracy, per-class accuracy and the confusion matrix of a trained model."""
from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from .errors import UsageError, add_device_option, pick_device, plural, warning


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("eval", help="evaluate a checkpoint on a test set",
                       description="Print test accuracy, per-class accuracy and the confusion matrix; "
                                   "save confusion.png next to the checkpoint.")
    p.add_argument("checkpoint", metavar="CKPT", help="model.npz written by `matgrad train`")
    p.add_argument("--dataset", choices=("mnist", "fashion-mnist", "digits"),
                   help="test set to use (default: the one the model was trained on)")
    p.add_argument("--data", metavar="DIR",
                   help="folder holding the dataset's IDX files (default: the training run's, then the usual "
                        "places)")
    add_device_option(p)
    return p


def run(args: argparse.Namespace) -> int:
    from matgrad.autograd import no_grad
    from matgrad.creation import from_numpy
    from matgrad.data import load_dataset
    from matgrad.devices import to_host
    from matgrad.training import plots
    from matgrad.training.build import model_from_checkpoint
    from matgrad.training.checkpoint import load_checkpoint
    from matgrad.training.device import describe
    from matgrad.training.metrics import confusion_matrix, format_confusion, per_class_accuracy

    device = pick_device("eval", getattr(args, "device", None))
    ckpt = load_checkpoint(args.checkpoint)
    model, cfg = model_from_checkpoint(ckpt)  # host arrays, whatever device it was trained on
    on_gpu = device.type != "cpu"
    if on_gpu:
        model.to(device)
    name = args.dataset or cfg.dataset
    data_dir = args.data if args.data is not None else cfg.data_dir
    X, y, info = load_dataset(name, data_dir, train=False, flatten=cfg.flatten_input)
    if tuple(info.input_shape) != cfg.input_shape or info.num_classes != cfg.num_classes:
        raise UsageError(f"{ckpt.path} was trained on {cfg.dataset} (input {cfg.input_shape}, "
                         f"{plural(cfg.num_classes, 'class', 'classes')}); {name} has input "
                         f"{tuple(info.input_shape)} and {plural(info.num_classes, 'class', 'classes')}. "
                         f"Pass --dataset {cfg.dataset}")
    if info.name != cfg.dataset:
        warning("eval", f"this model was trained on {cfg.dataset}, not {info.name}: its outputs mean "
                        f"{cfg.dataset}'s classes, so the accuracy on {info.name} below says little "
                        f"(leave out --dataset to evaluate on {cfg.dataset})")
    preds, bad = [], 0
    with no_grad():
        for s in range(0, len(y.array), 1000):
            xb = from_numpy(X.array[s:s + 1000])
            out = to_host(model(xb.to(device) if on_gpu else xb).array)  # the metrics are counted on the host
            bad += int((~np.isfinite(out).all(axis=1)).sum())
            preds.append(out.argmax(axis=1))
    if bad:
        warning("eval", f"the model's outputs are not finite (NaN or inf) for {plural(bad, 'sample')}; "
                        "its weights have probably diverged")
    pred = np.concatenate(preds) if preds else np.zeros(0, np.int64)
    cm = confusion_matrix(pred, y.array, info.num_classes)
    acc = float(np.trace(cm) / max(cm.sum(), 1))
    print(f"{cfg.model} (epoch {ckpt.get('epoch')}) on {name} test set: {plural(len(pred), 'sample')}"
          + (f", run on {describe(device)}" if on_gpu else ""))
    right = int(np.trace(cm))
    print(f"test accuracy: {acc:.2%}  ({right:,} correct, {int(cm.sum()) - right:,} wrong)\n")
    print("per-class accuracy:")
    names = info.class_names
    for i, a in enumerate(per_class_accuracy(cm)):
        print(f"  {names[i]:>14}  {a:7.2%}  ({plural(int(cm[i].sum()), 'sample')})")
    short = [str(i) for i in range(info.num_classes)]
    print("\nconfusion matrix (rows: true class, columns: predicted):")
    print(format_confusion(cm, short))
    if plots.available():
        path = plots.plot_confusion(cm, ckpt.path.parent / "confusion.png", short,
                                    title=f"{cfg.model} on {name}: {acc:.2%}")
        print(f"\nsaved {path}")
    else:
        warning("eval", plots.MISSING)
    return 0
