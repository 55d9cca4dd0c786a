"""Stochastic weight averaging and EMA of a model, as torch.optim.swa_utils.

    swa_model = AveragedModel(model)                 # a copy whose parameters are the running mean
    scheduler = SWALR(optimizer, swa_lr=0.05)        # anneal each group's lr to swa_lr
    ...  swa_model.update_parameters(model); scheduler.step()
    update_bn(loader, swa_model)                     # BatchNorm statistics for the averaged weights

The averaging functions change the averaged tensors in place; their arithmetic is PyTorch's (lerp
for the multi-tensor forms, `a + (x - a) / (n + 1)` for the per-tensor one), so values match step
for step.
"""
from __future__ import annotations

import itertools
import math
from copy import deepcopy
from typing import Any, Callable, Iterable, Literal

import numpy as np

from ..autograd.grad_mode import no_grad
from ..devices import device_of, move, resolve
from ..nn.module import Module
from ..nn.normalization import _BatchNorm, _InstanceNorm
from ..tensor import Tensor, bump_version
from .lr_scheduler import LRScheduler, _per_group
from .optimizer import Optimizer

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
           "get_ema_avg_fn", "get_swa_avg_fn"]


def _n(num_averaged: Any) -> int:
    return int(num_averaged.array) if isinstance(num_averaged, Tensor) else int(num_averaged)


def _lerp_(a: Tensor, b: Tensor, weight: float) -> None:
    """a ← lerp(a, b, weight) in place, with PyTorch's two-sided formula (exact at weight 0 and 1)."""
    x, y = a.array, b.array
    w = x.dtype.type(weight)
    if abs(weight) < 0.5:
        x[...] = x + w * (y - x)
    else:
        x[...] = y + (w - x.dtype.type(1)) * (y - x)
    bump_version(a)


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable[[list[Tensor], list[Tensor], Any], None]:
    """An in-place EMA over lists of tensors: ema ← decay·ema + (1 - decay)·current."""
    _check_decay(decay)

    def ema_update(ema_param_list: list[Tensor], current_param_list: list[Tensor], _: Any) -> None:
        with no_grad():
            floating = ema_param_list[0].array.dtype.kind in "fc"
            for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                if floating:
                    _lerp_(p_ema, p_model, 1 - decay)
                else:  # integer buffers: computed in float, truncated back, as PyTorch's copy_
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable[[list[Tensor], list[Tensor], Any], None]:
    """An in-place running mean over lists of tensors: avg ← avg + (current - avg)/(n + 1)."""

    def swa_update(averaged_param_list: list[Tensor], current_param_list: list[Tensor], num_averaged: Any) -> None:
        with no_grad():
            n = _n(num_averaged)
            if averaged_param_list[0].array.dtype.kind in "fc":
                for p_avg, p_model in zip(averaged_param_list, current_param_list, strict=True):
                    # PyTorch's weight 1 / (n + 1): a float32 tensor for a tensor count, a float otherwise
                    w = float(np.float32(1) / np.float32(n + 1)) if isinstance(num_averaged, Tensor) else 1 / (n + 1)
                    _lerp_(p_avg, p_model, w)
                return
            raise RuntimeError(  # PyTorch's addcdiv_/add_ refuse integer tensors here too
                "get_swa_multi_avg_fn: integer tensors (such as BatchNorm's num_batches_tracked with "
                "use_buffers=True) can't be averaged in place; pass avg_fn=get_swa_avg_fn() instead, or "
                "use_buffers=False")

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable[[Tensor, Tensor, Any], Tensor]:
    """The per-tensor EMA: decay·ema + (1 - decay)·current (a new tensor)."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable[[Tensor, Tensor, Any], Tensor]:
    """The per-tensor running mean: averaged + (current - averaged)/(n + 1) (a new tensor)."""

    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _groups_by_device_and_dtype(pairs: list[tuple[Tensor, Tensor]]) -> dict[Any, list[tuple[Tensor, Tensor]]]:
    out: dict[Any, list[tuple[Tensor, Tensor]]] = {}
    for a, b in pairs:
        out.setdefault((str(device_of(a.array)), a.array.dtype), []).append((a, b))
    return out


class AveragedModel(Module):
    """A deep copy of `model` whose parameters (and buffers, with use_buffers=True) are the average of the
    models passed to `update_parameters`: a running mean by default, or avg_fn / multi_avg_fn (e.g.
    get_ema_multi_avg_fn()). Calling it calls the copy. `n_averaged` counts the updates (a buffer)."""

    def __init__(self, model: Module, device: Any = None, avg_fn: Callable[..., Tensor] | None = None,
                 multi_avg_fn: Callable[..., None] | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        count = np.array(0, dtype=np.int64)
        self.register_buffer("n_averaged", Tensor(count if device is None else move(count, resolve(device))))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold `model`'s current parameters into the average (the first call copies them); buffers are
        copied (use_buffers=False) or averaged too (use_buffers=True)."""
        if self.use_buffers:
            self_param: Iterable[Tensor] = itertools.chain(self.module.parameters(), self.module.buffers())
            model_param: Iterable[Tensor] = itertools.chain(model.parameters(), model.buffers())
        else:
            self_param, model_param = self.parameters(), model.parameters()
        n = int(self.n_averaged.array)
        pairs = []
        for p_averaged, p_model in zip(self_param, model_param):
            p_model_ = Tensor._make(move(p_model.array, device_of(p_averaged.array)), None, False)
            pairs.append((p_averaged.detach(), p_model_))
            if n == 0:
                p_averaged.detach().copy_(p_model_)
        if n > 0:
            if self.multi_avg_fn is not None or self.avg_fn is None:
                for (dev, _), group in _groups_by_device_and_dtype(pairs).items():
                    averaged, current = [a for a, _ in group], [b for _, b in group]
                    count = Tensor._make(move(self.n_averaged.array, device_of(averaged[0].array)), None, False)
                    if self.multi_avg_fn is not None:
                        self.multi_avg_fn(averaged, current, count)
                    elif not dev.startswith("cpu"):  # PyTorch's foreach kernels off the CPU
                        get_swa_multi_avg_fn()(averaged, current, count)
                    else:
                        avg_fn = get_swa_avg_fn()
                        for p_averaged, p_model in zip(averaged, current, strict=True):
                            p_averaged.copy_(avg_fn(p_averaged, p_model, count))
            else:
                for p_averaged, p_model in pairs:
                    count = Tensor._make(move(self.n_averaged.array, device_of(p_averaged.array)), None, False)
                    p_averaged.copy_(self.avg_fn(p_averaged, p_model, count))
        if not self.use_buffers:
            for b_swa, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                b_swa.detach().copy_(Tensor._make(move(b_model.array, device_of(b_swa.array)), None, False))
        self.n_averaged.array += 1
        bump_version(self.n_averaged)


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute every BatchNorm's running statistics with one pass over `loader` (a cumulative average:
    momentum None during the pass); the first element of a list or tuple batch is the input."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm) and not isinstance(module, _InstanceNorm):  # PyTorch's _BatchNorm
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for input in loader:
            if isinstance(input, (list, tuple)):
                input = input[0]
            if device is not None:
                input = input.to(device)
            model(input)
    for bn_module in momenta:
        bn_module.momentum = momenta[bn_module]
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr from its value to `swa_lr` over `anneal_epochs` steps ("cos" or "linear"),
    then hold it there."""

    def __init__(self, optimizer: Optimizer, swa_lr: float | list[float], anneal_epochs: int = 10,
                 anneal_strategy: Literal["cos", "linear"] = "cos", last_epoch: int = -1) -> None:
        if isinstance(swa_lr, (list, tuple)) and len(swa_lr) != len(optimizer.param_groups):
            raise ValueError(f"swa_lr must have the same length as optimizer.param_groups. swa_lr has "
                             f"{len(swa_lr)} values, param_groups has {len(optimizer.param_groups)}.")
        for value, group in zip(_per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups, strict=True):
            group["swa_lr"] = value
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list[float]:
        # recovers the lr before annealing from the current one, so other changes to lr are kept
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs, strict=True)]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer and the anneal function (PyTorch's layout)."""
        return {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what `state_dict()` returned."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
