"""AdaptiveLogSoftmaxWithLoss (Grave et al., 2016): a softmax over many classes, cheap for the frequent ones.

The head scores the `cutoffs[0]` most frequent classes and one entry per tail cluster; a class in
cluster i has log p = log p_head(cluster i) + log p_cluster_i(class). Composed from Linear,
log_softmax and indexing, so the gradients are theirs.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Sequence

import numpy as np

from ..devices import move, to_host
from ..ops.join import cat
from ..ops.softmax import log_softmax
from ..tensor import Tensor, as_tensor
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Efficient softmax approximation over n_classes split at `cutoffs` into a head and tail clusters.

    forward(input (N, in_features) or (in_features,), target (N,) or ()) gives _ASMoutput(output, loss): each
    row's log-probability of its target, and the mean of their negatives. log_prob gives all n_classes
    log-probabilities, predict the most probable class.
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int], div_value: float = 4.0,
                 head_bias: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                             "order, where each value is between 1 and n_classes-1")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        kw = {"device": device, "dtype": dtype}
        self.head = Linear(in_features, self.head_size, bias=head_bias, **kw)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, **kw),
                                        Linear(hsz, osz, bias=False, **kw)))

    def reset_parameters(self) -> None:
        """Re-draw the head's and the tails' weights as at construction."""
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_: Any, target_: Any) -> _ASMoutput:
        x = as_tensor(input_)
        target = to_host(target_.array) if isinstance(target_, Tensor) else np.asarray(target_)
        if target.ndim == 1:
            if x.shape[0] != target.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if x.ndim != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with size {x.shape}")
        elif target.ndim == 0:
            if x.ndim != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with size {x.shape}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target.ndim > 0
        if not batched:
            x, target = x.unsqueeze(0), target.reshape(1)
        if target.dtype.kind not in "iu":
            raise RuntimeError(f"target must be an integer tensor, got {target.dtype}")
        if target.size and (target.min() < 0 or target.max() >= self.n_classes):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{target.min()}, {target.max()}] were found. ")
        head_logprob = log_softmax(self.head(x), dim=1)
        cluster = np.searchsorted(np.array(self.cutoffs), target, side="right")  # 0: the shortlist
        gather = np.where(cluster == 0, target, self.shortlist_size + cluster - 1)
        rows = np.arange(target.shape[0])
        on = (lambda a: a) if type(x.array) is np.ndarray else (lambda a: move(a, x.device))  # noqa: E731
        output = head_logprob[on(rows), on(gather)]
        parts, order = [], []
        for i in range(self.n_clusters):  # each tail only on its rows, as PyTorch
            sel = np.flatnonzero(cluster == i + 1)
            if sel.size:
                logp = log_softmax(self.tail[i](x[on(sel)]), dim=1)
                parts.append(logp[on(np.arange(sel.size)), on(target[sel] - self.cutoffs[i])])
                order.append(sel)
        if parts:
            sel = np.concatenate(order)
            tail = cat(parts)
            # back to the rows' order; shortlist rows add nothing
            inverse = np.full(target.shape[0], sel.size, np.int64)
            inverse[sel] = np.arange(sel.size)
            output = output + cat([tail, tail.new_zeros((1,))])[on(inverse)]
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _get_full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        """All n_classes log-probabilities from the input and the head's output (N, head_size)."""
        head_logprob = log_softmax(head_output, dim=1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logprob = log_softmax(self.tail[i](input), dim=1)
            k = self.shortlist_size + i
            parts.append(cluster_logprob + head_logprob[:, k:k + 1])
        return cat(parts, dim=1)

    def log_prob(self, input: Any) -> Tensor:
        """Log-probabilities (N, n_classes) of every class."""
        x = as_tensor(input)
        return self._get_full_log_prob(x, self.head(x))

    def predict(self, input: Any) -> Tensor:
        """The most probable class of each row (N,), as log_prob(input).argmax(1) but computing the tails only
        for rows whose head prefers a cluster."""
        x = as_tensor(input)
        head_output = self.head(x)
        output = head_output.argmax(dim=1)
        out = to_host(output.array).copy()
        tail = out >= self.shortlist_size
        if not tail.any():
            return output
        on = (lambda a: a) if type(x.array) is np.ndarray else (lambda a: move(a, x.device))  # noqa: E731
        idx = on(np.flatnonzero(tail))
        out[tail] = to_host(self._get_full_log_prob(x[idx], head_output[idx]).argmax(dim=1).array)
        return Tensor._make(on(out), None, False)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, n_classes={self.n_classes}, cutoffs={self.cutoffs[:-1]}, "
                f"div_value={self.div_value}, head_bias={self.head_bias}")
