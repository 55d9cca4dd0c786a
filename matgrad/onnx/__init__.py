"""`matgrad.onnx.export`: a model's forward pass as an ONNX graph (needs the `onnx` extra).

    matgrad.onnx.export(model, (x,), "model.onnx", input_names=["input"], output_names=["logits"],
                        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})

The model runs ONE forward pass in eval mode on the given args; every op it runs is recorded
(with the module that ran it) and the graph is walked back from the outputs, each op class
mapped to ONNX nodes by the table in `matgrad.onnx.ops`. Parameters and buffers become
initializers. An op the table lacks raises an ExportError naming the op and the module.

TRACED, NOT COMPILED: the graph is what the forward pass did with the given input. A Python
branch on tensor values (`if x.sum() > 0:`) is frozen to the branch taken; export warns when the
forward reads tensor values into Python (bool(), .item(), float()...), and its errors say so.
"""
from __future__ import annotations

from .exporter import ExportError, export

__all__ = ["export", "ExportError"]
