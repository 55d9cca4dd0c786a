"""Running an exported model: by ONNX Runtime, or by onnx's reference evaluator; each skips its test where its
package is not installed."""
from __future__ import annotations

import pytest


def run_ort(data, feeds):
    """The first output of the model `data` (bytes) on `feeds`, by ONNX Runtime on the CPU."""
    ort = pytest.importorskip("onnxruntime")
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, feeds)[0]


def run_reference(data, feeds):
    """The same, by onnx's reference evaluator (a second implementation of the operators' specification)."""
    onnx = pytest.importorskip("onnx")
    reference = pytest.importorskip("onnx.reference")
    return reference.ReferenceEvaluator(onnx.load_from_string(data)).run(None, feeds)[0]


RUNNERS = {"onnxruntime": run_ort, "reference": run_reference}
