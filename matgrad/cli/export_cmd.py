"""`matgrad export RUN/model.npz --format onnx|safetensors --out FILE`: a trained model out of matgrad."""
from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from .errors import error


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("export", help="export a checkpoint as ONNX or safetensors",
                       description="Write a `matgrad train` checkpoint as an ONNX model (for ONNX Runtime; dynamic "
                                   "batch axis) or as a safetensors state_dict (PyTorch's keys; the run's config in "
                                   "its metadata).")
    p.add_argument("checkpoint", metavar="CKPT", help="model.npz written by `matgrad train`")
    p.add_argument("--format", required=True, choices=("onnx", "safetensors"), help="what to write")
    p.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset version (default 17)")
    return p


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from matgrad.creation import from_numpy
    from matgrad.training.build import model_from_checkpoint
    from matgrad.training.checkpoint import load_checkpoint

    ckpt = load_checkpoint(args.checkpoint)
    model, cfg = model_from_checkpoint(ckpt)
    try:
        if args.format == "safetensors":
            from matgrad import save
            from matgrad._safetensors_io import config_metadata

            config = dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) else dict(vars(cfg))
            save(model.state_dict(), args.out, metadata=config_metadata(config))
        else:
            from matgrad import onnx as mg_onnx

            shape = (int(np.prod(cfg.input_shape)),) if cfg.flatten_input else tuple(cfg.input_shape)
            x = from_numpy(np.zeros((1, *shape), dtype=np.float32))
            mg_onnx.export(model, (x,), args.out, input_names=["input"], output_names=["logits"],
                           dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=args.opset)
    except ImportError as e:
        error("export", str(e))
        return 1
    print(f"wrote {args.out} ({args.format})")
    return 0
