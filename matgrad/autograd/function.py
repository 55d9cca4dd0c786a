"""autograd.Function: PyTorch's way for a user to write an op that knows its own derivative.

    class Cube(matgrad.autograd.Function):
        \"\"\"y = x³.  dx = 3x² · dy.\"\"\"

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, dy):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * dy

    y = Cube.apply(x)

Both of PyTorch's forms work: `forward(ctx, *args, **kwargs)`, and `forward(*args)` with
`setup_context(ctx, inputs, output)`. Tensors and other values may be mixed in the
arguments; backward returns one gradient per forward input (None for the others).

How it sits on matgrad's own op base (`matgrad.autograd.op.Op`, `_Op` here):

- `apply` makes a `FunctionCtx`, runs the user's forward (and setup_context) on the
  Tensors with recording off, then records ONE node through `_Op.apply`, so the engine,
  gradcheck and the explainer see an ordinary op. Each user class gets its own node class,
  named like it and carrying its docstring: the explainer shows the node by that name, with
  the docstring's first line as its local rule.
- The node's backward hands the user Tensors (the output gradients, `ctx.saved_tensors`),
  calls the user's backward, checks what came back (count, type, shape: errors name the
  user's class) and gives the engine arrays, or Tensors under create_graph. Under
  create_graph the engine records ops, so a backward written with Tensor ops is itself
  recorded and can be differentiated again; `once_differentiable` opts out, loudly.
- Several differentiable outputs. The engine knows one output per node, so here the
  node's output is a hidden "packed" tensor (the differentiable outputs raveled and
  concatenated), and each output the user sees is a small `<Name>Output` node that cuts
  its piece out of it. Its backward puts dy in its piece of a zero packed gradient; the
  engine sums the pieces as it sums any fan-out; the node slices the sum back into one
  gradient per output. Every step is an ordinary op, so it differentiates again too.
  The cost is a copy of those outputs (the packed tensor) and a packed-size gradient per
  output. A function with one differentiable output (the common case, including
  `(values, indices)` with the indices non-differentiable) has no packing: its output is
  the node's own.

Differences from PyTorch, on purpose or for now:
- forward must return a Tensor or a tuple/list of them; a lone non-Tensor, or a NumPy
  array anywhere, is an error (PyTorch passes a lone non-Tensor through). Other non-Tensor
  items in a tuple pass through as in PyTorch, and their gradient slot in backward is None.
- `mark_dirty` is accepted and checked as PyTorch checks it (only inputs, all returned,
  never a leaf that requires grad), but the tensor is not yet rebased: the output is a new
  Tensor sharing the (modified) memory, whose history runs through this function; the
  input object keeps its old history, so use the returned tensor afterwards. In-place
  semantics with version counters are the tensor/engine's work (issue 13, item 4); where
  a Tensor carries a `_version`, a saved input or other saved tensor changed in place
  after forward already raises PyTorch's error on `ctx.saved_tensors` (saved outputs are
  kept as arrays and not checked yet).
- With `set_materialize_grads(False)` and several differentiable outputs, an output that
  no gradient reached gets None in the first backward of a pass, as in PyTorch; if a pass
  was aborted by an exception, the next may see zeros for it instead (same values).
- No forward-mode AD (`jvp`), `vmap` or `save_for_forward`.
"""
from __future__ import annotations

import functools
import inspect
import warnings
import weakref
from typing import Any, Callable, TypeVar

import numpy as np

from ..tensor import Tensor
from . import grad_mode
from .op import Op as _Op

F = TypeVar("F", bound=Callable[..., Any])

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)

#: What a backward written for matgrad's internal op base reads from `self`; ctx points the way.
_OP_BASE_NAMES = frozenset({"inputs", "output", "parents", "xp", "out"})

_DIFF, _CONST, _OBJ = "diff", "const", "obj"  # an output: differentiable, a Tensor without gradient, not a Tensor


def _array(t: Tensor) -> np.ndarray:
    """The NumPy array a Tensor holds (the one place this module reads it)."""
    return t.array


def _const(arr: Any) -> Tensor:
    return Tensor._make(arr, None, False)


def _sums_to(gshape: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """Whether a gradient of `gshape` sums down to `shape` (shape broadcasts to gshape), as the engine does."""
    return len(gshape) >= len(shape) and all(s == 1 or s == g for s, g in zip(shape[::-1], gshape[::-1]))


@functools.lru_cache(maxsize=512)
def _signature(fn: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(fn)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --- ctx -------------------------------------------------------------------------------------------------

class FunctionCtx:
    """What forward hands to backward (PyTorch's `ctx`).

    `save_for_backward(*tensors)` / `saved_tensors`, `needs_input_grad` (one bool per forward
    input), `mark_non_differentiable(*outputs)`, `mark_dirty(*inputs)`,
    `set_materialize_grads(bool)`, and any attribute of your own (`ctx.scale = 2`).
    """

    def __init__(self, name: str, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self.to_save: tuple[Any, ...] = ()
        self.non_differentiable: tuple[Tensor, ...] = ()
        self.dirty_tensors: tuple[Tensor, ...] = ()
        self._mg_name = name
        self._mg_records: list[Any] | None = None  # what was saved, resolved once the node exists
        self._mg_node: Any = None  # a weak reference to the node
        self._mg_freed = False

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors (inputs, outputs or others; None allowed) for backward's `ctx.saved_tensors`."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"{self._mg_name}: save_for_backward can only save Tensors (or None), but argument {i} "
                    f"is a {type(t).__name__}; keep other values as attributes (ctx.value = ...)"
                )
        self.to_save = tensors

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The tensors given to save_for_backward, in order.

        Saved inputs are the input Tensors themselves and saved outputs are the outputs with
        their history, so under create_graph a backward written with them is differentiable.
        """
        if self._mg_freed:
            raise RuntimeError(_FREED)
        if self._mg_records is None:  # still inside forward / setup_context
            return tuple(self.to_save)
        node = self._mg_node() if self._mg_node is not None else None
        out = []
        for i, rec in enumerate(self._mg_records):
            if rec is None or rec[0] == "t":
                if rec is not None and getattr(rec[1], "_version", None) != rec[2]:
                    raise RuntimeError(
                        "one of the variables needed for gradient computation has been modified by an inplace "
                        f"operation: saved tensor {i} of {self._mg_name} (shape {tuple(rec[1].shape)}) is at "
                        f"version {rec[1]._version}; expected version {rec[2]} instead."
                    )
                out.append(None if rec is None else rec[1])
            elif node is None:
                raise RuntimeError(_FREED)
            else:
                out.append(node._saved_output(rec[1]))
        return tuple(out)

    saved_variables = saved_tensors  # PyTorch's old name

    def __getattr__(self, name: str) -> Any:  # only for attributes that are not there
        if name in _OP_BASE_NAMES:
            raise AttributeError(
                f"{self._mg_name}'s ctx has no attribute {name!r}: matgrad.autograd.Function is PyTorch's "
                "interface (ctx.save_for_backward(...) in forward, ctx.saved_tensors in backward). matgrad's "
                "internal op base, whose forward(self, *arrays) and backward(self, dy) work on NumPy arrays "
                "with self.inputs, is matgrad.autograd.op.Op"
            )
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """Outputs that get no gradient (indices, masks): requires_grad=False, zeros (or None) in backward."""
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"{self._mg_name}: mark_non_differentiable takes output Tensors, argument {i} "
                                f"is a {type(t).__name__}")
        self.non_differentiable = tensors

    def mark_dirty(self, *tensors: Any) -> None:
        """Inputs that forward modified in place (each must also be returned).

        Checked as PyTorch checks it. For now the returned output is a new Tensor sharing the
        modified memory, with this function in its history; the input object keeps its old
        history, so use the returned tensor afterwards (see the module docstring).
        """
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"{self._mg_name}: mark_dirty takes input Tensors, argument {i} "
                                f"is a {type(t).__name__}")
        self.dirty_tensors = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """True (the default): an output gradient that is None reaches backward as zeros. False: as None."""
        self.materialize_grads = bool(value)

    # --- internal ------------------------------------------------------------------------------------
    def _mg_bind(self, node: Any, inputs: tuple[Any, ...], outs: list[Any]) -> None:
        """Resolve what was saved against the inputs and outputs, now the node exists."""
        self._mg_node = weakref.ref(node)
        records: list[Any] = []
        for t in self.to_save:
            if t is None:
                records.append(None)
                continue
            k = next((i for i, o in enumerate(outs) if o is t), None)
            is_input = any(t is a for a in inputs)
            if k is not None and (not is_input or any(t is d for d in self.dirty_tensors)):
                node._keep_output(k, _array(t))
                records.append(("out", k))
            else:  # with the tensor's version, where tensors carry one, to catch a later in-place change
                records.append(("t", t, getattr(t, "_version", None)))
        self._mg_records = records

    def _mg_release(self) -> None:
        self._mg_records = None
        self.to_save = ()
        self._mg_freed = True


# --- the nodes -------------------------------------------------------------------------------------------

class _Layout:
    """The outputs forward returned: kind, shape and dtype of each; where each sits in the packed output."""

    def __init__(self, outs: list[Any], kinds: list[str]) -> None:
        self.kinds = kinds
        self.meta = [(tuple(_array(o).shape), _array(o).dtype) if isinstance(o, Tensor) else None for o in outs]
        diff = [i for i, k in enumerate(kinds) if k == _DIFF]
        self.packed = len(diff) > 1
        self.pieces: dict[int, tuple[int, int]] = {}
        self.total = 0
        self.dtype = None
        if self.packed:
            self.dtype = np.result_type(*[self.meta[i][1] for i in diff])
            for i in diff:
                size = int(np.prod(self.meta[i][0], dtype=np.int64))
                self.pieces[i] = (self.total, size)
                self.total += size


class _Node(_Op):
    """(each user Function gets a subclass named like it, with its docstring)"""

    _fn: Any = None  # the user's Function subclass
    replayable = False  # the user's forward may draw, count or read state: re-running it may differ

    def forward(self, *arrays: Any, _result: Any, _ctx: FunctionCtx, _layout: _Layout, _inputs: tuple) -> Any:
        self._ctx = _ctx
        self._layout = _layout
        # per forward input: its position among the node's parents (None: not a Tensor), shape, type
        pos = 0
        meta = []
        for a in _inputs:
            if isinstance(a, Tensor):
                meta.append((pos, tuple(_array(a).shape), "Tensor"))
                pos += 1
            else:
                meta.append((None, None, type(a).__name__))
        self._in_meta = meta
        self._kept: dict[int, Any] = {}  # saved outputs' arrays, by output index
        self._selects: dict[int, Any] = {}  # weak references to the output nodes (several outputs)
        self._reached: set[int] = set()  # outputs a gradient reached in this pass (several outputs)
        self._packed = _result if _layout.packed else None
        return _result

    # --- backward ------------------------------------------------------------------------------------
    def backward(self, dy: Any) -> Any:
        ctx, lay, xp = self._ctx, self._layout, self.xp
        if ctx._mg_freed:
            raise RuntimeError(_FREED)
        reached, self._reached = self._reached, set()
        grads: list[Any] = []
        for i, kind in enumerate(lay.kinds):
            g = None
            if kind == _DIFF:
                if not lay.packed:
                    g = dy
                elif ctx.materialize_grads or i in reached:
                    off, size = lay.pieces[i]
                    shape, dtype = lay.meta[i]
                    g = xp.reshape(dy[off:off + size], shape)
                    if g.dtype != dtype:
                        g = xp.astype(g, dtype)
                if g is not None and xp.plain:
                    g = _const(g)
            elif kind == _CONST and ctx.materialize_grads:
                shape, dtype = lay.meta[i]
                g = _const(np.zeros(shape, dtype))
            grads.append(g)
        result = self._fn._mg_backward()(ctx, *grads)
        return self._check(result)

    def _check(self, result: Any) -> tuple[Any, ...]:
        """The user's gradients, checked, one per parent: arrays (plain backward) or Tensors (create_graph)."""
        name = self._fn.__name__
        if not isinstance(result, (tuple, list)):
            result = (result,)
        n = len(self._in_meta)
        if len(result) < n or any(g is not None for g in result[n:]):
            raise RuntimeError(
                f"{name}.backward returned {_plural(len(result), 'gradient')}, expected {n} "
                f"(one per forward input, None for inputs without one)"
            )
        plain = self.xp.plain
        out: list[Any] = [None] * len(self.parents)
        for j, (pos, shape, tname) in enumerate(self._in_meta):
            g = result[j]
            if g is None:
                continue
            if pos is None:
                raise RuntimeError(
                    f"{name}.backward returned a gradient for input {j}, but forward input {j} is a {tname}, "
                    "not a Tensor; return None in its place"
                )
            if not isinstance(g, Tensor):
                raise TypeError(
                    f"{name}.backward returned a {type(g).__name__} as the gradient of input {j}; gradients "
                    "must be Tensors (or None)"
                )
            if not self.needs_input_grad[pos]:
                continue  # that input needs no gradient: dropped, as PyTorch does
            gshape = tuple(g.shape)
            if gshape != shape and not _sums_to(gshape, shape):
                raise RuntimeError(
                    f"{name}.backward returned a gradient of shape {gshape} for input {j}, whose shape is "
                    f"{shape}; a gradient has its input's shape (or a broadcast shape that sums to it)"
                )
            if plain:
                arr = _array(g)
                if any(arr is _array(p) for p in self.parents):  # never hand the engine an input's own memory
                    arr = arr.copy()
                out[pos] = arr
            else:
                out[pos] = g
        return tuple(out)

    # --- saved outputs -------------------------------------------------------------------------------
    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """`ctx.saved_tensors`, read from the node (PyTorch's `y.grad_fn.saved_tensors`)."""
        return self._ctx.saved_tensors

    def _keep_output(self, k: int, arr: Any) -> None:
        self._kept[k] = arr

    def _saved_output(self, k: int) -> Tensor:
        """Saved output k: with this node's history (or its output node's), so create_graph differentiates it."""
        lay, arr = self._layout, self._kept[k]
        if lay.kinds[k] != _DIFF:
            return _const(arr)
        if not lay.packed:
            return Tensor._make(arr, self, True)
        ref = self._selects.get(k)
        sel = ref() if ref is not None else None
        if sel is not None:
            return Tensor._make(arr, sel, True)
        hidden = Tensor._make(self._packed, self, True)  # the output's node is gone: cut the piece again
        return self._fn._mg_output.apply(hidden, **_output_params(lay, k, arr))

    def release(self) -> None:
        super().release()
        self._ctx._mg_release()
        self._kept = {}
        self._packed = None


class _OutputNode(_Op):
    """(each user Function gets a subclass, `<Name>Output`: one output cut from its packed outputs)"""

    _fn_name = "Function"
    replayable = False  # its input is the user's Function node's, which cannot be re-run

    def forward(self, packed: Any, index: int, piece: tuple, value: Any) -> Any:
        self.index = index
        self._piece = piece
        return value

    def backward(self, dy: Any) -> Any:
        xp = self.xp
        core = self.parents[0].grad_fn
        if core is not None:
            core._reached.add(self.index)
        off, size, total, dtype = self._piece
        flat = xp.reshape(dy, (size,))
        if flat.dtype != dtype:
            flat = xp.astype(flat, dtype)
        return xp.index_add((total,), slice(off, off + size), flat, True)

    @property
    def name(self) -> str:
        return f"{self._fn_name}[{self.index}]"


def _output_params(lay: _Layout, k: int, arr: Any) -> dict[str, Any]:
    off, size = lay.pieces[k]
    return {"index": k, "piece": (off, size, lay.total, lay.dtype), "value": arr}


class OnceDifferentiable(_Op):
    """y = a gradient from a backward marked @once_differentiable.  It cannot be differentiated again."""

    def forward(self, value: Any, *deps: Any, fn_name: str) -> Any:
        self.fn_name = fn_name
        return value

    def backward(self, dy: Any) -> Any:
        raise RuntimeError(
            f"{self.fn_name}.backward is decorated with @once_differentiable, so the gradient it computed "
            "cannot be differentiated again (trying to differentiate twice a function that was marked with "
            "@once_differentiable). Write its backward with differentiable Tensor ops, without the decorator, "
            "to take higher-order gradients through it."
        )


# --- the user's base class -------------------------------------------------------------------------------

def _guard_forward(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """forward(ctx, ...) that says what to do when called directly with a Tensor in ctx's place."""
    @functools.wraps(fn)
    def forward(*args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], Tensor):
            raise TypeError(
                f"{name}.forward(ctx, ...) was called directly, with a Tensor where ctx belongs; call "
                f"{name}.apply(...) instead: apply makes the ctx, runs forward without recording and "
                f"records the {name} node that backward goes through"
            )
        return fn(*args, **kwargs)

    return forward


class Function:
    """Base class for an op with a hand-written derivative; call it as `MyFn.apply(*args)`.

    Subclass it with `@staticmethod forward(ctx, *args, **kwargs)` and `@staticmethod
    backward(ctx, *grad_outputs)` (one gradient per forward input, None where there is none),
    or PyTorch's newer form `forward(*args)` plus `setup_context(ctx, inputs, output)`.
    The first line of the class's docstring is what the explainer shows as its local rule.
    """

    _mg_node: type[_Node]
    _mg_output: type[_OutputNode]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        attrs = {"__doc__": cls.__doc__, "__module__": cls.__module__, "__qualname__": cls.__qualname__,
                 "_fn": cls}
        cls._mg_node = type(cls.__name__, (_Node,), attrs)
        cls._mg_output = type(f"{cls.__name__}Output", (_OutputNode,), {
            "__doc__": f"y = one output of {cls.__name__}, cut from its packed outputs.  "
                       "d(packed) = dy in that output's place, zeros elsewhere.",
            "__module__": cls.__module__, "_fn_name": cls.__name__,
        })
        fwd = cls.__dict__.get("forward")
        if isinstance(fwd, staticmethod) and not cls._mg_new_style():
            cls.forward = staticmethod(_guard_forward(cls.__name__, fwd.__func__))  # type: ignore[method-assign]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn(
            f"{type(self)} should not be instantiated. Methods on autograd functions are all static, so "
            f"you should invoke them on the class itself: {type(self).__name__}.apply(...)",
            DeprecationWarning, stacklevel=2,
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        name = type(self).__name__
        raise RuntimeError(
            f"{name}()(...): Legacy autograd function with non-static forward method is deprecated. Please use "
            f"new-style autograd function with static forward method, called as {name}.apply(...)."
        )

    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        """forward(ctx, *args, **kwargs) -> Tensor or tuple of Tensors (or forward(*args) with setup_context)."""
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple[Any, ...], output: Any) -> None:
        """With a forward that takes no ctx: save what backward needs (`inputs` as forward got them)."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        """One gradient per forward input (None where there is none), given one per output."""
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom autograd.Function "
            "to use it with backward mode AD."
        )

    vjp = backward

    @classmethod
    def _mg_new_style(cls) -> bool:
        return cls.setup_context is not Function.setup_context

    @classmethod
    def _mg_backward(cls) -> Callable[..., Any]:
        if cls.backward is Function.backward and cls.vjp is not Function.vjp:
            return cls.vjp
        if cls.backward is Function.backward:
            raise NotImplementedError(
                f"{cls.__name__} must implement backward (or vjp) to be used in backward mode AD"
            )
        return cls.backward

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run forward with recording off and, if any Tensor input requires grad, record one node."""
        if cls is Function:
            raise TypeError("Function.apply: subclass Function with forward and backward, then call MyFn.apply(...)")
        name = cls.__name__
        if cls._mg_new_style():
            try:
                bound = _signature(cls.forward).bind(*args, **kwargs)
            except TypeError as e:
                raise TypeError(f"{name}.apply: {e}") from None
            bound.apply_defaults()
            inputs, fkwargs = tuple(bound.args), bound.kwargs
        else:
            inputs = args + tuple(kwargs.values())
        ctx = FunctionCtx(name, tuple(isinstance(a, Tensor) and a.requires_grad for a in inputs))
        with grad_mode.no_grad():
            if cls._mg_new_style():
                raw = cls.forward(*inputs, **fkwargs)
                cls.setup_context(ctx, inputs, raw)
            else:
                raw = cls.forward(ctx, *args, **kwargs)
        return _record(cls, ctx, inputs, raw)


def _record(cls: type[Function], ctx: FunctionCtx, inputs: tuple[Any, ...], raw: Any) -> Any:
    """Check forward's result and, when a gradient can flow, wrap it in the node's outputs."""
    name = cls.__name__
    seq = isinstance(raw, (tuple, list))
    outs = list(raw) if seq else [raw]
    for i, o in enumerate(outs):
        if isinstance(o, (np.ndarray, np.generic)):
            where = f" as output {i}" if seq else ""
            raise TypeError(
                f"{name}.forward returned a NumPy {type(o).__name__}{where}; forward works on Tensors and "
                "returns Tensors (wrap an array with matgrad.tensor(...) or matgrad.from_numpy(...))"
            )
    if not seq and not isinstance(raw, Tensor):
        raise TypeError(
            f"{name}.forward returned a {type(raw).__name__}; it must return a Tensor or a tuple of Tensors"
        )

    record = grad_mode.is_grad_enabled() and any(ctx.needs_input_grad)
    for t in ctx.dirty_tensors:
        if not any(t is a for a in inputs):
            raise RuntimeError(f"{name}: mark_dirty was given a tensor that is not an input of forward")
        if not any(t is o for o in outs):
            raise RuntimeError(
                f"{name}: Some elements marked as dirty during the forward method were not returned as output. "
                "The inputs that are modified inplace must all be outputs of the Function."
            )
        if record and t.requires_grad and t.grad_fn is None:
            raise RuntimeError(f"{name}: a leaf Variable that requires grad has been used in an in-place operation.")
    if not record:
        return raw

    nondiff = {id(t) for t in ctx.non_differentiable}
    kinds = [_OBJ if not isinstance(o, Tensor)
             else _CONST if id(o) in nondiff or _array(o).dtype.kind != "f" else _DIFF for o in outs]
    results = [_const(_array(o)) if k == _CONST and (o.requires_grad or o.grad_fn is not None) else o
               for o, k in zip(outs, kinds)]
    diff = [i for i, k in enumerate(kinds) if k == _DIFF]
    if diff:
        layout = _Layout(outs, kinds)
        tensors = [a for a in inputs if isinstance(a, Tensor)]
        params = {"_ctx": ctx, "_layout": layout, "_inputs": inputs}
        if not layout.packed:
            (i,) = diff
            results[i] = cls._mg_node.apply(*tensors, _result=_array(outs[i]), **params)
            node = results[i].grad_fn
        else:
            packed = np.concatenate([_array(outs[i]).reshape(-1).astype(layout.dtype, copy=False) for i in diff])
            hidden = cls._mg_node.apply(*tensors, _result=packed, **params)
            node = hidden.grad_fn
            for i in diff:
                results[i] = cls._mg_output.apply(hidden, **_output_params(layout, i, _array(outs[i])))
                node._selects[i] = weakref.ref(results[i].grad_fn)
        ctx._mg_bind(node, inputs, outs)
    if not seq:
        return results[0]
    return tuple(results) if isinstance(raw, tuple) else results


def once_differentiable(fn: F) -> F:
    """Decorate a backward that is not itself differentiable (it leaves Tensors, or reads raw arrays).

    It runs with recording off. Under create_graph, its gradients are marked so that
    differentiating them again raises a clear error instead of silently giving zero.
    """
    @functools.wraps(fn)
    def wrapper(ctx: Any, *grad_outputs: Any) -> Any:
        with grad_mode.no_grad():
            outputs = fn(ctx, *grad_outputs)
        if not grad_mode.is_grad_enabled():  # a plain backward: nothing is recorded anyway
            return outputs
        deps = [g for g in grad_outputs if isinstance(g, Tensor) and g.requires_grad]
        node = ctx._mg_node() if getattr(ctx, "_mg_node", None) is not None else None
        if node is not None and node.parents is not None:
            deps += [p for p in node.parents if p.requires_grad]
        if not deps:
            return outputs
        name = getattr(ctx, "_mg_name", fn.__qualname__.split(".")[0])
        single = not isinstance(outputs, (tuple, list))
        wrapped = [OnceDifferentiable.apply(o, *deps, fn_name=name) if isinstance(o, Tensor) else o
                   for o in ((outputs,) if single else outputs)]
        return wrapped[0] if single else tuple(wrapped)

    return wrapper  # type: ignore[return-value]
