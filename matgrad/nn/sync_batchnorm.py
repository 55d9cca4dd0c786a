"""SyncBatchNorm: BatchNorm whose batch statistics are taken over every rank's batch (PyTorch's).

In training with more than one rank, each rank sums x and x² per channel over its own batch;
one allreduce of [Σx, Σx², count] gives the global mean and (biased) variance, so every rank
normalizes with the statistics of the global batch. Backward needs two more global sums per
channel, Σdy and Σdy·x̂ (one allreduce), giving each rank the gradient of the SUM of all ranks'
losses with respect to its own inputs; dγ and dβ stay local, and DistributedDataParallel's
averaging then makes every gradient equal to one process's on the global batch.
Running statistics use the global count (the variance unbiased by it), the same on every rank.
In eval, or with one rank (or no process group), it is plain BatchNorm.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import distributed as dist
from ..autograd.function import Function
from ..devices import CPU, device_of, move
from ..tensor import Tensor
from .module import Module
from .normalization import _BatchNorm


class _SyncBN(Function):
    """y = γ·(x - μ)/√(σ² + ε) + β with μ, σ² over all ranks' batches."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor, bias: Tensor, eps: float, comm: Any, stats: list) -> Tensor:
        a = x.array
        c = a.shape[1]
        axes = (0,) + tuple(range(2, a.ndim))
        pview = (1, c) + (1,) * (a.ndim - 2)
        here = device_of(a)
        sums = np.concatenate([a.sum(axis=axes, dtype=np.float64), np.square(a, dtype=np.float64).sum(axis=axes)])
        local = np.empty(2 * c + 1, dtype=np.float64)  # MPI reduces host buffers: 2C+1 numbers cross over
        local[:2 * c] = move(sums, CPU)
        local[2 * c] = a.size // c
        comm.Allreduce(dist._mpi().IN_PLACE, local)
        count = local[2 * c]
        mean = local[:c] / count
        var = np.maximum(local[c:2 * c] / count - mean * mean, 0.0)
        invstd = move((1.0 / np.sqrt(var + eps)).astype(a.dtype), here)
        mean, var = move(mean, here), move(var, here)
        xhat = (a - mean.astype(a.dtype).reshape(pview)) * invstd.reshape(pview)
        ctx.xhat, ctx.invstd, ctx.count, ctx.comm, ctx.axes, ctx.pview = xhat, invstd, count, comm, axes, pview
        ctx.weight = weight.array
        stats.extend([mean, var, count])
        return Tensor(xhat * weight.array.reshape(pview) + bias.array.reshape(pview))

    @staticmethod
    def backward(ctx: Any, dy: Tensor) -> Any:
        g = dy.array
        xhat, axes, pview, c = ctx.xhat, ctx.axes, ctx.pview, ctx.xhat.shape[1]
        dbeta = g.sum(axis=axes)
        dgamma = (g * xhat).sum(axis=axes)
        both = np.array(move(np.concatenate([dbeta, dgamma]), CPU), dtype=np.float64)
        ctx.comm.Allreduce(dist._mpi().IN_PLACE, both)
        both = move(both, device_of(g))
        mean_dy = (both[:c] / ctx.count).astype(g.dtype).reshape(pview)
        mean_dy_xhat = (both[c:] / ctx.count).astype(g.dtype).reshape(pview)
        dx = (g - mean_dy - xhat * mean_dy_xhat) * (ctx.weight * ctx.invstd).reshape(pview)
        return Tensor(dx), Tensor(dgamma.astype(g.dtype)), Tensor(dbeta.astype(g.dtype)), None, None, None


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over (N, C, ...) inputs with batch statistics synchronized across ranks."""

    _dims = (2, 3, 4, 5)
    _shape_text = "(N, C, ...)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group: Any = None, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        # bias: PyTorch 2.13's keyword; with affine, bias=False keeps the scale γ without the shift β
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def forward(self, input: Tensor) -> Tensor:
        if not self.training or not dist.is_initialized() or dist.get_world_size(self.process_group) == 1:
            return super().forward(input)
        if input.ndim not in self._dims or input.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm: expected (N, {self.num_features}, ...) input, got {tuple(input.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            self.num_batches_tracked.array += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.array)
        c, dt = self.num_features, input.dtype
        weight = self.weight if self.affine else Tensor(np.ones_like(input.array, shape=(c,), dtype=dt))
        bias = self.bias if self.bias is not None else Tensor(np.zeros_like(input.array, shape=(c,), dtype=dt))
        stats: list = []
        y = _SyncBN.apply(input, weight, bias, self.eps, dist._comm(self.process_group), stats)
        mean, var, count = stats
        if count <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel when training, got {count}")
        if self.track_running_stats:
            rm, rv = self.running_mean.array, self.running_var.array
            rm *= 1 - factor
            rm += (factor * mean).astype(rm.dtype)
            rv *= 1 - factor
            rv += (factor * var * (count / (count - 1))).astype(rv.dtype)
        return y

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """`module` with every BatchNorm*d replaced by a SyncBatchNorm holding the same parameters and buffers."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      process_group)
            # into the tables directly: setattr would move an existing entry to the end
            for name in ("weight", "bias"):
                out._parameters[name] = module._parameters[name]
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                out._buffers[name] = module._buffers[name]
            out.training = module.training
        for name, child in list(module.named_children()):
            new = cls.convert_sync_batchnorm(child, process_group)
            if new is not child:
                out._modules[name] = new  # in place, keeping the order
        return out
