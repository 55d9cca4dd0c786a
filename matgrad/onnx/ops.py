"""The op table of matgrad.onnx.export: each matgrad op class (matgrad.ops) -> the ONNX nodes it becomes.

A converter is `fn(g, rec, xs, out) -> None`: `rec` the recorded call (op class, input
tensors, keyword params, output, module), `xs` the ONNX names of its inputs, `out` the name to
give its output; it adds nodes through `g.node(...)` and constants through `g.const(...)`.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..ops import (
    activation,
    arithmetic,
    binary,
    conv,
    conv3d,
    embedding,
    indexing,
    join,
    linear,
    matmul,
    normalization,
    pad,
    pooling,
    pooling3d,
    reduction,
    resample,
    shape,
    softmax,
    unary,
)
from ..tensor import Tensor

Converter = Callable[["GraphBuilder", Any, list, str], None]
TABLE: dict[type, Converter] = {}


def converts(*classes: type) -> Callable[[Converter], Converter]:
    def register(fn: Converter) -> Converter:
        for c in classes:
            TABLE[c] = fn
        return fn
    return register


class GraphBuilder:
    def __init__(self, opset: int, records: dict, named: dict, note: str, error: type[Exception]) -> None:
        self.opset, self.records, self.named, self.note, self.error = opset, records, named, note, error
        self.nodes: list[Any] = []
        self.inits: list[tuple[str, np.ndarray]] = []
        self.inputs: list[tuple[str, np.ndarray, dict]] = []
        self.outputs: list[tuple[str, np.ndarray, dict]] = []
        self.names: dict[int, str] = {}
        self.keep: list[Any] = []
        self.count = 0

    def fresh(self, hint: str = "t") -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def node(self, op_type: str, inputs: list[str], outputs: list[str] | None = None, **attrs: Any) -> str:
        outputs = outputs or [self.fresh(op_type)]
        self.nodes.append((op_type, inputs, outputs, attrs))
        return outputs[0]

    def const(self, value: Any, dtype: Any = None, hint: str = "const") -> str:
        arr = np.asarray(value)
        if dtype is not None:
            arr = arr.astype(dtype)
        name = self.fresh(hint)
        self.inits.append((name, arr))
        return name

    def add_input(self, t: Tensor, name: str, dyn: dict) -> None:
        self.names[id(t)] = name
        self.keep.append(t)
        self.inputs.append((name, t.array, dyn))

    def add_output(self, t: Tensor, internal: str, name: str, dyn: dict) -> None:
        self.node("Identity", [internal], [name])
        self.outputs.append((name, t.array, dyn))

    def int_input_named(self, shape: tuple) -> str | None:
        """The graph input of integer dtype and this shape (embedding indices arrive as arrays)."""
        found = [n for n, a, _ in self.inputs if a.dtype.kind in "iu" and a.shape == tuple(shape)]
        return found[0] if len(found) == 1 else None

    def value(self, t: Any, dtype: Any = None) -> str:
        """The ONNX name of tensor `t`, emitting its producing nodes first (iteratively, deepest first)."""
        if not isinstance(t, Tensor):
            return self.const(t, dtype)
        stack = [t]
        while stack:
            cur = stack[-1]
            if id(cur) in self.names:
                stack.pop()
                continue
            rec = self.records.get(id(cur))
            if rec is None:  # a parameter, buffer or constant
                arr = cur.array
                if dtype is not None and arr.dtype.kind == "f" and cur is t:
                    arr = arr.astype(dtype)
                name = self.named.get(id(cur)) or self.fresh("const")
                self.inits.append((name, np.asarray(arr)))
                self.names[id(cur)] = name
                self.keep.append(cur)
                stack.pop()
                continue
            pending = [x for x in rec.inputs if id(x) not in self.names]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            self._emit(rec)
        return self.names[id(t)]

    def _emit(self, rec: Any) -> None:
        fn = TABLE.get(rec.cls)
        if fn is None:
            raise self.error(f"matgrad.onnx.export: the op {rec.cls.__name__} (used by module {rec.module!r}) has no "
                             f"ONNX mapping in matgrad.onnx.ops; {self.note}")
        out = self.fresh(rec.cls.__name__.lower())
        xs = [self.names[id(x)] for x in rec.inputs]
        dt = rec.out.array.dtype
        # constants that meet a float tensor take its dtype (a float64 scalar beside float32 data)
        for x, name in zip(rec.inputs, xs):
            if dt.kind == "f" and id(x) not in self.records and x.array.dtype.kind in "fiu" and x.array.dtype != dt \
                    and any(n == name for n, _ in self.inits):
                for i, (n, a) in enumerate(self.inits):
                    if n == name:
                        self.inits[i] = (n, a.astype(dt))
        try:
            fn(self, rec, xs, out)
        except self.error:
            raise
        except (NotImplementedError, ValueError) as e:
            raise self.error(f"matgrad.onnx.export: the op {rec.cls.__name__} (used by module {rec.module!r}) "
                             f"cannot be expressed in ONNX here: {e}; {self.note}") from None
        self.names[id(rec.out)] = out
        self.keep.append(rec.out)

    def build(self, name: str, onnx: Any) -> Any:
        from onnx import helper, numpy_helper

        def info(n: str, arr: np.ndarray, dyn: dict) -> Any:
            dims = [dyn.get(i, dyn.get(str(i), d)) for i, d in enumerate(arr.shape)]
            elem = helper.np_dtype_to_tensor_dtype(arr.dtype)
            return helper.make_tensor_value_info(n, elem, dims)

        nodes = [helper.make_node(op, ins, outs, name=f"{op}_{i}", **attrs)
                 for i, (op, ins, outs, attrs) in enumerate(self.nodes)]
        inits = [numpy_helper.from_array(np.ascontiguousarray(a) if a.ndim else a, n) for n, a in self.inits]
        graph = helper.make_graph(nodes, name, [info(*i) for i in self.inputs], [info(*o) for o in self.outputs],
                                  initializer=inits)
        return helper.make_model(graph, producer_name="matgrad", opset_imports=[helper.make_opsetid("", self.opset)])


def _pair(v: Any) -> list[int]:
    return [int(x) for x in v] if isinstance(v, (tuple, list)) else [int(v), int(v)]


def _pads(p: Any) -> list[int]:
    if isinstance(p, (tuple, list)) and p and isinstance(p[0], (tuple, list)):
        (t, b), (le, r) = p
        return [int(t), int(le), int(b), int(r)]
    ph, pw = _pair(p)
    return [ph, pw, ph, pw]


# --- linear algebra ---------------------------------------------------------------------------------
@converts(linear.Linear)
def _linear(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    x = rec.inputs[0]
    if x.ndim == 2:
        g.node("Gemm", xs, [out], transB=1)
        return
    y = g.node("MatMul", [xs[0], g.node("Transpose", [xs[1]], perm=[1, 0])])
    if len(xs) == 3:
        g.node("Add", [y, xs[2]], [out])
    else:
        g.node("Identity", [y], [out])


@converts(linear.LinearActivation)
def _linear_activation(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    """act(x·Wᵀ + b), the node Sequential fuses on a GPU (ops.linear.linear_activation): Linear's nodes, then act's."""
    y = g.fresh("Linear")
    _linear(g, rec, xs, y)
    g.node(_ACTIVATION_NODES[rec.params["activation"]], [y], [out])


_ACTIVATION_NODES = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}


@converts(matmul.MatMul)
def _matmul(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    g.node("MatMul", xs, [out])


@converts(conv.Conv2d)
def _conv(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    p = rec.params
    if isinstance(p["padding"], str):
        raise NotImplementedError(f"string padding {p['padding']!r}")
    w = rec.inputs[1].array
    g.node("Conv", xs, [out], kernel_shape=list(w.shape[2:]), strides=_pair(p["stride"]),
           pads=_pads(p["padding"]), dilations=_pair(p["dilation"]), group=int(p["groups"]))


# --- 3-D convolution and pooling ---------------------------------------------------------------------
# ops/conv3d.py and ops/pooling3d.py compute these with the 2-D ops over the depth taps (slices, stacks, sums):
# the tracer (exporter.py) records each function in COMPOSITES as one op of its class instead, so it becomes one
# node with 3-D attributes. Its record's inputs are the function's tensors, its params the function's keywords.
class Conv3d:
    """conv3d, recorded from ops.conv3d._padded_conv3d(x, w, b, stride, padding, extra, dilation, groups)."""


class MaxPool3d:
    """max_pool3d, recorded from ops.pooling3d._max_pool3d(x, kernel, stride, padding, dilation, ceil_mode, size)."""


class AvgPool3d:
    """avg_pool3d, recorded from ops.pooling3d._avg_pool3d(x, kernel, stride, padding, ceil_mode, count_include_pad,
    divisor_override, size)."""


#: (module, function name, the class its calls are recorded as)
COMPOSITES: list[tuple[Any, str, type]] = [(conv3d, "_padded_conv3d", Conv3d), (pooling3d, "_max_pool3d", MaxPool3d),
                                           (pooling3d, "_avg_pool3d", AvgPool3d)]


def _ints(v: Any) -> list[int]:
    return [int(x) for x in v]


@converts(Conv3d)
def _conv3d(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    """Conv over (N, C, D, H, W); padding='same''s odd pixel (`extra`) goes at the end, as PyTorch's."""
    p = rec.params
    lo = _ints(p["padding"])
    w = rec.inputs[1].array
    g.node("Conv", xs, [out], kernel_shape=list(w.shape[2:]), strides=_ints(p["stride"]),
           pads=lo + [a + int(e) for a, e in zip(lo, p["extra"])], dilations=_ints(p["dilation"]),
           group=int(p["groups"]))


def _pool3d_input(g: GraphBuilder, rec: Any, xs: list, value: float) -> tuple[str, list[int]]:
    """The pooled input and the pads attribute: the input padded by `value` at the end of each dim where ceil_mode's
    last window reaches past the padding (ONNX pools only whole windows of the padded input)."""
    p = rec.params
    x = rec.inputs[0].array
    k, s, pad, size = p["kernel"], p["stride"], p["padding"], p["size"]
    d = p.get("dilation", (1, 1, 1))
    extra = [max(0, (o - 1) * s[i] + d[i] * (k[i] - 1) + 1 - (x.shape[2 + i] + 2 * pad[i])) for i, o in enumerate(size)]
    for i, o in enumerate(size):  # whole windows of the padded input: exactly matgrad's output size
        if (x.shape[2 + i] + 2 * pad[i] + extra[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 != o:
            raise NotImplementedError(f"a 3-D pooling output size {tuple(size)} from input {x.shape[2:]}")
    if not any(extra):
        return xs[0], _ints(pad) * 2
    widths = [(0, 0), (0, 0)] + [(0, e) for e in extra]
    padded = g.node("Pad", [xs[0], g.const(_onnx_pads(widths)), g.const(value, x.dtype)], mode="constant")
    return padded, _ints(pad) * 2


@converts(MaxPool3d)
def _maxpool3d(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    p = rec.params
    x, pads = _pool3d_input(g, rec, xs, -np.inf)
    g.node("MaxPool", [x], [out], kernel_shape=_ints(p["kernel"]), strides=_ints(p["stride"]), pads=pads,
           dilations=_ints(p["dilation"]))


@converts(AvgPool3d)
def _avgpool3d(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    """AveragePool; where matgrad's divisor is not ONNX's (divisor_override, ceil_mode's clipped windows), the mean
    over every window's kD·kH·kW pixels rescaled to matgrad's own divisor (pooling3d.avg_divisor)."""
    p = rec.params
    k = _ints(p["kernel"])
    x, pads = _pool3d_input(g, rec, xs, 0.0)
    attrs = dict(kernel_shape=k, strides=_ints(p["stride"]), pads=pads)
    div = pooling3d.avg_divisor(rec.inputs[0].array.shape, tuple(k), tuple(p["stride"]), tuple(p["padding"]),
                                tuple(p["size"]), p["count_include_pad"], p["divisor_override"])
    volume = k[0] * k[1] * k[2]
    if isinstance(div, float) and div == volume:
        g.node("AveragePool", [x], [out], count_include_pad=1, **attrs)
    elif x == xs[0] and not p["count_include_pad"] and not p["divisor_override"]:
        # every window within the padded input: ONNX's count of the input's pixels in it is PyTorch's
        g.node("AveragePool", [x], [out], count_include_pad=0, **attrs)
    else:
        mean = g.node("AveragePool", [x], count_include_pad=1, **attrs)
        g.node("Mul", [mean, g.const(volume / np.asarray(div, np.float64), _dtype(rec))], [out])


# --- pooling ----------------------------------------------------------------------------------------
def _check_pool_size(rec: Any, kind: str, k: list, s: list, pads: list, d: list) -> None:
    x, y = rec.inputs[0].array.shape, rec.out.array.shape
    for i in range(2):
        want = (x[2 + i] + pads[i] + pads[i + 2] - d[i] * (k[i] - 1) - 1) // s[i] + 1
        if want != y[2 + i]:
            raise NotImplementedError(f"{kind} output size {y[2:]} needs ceil_mode")


@converts(pooling.MaxPool2d)
def _maxpool(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    p = rec.params
    k, s, pads, d = _pair(p["k"]), _pair(p["s"]), _pads(p["p"]), _pair(p["d"])
    _check_pool_size(rec, "MaxPool", k, s, pads, d)
    g.node("MaxPool", xs, [out], kernel_shape=k, strides=s, pads=pads, dilations=d)


@converts(pooling.AvgPool2d)
def _avgpool(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    p = rec.params
    k, s, pads = _pair(p["k"]), _pair(p["s"]), _pads(p["p"])
    _check_pool_size(rec, "AveragePool", k, s, pads, [1, 1])
    divisor = np.asarray(p["divisor"])
    if divisor.ndim == 0 and not np.isclose(float(divisor), k[0] * k[1]):
        raise NotImplementedError("a divisor_override")
    if divisor.ndim == 0:
        g.node("AveragePool", xs, [out], kernel_shape=k, strides=s, pads=pads, count_include_pad=1)
        return
    x, y = rec.inputs[0].array, rec.out.array
    exclude = pooling._avg_divisor(x, tuple(k), tuple(s), tuple(p["p"]), *y.shape[2:], False, None)
    if np.array_equal(np.broadcast_to(exclude, divisor.shape), divisor):
        g.node("AveragePool", xs, [out], kernel_shape=k, strides=s, pads=pads, count_include_pad=0)
        return
    # ceil_mode's windows off the right edge (the input arrives padded by Pad, which ONNX counts as pixels):
    # ONNX's mean over k·k, rescaled to matgrad's own per-window divisor
    mean = g.node("AveragePool", xs, kernel_shape=k, strides=s, pads=pads, count_include_pad=1)
    g.node("Mul", [mean, g.const((k[0] * k[1]) / divisor.astype(np.float64), y.dtype)], [out])


@converts(pooling.AdaptiveAvgPool2d)
def _adaptive(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    h, w = rec.inputs[0].array.shape[-2:]
    oh, ow = rec.out.array.shape[-2:]
    if (oh, ow) == (1, 1):
        g.node("GlobalAveragePool", xs, [out])
    elif h % oh == 0 and w % ow == 0:
        k = [h // oh, w // ow]
        g.node("AveragePool", xs, [out], kernel_shape=k, strides=k)
    else:
        raise NotImplementedError(f"adaptive pooling from {(h, w)} to {(oh, ow)} (not a whole factor)")


# --- normalization ----------------------------------------------------------------------------------
@converts(normalization.Normalize)
def _normalize(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    x = rec.inputs[0].array
    axes = sorted(a % x.ndim for a in rec.params["axes"])
    if axes != list(range(x.ndim - len(axes), x.ndim)) or g.opset < 17:
        raise NotImplementedError(f"normalizing over axes {tuple(axes)} of a {x.ndim}-d input (batch statistics: "
                                  "export BatchNorm in eval mode; LayerNorm needs opset 17)")
    gamma, beta = xs[1], xs[2]
    pshape = tuple(x.shape[axes[0]:])
    if rec.inputs[1].array.shape != pshape:
        gamma = g.node("Reshape", [gamma, g.const(np.array(pshape, np.int64))])
    if rec.inputs[2].array.shape != pshape:
        beta = g.node("Reshape", [beta, g.const(np.array(pshape, np.int64))])
    g.node("LayerNormalization", [xs[0], gamma, beta], [out], axis=axes[0], epsilon=float(rec.params["eps"]))


# --- activations ------------------------------------------------------------------------------------
_UNARY = {activation.Tanh: "Tanh", activation.Sigmoid: "Sigmoid", activation.ReLU: "Relu", unary.Exp: "Exp",
          unary.Log: "Log", unary.Sqrt: "Sqrt", unary.Abs: "Abs", unary.Sign: "Sign", unary.Sin: "Sin",
          unary.Cos: "Cos", unary.Erf: "Erf", unary.Tan: "Tan", unary.Asin: "Asin", unary.Acos: "Acos",
          unary.Atan: "Atan", unary.Sinh: "Sinh", unary.Cosh: "Cosh", unary.Asinh: "Asinh", unary.Acosh: "Acosh",
          unary.Atanh: "Atanh", arithmetic.Neg: "Neg", shape.Contiguous: "Identity",
          shape.Clone: "Identity"}
for _cls, _name in _UNARY.items():
    TABLE[_cls] = (lambda name: lambda g, rec, xs, out: g.node(name, xs[:1], [out]))(_name)

_BINARY = {arithmetic.Add: "Add", arithmetic.Sub: "Sub", arithmetic.Mul: "Mul", arithmetic.Div: "Div",
           arithmetic.Pow: "Pow", binary.Maximum: "Max", binary.Minimum: "Min"}
for _cls, _name in _BINARY.items():
    TABLE[_cls] = (lambda name: lambda g, rec, xs, out: g.node(name, xs, [out]))(_name)


def _dtype(rec: Any) -> np.dtype:
    return rec.out.array.dtype


@converts(activation.LeakyReLU)
def _leaky(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    g.node("LeakyRelu", xs, [out], alpha=float(rec.params["slope"]))


@converts(activation.ELU)
def _elu(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    g.node("Elu", xs, [out], alpha=float(rec.params["alpha"]))


@converts(activation.GELU)
def _gelu(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    dt, x = _dtype(rec), xs[0]
    approx = rec.params.get("approximate", "none")
    if g.opset >= 20:
        g.node("Gelu", [x], [out], approximate=str(approx))
        return
    if approx == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", [x, g.node("Mul", [x, x])])
        inner = g.node("Mul", [g.node("Add", [x, g.node("Mul", [cube, g.const(0.044715, dt)])]),
                               g.const(math.sqrt(2 / math.pi), dt)])
        t = g.node("Tanh", [inner])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        t = g.node("Erf", [g.node("Div", [x, g.const(math.sqrt(2.0), dt)])])
    g.node("Mul", [g.node("Mul", [x, g.const(0.5, dt)]), g.node("Add", [t, g.const(1.0, dt)])], [out])


@converts(activation.Softplus)
def _softplus(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    beta = float(rec.params["beta"])
    if beta == 1.0:
        g.node("Softplus", xs, [out])
        return
    dt = _dtype(rec)
    sp = g.node("Softplus", [g.node("Mul", [xs[0], g.const(beta, dt)])])
    g.node("Div", [sp, g.const(beta, dt)], [out])


@converts(activation.Clamp)
def _clamp(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    dt = _dtype(rec)
    lo, hi = rec.params["lo"], rec.params["hi"]
    ins = [xs[0], "" if lo is None else g.const(lo, dt), "" if hi is None else g.const(hi, dt)]
    while ins and ins[-1] == "":
        ins.pop()
    g.node("Clip", ins, [out])


@converts(activation.ClampTensor)
def _clamp_tensor(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    # ONNX's Clip takes only scalar bounds: Max then Min, as clamp.Tensor computes it
    x, bounds = xs[0], list(xs[1:])
    if rec.params["has_min"]:
        x = g.node("Max", [x, bounds.pop(0)], None if bounds else [out])
    if rec.params["has_max"]:
        g.node("Min", [x, bounds.pop(0)], [out])


def _relu6_of_x_plus_3(g: GraphBuilder, x: str, dt: np.dtype) -> str:
    return g.node("Clip", [g.node("Add", [x, g.const(3.0, dt)]), g.const(0.0, dt), g.const(6.0, dt)])


@converts(activation.Hardsigmoid)
def _hardsigmoid(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    """relu6(x + 3) / 6 in matgrad's steps (ONNX's HardSigmoid, x/6 + 1/2, rounds otherwise)."""
    dt = _dtype(rec)
    g.node("Div", [_relu6_of_x_plus_3(g, xs[0], dt), g.const(6.0, dt)], [out])


@converts(activation.Hardswish)
def _hardswish(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    """x · relu6(x + 3) / 6 in matgrad's steps (HardSwish needs opset 14)."""
    dt = _dtype(rec)
    g.node("Div", [g.node("Mul", [xs[0], _relu6_of_x_plus_3(g, xs[0], dt)]), g.const(6.0, dt)], [out])


@converts(softmax.Softmax)
def _softmax(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    g.node("Softmax", xs, [out], axis=int(rec.params["axis"]))


@converts(softmax.LogSoftmax)
def _logsoftmax(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    g.node("LogSoftmax", xs, [out], axis=int(rec.params["axis"]))


@converts(arithmetic.PowScalar)
def _pow_scalar(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    g.node("Pow", [xs[0], g.const(rec.params["p"], _dtype(rec))], [out])


@converts(binary.Where)
def _where(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    cond = rec.params.get("cond")
    if len(xs) == 3:
        g.node("Where", [xs[2], xs[0], xs[1]], [out])
    else:
        g.node("Where", [g.const(np.asarray(cond, bool)), xs[0], xs[1]], [out])


# --- shapes -----------------------------------------------------------------------------------------
@converts(shape.Reshape)
def _reshape(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    src, dst = rec.inputs[0].array.shape, rec.out.array.shape
    target = list(dst)
    if src and dst and src[0] == dst[0]:
        target[0] = 0  # copy the (possibly dynamic) leading axis from the input
    g.node("Reshape", [xs[0], g.const(np.array(target, np.int64))], [out])


@converts(shape.Permute)
def _permute(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    g.node("Transpose", xs, [out], perm=[int(a) for a in rec.params["axes"]])


@converts(shape.Expand)
def _expand(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    src, dst = rec.inputs[0].array.shape, rec.out.array.shape
    aligned = (1,) * (len(dst) - len(src)) + tuple(src)
    target = [1 if a == d else d for a, d in zip(aligned, dst)]
    g.node("Expand", [xs[0], g.const(np.array(target, np.int64))], [out])


@converts(shape.AsType)
def _astype(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    from onnx import helper

    g.node("Cast", xs, [out], to=helper.np_dtype_to_tensor_dtype(_dtype(rec)))


@converts(join.Cat)
def _cat(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    g.node("Concat", xs, [out], axis=int(rec.params["axis"]))


# --- padding (F.pad; padding_mode convolutions; ceil_mode pooling) --------------------------------
def _onnx_pads(widths: list) -> np.ndarray:
    """ONNX Pad's pads input: every dim's begin, then every dim's end (matgrad's are (begin, end) per dim)."""
    return np.array([lo for lo, _ in widths] + [hi for _, hi in widths], np.int64)


@converts(join.Pad)
def _pad_constant(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    """F.pad(mode='constant'): its widths are never negative (F.pad crops first, a GetItem: see _pad_crop)."""
    widths = [(int(lo), int(hi)) for lo, hi in rec.params["widths"]]
    value = g.const(rec.params["value"], _dtype(rec))  # -inf for ceil_mode max pooling: a float like any other
    g.node("Pad", [xs[0], g.const(_onnx_pads(widths)), value], [out], mode="constant")


@converts(indexing.GetItem)
def _pad_crop(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    """x[a:b, ...] as a Slice, only as F.pad's crop (negative constant padding) feeding a Pad.

    Indexing in general has no mapping yet: any other x[...] stops the export as an unmapped op.
    """
    index = rec.params["index"]
    parts = index if isinstance(index, tuple) else (index,)
    x = rec.inputs[0].array
    feeds_pad = any(r.cls is join.Pad and r.inputs and r.inputs[0] is rec.out for r in g.records.values())
    if not (feeds_pad and len(parts) <= x.ndim and all(isinstance(q, slice) and q.step in (None, 1) for q in parts)):
        raise g.error(f"matgrad.onnx.export: the op GetItem (used by module {rec.module!r}) has no ONNX mapping in "
                      f"matgrad.onnx.ops (only F.pad's crop of negative padding is mapped); {g.note}")
    axes, starts, ends = [], [], []
    for axis, q in enumerate(parts):
        lo, hi, _ = q.indices(x.shape[axis])
        if (lo, hi) != (0, x.shape[axis]):
            axes.append(axis)
            starts.append(lo)
            ends.append(hi)
    _slice(g, xs[0], starts, ends, axes, out)


def _slice(g: GraphBuilder, x: str, starts: list, ends: list, axes: list, out: str | None = None) -> str:
    if not axes:
        return g.node("Identity", [x], None if out is None else [out])
    ins = [x, g.const(np.array(starts, np.int64)), g.const(np.array(ends, np.int64)), g.const(np.array(axes, np.int64))]
    return g.node("Slice", ins, None if out is None else [out])


#: F.pad's modes (the label pad.py gives its AxisMap) -> ONNX Pad's mode and the opset that has it
_PAD_MODES = {"ReflectionPad": ("reflect", "reflect", 11), "ReplicationPad": ("replicate", "edge", 11),
              "CircularPad": ("circular", "wrap", 19)}


@converts(resample.AxisMap)
def _pad_modes(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    """F.pad(mode='reflect' | 'replicate' | 'circular'), which runs as an AxisMap (a gather along each padded dim).

    Each dim's (begin, end) is recovered from its gather index (pad._index made it); negative widths crop, as a
    Slice: after the Pad for reflect and replicate (they mirror or repeat at the uncropped input's edges, as
    PyTorch), before it for circular (PyTorch wraps within what is left).
    """
    label = str(rec.params.get("name", "AxisMap"))
    mode = next((m for prefix, m in _PAD_MODES.items() if label.startswith(prefix)), None)
    if mode is None:  # interpolate's AxisMap
        raise g.error(f"matgrad.onnx.export: the op {label} (AxisMap, used by module {rec.module!r}) has no ONNX "
                      f"mapping in matgrad.onnx.ops; {g.note}")
    torch_mode, onnx_mode, opset = mode
    if g.opset < opset:
        raise g.error(f"matgrad.onnx.export: {torch_mode} padding (used by module {rec.module!r}) needs ONNX Pad's "
                      f"mode {onnx_mode!r}, which opset {opset} added; this export writes opset {g.opset}: pass "
                      f"opset_version={opset} (or later) to matgrad.onnx.export")
    shape = rec.inputs[0].array.shape
    widths = [(0, 0)] * len(shape)
    for axis, n, taps in rec.params["plans"]:
        (idx, _), = taps
        total = len(idx) - n
        lo = next((lo for lo in range(-n, total + n + 1)
                   if np.array_equal(pad._index(torch_mode, n, lo, total - lo), idx)), None)
        if lo is None:
            raise NotImplementedError(f"{label}'s gather along dim {axis} is not a padding of it")
        widths[axis] = (lo, total - lo)
    pads = g.const(_onnx_pads([(max(lo, 0), max(hi, 0)) for lo, hi in widths]))
    cropped = [axis for axis, (lo, hi) in enumerate(widths) if min(lo, hi) < 0]
    starts = [-min(widths[a][0], 0) for a in cropped]
    if onnx_mode == "wrap":  # crop, then wrap within what is left
        ends = [shape[a] + min(widths[a][1], 0) for a in cropped]
        g.node("Pad", [_slice(g, xs[0], starts, ends, cropped) if cropped else xs[0], pads], [out], mode=onnx_mode)
    elif cropped:  # pad at the input's own edges, then crop (the end: n + grown begin + end)
        ends = [shape[a] + max(widths[a][0], 0) + widths[a][1] for a in cropped]
        _slice(g, g.node("Pad", [xs[0], pads], mode=onnx_mode), starts, ends, cropped, out)
    else:
        g.node("Pad", [xs[0], pads], [out], mode=onnx_mode)


def _reduce(name: str) -> Converter:
    def convert(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
        x = rec.inputs[0].array
        axes = rec.params.get("axes")
        axes = list(range(x.ndim)) if axes is None else [int(a) for a in np.atleast_1d(axes)]
        keep = int(bool(rec.params.get("keepdims", False)))
        if name == "ReduceSum" or g.opset >= 18:
            g.node(name, [xs[0], g.const(np.array(axes, np.int64))], [out], keepdims=keep)
        else:
            g.node(name, xs, [out], axes=axes, keepdims=keep)
    return convert


TABLE[reduction.Sum] = _reduce("ReduceSum")
TABLE[reduction.Mean] = _reduce("ReduceMean")
TABLE[reduction.AMax] = _reduce("ReduceMax")
TABLE[reduction.AMin] = _reduce("ReduceMin")


@converts(embedding.EmbeddingLookup)
def _embedding(g: GraphBuilder, rec: Any, xs: list, out: str) -> None:
    idx = np.asarray(rec.params["indices"])
    name = g.int_input_named(idx.shape)
    if name is None:
        raise NotImplementedError("embedding indices that are not exactly one integer graph input")
    g.node("Gather", [xs[0], name], [out], axis=0)
