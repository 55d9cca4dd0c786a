"""Op: one node of the graph, an op's forward and backward side by side.

Every op in matgrad/ops subclasses Op and writes two methods:

    forward(self, *arrays, **params) -> array   # NumPy in, NumPy out
    backward(self, dy) -> grad or tuple of grads  # one per input, None for "no gradient"

`backward` is written once against `self.xp`, the array namespace the engine hands it
(`matgrad.backend`): plain arrays for a first-order backward (`xp.plain`), matgrad's own
differentiable ops when `create_graph=True`. Inside it, `self.inputs` and `self.output`
are arrays or Tensors to match, so one formula serves first and higher-order gradients.
The engine sums each gradient back to its input's broadcast shape, checks it and
accumulates it; ops never do that themselves.
"""
from __future__ import annotations

from typing import Any
from weakref import ref as _weakref

from ..backend import ArrayNamespace, numpy_ns
from ..tensor import LAST_CHANGE, NEXT_SEQ, Tensor, version_at
from . import grad_mode, hooks
from .hooks import accumulate_grad

_KEEP_CONSTANT = 1024  # constants up to this many elements are kept by release() for replay; larger, weakly
_next_seq = NEXT_SEQ  # creation order: a node is always newer than its inputs' nodes (and see LAST_CHANGE)


class Op:
    """Base class of every differentiable op; `Op.apply(*tensors, **params)` runs it.

    (`matgrad.autograd.Function` is PyTorch's user-facing interface, built on this one.)
    """

    #: Keep the forward's output for the backward (sigmoid, exp, tanh, softmax ...).
    save_output = False
    #: Whether the output can carry a gradient (False for argmax, comparisons ...).
    differentiable = True
    #: A weak reference to the output tensor when its .grad is kept (Tensor.retain_grad).
    retained: Any = None
    #: Hooks on the output tensor's gradient ({handle id: fn}; Tensor.register_hook), run before backward;
    #: the node's own prehooks (register_prehook) among them, as hooks.NodeHook, run after those.
    pre_hooks: Any = None
    #: The node's own post hooks ({handle id: fn}; register_hook), run after backward: the engine's one
    #: test per node for them is `post_hooks is not None`, so it stays None until one is registered.
    post_hooks: Any = None
    #: The array namespace the backward runs on: plain arrays, or matgrad's ops under create_graph.
    xp: ArrayNamespace = numpy_ns
    #: Whether forward(*inputs, **params) gives the same output again, so the explainer can rebuild
    #: the graph after backward() freed it (False for user autograd.Functions: any code may run there).
    replayable = True
    #: For an op whose backward is "dy placed in zeros of its first input's shape" (GetItem, and so split,
    #: chunk, unbind): a method add_grad_into(acc, dy) -> bool that adds dy in place into `acc`, a running sum
    #: for that input's gradient which the reverse pass owns, and says whether it did. Its backward must
    #: then return a fresh array, which the reverse pass may own too. The n pieces of one tensor then cost
    #: one zero-filled gradient and n slice adds, not n of each and n - 1 whole adds.
    add_grad_into: Any = None

    parents: tuple[Tensor, ...] | None
    #: The node that made each parent when this one was recorded (an in-place op may give the
    #: parent tensor a new history later; the gradient still goes where it came from).
    #: Once released, a leaf parent itself stands in parent_fns where None stood (see release).
    parent_fns: tuple[Any, ...]
    #: Creation order (NEXT_SEQ); with each parent's changes it gives the parent's version then
    #: (tensor.version_at), to catch a saved input changed in place since.
    seq: int
    needs_input_grad: tuple[bool, ...]
    out: Any
    #: The forward's keyword parameters, as apply() got them (None once released, when not replayable).
    params: dict[str, Any] | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("name")
        if own is not None:  # a subclass's own name (a property, or a string): its text, with PyTorch's call form
            text = own.fget if isinstance(own, property) else (lambda self, own=own: own)
            cls.name = property(lambda self: _node_name(self, text(self)),
                                doc=own.__doc__ if isinstance(own, property) else None)

    @classmethod
    def apply(cls, *tensors: Tensor, **params: Any) -> Tensor:
        """Run forward on the tensors' arrays and, if any needs a gradient, record the node."""
        fn = cls.__new__(cls)
        n = len(tensors)  # one to three inputs unrolled: each comprehension cost ~0.35 µs, these ~0.08 (and
        # callgrind: 748K -> 713K instructions per ab.py overhead-only step)
        try:
            if n == 1:
                out = fn.forward(tensors[0].array, **params)
            elif n == 2:
                out = fn.forward(tensors[0].array, tensors[1].array, **params)
            elif n == 3:
                out = fn.forward(tensors[0].array, tensors[1].array, tensors[2].array, **params)
            else:
                out = fn.forward(*[t.array for t in tensors], **params)
        except (TypeError, ValueError, IndexError) as e:  # free until raised: the device check costs nothing
            moved = _same_device(cls, tensors, e)
            if moved is None:
                raise
            return cls.apply(*moved, **params)
        if cls.differentiable and grad_mode._state.enabled:
            if n == 1:
                a = tensors[0]
                needs, fns = (a._requires_grad,), (a.grad_fn,)
            elif n == 2:
                a, b = tensors
                needs, fns = (a._requires_grad, b._requires_grad), (a.grad_fn, b.grad_fn)
            elif n == 3:
                a, b, c = tensors
                needs, fns = (a._requires_grad, b._requires_grad, c._requires_grad), (a.grad_fn, b.grad_fn, c.grad_fn)
            else:
                needs, fns = tuple([t._requires_grad for t in tensors]), tuple([t.grad_fn for t in tensors])
            if True in needs:
                fn.parents = tensors
                fn.parent_fns = fns
                fn.needs_input_grad = needs
                fn.seq = _next_seq()
                fn.params = params  # for replay after release (matgrad/explain/replay.py)
                if cls.save_output:
                    fn.out = out
                return Tensor._make(out, fn, True)
        return Tensor._make(out, None, False)

    def forward(self, *arrays: Any, **params: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, dy: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    # --- what the backward reads -------------------------------------------------------
    @property
    def inputs(self) -> tuple[Any, ...]:
        """The forward's inputs: arrays in a plain backward, Tensors under create_graph."""
        parents = self.parents
        if parents is not None and self.xp.plain and LAST_CHANGE[0] < self.seq:  # the common case, at once
            n = len(parents)  # unrolled as in apply()
            if n == 1:
                return (parents[0].array,)
            if n == 2:
                return parents[0].array, parents[1].array
            if n == 3:
                return parents[0].array, parents[1].array, parents[2].array
            return tuple([p.array for p in parents])
        parents = self._parents_or_raise()
        self._check_versions(parents)
        if self.xp.plain:
            return tuple(p.array for p in parents)
        return parents

    @property
    def input_arrays(self) -> tuple[Any, ...]:
        """The forward's input arrays in any namespace (for masks and indices built from values)."""
        parents = self._parents_or_raise()
        self._check_versions(parents)
        return tuple(p.array for p in parents)

    def _check_versions(self, parents: tuple[Tensor, ...]) -> None:
        """PyTorch's error when an input this backward reads was changed in place after it was recorded."""
        if LAST_CHANGE[0] < self.seq:  # nothing has been changed in place since this node was recorded
            return
        for p in parents:
            v = version_at(p, self.seq)
            if p._version != v:
                made_by = f"output 0 of {p.grad_fn.name}Backward" if p.grad_fn is not None else "a leaf"
                expected = "an earlier one" if v is None else v
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: [{p.array.dtype} {list(p.array.shape)}], which is {made_by}, is at version "
                    f"{p._version}; expected version {expected} instead. {self.name}Backward needs its value from "
                    "before the change: compute on a copy (x = x.clone()) or change it out of place (x = x + 1)."
                )

    @property
    def output(self) -> Any:
        """The forward's output (needs `save_output = True`), array or Tensor to match."""
        self._parents_or_raise()
        if self.xp.plain:
            return self.out
        return Tensor._make(self.out, self, True)

    def _parents_or_raise(self) -> tuple[Tensor, ...]:
        if self.parents is None:
            raise RuntimeError(
                f"Trying to backward through {self.name} a second time, but its saved values "
                "were freed after the first backward. Pass retain_graph=True to the first "
                "backward() (or autograd.grad) if you need to go through the graph again."
            )
        return self.parents

    def release(self) -> None:
        """Free what the backward kept, so memory goes back as the reverse pass moves on.

        What replay needs stays (matgrad/explain/replay.py): `params`, and `parent_fns` with each
        leaf parent in place of the None that marked it: a parameter (which PyTorch's graph keeps
        too) or a small constant itself, a larger constant (an input batch) by weak reference, so
        the step's data is not kept alive one step longer (ab.py: +2-3% on the small MLP steps when
        it was). A parent some node made is dropped, so no intermediate activation outlives the
        backward: replay computes it again.
        """
        parents = self.parents
        self.parents = None
        self.out = None
        if not self.replayable:
            self.params = None  # may hold anything the forward saw, and nothing will run it again
            if parents is not None and None in self.parent_fns:  # the leaves that get a gradient, for next_functions
                self.parent_fns = tuple([p if f is None and need else f
                                         for f, p, need in zip(self.parent_fns, parents, self.needs_input_grad)])
        elif parents is not None:
            # each leaf in place of its None: a new attribute instead would cost every node of every backward
            fns = self.parent_fns
            if None in fns:
                # unrolled for one to three inputs, as apply(): the loop it replaces cost ~2K instructions a node more
                n = len(fns)
                if n == 1:
                    self.parent_fns = (_kept(parents[0]),)
                elif n == 2:
                    a, b = fns
                    self.parent_fns = (_kept(parents[0]) if a is None else a, _kept(parents[1]) if b is None else b)
                elif n == 3:
                    a, b, c = fns
                    self.parent_fns = (_kept(parents[0]) if a is None else a, _kept(parents[1]) if b is None else b,
                                       _kept(parents[2]) if c is None else c)
                else:
                    self.parent_fns = tuple([_kept(p) if f is None else f for f, p in zip(fns, parents)])

    # --- PyTorch's Node API (torch.autograd.graph.Node; see graph.py) ----------------------------------
    @property
    def name(self) -> NodeName:
        """The op's name, as the explainer and the errors show it ('Mul'), and PyTorch's call form:
        `name()` is 'MulBackward0' ('MyFnBackward' for an autograd.Function).

        The name is matgrad's op, and some ops are not PyTorch's: matgrad's `Linear` is one node where
        PyTorch records AddmmBackward0 and TBackward0, `MatMul` is PyTorch's MmBackward0 (or BmmBackward0
        ...), `GetItem` its SelectBackward0/SliceBackward0/IndexBackward0, `Reshape` its ViewBackward0,
        `CrossEntropy` its NllLossBackward0 after LogSoftmaxBackward0, `ReLU` its ReluBackward0, and the
        suffix is always 0 (PyTorch's SumBackward1 is a sum over dims). x * y + z, exp, sum ... agree.
        """
        return _node_name(self, type(self).__name__)

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """Where each input's gradient goes next, as PyTorch: one (node, 0) per input, in order: the node
        that made it, the AccumulateGrad of a leaf that requires grad, or None for one that does not.

        Also after backward() freed the graph: the nodes and the leaves that get a gradient are kept then.
        (A user autograd.Function with several outputs has one node per output here, whose one input is
        the Function's node; PyTorch has the one node with several outputs.)
        """
        parents = self.parents
        if parents is None:  # released: the leaves stand in parent_fns where None stood (see release)
            parents = self.parent_fns
        edges = []
        for fn, leaf, need in zip(self.parent_fns, parents, self.needs_input_grad):
            if isinstance(fn, Op):
                edges.append((fn, 0))
                continue
            if isinstance(leaf, _weakref):
                leaf = leaf()
            edges.append((accumulate_grad(leaf) if need and isinstance(leaf, Tensor) else None, 0))
        return tuple(edges)

    @property
    def metadata(self) -> dict:
        """A dict of the user's own, kept with the node (made on first use)."""
        meta = self.__dict__.get("_metadata")  # (underscored: the explainer lists a node's other attributes)
        if meta is None:
            meta = self._metadata = {}
        return meta

    def register_prehook(self, fn: Any) -> hooks.RemovableHandle:
        """Call `fn(grad_outputs)` before this node's backward, with a tuple of its output's gradient, after
        the output tensor's hooks and retained .grad; a returned tuple replaces it (PyTorch's Node)."""
        return hooks.register_node_prehook(self, fn)

    def register_hook(self, fn: Any) -> hooks.RemovableHandle:
        """Call `fn(grad_inputs, grad_outputs)` after this node's backward: one gradient per input (None for
        one that gets none), each the shape of its input; a returned tuple replaces grad_inputs (PyTorch's Node)."""
        return hooks.register_node_hook(self, fn)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


class NodeName(str):
    """An op's name as matgrad uses it ('Mul': in messages, the explainer and the viewer) that also
    answers PyTorch's `grad_fn.name()` ('MulBackward0'); a plain str once pickled or copied."""

    _torch: str

    def __call__(self) -> str:
        return self._torch

    def __reduce__(self) -> tuple:
        return str, (str(self),)


def _node_name(node: Op, text: str) -> NodeName:
    """`text` as the node's NodeName; PyTorch calls an autograd.Function's node '<Function>Backward'."""
    cls = type(node)
    fn = getattr(cls, "_fn", None)  # a Function's node (function.py), or one output cut from it
    fn_name = fn.__name__ if fn is not None else getattr(cls, "_fn_name", None)
    name = NodeName(text)
    name._torch = f"{fn_name}Backward" if fn_name is not None and fn_name != "Function" else f"{text}Backward0"
    return name


def _kept(leaf: Tensor) -> Any:
    """What a released node keeps of a leaf parent for replay: itself, or a weak reference to a large constant."""
    return leaf if leaf._requires_grad or leaf.array.size <= _KEEP_CONSTANT else _weakref(leaf)


def _same_device(cls: type, tensors: tuple[Tensor, ...], error: Exception) -> tuple[Tensor, ...] | None:
    """After a forward failed: PyTorch's error if its tensors are on different devices, or the tensors
    with CPU scalars (0-d) moved to the others' device, as PyTorch lets them mix; None to re-raise."""
    devices = {t.device for t in tensors}
    if len(devices) < 2:
        return None
    gpu = [d for d in devices if d.type != "cpu"]
    if len(gpu) == 1 and all(t.array.ndim == 0 for t in tensors if t.device.type == "cpu"):
        return tuple(t.to(gpu[0]) if t.device.type == "cpu" else t for t in tensors)
    first, second = sorted(devices, key=str)[:2]
    raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, {second} "
                       f"and {first}! ({cls.__name__} got tensors on {', '.join(str(t.device) for t in tensors)}; "
                       "move them with .to(device) first)") from error

