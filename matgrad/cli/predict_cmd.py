"""`matgrad predict CKPT IMAGE...`: the top 3 classes, with probabilities, for each picture."""
from __future__ import annotations

import argparse
from typing import Any

import numpy as np


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("predict", help="classify PNG/JPEG images with a trained model",
                       description="Read each image (any size or colour; dark-on-light is inverted), "
                                   "preprocess it as the training set was, print the top 3 classes.")
    p.add_argument("checkpoint", metavar="CKPT", help="model.npz written by `matgrad train`")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="PNG or JPEG files")
    p.add_argument("--top", type=int, default=3, help="how many classes to show (default 3)")
    return p


def run(args: argparse.Namespace) -> int:
    from matgrad import models
    from matgrad.autograd import no_grad
    from matgrad.tensor import Tensor
    from matgrad.training.build import model_from_checkpoint
    from matgrad.training.checkpoint import load_checkpoint

    from .images import prepare

    ckpt = load_checkpoint(args.checkpoint)
    model, cfg = model_from_checkpoint(ckpt)
    batch = np.stack([prepare(p, cfg["dataset"]) for p in args.images])  # read all first: fail early
    if models.get(cfg["model"]).flatten_input:
        batch = batch.reshape(len(batch), -1)
    with no_grad():
        out = model(Tensor._make(batch, None, False)).data.astype(np.float64)
    probs = _probabilities(out, cfg.get("output", "logits"))
    names = cfg.get("class_names") or [str(i) for i in range(out.shape[1])]
    k = max(1, min(args.top, out.shape[1]))
    for path, p in zip(args.images, probs):
        top = np.argsort(-p, kind="stable")[:k]
        shown = ", ".join(f"{names[i]} ({p[i]:.1%})" for i in top)
        print(f"{path}: {shown}")
    return 0


def _probabilities(out: np.ndarray, output: str) -> np.ndarray:
    """Softmax of logits; a sigmoid model's per-class outputs normalised to sum to 1."""
    if output == "probabilities":
        return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)
    z = np.exp(out - out.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)
