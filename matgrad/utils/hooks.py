"""torch.utils.hooks: RemovableHandle (what every register_*_hook returns), unserializable_hook, warn_if_has_hooks.

    handle = model.register_forward_hook(fn)      # a RemovableHandle: handle.remove(), handle.id, `with handle:`
    handle = RemovableHandle(my_hooks)            # PyTorch's own form: store the hook under handle.id
    my_hooks[handle.id] = fn

RemovableHandle is the class matgrad's tensor, module and optimizer hooks already return
(matgrad/autograd/hooks.py), so `isinstance(h, RemovableHandle)` holds for all of them, as in PyTorch.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, TypeVar

from ..autograd.hooks import RemovableHandle, leaf_hooks

__all__ = ["RemovableHandle", "unserializable_hook", "warn_if_has_hooks"]

_F = TypeVar("_F", bound=Callable[..., Any])


def unserializable_hook(f: _F) -> _F:
    """Mark `f` as a hook that is not saved with its tensor, which silences warn_if_has_hooks for it."""
    f.__torch_unserializable__ = True  # PyTorch's attribute name, so code that checks it works on either
    return f


def warn_if_has_hooks(tensor: Any) -> None:
    """Warn, once per hook, that each backward hook on `tensor` not marked @unserializable_hook is not saved."""
    node = getattr(tensor, "grad_fn", None)
    hooks = leaf_hooks.get(tensor) if node is None else getattr(node, "pre_hooks", None)
    for hook in list((hooks or {}).values()):
        if not hasattr(hook, "__torch_unserializable__"):
            warnings.warn(f"backward hook {hook!r} on tensor will not be serialized.  If this is expected, you can "
                          "decorate the function with @matgrad.utils.hooks.unserializable_hook to suppress this "
                          "warning", stacklevel=2)
