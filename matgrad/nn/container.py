"""Containers: Sequential (a pipeline), ModuleList and ModuleDict (registered collections)."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from ..devices import backend_of
from ..ops.linear import linear_activation
from ..tensor import Tensor
from . import functional as F
from .activation import ReLU, Sigmoid, Tanh
from .linear import Linear
from .module import Module
from .pooling import MaxPool2d

#: The activations Sequential fuses into the Linear before them (ops/linear.py LinearActivation).
_FUSABLE = {ReLU: "relu", Sigmoid: "sigmoid", Tanh: "tanh"}


def _pool_first(seq: Sequential, relu: ReLU, pool: Module) -> bool:
    """Whether `relu` then `pool` may run as pool then relu: max-pooling commutes with any nondecreasing
    function, so max(relu(x)) = relu(max(x)), and the gradients agree too (both are dy at each window's first
    maximum where it is > 0 or nan, else 0). Equal values, not always equal bits: a window whose maximum is 0
    can give -0.0 one way and +0.0 the other (relu keeps -0.0 and makes +0.0 of negatives; the first zero wins
    a tie). Only for the exact classes, with no hooks (a hook would see the ReLU's output), no indices (the
    pool's output is a pair) and no in-place ReLU (it changes its input, which may be the caller's tensor)."""
    return (type(pool) is MaxPool2d and seq.relu_after_maxpool and not relu.inplace and not pool.return_indices
            and not relu.__dict__.get("_hooked", True) and not pool.__dict__.get("_hooked", True))


def _index(n: int, idx: int, what: str) -> int:
    if not -n <= idx < n:
        raise IndexError(f"{what}: index {idx} is out of range for {n} modules")
    return idx % n


class Sequential(Module):
    """Modules applied in order: Sequential(Linear(784, 1024), ReLU(), Linear(1024, 10)).

    On a GPU with fused kernels, Linear then ReLU/Sigmoid/Tanh (no hooks) runs as one op, the same numbers.
    ReLU then MaxPool2d (no hooks, no in-place ReLU, no return_indices) runs as MaxPool2d then ReLU, with the
    same values and gradients: the ReLU's passes then cover the pooled output, a quarter of its input at 2×2
    (`relu_after_maxpool = False`, on the class or on one Sequential, keeps the written order).
    """

    #: ReLU -> MaxPool2d computed as MaxPool2d -> ReLU (see _pool_first). The cnn recipe's step (3 × conv-BN-
    #: ReLU-pool, batch 128, AdamW), `benchmarks/ab.py HEAD --cnn --threads 2 --rounds 11` against the written
    #: order: 0.932, faster in 11 of 11 rounds, on a 2-core Intel Xeon (AVX-512; NumPy 2.4.6, scipy-openblas
    #: 0.3.31 on its SkylakeX kernel); 0.958 (24 of 31 rounds) on a 2-core AMD EPYC Zen 4 on the same kernel. The
    #: seed MLP's steps, which have no pool: 0.99-1.00.
    relu_after_maxpool = True

    def __init__(self, *args: Module | OrderedDict) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        keys = list(self._modules)
        return self._modules[keys[_index(len(keys), idx, "Sequential")]]

    def __setitem__(self, idx: int, module: Module) -> None:
        keys = list(self._modules)
        self.add_module(keys[_index(len(keys), idx, "Sequential")], module)

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)
        for k in keys[idx] if isinstance(idx, slice) else [keys[_index(len(keys), idx, "Sequential")]]:
            del self._modules[k]
        # renumber so indices stay 0..n-1, as torch
        items = list(self._modules.items())
        self._modules.clear()
        for i, (k, m) in enumerate(items):
            self._modules[str(i) if k.isdigit() else k] = m

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add a module at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Append each module; returns self."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Insert a module before position `index`; returns self."""
        mods = list(self._modules.values())
        n = len(mods)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} is out of range for {n} modules")
        mods.insert(index % (n + 1) if index < 0 else index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)
        return self

    def forward(self, input: Any) -> Any:
        if type(input) is Tensor and type(input.array) is not np.ndarray and len(self._modules) > 1:
            return self._forward_fused(input)
        held = None  # a ReLU not applied yet: if a MaxPool2d follows, it runs after the pool
        for m in self._modules.values():
            if held is not None:
                relu, held = held, None
                if _pool_first(self, relu, m):
                    input = F.relu(m(input))  # (not in place: the pool keeps its output for its backward)
                    continue
                input = relu(input)
            if type(m) is ReLU:
                held = m
                continue
            input = m(input)
        return input if held is None else held(input)

    def _forward_fused(self, input: Any) -> Any:
        """forward on a device: each Linear followed by a fusable activation as one LinearActivation, where
        the device's backend has the kernel (a GPU pays per kernel launch, not per Python call)."""
        mods = list(self._modules.values())
        i, n = 0, len(mods)
        while i < n:
            m = mods[i]
            if i + 1 < n and type(m) is Linear and m.bias is not None and not m.__dict__.get("_hooked", True):
                act = _FUSABLE.get(type(mods[i + 1]))
                # an in-place ReLU writes into Linear's output, which nothing else sees: fusing gives the same
                if (act is not None and not mods[i + 1].__dict__.get("_hooked", True) and type(input) is Tensor
                        and type(input.array) is not np.ndarray and "bias_" + act in backend_of(input.array).fused):
                    input = linear_activation(input, m.weight, m.bias, act)
                    i += 2
                    continue
            if type(m) is ReLU and i + 1 < n and _pool_first(self, m, mods[i + 1]):
                input = F.relu(mods[i + 1](input))
                i += 2
                continue
            input = m(input)
            i += 1
        return input


class ModuleList(Module):
    """A list of modules whose parameters are registered (unlike a plain Python list)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: int | slice) -> Any:
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return type(self)(mods[idx])
        return mods[_index(len(mods), idx, "ModuleList")]

    def __repr__(self) -> str:
        """As PyTorch's: runs of identical entries collapse to '(0-5): 6 x Layer(...)'."""
        from .module import _addindent

        reprs = [repr(m) for m in self._modules.values()]
        if not reprs:
            return self._get_name() + "()"
        blocks: list[list[Any]] = []
        for i, r in enumerate(reprs):
            if blocks and blocks[-1][2] == r:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, r])
        lines = [_addindent(f"({a}): {r}" if a == b else f"({a}-{b}): {b - a + 1} x {r}", 2) for a, b, r in blocks]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(str(_index(len(self), idx, "ModuleList")), module)

    def __delitem__(self, idx: int | slice) -> None:
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            del mods[idx]
        else:
            del mods[_index(len(mods), idx, "ModuleList")]
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add a module at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append each module; returns self."""
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError(
                "ModuleList.extend should be called with an iterable of modules, got a single Module"
            )
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert a module before position `index`."""
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward(); iterate over it in your module's forward")


class ModuleDict(Module):
    """A dict of modules whose parameters are registered, in insertion order."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no key {key!r}; keys are {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The names."""
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        """The modules."""
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        """(name, module) pairs."""
        return self._modules.items()

    def pop(self, key: str) -> Module:
        """Remove and return the module under `key`."""
        m = self[key]
        del self._modules[key]
        return m

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (name, module) pairs from a mapping or an iterable of pairs."""
        items = modules.items() if isinstance(modules, Mapping) else modules
        for k, m in items:
            self[k] = m

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward(); index it in your module's forward")


# --- breadth (issue 14) -------------------------------------------------------------------------
def _as_parameter(value: Any) -> Any:
    """A Tensor becomes a Parameter (sharing its memory), as PyTorch's ParameterList/Dict do."""
    from ..tensor import Tensor
    from .parameter import Parameter

    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _describe(key: Any, p: Any) -> str:
    from ..tensor import Tensor
    from .parameter import Parameter

    if isinstance(p, Tensor):
        size = "x".join(str(s) for s in p.shape)
        kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
        return f"  ({key}): {kind} containing: [{p.dtype} of size {size}]"
    return f"  ({key}): Object of type: {type(p).__name__}"


class ParameterList(Module):
    """A list of Parameters, registered under '0', '1', ... (tensors given are made Parameters)."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _set(self, key: str, value: Any) -> None:
        from .parameter import Parameter

        value = _as_parameter(value)
        if isinstance(value, Parameter):
            self.register_parameter(key, value)
        else:
            setattr(self, key, value)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return type(self)([self[i] for i in range(self._size)[idx]])
        return getattr(self, str(_index(self._size, idx, "ParameterList")))

    def __setitem__(self, idx: int, value: Any) -> None:
        self._set(str(_index(self._size, idx, "ParameterList")), value)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return iter(self[i] for i in range(self._size))

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def __dir__(self) -> list[str]:
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value: Any) -> ParameterList:
        """Add a value (a Tensor becomes a Parameter) at the end; returns self."""
        self._size += 1
        self._set(str(self._size - 1), value)
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Append each value; returns self."""
        from ..tensor import Tensor

        if isinstance(values, Tensor) or not hasattr(values, "__iter__"):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_describe(i, p) for i, p in enumerate(self))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of Parameters, registered under their keys, in insertion order."""

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        from .parameter import Parameter

        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be strings, got {type(key).__name__}")
        self._keys[key] = None
        value = _as_parameter(value)
        if isinstance(value, Parameter):
            self.register_parameter(key, value) if key not in self._parameters else setattr(self, key, value)
        else:
            setattr(self, key, value)

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._keys))

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __or__(self, other: ParameterDict) -> ParameterDict:
        out = self.copy()
        out.update(other)
        return out

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameters."""
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def keys(self) -> Iterable[str]:
        """The names."""
        return self._keys.keys()

    def values(self) -> Iterable[Any]:
        """The parameters."""
        return [self[k] for k in self._keys]

    def items(self) -> Iterable[tuple[str, Any]]:
        """(name, parameter) pairs."""
        return [(k, self[k]) for k in self._keys]

    def get(self, key: str, default: Any = None) -> Any:
        """self[key] if present, else default."""
        return self[key] if key in self else default

    def pop(self, key: str) -> Any:
        """Remove and return the parameter under key."""
        v = self[key]
        del self[key]
        return v

    def popitem(self) -> tuple[str, Any]:
        """Remove and return the last inserted (key, parameter)."""
        k = list(self._keys)[-1]
        return k, self.pop(k)

    def setdefault(self, key: str, default: Any = None) -> Any:
        """self[key], set to default first if missing."""
        if key not in self:
            self[key] = default
        return self[key]

    def fromkeys(self, keys: Iterable[str], default: Any = None) -> ParameterDict:
        """A new ParameterDict with each key set to default."""
        return ParameterDict((k, default) for k in keys)

    def clear(self) -> None:
        """Remove every parameter."""
        for k in list(self._keys):
            del self[k]

    def update(self, values: Any) -> None:
        """Add (key, parameter) pairs from a mapping or an iterable of pairs (a plain dict's keys sorted,
        as PyTorch)."""
        if isinstance(values, (OrderedDict, ParameterDict)):
            items = list(values.items())
        elif isinstance(values, Mapping):
            items = sorted(values.items())
        else:
            items = list(values)
        for k, v in items:
            self[k] = v

    def extra_repr(self) -> str:
        return "\n".join(_describe(k, p) for k, p in self.items())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterDict should not be called.")
