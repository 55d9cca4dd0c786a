"""Optimizer: the base every optimizer shares — parameter groups, per-parameter state, state_dict.

A subclass only writes `_update(param, grad, state, group)`: the in-place update of one
parameter's array from its gradient, with that parameter's state dict and its group's options.
Everything here works on the NumPy arrays under the tensors, so no graph is ever recorded.
"""
from __future__ import annotations

import copy
import functools
from collections import OrderedDict, defaultdict
from itertools import chain
from typing import Any, Callable, Iterable

import numpy as np

from .. import memory
from ..autograd.grad_mode import enable_grad
from ..autograd.hooks import RemovableHandle
from ..devices import backend_of, device_of, move
from ..tensor import Tensor
from .flags import check_constructor, check_step

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]

#: Step hooks of every optimizer (register_optimizer_step_pre_hook / _post_hook): {handle id: hook}.
_global_optimizer_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_optimizer_post_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()


def _add_hook(hooks: OrderedDict[int, Callable[..., Any]], hook: Callable[..., Any],
              prepend: bool = False) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"expected a callable hook, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)  # its id from autograd.hooks.hook_ids, the counter modules' handles share
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_optimizer_step_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """hook(optimizer, args, kwargs) runs before every optimizer's step (before its own pre-hooks); it may
    return new (args, kwargs). args starts with the optimizer, as PyTorch's."""
    return _add_hook(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """hook(optimizer, args, kwargs) runs after every optimizer's step (after its own post-hooks)."""
    return _add_hook(_global_optimizer_post_hooks, hook)


class Optimizer:
    """Base class of all optimizers (PyTorch's `torch.optim.Optimizer`).

    params: tensors to optimize, or dicts `{"params": [...], "lr": ...}` (parameter groups,
    each with its own options; options left out take `defaults`).
    """

    #: The step hooks' types, as PyTorch names them: hook(optimizer, args, kwargs) -> None or (args, kwargs).
    OptimizerPreHook = Callable[..., "tuple[tuple[Any, ...], dict[str, Any]] | None"]
    OptimizerPostHook = Callable[..., None]

    #: Options a checkpoint from an older version may lack, and the value it meant: PyTorch's __setstate__ fills
    #: them in on load (a subclass lists its own).
    _setstate_defaults: dict[str, Any] = {}

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self._optimizer_step_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._patch_step_function()
        self.state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or of dicts, "
                "got a single Tensor; wrap it in a list: [tensor]"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list; "
                             "pass model.parameters() or a list of tensors with requires_grad=True")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)
        check_constructor(type(self).__name__, self.defaults)  # foreach/fused/differentiable, as PyTorch's

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"

    # --- hooks -----------------------------------------------------------------------------
    @staticmethod
    def profile_hook_step(func: Callable[..., Any]) -> Callable[..., Any]:
        """`func` (a step method) wrapped to run the global and this optimizer's step hooks around it."""
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self = args[0]
            own_pre = self.__dict__.get("_optimizer_step_pre_hooks")
            own_post = self.__dict__.get("_optimizer_step_post_hooks")
            if not (own_pre or own_post or _global_optimizer_pre_hooks or _global_optimizer_post_hooks):
                return func(*args, **kwargs)  # no hook anywhere: the step as written
            for pre_hook in chain(list(_global_optimizer_pre_hooks.values()), list((own_pre or {}).values())):
                result = pre_hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(
                            f"{func} must return None or a tuple of (new_args, new_kwargs), but got {result}."
                        )
            out = func(*args, **kwargs)
            for post_hook in chain(list((own_post or {}).values()), list(_global_optimizer_post_hooks.values())):
                post_hook(self, args, kwargs)
            return out

        return wrapper

    def _patch_step_function(self) -> None:
        """Wrap this class's step once (as PyTorch does) so the step hooks run around every call."""
        cls = type(self)
        if not getattr(cls.step, "hooked", False):
            cls.step = self.profile_hook_step(cls.step)  # type: ignore[method-assign]
            cls.step.hooked = True  # type: ignore[attr-defined]

    def register_step_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """hook(optimizer, args, kwargs) runs before step (args starts with the optimizer); it may return
        new (args, kwargs) for the step."""
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """hook(optimizer, args, kwargs) runs after step."""
        return _add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """hook(optimizer) runs before state_dict builds its dict."""
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """hook(optimizer, state_dict) runs on state_dict's result; a returned dict replaces it."""
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """hook(optimizer, state_dict) runs before load_state_dict reads (a shallow copy of) state_dict; a
        returned dict is loaded instead."""
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """hook(optimizer) runs once load_state_dict has loaded."""
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # --- parameter groups ----------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. a new layer to fine-tune)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError(f"{name}: parameter group {len(self.param_groups)} has no 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: parameters must be an ordered collection (list, tuple), not a set, "
                            "so that state_dict indices are reproducible")
        params = list(params)
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, but parameter {i} of group "
                                f"{len(self.param_groups)} is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name} can't optimize a non-leaf Tensor (parameter {i}, made by "
                                 f"{type(p.grad_fn).__name__}); optimize the leaf it came from, or "
                                 "make a new leaf with .detach().requires_grad_()")
            if id(p) in seen:
                raise ValueError(f"{name}: parameter {i} appears twice in parameter group "
                                 f"{len(self.param_groups)}; pass each parameter once")
            seen.add(id(p))
        for j, other in enumerate(self.param_groups):
            if any(id(q) in seen for q in other["params"]):
                raise ValueError(f"{name}: some parameters appear in more than one parameter group "
                                 f"(new group {len(self.param_groups)} and group {j}); pass each once")
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate(group, len(self.param_groups))
        self.param_groups.append(group)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        """Raise a clear ValueError for options no optimizer can use; subclasses add their own."""
        lr = group.get("lr", 0.0)
        if not isinstance(lr, (int, float, np.floating, np.integer)) or lr < 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {lr!r} in parameter group "
                             f"{index}: it must be a number >= 0")

    def _check(self, ok: bool, group_index: int, what: str) -> None:
        if not ok:
            raise ValueError(f"{type(self).__name__}: invalid {what} in parameter group {group_index}")

    # --- the training loop ---------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: to None (default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                elif p.grad.grad_fn is None and getattr(p.grad.array.flags, "writeable", True):  # CuPy: no flag
                    p.grad.array.fill(0)
                else:  # a gradient on a graph (backward(create_graph=True)): drop the graph
                    p.grad = np.zeros_like(p.array)  # (dispatches: a device parameter gets device zeros)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns closure()'s loss if given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        state_of, update = self.state, self._update
        for group in self.param_groups:
            if group.get("fused") or group.get("capturable") or group.get("differentiable"):
                check_step(type(self).__name__, group)
            for p in group["params"]:
                grad = p._grad  # what is stored: a Tensor or backward's bare array (the property would wrap it)
                if grad is None:
                    continue
                param = p.array
                if type(grad) is np.ndarray and type(param) is np.ndarray:  # the common case, first
                    if grad.shape != param.shape:
                        self._bad_shape(param, grad)
                    update(param, grad, state_of[p], group)
                    continue
                if isinstance(grad, Tensor):
                    grad = grad.array
                if grad.shape != param.shape:
                    self._bad_shape(param, grad)
                if type(param) is np.ndarray and type(grad) is np.ndarray:
                    update(param, grad, state_of[p], group)
                else:  # a device parameter: one fused kernel where its backend has one, else NumPy's dispatch
                    self._check_device(p, param, grad)
                    state = self.state[p]
                    if not self._fused_update(backend_of(param), param, grad, state, group):
                        self._update(param, grad, state, group)
        return loss

    def _bad_shape(self, param: Any, grad: Any) -> None:
        raise ValueError(f"{type(self).__name__}.step: a parameter of shape {param.shape} has "
                         f"a gradient of shape {grad.shape}; was .grad set by hand?")

    def _check_device(self, p: Tensor, param: Any, grad: Any) -> None:
        """PyTorch's error for a gradient on another device than its parameter (state follows the parameter)."""
        if type(grad) is not type(param) or device_of(grad) != device_of(param):
            raise RuntimeError(f"{type(self).__name__}.step: a parameter on {device_of(param)} has its gradient on "
                               f"{device_of(grad)}; move both to one device (model.to(device) moves .grad too)")

    def _fused_update(self, backend: Any, param: Any, grad: Any, state: dict[str, Any],
                      group: dict[str, Any]) -> bool:
        """Update with the backend's one-kernel form (`backend.fused`); False where there is none."""
        return False

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    # --- saving and loading --------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """{'state': {param index: {...}}, 'param_groups': [{options..., 'params': [indices]}]}.

        As in PyTorch the state arrays are the live buffers, not copies: save or deepcopy the
        dict before stepping again if you want to keep this moment.
        """
        for pre_hook in list(self.__dict__.get("_optimizer_state_dict_pre_hooks", {}).values()):
            pre_hook(self)
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index and s}
        result = {"state": state, "param_groups": groups}
        for post_hook in list(self.__dict__.get("_optimizer_state_dict_post_hooks", {}).values()):
            out = post_hook(self, result)
            if out is not None:
                result = out
        return result

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by `state_dict()` (copies the arrays in)."""
        name = type(self).__name__
        if isinstance(state_dict, dict):
            state_dict = state_dict.copy()  # shallow, as PyTorch's: pre-hooks may change its entries
        for pre_hook in list(self.__dict__.get("_optimizer_load_state_dict_pre_hooks", {}).values()):
            out = pre_hook(self, state_dict)
            if out is not None:
                state_dict = out
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups' "
                             "(from optimizer.state_dict()), got "
                             f"{sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict)}")
        state_dict = copy.deepcopy(state_dict)
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the saved state has {len(saved_groups)} parameter "
                             f"groups but this optimizer has {len(self.param_groups)}")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            self._fill_saved_group(saved)
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: saved parameter group {i} has "
                                 f"{len(saved['params'])} parameters but this optimizer's has "
                                 f"{len(group['params'])}; was it saved from another model?")
            missing = [k for k in self.defaults if k not in saved]
            if missing:
                raise ValueError(f"{name}.load_state_dict: saved parameter group {i} lacks {missing}; "
                                 "was it saved from a different optimizer?")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in self.param_groups)))
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key not in id_map:
                raise ValueError(f"{name}.load_state_dict: state for parameter index {key!r}, which no "
                                 f"saved parameter group lists (indices {sorted(id_map)})")
            p = id_map[key]
            state[p] = {k: _cast_like(p, v, f"state[{key}][{k!r}]", name) for k, v in value.items()}
        self.state = state
        self.param_groups = [{**saved, "params": group["params"]}
                             for saved, group in zip(saved_groups, self.param_groups)]
        for post_hook in list(self.__dict__.get("_optimizer_load_state_dict_post_hooks", {}).values()):
            post_hook(self)

    def _fill_saved_group(self, saved: dict[str, Any]) -> None:
        """A loaded group's options as PyTorch's __setstate__ leaves them: those older checkpoints lack filled in."""
        for key, value in self._setstate_defaults.items():
            saved.setdefault(key, value)


def _cast_like(p: Tensor, value: Any, where: str, name: str) -> Any:
    """A saved state array as a fresh buffer of the parameter's dtype and device (PyTorch's); 0-d: a number."""
    if isinstance(value, Tensor):
        value = value.array
    is_array = isinstance(value, np.ndarray) or (hasattr(value, "__array_function__") and hasattr(value, "shape"))
    if not is_array or value.ndim == 0:
        return value.item() if is_array else value
    if value.shape != p.array.shape:
        raise ValueError(f"{name}.load_state_dict: {where} has shape {value.shape} but its parameter has "
                         f"shape {p.array.shape}; was it saved from another model?")
    dtype = p.array.dtype if value.dtype.kind == "f" else value.dtype
    if type(value) is np.ndarray and type(p.array) is np.ndarray:
        return memory.copy(value, dtype)
    moved = move(value, device_of(p.array))
    return moved.astype(dtype, copy=moved is value)  # a fresh buffer, never the saved one


def signed_decayed_grad(grad: np.ndarray, param: np.ndarray, weight_decay: float,
                        maximize: bool) -> np.ndarray:
    """±grad + weight_decay·param (− when maximizing), as at most one new array; never changes grad."""
    if weight_decay != 0:
        g = np.multiply(param, weight_decay)
        if maximize:
            g -= grad
        else:
            g += grad
        return g
    return np.negative(grad) if maximize else grad
