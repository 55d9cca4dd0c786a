"""The tracer and the graph writer behind `matgrad.onnx.export` (see the package docstring)."""
from __future__ import annotations

import os
import warnings
from typing import Any, BinaryIO

import numpy as np

from ..autograd import grad_mode
from ..autograd.op import Op
from ..tensor import Tensor

TRACED_NOTE = ("(the graph was traced with the given input: a Python branch on tensor values in forward() is frozen "
               "to the branch that input took)")
INSTALL = "pip install 'matgrad[onnx]' (or: pip install onnx onnxruntime)"


class ExportError(RuntimeError):
    """A model matgrad.onnx.export cannot express in ONNX."""


class TracerWarning(UserWarning):
    """The forward pass read tensor values into Python: the traced graph may not generalize."""


class Record:
    __slots__ = ("cls", "inputs", "params", "out", "module")

    def __init__(self, cls: type, inputs: tuple, params: dict, out: Tensor, module: str) -> None:
        self.cls, self.inputs, self.params, self.out, self.module = cls, inputs, params, out, module


class _Tracer:
    def __init__(self, model: Any) -> None:
        self.model = model
        self.records: dict[int, Record] = {}
        self.keep: list[Any] = []
        self.stack: list[str] = []
        self.value_reads: list[str] = []

    def run(self, args: tuple, kwargs: dict) -> Any:
        tracer = self
        original = Op.__dict__["apply"]
        names = {id(m): (n or type(m).__name__) for n, m in self.model.named_modules()}
        handles = []
        for m in self.model.modules():
            name = names[id(m)]
            handles.append(m.register_forward_pre_hook(lambda mod, inp, name=name: tracer.stack.append(name)))
            handles.append(m.register_forward_hook(lambda mod, inp, out: tracer.stack.pop() and None))

        def apply(cls: type, *tensors: Tensor, **params: Any) -> Tensor:
            out = original.__func__(cls, *tensors, **params)
            if isinstance(out, Tensor):
                module = tracer.stack[-1] if tracer.stack else "(top level)"
                tracer.records[id(out)] = Record(cls, tensors, params, out, module)
                tracer.keep.append(out)
            return out

        def composite(fn: Any, cls: type) -> Any:
            """fn (tensors positional, parameters by keyword) recorded as one op of class `cls` (ops.COMPOSITES)."""
            def call(*tensors: Any, **params: Any) -> Any:
                out = fn(*tensors, **params)
                inputs = tuple(t for t in tensors if t is not None)
                if isinstance(out, Tensor) and all(out is not t for t in inputs):
                    module = tracer.stack[-1] if tracer.stack else "(top level)"
                    tracer.records[id(out)] = Record(cls, inputs, params, out, module)
                    tracer.keep.append(out)
                return out
            return call

        from .ops import COMPOSITES

        composites = [(owner, attr, getattr(owner, attr), cls) for owner, attr, cls in COMPOSITES]
        reads = {}
        for attr in ("__bool__", "item", "__float__", "__int__", "tolist"):
            if attr in Tensor.__dict__:
                reads[attr] = Tensor.__dict__[attr]

        def reader(attr: str, fn: Any) -> Any:
            def read(self: Tensor, *a: Any, **k: Any) -> Any:
                tracer.value_reads.append(f"{attr} in {tracer.stack[-1] if tracer.stack else '(top level)'}")
                return fn(self, *a, **k)
            return read

        Op.apply = classmethod(apply)  # type: ignore[method-assign,assignment]
        for attr, fn in reads.items():
            setattr(Tensor, attr, reader(attr, fn))
        for owner, attr, fn, cls in composites:
            setattr(owner, attr, composite(fn, cls))
        try:
            with grad_mode.no_grad():
                return self.model(*args, **kwargs)
        finally:
            Op.apply = original  # type: ignore[method-assign]
            for attr, fn in reads.items():
                setattr(Tensor, attr, fn)
            for owner, attr, fn, _ in composites:
                setattr(owner, attr, fn)
            for h in handles:
                h.remove()


def _flat_outputs(out: Any) -> list[Tensor]:
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)) and all(isinstance(o, Tensor) for o in out):
        return list(out)
    raise ExportError(f"matgrad.onnx.export: forward() returned a {type(out).__name__}; export needs a tensor or a "
                      "tuple/list of tensors")


def export(model: Any, args: Any, f: str | os.PathLike | BinaryIO, export_params: bool = True, verbose: bool = False,
           training: Any = None, input_names: list[str] | None = None, output_names: list[str] | None = None,
           opset_version: int | None = None, dynamic_axes: dict[str, Any] | None = None,
           do_constant_folding: bool = True, kwargs: dict[str, Any] | None = None, **unused: Any) -> Any:
    """Write `model` as ONNX to `f` (a path or binary file), PyTorch's torch.onnx.export signature.

    `args` is a tensor or a tuple of them (NumPy arrays are wrapped). The model runs once in
    eval mode (its mode is restored after); the graph is traced with that input, so a Python
    branch on tensor values is frozen (a TracerWarning says when forward read values into Python).
    `dynamic_axes` as PyTorch: {name: {axis: "label"}} or {name: [axes]}. `opset_version`
    defaults to 17 (LayerNormalization needs 17). Returns the onnx.ModelProto.
    """
    try:
        import onnx
    except ImportError:
        raise ImportError(f"matgrad.onnx.export needs the onnx package: {INSTALL}") from None
    from . import ops as op_table

    opset = 17 if opset_version is None else int(opset_version)
    if opset < 13:
        raise ExportError(f"matgrad.onnx.export writes opset 13 and later, got opset_version={opset}")
    if not isinstance(args, tuple):
        args = (args,)
    from ..creation import from_numpy

    args = tuple(from_numpy(np.asarray(a)) if isinstance(a, (np.ndarray, np.generic, int, float, list)) else a
                 for a in args)
    if not all(isinstance(a, Tensor) for a in args):
        raise ExportError("matgrad.onnx.export: args must be tensors (or a tuple of tensors)")
    was_training = getattr(model, "training", False)
    model.eval()
    tracer = _Tracer(model)
    try:
        outputs = _flat_outputs(tracer.run(args, kwargs or {}))
    finally:
        model.train(was_training)
    if tracer.value_reads:
        reads = ", ".join(tracer.value_reads[:5])
        warnings.warn(f"matgrad.onnx.export: forward() read tensor values into Python ({reads}); {TRACED_NOTE}; "
                      "the exported graph may be wrong for other inputs", TracerWarning, stacklevel=2)
    input_names = list(input_names or [f"input_{i}" for i in range(len(args))])[: len(args)]
    input_names += [f"input_{i}" for i in range(len(input_names), len(args))]
    output_names = list(output_names or [f"output_{i}" for i in range(len(outputs))])[: len(outputs)]
    output_names += [f"output_{i}" for i in range(len(output_names), len(outputs))]
    dynamic = {}
    for name, axes in (dynamic_axes or {}).items():
        dynamic[name] = dict(axes) if isinstance(axes, dict) else {int(a): f"{name}_dim{a}" for a in axes}

    named = {id(p): n for n, p in model.named_parameters()}
    named.update({id(b): n for n, b in model.named_buffers()})
    graph = op_table.GraphBuilder(opset, tracer.records, named, TRACED_NOTE, ExportError)
    for t, name in zip(args, input_names):
        graph.add_input(t, name, dynamic.get(name, {}))
    out_values = [graph.value(t) for t in outputs]
    for t, internal, name in zip(outputs, out_values, output_names):
        graph.add_output(t, internal, name, dynamic.get(name, {}))
    model_proto = graph.build("matgrad", onnx)
    onnx.checker.check_model(model_proto)
    data = model_proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        from pathlib import Path

        from ..files import atomic_write

        atomic_write(Path(f), lambda fp: fp.write(data), make_parents=False)
    else:
        f.write(data)
    return model_proto
