"""torch.jit, for code that calls it: matgrad has no TorchScript, so each piece has its eager meaning.

TorchScript's contract is that a scripted or traced model computes what the Python one does; matgrad keeps
it by not compiling, as `matgrad.compile` does (matgrad/compiler.py): `script(m)` and `trace(m, x)` return
`m` itself, which then runs as written. So:

- `script`, `trace`, `trace_module`, `freeze`, `optimize_for_inference`, `interface`, `script_if_tracing`
  return what they are given; the decorators `ignore`, `unused`, `export`, `script_method` return the function.
- `is_scripting()` and `is_tracing()` are False, so code that branches on them takes its eager path.
- `annotate(type, value)` and `Attribute(value, type)` are `value` (torch's meaning with the JIT off);
  `Final` is typing.Final; `isinstance(obj, List[int])` checks the contained types, as torch's eager one.
- `fork(fn, *args)` calls `fn(*args)` at once and returns a finished Future; `wait(future)` is its result.
- `ScriptModule` (a Module) and `ScriptFunction` exist for isinstance checks, which nothing matgrad makes passes.
- `save` and `load` raise: matgrad cannot write or read TorchScript archives. Save the weights with
  `matgrad.save(model.state_dict(), f)` (readable by torch.load), or export with `matgrad.onnx.export`.
"""
from __future__ import annotations

import collections.abc
import types
import typing
import warnings
from typing import Any, Callable, Final, TypeVar, Union, get_args, get_origin  # Final: torch.jit.Final

from ..nn.module import Module

__all__ = ["Attribute", "Error", "Final", "Future", "ScriptFunction", "ScriptModule", "annotate",
           "enable_onednn_fusion", "export", "export_opnames", "fork", "freeze", "ignore", "interface",
           "is_scripting", "is_tracing", "isinstance", "load", "onednn_fusion_enabled", "optimize_for_inference",
           "save", "script", "script_if_tracing", "script_method", "set_fusion_strategy", "strict_fusion", "trace",
           "trace_module", "unused", "wait"]

_T = TypeVar("_T")
_builtin_isinstance = isinstance  # this module defines torch.jit.isinstance
_NO_ARCHIVES = ("matgrad has no TorchScript, so it cannot {} TorchScript archives. Save the weights with "
                "matgrad.save(model.state_dict(), f) (torch.load reads them) and rebuild the model in Python, "
                "or export the model with matgrad.onnx.export.")


class Error(RuntimeError):
    """torch.jit.Error, for `except` clauses: nothing in matgrad raises it."""


class ScriptModule(Module):
    """torch.jit.ScriptModule, for isinstance checks: nothing matgrad makes is one (script returns the module).

    Subclassing it gives a plain Module, so TorchScript-era models (with @script_method) run eagerly.
    """


class ScriptFunction:
    """torch.jit.ScriptFunction, for isinstance checks: nothing matgrad makes is one."""


class Future(typing.Generic[_T]):
    """A finished future, what `fork` returns: `wait()` and `value()` give the result."""

    def __init__(self, value: Any = None) -> None:
        self._value = value

    def wait(self) -> Any:
        """The result (already computed)."""
        return self._value

    def value(self) -> Any:
        """The result (already computed)."""
        return self._value

    def done(self) -> bool:
        """True: fork ran the function before returning."""
        return True

    def then(self, callback: Callable[[Future], Any]) -> Future:
        """A future of `callback(self)`, called now."""
        return Future(callback(self))

    def add_done_callback(self, callback: Callable[[Future], Any]) -> None:
        """Call `callback(self)` now (the future is done)."""
        callback(self)


def _warn_optimize(optimize: Any) -> None:
    if optimize is not None:  # torch's warning: the argument has done nothing there for years
        warnings.warn("`optimize` is deprecated and has no effect.", FutureWarning, stacklevel=3)


def script(obj: Any, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None,
           example_inputs: Any = None) -> Any:
    """Return `obj` unchanged: matgrad has no TorchScript compiler, so the module or function runs as written."""
    _warn_optimize(optimize)
    return obj


def script_method(fn: _T) -> _T:
    """The method itself (TorchScript-era ScriptModule methods run eagerly)."""
    return fn


def _check_trace_inputs(func: Any, example_inputs: Any, example_kwarg_inputs: Any) -> None:
    """torch's checks: inputs are needed (positional, or keyword ones as a dict), though matgrad runs none."""
    if example_inputs is not None:
        return
    if _builtin_isinstance(func, Module):  # torch's error for a module
        if not _builtin_isinstance(example_kwarg_inputs, dict):
            raise RuntimeError("example_kwarg_inputs should be a dict")
    elif not _builtin_isinstance(example_kwarg_inputs, dict):  # torch raises a TypeError for a function
        raise TypeError("trace(): pass example_inputs (a tuple of positional inputs, or one Tensor) or "
                        "example_kwarg_inputs (a dict of keyword inputs)")


def trace(func: Any, example_inputs: Any = None, optimize: Any = None, check_trace: bool = True,
          check_inputs: Any = None, check_tolerance: float = 1e-5, strict: bool = True,
          _force_outplace: bool = False, _module_class: Any = None, _compilation_unit: Any = None,
          example_kwarg_inputs: Any = None, _store_inputs: bool = True) -> Any:
    """Return `func` (a function or Module) unchanged: it runs as written, every branch included.

    torch's trace records one run on example_inputs; matgrad checks the arguments as torch does and records
    nothing (so control flow that a trace would freeze keeps working).
    """
    if not callable(func):
        raise TypeError(f"trace(): expected a function or a Module to trace, got {type(func).__name__}")
    _check_trace_inputs(func, example_inputs, example_kwarg_inputs)
    _warn_optimize(optimize)
    return func


def trace_module(mod: Any, inputs: Any, optimize: Any = None, check_trace: bool = True, check_inputs: Any = None,
                 check_tolerance: float = 1e-5, strict: bool = True, _force_outplace: bool = False,
                 _module_class: Any = None, _compilation_unit: Any = None, example_inputs_is_kwarg: bool = False,
                 _store_inputs: bool = True) -> Any:
    """Return `mod` unchanged; `inputs` is torch's dict of method name → example inputs (checked, not run)."""
    if not _builtin_isinstance(mod, Module):
        raise AttributeError("expected torch.nn.Module as the first argument")
    if not _builtin_isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    for name in inputs:
        if not callable(getattr(mod, name, None)):
            raise AttributeError(f"'{type(mod).__name__}' object has no attribute '{name}'")
    _warn_optimize(optimize)
    return mod


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """`@ignore` or `@ignore(drop=...)`: the function itself (nothing is compiled, so nothing is left out)."""
    if callable(drop):
        return drop
    if not _builtin_isinstance(drop, bool):
        raise RuntimeError(f"Argument to @torch.jit.ignore must be a bool or a function but got {drop}")
    return lambda fn: fn


def unused(fn: _T) -> _T:
    """The function itself (TorchScript would replace its body by a raise; eager code calls it)."""
    return fn


def export(fn: _T) -> _T:
    """The method itself (TorchScript would compile it too; here every method runs as written)."""
    return fn


def interface(obj: _T) -> _T:
    """The class itself (TorchScript interfaces are a type-checking device)."""
    return obj


def script_if_tracing(fn: _T) -> _T:
    """The function itself (there is never a trace to script it for)."""
    return fn


def is_scripting() -> bool:
    """False: matgrad never compiles TorchScript, so code always takes its eager branch."""
    return False


def is_tracing() -> bool:
    """False: matgrad's trace records nothing."""
    return False


def annotate(the_type: Any, the_value: _T) -> _T:
    """`the_value`: the type is for TorchScript's compiler."""
    return the_value


def Attribute(value: _T, type: Any) -> _T:  # noqa: N802, A002  (torch's names)
    """`value`: the type is for TorchScript's compiler (torch's meaning with the JIT disabled)."""
    return value


def fork(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
    """Call `func(*args, **kwargs)` now and return a finished Future of the result (errors raise here, as torch's
    eager fork)."""
    return Future(func(*args, **kwargs))


def wait(future: Future) -> Any:
    """The future's result."""
    return future.wait()


def freeze(mod: Any, preserved_attrs: list[str] | None = None, optimize_numerics: bool = True) -> Any:
    """`mod` itself, which must be in eval mode as torch requires (its attributes are read as it runs)."""
    if getattr(mod, "training", False):
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. Please call .eval() "
                           "on your module before freezing.")
    return mod


def optimize_for_inference(mod: Any, other_methods: list[str] | None = None) -> Any:
    """`mod` itself, put in eval mode as torch's does (it freezes an eval copy)."""
    if hasattr(mod, "training"):
        mod.eval()
    return mod


_onednn = [False]
_fusion_strategy: list[list[tuple[str, int]]] = [[("STATIC", 2), ("DYNAMIC", 10)]]


def enable_onednn_fusion(enabled: bool) -> None:
    """Record the flag (read back by onednn_fusion_enabled); there is no fuser, so nothing changes."""
    _onednn[0] = bool(enabled)


def onednn_fusion_enabled() -> bool:
    """The flag enable_onednn_fusion last set (False by default)."""
    return _onednn[0]


def set_fusion_strategy(strategy: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Check and record the fuser's strategy, returning the previous one, as torch; nothing is fused."""
    for kind, depth in strategy:
        if kind not in ("STATIC", "DYNAMIC"):
            raise ValueError(f"FusionBehavior only supported 'STATIC' or 'DYNAMIC', got: {kind}")
        if not _builtin_isinstance(depth, int):
            raise TypeError(f"set_fusion_strategy: the depth of {kind!r} must be an int, got {depth!r}")
    old, _fusion_strategy[0] = _fusion_strategy[0], list(strategy)
    return old


class strict_fusion:  # noqa: N801  (torch's name)
    """`with strict_fusion():` — torch's check that a scripted block fuses; outside TorchScript it only warns."""

    def __init__(self) -> None:
        warnings.warn("Only works in script mode", stacklevel=2)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def save(m: Any, f: Any, _extra_files: Any = None) -> None:
    """Raise: matgrad cannot write TorchScript archives (the error says what to use)."""
    raise RuntimeError(_NO_ARCHIVES.format("write"))


def load(f: Any, map_location: Any = None, _extra_files: Any = None, _restore_shapes: bool = False) -> Any:
    """Raise: matgrad cannot read TorchScript archives (the error says what to use)."""
    raise RuntimeError(_NO_ARCHIVES.format("read"))


def export_opnames(m: Any) -> list[str]:
    """Raise: the operator list of a TorchScript module has no meaning without TorchScript."""
    raise RuntimeError("matgrad has no TorchScript, so a module has no TorchScript operator list; "
                       "matgrad.onnx.export writes the model's operators as ONNX")


# --- torch.jit.isinstance: the eager check of typing containers, as torch's ------------------------------------
_RAW = {list: "list", dict: "dict", tuple: "tuple", typing.List: "List", typing.Dict: "Dict",  # noqa: UP006
        typing.Tuple: "Tuple", typing.Optional: "Optional"}  # noqa: UP006


def _check_args_exist(target_type: Any) -> None:
    name = next((n for t, n in _RAW.items() if target_type is t), None)
    if name is not None:
        raise RuntimeError(f"Attempted to use {name} without a contained type. Please add a contained type, "
                           f"e.g. {name}[int]")


def _warn_if_empty(obj: Any) -> None:
    if obj == [] or obj == {} or obj == ():
        warnings.warn("The inner type of a container is lost when calling torch.jit.isinstance in eager mode. "
                      "For example, List[int] would become list and therefore falsely return True for "
                      "List[float] or List[str].", stacklevel=3)


def _element_ok(obj: Any, t: Any) -> bool:
    return _container_ok(obj, t) if get_origin(t) else _builtin_isinstance(obj, t)


def _container_ok(obj: Any, target_type: Any) -> bool:
    origin = get_origin(target_type)
    _check_args_exist(target_type)
    args = get_args(target_type)
    if origin is list:
        _warn_if_empty(obj)
        return _builtin_isinstance(obj, list) and all(_element_ok(el, args[0]) for el in obj)
    if origin is dict:
        _warn_if_empty(obj)
        return _builtin_isinstance(obj, dict) and all(
            _builtin_isinstance(k, args[0]) and _element_ok(v, args[1]) for k, v in obj.items())
    if origin is tuple:
        _warn_if_empty(obj)
        return (_builtin_isinstance(obj, tuple) and len(obj) == len(args)
                and all(_element_ok(el, t) for el, t in zip(obj, args)))
    if origin is Union or origin is types.UnionType:  # Optional[X] and X | None too
        if obj is None:
            return True
        for t in args:
            if get_origin(t):  # torch's rule: the first container member decides
                return _container_ok(obj, t)
            if _builtin_isinstance(obj, t):
                return True
    return False


def isinstance(obj: Any, target_type: Any) -> bool:  # noqa: A001  (torch.jit.isinstance)
    """isinstance that also checks typing containers' contents: `isinstance([1, 2], List[int])` is True."""
    if _builtin_isinstance(target_type, collections.abc.Container):
        if not _builtin_isinstance(target_type, tuple):
            raise RuntimeError("The second argument to `torch.jit.isinstance` must be a type or a tuple of types")
        return any(isinstance(obj, t) for t in target_type)
    if get_origin(target_type):
        return _container_ok(obj, target_type)
    _check_args_exist(target_type)
    return _builtin_isinstance(obj, target_type)

