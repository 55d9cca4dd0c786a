"""torch.nn.utils.stateless: call a module with other tensors in place of its parameters and buffers."""
from __future__ import annotations

import contextlib
import warnings
from typing import Any, Iterator

from ...tensor import Tensor
from ..module import Module

__all__ = ["functional_call"]

_MISSING: Any = object()


def _owner(module: Module, name: str) -> tuple[Module, str]:
    """The submodule that holds the dotted `name`, and the last part of the name."""
    *path, leaf = name.split(".")
    if leaf == "":
        raise KeyError(f'tensor name can\'t be empty string "" (got {name!r})')
    for part in path:
        sub = getattr(module, part, None)
        if not isinstance(sub, Module):
            raise AttributeError(f"{type(module).__name__} has no submodule `{part}` (looking up `{name}`)")
        module = sub
    return module, leaf


def _swap(module: Module, name: str, value: Any) -> Any:
    """Put `value` at `name` (a dotted path) and return what was there (_MISSING for nothing)."""
    if value is not _MISSING and value is not None and not isinstance(value, Tensor):
        raise TypeError(f"functional_call: the value for `{name}` is a {type(value).__name__}, not a Tensor")
    owner, leaf = _owner(module, name)
    # the stores are written directly, as torch does, so a plain Tensor may stand in for a Parameter
    for store in (owner._parameters, owner._buffers):
        if leaf in store:
            orig = store[leaf]
            if value is _MISSING:
                del store[leaf]
            else:
                store[leaf] = value
            return orig
    orig = getattr(owner, leaf) if hasattr(owner, leaf) else _MISSING
    if orig is not _MISSING and orig is not None and not isinstance(orig, Tensor):
        raise TypeError(f"attribute `{name}`: {orig} is not an instance of Tensor")
    if value is not _MISSING:
        setattr(owner, leaf, value)
    elif hasattr(owner, leaf):
        delattr(owner, leaf)
    return orig


def _named_tensors(module: Module) -> dict[str, Tensor]:
    named = dict(module.named_parameters(remove_duplicate=False))
    named.update(module.named_buffers(remove_duplicate=False))
    return named


def _untie(module: Module, given: dict[str, Tensor]) -> dict[str, Tensor]:
    """`given` plus, for each tied name given, the other names the same tensor goes by in the module."""
    names_of: dict[int, set[str]] = {}
    for name, t in _named_tensors(module).items():
        names_of.setdefault(id(t), set()).add(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    given_tied = {name for name in given if name in tied}
    for name in given_tied:
        group = tied[name]
        if len(group & given_tied) > 1 and len({id(given[n]) for n in group if n in given}) != 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(group)}, which are tied. "
                             "Consider using tie_weights=False")
    untied = dict(given)
    for name in given_tied:
        for other in tied[name]:
            untied[other] = given[name]
    return untied


@contextlib.contextmanager
def _reparametrize_module(module: Module, parameters_and_buffers: dict[str, Tensor], tie_weights: bool = False,
                          strict: bool = False) -> Iterator[None]:
    """Within the block the module holds the given tensors; the originals come back after, also on errors."""
    untied = _untie(module, parameters_and_buffers) if tie_weights else parameters_and_buffers
    if strict:
        valid = set(_named_tensors(module))
        missing, unexpected = sorted(valid - set(untied)), sorted(set(untied) - valid)
        msgs = []
        if unexpected:
            msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if msgs:
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(
                type(module).__name__, "\n\t".join(msgs)))
    originals: dict[str, Any] = {}
    try:
        for name, value in untied.items():
            originals[name] = _swap(module, name, value)
        yield
    finally:
        current = {name: _swap(module, name, orig) for name, orig in reversed(list(originals.items()))}
        # a module that rebinds a buffer during the call (not in place) hands the new value back, as torch
        parameters_and_buffers.update({k: current[k] for k in parameters_and_buffers if k in current})


def _functional_call(module: Module, parameters_and_buffers: dict[str, Tensor], args: Any = None,
                     kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                     strict: bool = False) -> Any:
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights, strict=strict):
        return module(*args, **kwargs)


def functional_call(module: Module, parameters_and_buffers: dict[str, Tensor], args: Any = None,
                    kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True, strict: bool = False) -> Any:
    """module(*args, **kwargs) with the given tensors (by state_dict name) in place of its parameters and
    buffers; the originals are restored afterwards. Gradients flow to the given tensors.

    Deprecated, as in torch, for matgrad.func.functional_call (which also takes a tuple of dicts).
    """
    warnings.warn("`matgrad.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed "
                  "in a future version of PyTorch. Please use `matgrad.func.functional_call` instead which is a "
                  "drop-in replacement.", FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
