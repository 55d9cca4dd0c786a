"""`matgrad predict CKPT IMAGE...`: the top 3 classes, with probabilities, for each picture.

Every readable image is classified; each one that cannot be used is reported on stderr, and the
command then ends with exit status 2.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from .errors import UsageError, add_device_option, error, pick_device, plural


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (how many classes to show), got {n}")
    return n


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("predict", help="classify PNG/JPEG images with a trained model",
                       description="Read each image (any size or colour; dark-on-light is inverted), "
                                   "preprocess it as the training set was, print the top 3 classes.")
    p.add_argument("checkpoint", metavar="CKPT", help="model.npz written by `matgrad train`")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="PNG or JPEG files")
    p.add_argument("--top", type=_positive_int, default=3, help="how many classes to show (default: 3)")
    add_device_option(p)
    return p


def run(args: argparse.Namespace) -> int:
    from matgrad.autograd import no_grad
    from matgrad.creation import from_numpy
    from matgrad.devices import to_host
    from matgrad.training.build import model_from_checkpoint
    from matgrad.training.checkpoint import load_checkpoint

    from .images import prepare, require_pillow

    require_pillow()
    device = pick_device("predict", getattr(args, "device", None))
    ckpt = load_checkpoint(args.checkpoint)
    model, cfg = model_from_checkpoint(ckpt)
    on_gpu = device.type != "cpu"
    if on_gpu:
        model.to(device)
    paths, inputs, failed = [], [], 0
    for path in args.images:
        try:
            inputs.append(prepare(path, cfg.dataset))
            paths.append(path)
        except UsageError as e:
            error("predict", str(e))
            failed += 1
    if inputs:
        batch = np.stack(inputs)
        if cfg.flatten_input:
            batch = batch.reshape(len(batch), -1)
        with no_grad():
            xb = from_numpy(batch)
            out = to_host(model(xb.to(device) if on_gpu else xb).array).astype(np.float64)
        probs = _probabilities(out, cfg.output)
        names = list(cfg.class_names) or [str(i) for i in range(out.shape[1])]
        k = min(args.top, out.shape[1])
        for path, p in zip(paths, probs):
            if not np.isfinite(p).all():
                print(f"{path}: no prediction (the model's output is not finite: its weights have "
                      f"probably diverged)")
                continue
            top = np.argsort(-p, kind="stable")[:k]
            shown = ", ".join(f"{names[i]} ({p[i]:.1%})" for i in top)
            print(f"{path}: {shown}")
        sys.stdout.flush()
    if failed:
        if len(args.images) > 1:
            error("predict", f"{failed} of {plural(len(args.images), 'image')} could not be read (see above)")
        return 2
    return 0


def _probabilities(out: np.ndarray, output: str) -> np.ndarray:
    """Softmax of logits; a sigmoid model's per-class outputs normalised to sum to 1."""
    if output == "probabilities":
        return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)
    z = np.exp(out - out.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)
