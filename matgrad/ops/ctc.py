"""Connectionist temporal classification: ctc_loss as one op, PyTorch's CPU kernel vectorised.

The alignments of a target l (length S) to T frames run over the extended labels
l' = (blank, l₁, blank, l₂, …, l_S, blank) (length 2S + 1). The forward variables α (and, in the
backward, β) are computed in log space for every batch item and every extended position at
once; only time is a Python loop. Targets, lengths and the masks made from them live on the
host; the log-probabilities and the recursions stay on their device.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op
from ..devices import device_of as _device
from ..devices import move, to_host
from ..tensor import Tensor, as_tensor

_WHERE = "(while checking arguments for ctc_loss)"


def _lse3(a: Any, b: Any, c: Any) -> Any:
    """log(eᵃ + eᵇ + eᶜ) as PyTorch's kernel computes it: the largest taken out (0 when all are -inf)."""
    m = np.maximum(np.maximum(a, b), c)
    m = np.where(m == -np.inf, 0, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.exp(a - m) + np.exp(b - m) + np.exp(c - m)) + m


def _shift(a: Any, k: int) -> Any:
    """a (N, L) moved k places along L (right for k > 0, left for k < 0), -inf filling the gap."""
    out = np.full_like(a, -np.inf)
    if k > 0:
        out[:, k:] = a[:, :-k]
    else:
        out[:, :k] = a[:, -k:]
    return out


class CTCLoss(Op):
    """nll_n = -log Σ_π Π_t exp(lp[t, n, π_t]).  dlp = exp(lp) - exp(log Σ_{l'_s = c} α_t(s)β_t(s) + nll_n - lp).

    One nll per batch item n, summed over the alignments π of its target.

    lp (T, N, C) log-probabilities; ext (N, L) the extended labels (L = 2·S_max + 1), il, tl (N,) the lengths
    and skip (N, L) (l'[s] may be reached from l'[s-2]), all on the host.
    Local derivative, as PyTorch's kernel: d nll_n / d lp[t, n, c] = exp(lp) - exp(log Σ_{s: l'_s = c}
    α_t(s)·β_t(s) + nll_n - lp) for t < il_n, 0 after. The exp(lp) term is PyTorch's: it vanishes when lp
    comes from log_softmax (Σ_c exp(lp) = 1), which is how the loss is meant to be used; the gradient with
    respect to lp taken as free variables lacks it. With zero_infinity, an infinite nll is 0, its gradient 0.
    """

    def forward(self, lp, *, ext, il, tl, skip, zero_infinity):
        t_max, n = lp.shape[:2]
        self.ext, self.il, self.tl, self.zero_infinity = ext, il, tl, zero_infinity
        if type(lp) is not np.ndarray:  # the masks go where the data is
            ext, skip = move(ext, _device(lp)), move(skip, _device(lp))
        lpe = np.take_along_axis(lp, ext[None], axis=2)  # (T, N, L): lp at each extended label
        alpha = np.full_like(lpe, -np.inf)
        if t_max:
            alpha[0, :, 0] = lpe[0, :, 0]
            alpha[0, :, 1:2] = np.where(_col(tl > 0, lp), lpe[0, :, 1:2], -np.inf)
        for t in range(1, t_max):
            prev = alpha[t - 1]
            alpha[t] = _lse3(prev, _shift(prev, 1), np.where(skip, _shift(prev, 2), -np.inf)) + lpe[t]
        l1, l2 = _at_last(alpha, il, tl)
        m = np.maximum(l1, l2)
        m = np.where(m == -np.inf, 0, m)
        with np.errstate(divide="ignore"):
            nll = -(np.log(np.exp(l1 - m) + np.exp(l2 - m)) + m)
        nll = np.where(il == 0, np.where(tl == 0, -0.0, np.inf), nll).astype(lp.dtype)  # PyTorch's empty input
        self.alpha, self.lpe, self.nll = alpha, lpe, nll
        out = np.where(nll == np.inf, 0, nll).astype(lp.dtype) if zero_infinity else nll
        return out if type(lp) is np.ndarray else move(out, _device(lp))

    def backward(self, dy):
        if not self.xp.plain:
            raise RuntimeError("ctc_loss: the derivative of ctc_loss's backward is not implemented (as in PyTorch); "
                               "differentiate it once, without create_graph=True")
        lp = self.input_arrays[0]
        alpha, lpe, ext, il, tl = self.alpha, self.lpe, self.ext, self.il, self.tl
        t_max, n, c = lp.shape
        dev = None if type(lp) is np.ndarray else _device(lp)
        on = (lambda a: a) if dev is None else (lambda a: move(a, dev))  # noqa: E731
        size = ext.shape[1]
        init = np.full((n, size), -np.inf, dtype=lp.dtype)  # β at t = il - 1: lp at the last two positions
        rows = np.arange(n)
        end, before_end = _at_last(lpe, il, tl)
        init[rows, 2 * tl] = end
        init[rows, np.maximum(2 * tl - 1, 0)] = np.where(tl > 0, before_end, init[rows, np.maximum(2 * tl - 1, 0)])
        init = on(init)
        skip_next = np.zeros((n, size), bool)  # l'[s+2] may be reached from l'[s]
        skip_next[:, :-2] = ext[:, 2:] != ext[:, :-2]
        skip_next = on(skip_next)
        beta = np.full_like(lpe, -np.inf)
        for t in range(t_max - 1, -1, -1):
            if t < t_max - 1:
                nxt = beta[t + 1]
                step = _lse3(nxt, _shift(nxt, -1), np.where(skip_next, _shift(nxt, -2), -np.inf)) + lpe[t]
            else:
                step = beta[t]
            before, at = on(_col(t < il - 1, lp)), on(_col(t == il - 1, lp))
            beta[t] = np.where(at, init, np.where(before, step, -np.inf))
        ab = alpha + beta
        with np.errstate(invalid="ignore"):
            q = np.where(ab == -np.inf, -np.inf, ab - lpe)  # log(α·β / y): the class's lp taken out before summing
        m = np.max(q, axis=2, keepdims=True)
        m = np.where(m == -np.inf, 0, m)
        onehot = on((ext[:, :, None] == np.arange(c)).astype(lp.dtype))  # (N, L, C)
        sums = np.einsum("tnl,nlc->tnc", np.exp(q - m), onehot)
        nll = on(self.nll)
        with np.errstate(divide="ignore", invalid="ignore"):
            post = np.exp(np.log(sums) + m + nll[None, :, None])
            grad = np.exp(lp) - post
        keep = (np.arange(t_max)[:, None] < il[None, :])[:, :, None]
        if self.zero_infinity:
            keep = keep & ~np.isinf(self.nll)[None, :, None]
        grad = np.where(on(keep), grad, 0)
        return grad * dy[None, :, None]

    def release(self) -> None:
        super().release()
        self.alpha = self.lpe = None


def _at_last(a: Any, il: np.ndarray, tl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """a (T, N, L) at t = il - 1 and s = 2·tl and 2·tl - 1 (-inf where tl = 0 or T = 0), on the host."""
    n = a.shape[1]
    if not a.shape[0]:
        return np.full(n, -np.inf), np.full(n, -np.inf)
    idx = (np.maximum(il - 1, 0), np.arange(n), 2 * tl, np.maximum(2 * tl - 1, 0))
    if type(a) is not np.ndarray:  # the indices go where the data is
        idx = tuple(move(i, _device(a)) for i in idx)
    end, before = to_host(a[idx[0], idx[1], idx[2]]), to_host(a[idx[0], idx[1], idx[3]])
    return end, np.where(tl > 0, before, -np.inf)


def _col(mask: np.ndarray, like: Any) -> Any:
    """A host (N,) mask as an (N, 1) column on like's device."""
    col = np.asarray(mask)[:, None]
    return col if type(like) is np.ndarray else move(col, _device(like))


def _lengths(name: str, v: Any) -> np.ndarray:
    """input_lengths / target_lengths as a host int64 vector (a Tensor, an array, a sequence or an int)."""
    a = to_host(v.array) if isinstance(v, Tensor) else np.asarray(v)
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"{name} must be integral, got {a.dtype}")
    return a.astype(np.int64).reshape(-1)


def ctc_loss(log_probs: Any, targets: Any, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """The CTC loss of log-probabilities (T, N, C) or (T, C) against targets, as torch.nn.functional.ctc_loss.

    targets: padded (N, S) (row n's first target_lengths[n] entries) or all targets concatenated (Σ lengths,);
    input_lengths / target_lengths: one per batch item (tensors, sequences, or ints when unbatched).
    'mean' divides each loss by its target length (at least 1), then averages over the batch.
    Unlike PyTorch's CPU kernel, a target label outside 0..C-1 is an error (PyTorch reads out of bounds).
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    x = as_tensor(log_probs)
    if x.dtype.kind != "f":
        raise NotImplementedError(f"\"ctc_loss_cpu\" not implemented for '{x.dtype}': log_probs must be floating")
    batched = x.ndim == 3
    if x.ndim not in (2, 3):
        raise RuntimeError(f"Expected 3-dimensional tensor (T, N, C), or (T, C) unbatched, but got "
                           f"{x.ndim}-dimensional tensor for argument #1 'log_probs' {_WHERE}")
    if x.array.size == 0:  # PyTorch's check, batch of 0 included
        raise RuntimeError(f"log_probs tensor must not be empty (got shape {tuple(x.shape)}) {_WHERE}")
    if not batched:
        x = x.unsqueeze(1)
    t_max, n, c = x.shape
    il, tl = _lengths("input_lengths", input_lengths), _lengths("target_lengths", target_lengths)
    tg = to_host(targets.array) if isinstance(targets, Tensor) else np.asarray(targets)
    if tg.ndim not in (1, 2):
        raise RuntimeError(f"Expected 1 to 2 dimensions, but got {tg.ndim}-dimensional tensor for argument #2 "
                           f"'targets' {_WHERE}")
    if not 0 <= blank < c:
        raise RuntimeError(f"blank must be in label range: got blank={blank} for {c} classes")
    if il.size != n:
        raise RuntimeError(f"input_lengths must be of size batch_size ({n}), got {il.size}")
    if tl.size != n:
        raise RuntimeError(f"target_lengths must be of size batch_size ({n}), got {tl.size}")
    for name, v in (("target_lengths", tl), ("input_lengths", il)):
        if (v < 0).any():
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value {int(v[v < 0][0])} {_WHERE}")
    if (il > t_max).any():
        raise RuntimeError(f"Expected input_lengths to have value at most {t_max}, but got value "
                           f"{int(il[il > t_max][0])} {_WHERE}")
    tg = tg.astype(np.int64)
    s_max = int(tl.max()) if n else 0
    if tg.ndim == 1:
        if tg.shape[0] != int(tl.sum()):
            raise RuntimeError(f"Expected tensor to have size {int(tl.sum())} at dimension 0 (the sum of "
                               f"target_lengths), but got size {tg.shape[0]} for argument #2 'targets' {_WHERE}")
        padded = np.zeros((n, s_max), np.int64)
        start = np.concatenate([[0], np.cumsum(tl)[:-1]]).astype(np.int64)
        for i in range(n):
            padded[i, :tl[i]] = tg[start[i]:start[i] + tl[i]]
    else:
        if tg.shape[0] != n:
            raise RuntimeError(f"Expected tensor to have size {n} at dimension 0, but got size {tg.shape[0]} "
                               f"for argument #2 'targets' {_WHERE}")
        if tg.shape[1] < s_max:
            raise RuntimeError(f"Expected tensor to have size at least {s_max} at dimension 1, but got size "
                               f"{tg.shape[1]} for argument #2 'targets' {_WHERE}")
        padded = tg[:, :s_max]
    used = np.arange(s_max)[None, :] < tl[:, None]
    bad = used & ((padded < 0) | (padded >= c))
    if bad.any():
        raise RuntimeError(f"ctc_loss: target label {int(padded[bad][0])} is out of range for {c} classes "
                           f"(labels must be in 0..{c - 1})")
    padded = np.where(used, padded, blank)
    ext = np.full((n, 2 * s_max + 1), blank, np.int64)
    ext[:, 1::2] = padded
    skip = np.zeros(ext.shape, bool)
    skip[:, 2:] = ext[:, 2:] != ext[:, :-2]
    nll = CTCLoss.apply(x, ext=ext, il=il, tl=tl, skip=skip, zero_infinity=zero_infinity)
    if reduction == "sum":
        return nll.sum()
    if reduction == "mean":
        div = np.maximum(tl, 1).astype(x.dtype)
        div = Tensor._make(div if type(x.array) is np.ndarray else move(div, x.device), None, False)
        return (nll / div).mean()
    return nll if batched else nll.squeeze(0)
