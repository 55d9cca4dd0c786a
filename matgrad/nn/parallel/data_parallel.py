"""DataParallel with PyTorch's API, on the one device matgrad computes on: the wrapped module, called as is.

PyTorch's DataParallel cuts each batch over several GPUs, runs a replica of the module on each and gathers
the outputs. With no GPU (its CPU case) it keeps `module`, sets `device_ids = []` and forward calls
`module(*inputs, **kwargs)`; with one GPU it moves the module and the inputs there and calls it. matgrad does
the same in both cases, so ported code runs unchanged and state_dict keys carry PyTorch's "module." prefix.
Several GPUs are refused (one process per GPU with DistributedDataParallel is the way to use them).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...devices import cuda_available, cuda_device_count, device
from ...tensor import Tensor
from ..module import Module


def _index(d: Any) -> int:
    """A device id as PyTorch's _get_device_index: an int, or a cuda device's index (0 when it has none)."""
    if isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_)):
        return int(d)
    dev = d if isinstance(d, device) else device(d)
    if dev.type != "cuda":
        raise ValueError(f"DataParallel: expected a cuda device id, got {str(dev)!r}")
    return 0 if dev.index is None else dev.index


def _to(obj: Any, dev: device) -> Any:
    """Tensors (also inside tuples, lists and dicts) moved to dev, as PyTorch's scatter to one device."""
    if isinstance(obj, Tensor):
        return obj.to(dev)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to(o, dev) for o in obj)
    if isinstance(obj, dict):
        return {k: _to(v, dev) for k, v in obj.items()}
    return obj


class DataParallel(Module):
    """Wrap `module`; forward is module(*inputs, **kwargs) (on the GPU of device_ids[0] where there is one).

    device_ids: the GPUs (default: all); output_device: where outputs go (default device_ids[0]); dim: the
    batch dim PyTorch would cut. Without a GPU all three are ignored and device_ids is [], as in PyTorch.
    """

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None, output_device: Any = None,
                 dim: int = 0) -> None:
        super().__init__()
        if not cuda_available():  # PyTorch's CPU case: nothing to spread over
            self.module = module
            self.device_ids: list[int] = []
            return
        ids = list(range(cuda_device_count())) if device_ids is None else [_index(d) for d in device_ids]
        if not ids:
            raise RuntimeError("no available devices were found")
        if len(ids) > 1:
            raise NotImplementedError(
                f"DataParallel over several GPUs ({ids}) is not supported: matgrad runs one device per process. "
                "Pass device_ids=[one id], or use DistributedDataParallel with one process per GPU")
        self.dim = dim
        self.module = module
        self.device_ids = ids
        self.output_device = ids[0] if output_device is None else _index(output_device)
        self.src_device_obj = device("cuda", ids[0])
        self.module.to(self.src_device_obj)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        for name, t in (*self.module.named_parameters(), *self.module.named_buffers()):
            if t.device != self.src_device_obj:
                raise RuntimeError(f"module must have its parameters and buffers on device {self.src_device_obj} "
                                   f"(device_ids[0]) but found one of them ({name}) on device: {t.device}")
        return self.module(*_to(inputs, self.src_device_obj), **_to(kwargs, self.src_device_obj))
