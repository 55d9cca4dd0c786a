"""Module: the base class of layers and models, registering what it owns by attribute.

Assigning a Parameter, a Module or (via register_buffer) a buffer to an attribute records
it, so `parameters()`, `state_dict()`, `train()/eval()`, `to(dtype)` and `repr` find
everything without the model listing it, exactly as in PyTorch.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterator, Mapping, NamedTuple

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..autograd.hooks import RemovableHandle
from ..autograd.hooks import hook_ids as _hook_ids  # shared with RemovableHandle(hooks_dict)
from ..devices import CPU, cuda_device, device_of, move, parse_to_args
from ..tensor import Tensor
from .backward_hooks import wrap_call
from .parameter import Buffer, Parameter


class _IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


# what register_*_hook returns: torch.utils.hooks.RemovableHandle (`.remove()`, `id`, a `with` block)
_HookHandle = RemovableHandle


_EXTRA_STATE = "_extra_state"  # the key suffix of get_extra_state's entry, PyTorch's

#: the hook dicts __call__ runs; assigning one whole (m._forward_hooks = {...}) marks the module as hooked
_CALL_HOOK_DICTS = frozenset(("_forward_pre_hooks", "_forward_hooks", "_backward_hooks", "_backward_pre_hooks"))


class _CallHooks(OrderedDict):
    """One of a module's forward/backward hook dicts. Any insertion, register_*_hook's or code's own
    `m._forward_hooks[k] = fn` (as older PyTorch-era libraries write), appends to `mark`, the list the module
    keeps as `_hooked`, so __call__'s fast path, which tests only that list, never skips a hook."""

    def __init__(self, mark: list[bool] | None = None) -> None:
        super().__init__()
        self._mark = mark

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        mark = self.__dict__.get("_mark")  # absent while pickle/deepcopy refill a fresh one: its state comes after
        if mark is not None and not mark:
            mark.append(True)


def _key_errors(missing: list[str], unexpected: list[str]) -> list[str]:
    """load_state_dict's strict messages, PyTorch's wording and order."""
    errors = []
    if unexpected:
        errors.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
    if missing:
        errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
    return errors


class _ModuleLoadPreHook:
    """A public load_state_dict pre-hook: called with its module and PyTorch's full argument list."""

    def __init__(self, module: Module, hook: Callable) -> None:
        self.module, self.hook = module, hook

    def __call__(self, state_dict: Any, prefix: str, strict: bool, missing: list[str], unexpected: list[str],
                 error_msgs: list[str]) -> None:
        self.hook(self.module, state_dict, prefix, {"version": 1}, strict, missing, unexpected, error_msgs)


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Base class for all layers; subclasses set attributes in __init__ and define forward()."""

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _modules: dict[str, Module | None]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments {args} {kwargs}")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        # empty until a forward/backward hook goes into one of the four dicts (_CallHooks appends): __call__'s
        # fast path tests only this. Measured (python -m timeit, an identity Module's call, CPython 3.11): 234 ns
        # with this test, 284 ns testing the four dicts' truthiness instead, 193 ns for forward alone.
        d["_hooked"] = mark = []
        d["_forward_pre_hooks"] = _CallHooks(mark)
        d["_forward_hooks"] = _CallHooks(mark)
        d["_backward_hooks"] = _CallHooks(mark)
        d["_backward_pre_hooks"] = _CallHooks(mark)
        d["_load_state_dict_pre_hooks"] = OrderedDict()
        d["_load_state_dict_post_hooks"] = OrderedDict()
        d["_state_dict_pre_hooks"] = OrderedDict()
        d["_state_dict_hooks"] = OrderedDict()

    # --- calling ----------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.__dict__.get("_hooked", True):  # no hook was ever added: the common case, kept fast
            return self.forward(*args, **kwargs)
        d = self.__dict__
        if not (d["_forward_pre_hooks"] or d["_forward_hooks"] or d["_backward_hooks"] or d["_backward_pre_hooks"]):
            return self.forward(*args, **kwargs)
        return self._call_hooked(args, kwargs)

    def _call_hooked(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """__call__ with hooks: apart, as its closure would cost every plain call two cells."""
        for hook in list(self._forward_pre_hooks.values()):
            res = hook(self, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
        if (self._backward_hooks or self._backward_pre_hooks) and is_grad_enabled():
            out = wrap_call(self, args, lambda *a: self.forward(*a, **kwargs))
        else:
            out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            res = hook(self, args, out)
            if res is not None:
                out = res
        return out

    def register_forward_pre_hook(self, hook: Callable) -> _HookHandle:
        """hook(module, args) runs before forward; it may return replacement args."""
        _hook_ids[0] += 1
        self._forward_pre_hooks[_hook_ids[0]] = hook
        return _HookHandle(self._forward_pre_hooks, _hook_ids[0])

    def register_forward_hook(self, hook: Callable) -> _HookHandle:
        """hook(module, args, output) runs after forward; it may return a replacement output."""
        _hook_ids[0] += 1
        self._forward_hooks[_hook_ids[0]] = hook
        return _HookHandle(self._forward_hooks, _hook_ids[0])

    def register_full_backward_hook(self, hook: Callable) -> _HookHandle:
        """hook(module, grad_input, grad_output) runs once the gradients w.r.t. this call's tensor inputs
        are known; it may return a replacement grad_input (a tuple)."""
        _hook_ids[0] += 1
        self._backward_hooks[_hook_ids[0]] = hook
        return _HookHandle(self._backward_hooks, _hook_ids[0])

    def register_full_backward_pre_hook(self, hook: Callable) -> _HookHandle:
        """hook(module, grad_output) runs once the gradients w.r.t. this call's outputs are known; it may
        return a replacement grad_output (a tuple)."""
        _hook_ids[0] += 1
        self._backward_pre_hooks[_hook_ids[0]] = hook
        return _HookHandle(self._backward_pre_hooks, _hook_ids[0])

    def _register_load_state_dict_pre_hook(self, hook: Callable) -> _HookHandle:
        """hook(state_dict, prefix) runs before load_state_dict reads this module's entries (prefix: its
        keys' start); lazy modules take their shapes from the checkpoint there (nn/lazy.py)."""
        _hook_ids[0] += 1
        self._load_state_dict_pre_hooks[_hook_ids[0]] = hook
        return _HookHandle(self._load_state_dict_pre_hooks, _hook_ids[0])

    def register_load_state_dict_pre_hook(self, hook: Callable) -> _HookHandle:
        """hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        runs before load_state_dict reads this module's entries; it may edit state_dict and append to the
        lists (an error message fails the load, as in PyTorch)."""
        return self._register_load_state_dict_pre_hook(_ModuleLoadPreHook(self, hook))

    def register_load_state_dict_post_hook(self, hook: Callable) -> _HookHandle:
        """hook(module, incompatible_keys) runs after load_state_dict; it may add to or clear
        incompatible_keys.missing_keys / .unexpected_keys in place, which strict=True then checks."""
        _hook_ids[0] += 1
        hooks = self.__dict__.setdefault("_load_state_dict_post_hooks", OrderedDict())
        hooks[_hook_ids[0]] = hook
        return _HookHandle(hooks, _hook_ids[0])

    def register_state_dict_pre_hook(self, hook: Callable) -> _HookHandle:
        """hook(module, prefix, keep_vars) runs before state_dict collects this module's entries."""
        _hook_ids[0] += 1
        hooks = self.__dict__.setdefault("_state_dict_pre_hooks", OrderedDict())
        hooks[_hook_ids[0]] = hook
        return _HookHandle(hooks, _hook_ids[0])

    def register_state_dict_post_hook(self, hook: Callable) -> _HookHandle:
        """hook(module, state_dict, prefix, local_metadata) runs once this module's entries (and its
        children's) are in state_dict; it may change state_dict in place and must return None."""
        _hook_ids[0] += 1
        hooks = self.__dict__.setdefault("_state_dict_hooks", OrderedDict())
        hooks[_hook_ids[0]] = hook
        return _HookHandle(hooks, _hook_ids[0])

    # --- registration -----------------------------------------------------------------------
    def _check_name(self, kind: str, name: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f'{kind} name can\'t be empty or contain ".", got {name!r}')

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, a declared-but-absent slot such as bias=False)."""
        self._check_name("parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(matgrad.nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a non-learnable tensor (running statistics...); persistent ones go into state_dict."""
        self._check_name("buffer", name)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under `name`."""
        self._check_name("module", name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name)
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(matgrad.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name)
            d["_modules"][name] = value
        elif d.get("_modules") is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' (Module or None wanted)"
                )
            d["_modules"][name] = None
        elif isinstance(value, Buffer):  # PyTorch 2.13's nn.Buffer: assigning one registers it
            if params is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self.register_buffer(name, value, value.persistent)
        elif d.get("_buffers") is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None expected)"
                )
            d["_buffers"][name] = value
        else:
            if name in _CALL_HOOK_DICTS:  # a hook dict swapped in whole, perhaps full: __call__ must look at it
                d["_hooked"] = True
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            d[key].pop(name, None)
        d["_non_persistent_buffers_set"].discard(name)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        params = d.get("_parameters")
        if params is not None and name in params:  # self.weight in every forward: asked first, directly
            return params[name]
        for key in ("_buffers", "_modules"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for key in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[key]:
                del self.__dict__[key][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        own = set(self._parameters) | set(self._buffers) | set(self._modules)
        return sorted(set(super().__dir__()) | own)

    # --- traversal --------------------------------------------------------------------------
    def named_modules(self, memo: set[int] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(name, module) for this module and every descendant, depth first, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every descendant."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for each direct child."""
        seen: set[int] = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        """The direct children."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        mods = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse
                else [(prefix, self)])
        for mod_prefix, mod in mods:
            for name, v in getattr(mod, store).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield mod_prefix + ("." if mod_prefix else "") + name, v

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter, each shared one once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (what an optimizer needs)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) for every buffer."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The descendant at dotted path `target` ('' is this module); PyTorch's AttributeErrors."""
        mod: Module = self
        for part in target.split(".") if target else []:
            if not hasattr(mod, part):
                raise AttributeError(mod._get_name() + " has no attribute `" + part + "`")
            mod = getattr(mod, part)
            if not isinstance(mod, Module):
                raise AttributeError("`" + part + "` is not an nn.Module")
        return mod

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put `module` at dotted path `target`, whose parent must exist (strict: the name too)."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(parent._get_name() + " has no attribute `" + name + "`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError("`" + name + "` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path `target` (e.g. 'fc1.weight'); PyTorch's AttributeErrors."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + " has no attribute `" + name + "`")
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor | None:
        """The buffer at dotted path `target` (e.g. 'bn.running_mean'); PyTorch's AttributeErrors."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + " has no attribute `" + name + "`")
        if name not in mod._buffers:
            raise AttributeError("`" + name + "` is not a buffer")
        return getattr(mod, name)

    def get_extra_state(self) -> Any:
        """What state_dict saves under '<prefix>_extra_state': override it (and set_extra_state) to use it."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called. Please file an issue "
            "at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml to report this bug."
        )

    def set_extra_state(self, state: Any) -> None:
        """Restore what get_extra_state returned (load_state_dict calls it): override both to use them."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called. Please file an issue "
            "at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml to report this bug."
        )

    # --- modes and bulk changes ---------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) here and below."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.__dict__["training"] = mode
        for m in self.children():
            m.train(mode)  # through each child's own train(), which a layer may override
        return self

    def eval(self) -> Module:
        """Set evaluation mode: train(False)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Turn gradient recording on or off for every parameter (freezing)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (None, or zeros with set_to_none=False)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            elif p.grad.grad_fn is None and getattr(p.grad.array.flags, "writeable", True):  # CuPy: no flag
                p.grad.array.fill(0)
            else:
                p.grad = np.zeros_like(p.array)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call fn on every child (recursively) and then on this module; for custom init."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _cast(self, dtype: Any) -> Module:
        dt = np.dtype(dtype)
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is None or t.array.dtype.kind != "f" or t.array.dtype == dt:
                        continue
                    t.array = t.array.astype(dt)  # same Parameter object, so optimizers still hold it
                    if t.grad is not None:
                        t.grad = t.grad.array.astype(dt)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move and/or cast parameters and buffers in place, as PyTorch's forms: to(device), to(dtype),
        to(device, dtype), to(tensor). A dtype applies to floating ones only; memory_format= (channels_last ...)
        to 4-D and 5-D ones. Returns self."""
        dev, dtype, _, _ = parse_to_args(args, kwargs, "Module.to")  # CUDA without a GPU: PyTorch's error
        if dev is not None:
            self._move(dev)
        if kwargs.get("memory_format") is not None:  # 4-D and 5-D tensors laid out so, as torch's Module.to
            grads = [p.grad for p in self.parameters() if p.grad is not None]
            for t in (*self.parameters(), *self.buffers(), *grads):
                if t.ndim in (4, 5):
                    t.array = t.detach().to(memory_format=kwargs["memory_format"]).array  # same Parameter object
        return self if dtype is None else self._cast(dtype)

    def _move(self, dev: Any) -> Module:
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is None:
                        continue
                    t.array = move(t.array, dev)  # same Parameter object, so optimizers still hold it
                    if t._grad is not None:
                        t.grad.array = move(t.grad.array, dev)
        return self

    def float(self) -> Module:
        """Cast floating parameters and buffers to float32."""
        return self._cast(np.float32)

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64."""
        return self._cast(np.float64)

    def half(self) -> Module:
        """Cast floating parameters and buffers to float16."""
        return self._cast(np.float16)

    def cpu(self) -> Module:
        """This module's parameters and buffers moved to the CPU, in place."""
        return self._move(CPU)

    def cuda(self, device: Any = None) -> Module:
        """This module on an NVIDIA GPU; without a GPU backend, PyTorch's RuntimeError saying what to install."""
        return self.to(cuda_device(device))

    def to_empty(self, *, device: Any, recurse: bool = True) -> Module:
        """Give every parameter and buffer a fresh, uninitialized array of its shape and dtype on `device`
        (None: where it is), in place; for modules built before their values are known. Returns self."""
        dev = parse_to_args((), {"device": device}, "Module.to_empty")[0] if device is not None else None
        for m in self.modules() if recurse else (self,):
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is None:
                        continue
                    empty = np.empty_like(t.array)  # (dispatches: a device array gets one on its device)
                    t.array = empty if dev is None else move(empty, dev)
                    if t._grad is not None:  # PyTorch's _apply empties .grad the same way
                        g = np.empty_like(t.grad.array)
                        t.grad = g if dev is None else move(g, dev)
        return self

    def type(self, dst_type: Any) -> Module:
        """Cast every parameter and buffer (integer ones too, as PyTorch) to dtype `dst_type`, in place."""
        dt = np.dtype(dst_type)
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is None or t.array.dtype == dt:
                        continue
                    t.array = t.array.astype(dt)
                    if t.grad is not None:
                        t.grad = t.grad.array.astype(dt)
        return self

    def share_memory(self) -> Module:
        """Return self: PyTorch moves tensors to shared memory for torch.multiprocessing; matgrad's NumPy
        arrays need no sharing step within matgrad's processes."""
        return self

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Compile this module's calls in place, as PyTorch: matgrad.compile's checks, then nothing changes
        (matgrad has no compiler; see matgrad.compile)."""
        from ..compiler import compile as compile_fn  # the top-level shim (it imports nothing of matgrad)

        compile_fn(self, *args, **kwargs)

    # --- state_dict -----------------------------------------------------------------------------
    def state_dict(self, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """name → tensor (sharing memory) for every parameter, then every persistent buffer, then
        '_extra_state' (where get_extra_state is overridden), per module; state_dict hooks run around each."""
        if destination is None:
            destination = OrderedDict()
        d = self.__dict__
        pre_hooks, post_hooks = d.get("_state_dict_pre_hooks"), d.get("_state_dict_hooks")
        if pre_hooks:
            for hook in list(pre_hooks.values()):
                hook(self, prefix, keep_vars)
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE] = self.get_extra_state()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination, prefix + name + ".", keep_vars)
        if post_hooks:
            for hook in list(post_hooks.values()):
                if hook(self, destination, prefix, {"version": 1}) is not None:
                    raise RuntimeError("state_dict post-hook must return None")
        return destination

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy values (Tensors or arrays) into this module's parameters and buffers, in place.

        Every missing, unexpected and mis-shaped key is named in one error; nothing is
        copied when there is one. strict=False tolerates missing and unexpected keys.
        '_extra_state' entries go to set_extra_state. Load post-hooks run after the copy and may
        change the incompatible keys, which strict=True then checks (the copy stays, as in PyTorch).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        state_dict = OrderedDict(state_dict)  # a copy, as PyTorch's: pre-hooks may rename keys in it
        missing: list[str] = []
        unexpected: list[str] = []
        hook_errors: list[str] = []
        for name, m in self.named_modules():
            for hook in list(m._load_state_dict_pre_hooks.values()):
                if isinstance(hook, _ModuleLoadPreHook):
                    # strict: True, whatever load_state_dict got, as PyTorch's hooks see it
                    hook(state_dict, name + "." if name else "", True, missing, unexpected, hook_errors)
                else:
                    hook(state_dict, name + "." if name else "")
        pre_missing, pre_unexpected = list(missing), list(unexpected)  # what the pre-hooks added
        own: OrderedDict[str, Any] = OrderedDict()  # key -> tensor, or the module taking '_extra_state'
        self._load_keys(state_dict, "", own, missing, unexpected, False)
        extra = {k: m for k, m in own.items() if isinstance(m, Module)}
        mismatched, values = [], {}
        for k, t in own.items():
            if k not in state_dict or k in extra:
                continue
            v = state_dict[k]
            arr = v.array if isinstance(v, Tensor) else v if hasattr(v, "__array_function__") else np.asarray(v)
            if arr.shape != t.array.shape:
                mismatched.append(
                    f"size mismatch for {k}: copying a param with shape {arr.shape} from checkpoint, "
                    f"the shape in current model is {t.array.shape}."
                )
            else:
                values[k] = arr
        has_post = any(m.__dict__.get("_load_state_dict_post_hooks") for m in self.modules())
        errors = hook_errors + mismatched
        if strict and not has_post:  # (post-hooks may still change the keys: checked after them)
            errors = _key_errors(missing, unexpected) + errors
        if errors:
            self._raise_load_errors(errors)
        for k, arr in values.items():
            t = own[k]
            if assign:
                dt = t.array.dtype  # a copy, on the checkpoint's device (PyTorch's assign)
                t.array = np.array(arr, dtype=dt) if isinstance(arr, np.ndarray) else arr.astype(dt)
            else:  # into the parameter's device, from either (PyTorch's copy_)
                np.copyto(t.array, move(arr, device_of(t.array)), casting="unsafe")
        for k, m in extra.items():
            if k in state_dict:
                m.set_extra_state(state_dict[k])
        if not has_post:
            return _IncompatibleKeys(missing, unexpected)
        missing, unexpected = pre_missing, pre_unexpected  # the walk again, now with its post-hooks
        self._load_keys(state_dict, "", OrderedDict(), missing, unexpected, True)
        if strict and (missing or unexpected):
            self._raise_load_errors(_key_errors(missing, unexpected))
        return _IncompatibleKeys(missing, unexpected)

    def _load_keys(self, state_dict: Mapping[str, Any], prefix: str, own: OrderedDict[str, Any],
                   missing: list[str], unexpected: list[str], post_hooks: bool) -> None:
        """PyTorch's walk over the modules: this one's missing and unexpected keys, its children's, then
        (post_hooks) its load post-hooks, which see the lists as they stand then."""
        local = {k: t for k, t in self._parameters.items() if t is not None}
        local.update((k, t) for k, t in self._buffers.items()
                     if t is not None and k not in self._non_persistent_buffers_set)
        for k, t in local.items():
            own[prefix + k] = t
            if prefix + k not in state_dict:
                missing.append(prefix + k)
        extra_key = prefix + _EXTRA_STATE
        if type(self).set_extra_state is not Module.set_extra_state:
            own[extra_key] = self
            if extra_key not in state_dict:
                missing.append(extra_key)
        elif extra_key in state_dict:
            unexpected.append(extra_key)
        for key in state_dict:
            if key.startswith(prefix) and key != extra_key:
                head = key[len(prefix):].split(".", 1)
                if (head[0] not in self._modules) if len(head) > 1 else (head[0] not in local):
                    unexpected.append(key)
        for name, m in self._modules.items():
            if m is not None:
                m._load_keys(state_dict, prefix + name + ".", own, missing, unexpected, post_hooks)
        if post_hooks:
            incompatible = _IncompatibleKeys(missing, unexpected)
            for hook in list(self.__dict__.get("_load_state_dict_post_hooks", {}).values()):
                if hook(self, incompatible) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not expected to return "
                        "new values, if incompatible_keys need to be modified, it should be done inplace."
                    )

    def _raise_load_errors(self, errors: list[str]) -> None:
        raise RuntimeError(
            f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors)
            + "\n(Is this state_dict from a different model? Compare model.state_dict().keys() and "
            "shapes; pass strict=False to load only the keys that match.)"
        )

    # --- display --------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The layer's settings, shown inside its repr's parentheses."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(m), 2))
        body = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                body += lines[0]
            else:
                body += "\n  " + "\n  ".join(lines) + "\n"
        return body + ")"
