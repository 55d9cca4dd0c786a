"""Normalization: batch_norm and layer_norm, one op that standardizes over some axes.

Over the m values that share a mean μ and variance σ² (biased, 1/m):

    x̂ = (x - μ)/√(σ² + ε)        y = γ·x̂ + β
    dβ = Σ dy      dγ = Σ dy·x̂      dx = (dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂)) / √(σ² + ε),  dx̂ = γ·dy

batch_norm shares statistics over (N, H, W) per channel; layer_norm over the trailing
normalized_shape per sample. In eval mode batch_norm is affine in x (running stats).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import _autocast, parallel
from ..autograd import grad_mode
from ..autograd.grad_mode import no_grad
from ..autograd.op import Op
from ..tensor import Tensor, as_tensor, wrap_dim

#: Rows (one per sample and channel) at least this long are summed by BLAS dot products.
ROW_MIN = 16
#: The same for an array laid out as (C, N, H, W) (benchmarks/bench_cnn_parts.py, see group_sum). A dense conv
#: output takes Normalize._forward_batch_norm instead; this serves the rest (x - μ of a strided input).
CHANNEL_ROW_MIN = 128
#: Channels-first rows are summed in runs of at most this many values (whole samples' rows; a BLAS dot
#: product each, in float32, combined in float64). The shorter, the more accurate and the more calls: at
#: 128×32×28×28 float32, mean 3, std 1, runs of 784 values keep σ² within 1.7e-7 of float64's, runs of
#: 3136 within 8e-7 and a whole channel's one dot product within 7e-6 (the product and reduce: 5e-7).
RUN = 1024
#: batch_norm takes σ² = Σx²/m - μ² from one pass where μ² ≤ ONE_PASS·σ²: that difference loses about
#: log10(1 + μ²/σ²) digits. Other channels sum (x - μ)² as such (see Normalize._forward_batch_norm).
ONE_PASS = 16.0


def group_sum(a: np.ndarray, axes: tuple[int, ...], b: np.ndarray | None = None) -> np.ndarray:
    """Σ a, or Σ a·b, over `axes`, kept as size-1 dims (np.add.reduce(a·b, axes, keepdims=True)).

    For batch_norm's axes (all but the channel axis 1) np.add.reduce walks the array in
    strides; the same sums as one dot product per (sample, channel) row of contiguous pixels,
    then a sum over the samples, run 3-6× faster through BLAS, and a·b is never stored. The dot
    products of a·b run one group of samples per thread (matgrad.parallel): one BLAS call each.
    """
    n, c = a.shape[:2] if a.ndim > 1 else (0, 0)
    length = a.size // (n * c) if n * c else 0
    per_channel = type(a) is np.ndarray and a.ndim > 1 and axes == (0,) + tuple(range(2, a.ndim))
    if (per_channel and b is not None and length >= CHANNEL_ROW_MIN and a.swapaxes(0, 1).flags.c_contiguous
            and b.swapaxes(0, 1).flags.c_contiguous and a.dtype == b.dtype):
        # a conv's output, laid out as (C, N, H, W): the same row dots, rows taken channel by channel, and
        # a·b never stored: Σ dy·(x - μ) at (128, 32, 28, 28) float32 in 0.9 ms against 3.8 for
        # _channel_sums' product and reduce (median of 15, one thread); at (128, 128, 7, 7), rows of 49, the
        # 16384 small products took longer than the product and reduce (bn fwd+bwd 1.10× slower)
        rows_a, rows_b = (v.swapaxes(0, 1).reshape(c, n, length) for v in (a, b))
        per_row = parallel.batched(_row_dots, rows_a, rows_b, shape=(c, n))
        return np.add.reduce(per_row, axis=1).reshape((1, c) + (1,) * (a.ndim - 2))
    if (not per_channel or length < ROW_MIN or not a.flags.c_contiguous
            or (b is not None and not b.flags.c_contiguous)):
        if per_channel and a.swapaxes(0, 1).flags.c_contiguous:
            # a conv's output, laid out as (C, N, H, W): each channel's sum is over one block of memory,
            # the same cut or not; a group of channels per thread (matgrad.parallel)
            return parallel.batched(_channel_sums, *((a,) if b is None else (a, b)), axes=(1,),
                                    shape=(1, c) + (1,) * (a.ndim - 2))
        return np.add.reduce(a if b is None else a * b, axis=axes, keepdims=True)
    rows = a.reshape(n, c, length)
    if b is None:
        per_row = np.matmul(rows, np.ones(length, a.dtype))
    else:
        per_row = parallel.batched(_row_dots, rows, b.reshape(n, c, length), shape=(n, c))
    return np.add.reduce(per_row, axis=0).reshape((1, c) + (1,) * (a.ndim - 2))


def _channel_sums(a: np.ndarray, b: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Σ a (or Σ a·b) over all axes but the channels' (1), kept as size-1 dims, into `out`."""
    return np.add.reduce(a if b is None else a * b, axis=(0,) + tuple(range(2, a.ndim)), keepdims=True, out=out)


def _row_dots(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Σ a·b along the last axis of (N, C, L) arrays, one BLAS dot product per row: (N, C), into `out`."""
    dots = np.matmul(a[:, :, None, :], b[:, :, :, None], out=None if out is None else out[:, :, None, None])
    return dots[:, :, 0, 0]


class Normalize(Op):
    """y = γ·x̂ + β, x̂ standardized over `axes`.  dx = (dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂))·σ⁻¹, dx̂ = γ·dy.

    γ, β have shape `pshape` and broadcast against x through `pview` (e.g. (C, 1, 1)).
    """

    def forward(self, x, gamma, beta, *, axes, pview, eps):
        self.axes, self.pview, self.eps = axes, pview, eps
        count = int(np.prod([x.shape[a] for a in axes]))
        self.xc = self.mean = self.xhat = None
        if axes == (0,) + tuple(range(2, x.ndim)) and (rows := _channel_rows(x)) is not None:
            return self._forward_batch_norm(x, gamma, beta, rows, count)
        if (type(x) is np.ndarray and count and axes == tuple(range(x.ndim - len(pview), x.ndim))
                and x.shape[x.ndim - len(pview):] == tuple(pview) and x.dtype.kind == "f"
                and x.dtype == gamma.dtype == beta.dtype and x.flags.c_contiguous):
            return self._forward_layer_norm(x, gamma, beta, count)
        mean = group_sum(x, axes) / count
        xc = parallel.batched(np.subtract, x, mean, axes=(0, 1))  # x - μ
        var = group_sum(xc, axes, xc) / count
        invstd = 1.0 / np.sqrt(var + eps)
        self.xc, self.invstd, self.batch_stats = xc, invstd, (mean, var)
        # y = x̂·γ + β, as (x - μ)·(γ·σ⁻¹) + β: x̂ itself is never stored
        return parallel.batched(_scale_shift, xc, gamma.reshape(pview) * invstd, beta.reshape(pview), axes=(0, 1),
                                heavy=True)

    def _forward_layer_norm(self, x, gamma, beta, count):
        """layer_norm's forward, over rows of `count` contiguous values: μ as one BLAS product with ones, σ² from
        (x - μ)'s row dot products (BLAS), x̂ made in place of x - μ and kept for the backward, y = x̂·γ + β.

        Fewer passes than the general path's reductions and full-size γ·σ⁻¹, each sum a BLAS product: LayerNorm
        fwd+bwd at (128, 17, 64) float32 0.56× the general path's time on one thread, 0.58× on two (which the
        general path splits over its threads and this one does not); (64, 50, 768) 0.76× and 0.65× (interleaved,
        AMD EPYC Zen 5, OpenBLAS Haswell kernel; PyTorch's fused kernel is still 2-3× faster).
        """
        rows = x.reshape(-1, count)
        ones = np.ones(count, x.dtype)
        mean = np.matmul(rows, ones)
        mean /= count
        xhat = np.subtract(rows, mean[:, None])
        var = _row_dots(xhat[None], xhat[None])[0]  # Σ (x - μ)², one BLAS dot product a row
        var /= count
        invstd = 1.0 / np.sqrt(var + self.eps)
        xhat *= invstd[:, None]
        y = np.empty(x.shape, x.dtype)
        rows = y.reshape(-1, count)
        np.multiply(xhat, gamma.reshape(-1), out=rows)
        rows += beta.reshape(-1)
        self.xhat, self.invstd = xhat, invstd[:, None]  # (no batch_stats: only batch_norm reads them)
        return y

    def _forward_batch_norm(self, x, gamma, beta, rows, count):
        """batch_norm's forward from BLAS sums, x - μ never stored: μ = Σx/m, σ² = Σx²/m - μ², then
        y = x·(γ·σ⁻¹) + (β - μ·γ·σ⁻¹) (as PyTorch's CPU kernel), two passes into y.

        The row sums are combined in float64. Channels whose |μ| exceeds √ONE_PASS·σ, where Σx²/m - μ²
        would lose digits, sum (x - μ)² as such over a copy of their values (`offset`, for the backward too).
        """
        rows, caxis = rows
        mean = _per_channel(_row_sums(rows), caxis) / count
        var = _per_channel(_row_sums(rows, rows), caxis) / count - mean * mean
        offset = np.flatnonzero(~(mean * mean <= ONE_PASS * var))  # nan too
        if offset.size:  # μ + mean(x - μ), and σ² = mean((x - μ)²) - mean(x - μ)²
            xc = _centered(x, mean, offset)
            shift = _per_channel(_row_sums(xc), 1) / count
            mean[offset] += shift
            var[offset] = _per_channel(_row_sums(xc, xc), 1) / count - shift * shift
        np.maximum(var, 0, out=var)
        invstd = 1.0 / np.sqrt(var + self.eps)
        self.mean, self.invstd, self.offset = mean, invstd, offset
        self.batch_stats = (mean.astype(x.dtype), var.astype(x.dtype))
        scale = gamma * invstd
        shift = beta - mean * scale
        return parallel.batched(_scale_shift, x, *(v.astype(x.dtype).reshape(self.pview) for v in (scale, shift)),
                                axes=(0, 1), heavy=True)

    def backward(self, dy):
        xp, axes = self.xp, self.axes
        x, gamma, _ = self.inputs
        need = self.needs_input_grad
        pshape = tuple(gamma.shape)
        paxes = self._param_axes(dy)
        if xp.plain and paxes == axes:
            if self.mean is not None:
                return self._backward_from_x(dy, x, gamma, need, pshape)
            return self._backward_batch_norm(dy, gamma, need, pshape)
        if xp.plain and self.xhat is not None and type(dy) is np.ndarray and dy.dtype == x.dtype:
            return self._backward_layer_norm(dy, gamma, need, pshape)
        if xp.plain:  # x̂ and σ⁻¹ from what the forward kept (x - μ again where _forward_batch_norm did not keep it)
            invstd, xc = self.invstd, self.xc
            if self.mean is not None:  # (C,) in float64
                invstd = invstd.astype(x.dtype).reshape(self.pview)
                xc = x - self.mean.astype(x.dtype).reshape(self.pview)
            xhat = xc * invstd
        else:  # create_graph: recompute x̂ from x on the graph, so the gradient is itself differentiable
            xc = x - xp.mean(x, axis=axes, keepdims=True)
            invstd = 1.0 / xp.sqrt(xp.mean(xc * xc, axis=axes, keepdims=True) + self.eps)
            xhat = xc * invstd
        dx = None
        if need[0]:
            dxhat = dy * xp.reshape(gamma, self.pview)
            dx = (dxhat - xp.mean(dxhat, axis=axes, keepdims=True)
                  - xhat * xp.mean(dxhat * xhat, axis=axes, keepdims=True)) * invstd
        dgamma = xp.reshape(xp.sum(dy * xhat, axis=paxes), pshape) if need[1] else None
        dbeta = xp.reshape(xp.sum(dy, axis=paxes), pshape) if need[2] else None
        return dx, dgamma, dbeta

    def _backward_layer_norm(self, dy, gamma, need, pshape):
        """The general formula over _forward_layer_norm's rows, each sum a BLAS product: with P = dy·x̂,
        mean(dx̂·x̂) = P·γ/n and dγ = Σ_rows P, mean(dx̂) = dx̂·1/n and dβ = Σ_rows dy; dx in four passes."""
        xhat, invstd = self.xhat, self.invstd
        rows, n = xhat.shape
        dt = dy.dtype
        dy2 = dy.reshape(-1, n)
        g = gamma.reshape(-1)
        prod = np.multiply(dy2, xhat) if need[0] or need[1] else None
        dgamma = np.matmul(np.ones(rows, dt), prod).reshape(pshape) if need[1] else None
        dbeta = np.matmul(np.ones(rows, dt), dy2).reshape(pshape) if need[2] else None
        dx = None
        if need[0]:
            dxhat = np.multiply(dy2, g)
            mean_dxhat = np.matmul(dxhat, np.ones(n, dt))
            mean_dxhat /= n
            mean_dxhat_xhat = np.matmul(prod, g)
            mean_dxhat_xhat /= n
            dx = np.empty(dy.shape, dt)  # an array of its own (not a view): a leaf's .grad takes it uncopied
            out = dx.reshape(-1, n)  # dx = (dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂))·σ⁻¹
            np.multiply(xhat, mean_dxhat_xhat[:, None], out=out)
            out += mean_dxhat[:, None]
            np.subtract(dxhat, out, out=out)
            out *= invstd
        return dx, dgamma, dbeta

    def _backward_batch_norm(self, dy, gamma, need, pshape):
        """The same gradient where γ and σ are constant over each group (batch_norm), from shared sums.

        With dβ = Σ dy and Σ dy·x̂ = σ⁻¹·Σ dy·(x-μ): mean(dx̂) = γ·dβ/m, mean(dx̂·x̂) = γ·σ⁻¹·Σ dy·(x-μ)/m.
        Two BLAS row sums and three passes over the activations instead of the formula's eight:
        fwd+bwd at 128×32×28×28 float32 took 7.5 ms against 9.3 ms for the generic formula
        (commit ce68ac3; 1.45 against 2.57 ms at 128×128×7×7).
        """
        axes, xc, invstd = self.axes, self.xc, self.invstd
        g = gamma.reshape(self.pview)
        sum_dy = group_sum(dy, axes)
        sum_dy_xc = group_sum(dy, axes, xc)
        dbeta = sum_dy.reshape(pshape) if need[2] else None
        dgamma = (sum_dy_xc * invstd).reshape(pshape) if need[1] else None
        dx = None
        if need[0]:
            count = xc.size // g.size
            k = g * invstd
            by_xc = k * invstd * invstd * sum_dy_xc / count  # x̂·mean(dx̂·x̂)·σ⁻¹ = (x - μ)·by_xc
            shift = k * sum_dy / count  # mean(dx̂)·σ⁻¹
            dx = parallel.batched(_input_grad, dy, xc, k, by_xc, shift, axes=(0, 1), heavy=True)
        return dx, dgamma, dbeta

    def _backward_from_x(self, dy, x, gamma, need, pshape):
        """_backward_batch_norm after _forward_batch_norm, from x and μ: Σ dy·(x - μ) = Σ dy·x - μ·Σ dy (BLAS
        sums, combined in float64; channels in `offset` as such), dx = c·(dy - (a·x + b)) in four passes.

        The difference loses about log10(1 + |μ|/σ) digits: at |μ| = 4σ (ONE_PASS) dγ in float32 comes within
        7e-7 of float64's largest value, against 2e-7 from x - μ (a pass more) and PyTorch's.
        """
        mean, invstd, offset, dt = self.mean, self.invstd, self.offset, x.dtype
        (rows, caxis), dy_rows = _channel_rows(x), _channel_rows(dy)
        if dy_rows is not None and dy.strides == x.strides and dy_rows[1] == caxis and dy_rows[0].shape == rows.shape:
            # (the same strides: dy's rows hold the same elements as x's, whatever the layout)
            sum_dy = _per_channel(_row_sums(dy_rows[0]), caxis)
            sum_dy_xc = _per_channel(_row_sums(dy_rows[0], rows), caxis) - mean * sum_dy
            if offset.size:
                xc, dyo = _centered(x, mean, offset), dy[:, offset].reshape(len(dy), len(offset), -1)
                sum_dy_xc[offset] = _per_channel(_row_sums(dyo, xc), 1)
        else:  # dy laid out otherwise: x - μ, and NumPy's sums
            xc = parallel.batched(np.subtract, x, mean.astype(dt).reshape(self.pview), axes=(0, 1))
            sum_dy = group_sum(dy, self.axes).reshape(-1).astype(np.float64)
            sum_dy_xc = group_sum(dy, self.axes, xc).reshape(-1).astype(np.float64)
        dbeta = sum_dy.astype(dt).reshape(pshape) if need[2] else None
        dgamma = (sum_dy_xc * invstd).astype(dt).reshape(pshape) if need[1] else None
        dx = None
        if need[0]:
            # dx = γσ⁻¹·(dy - mean(dy) - (x - μ)·σ⁻²·mean(dy·(x - μ))) = c·(dy - (a·x + b))
            count = x.size // mean.size
            a = invstd * invstd * sum_dy_xc / count
            b = sum_dy / count - a * mean
            c = gamma * invstd
            dx = parallel.batched(_input_grad_from_x, dy, x, *(v.astype(dt).reshape(self.pview) for v in (a, b, c)),
                                  axes=(0, 1), heavy=True)
        return dx, dgamma, dbeta

    def _param_axes(self, dy: Any) -> tuple[int, ...]:
        """The axes γ is broadcast over (its gradient sums them)."""
        lead = dy.ndim - len(self.pview)
        return tuple(range(lead)) + tuple(lead + i for i, n in enumerate(self.pview) if n == 1)

    def release(self) -> None:
        super().release()
        self.xc = self.invstd = self.mean = self.offset = self.xhat = None


def _scale_shift(x: np.ndarray, scale: np.ndarray, shift: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """x·scale + shift, written into `out`."""
    y = np.multiply(x, scale, out=out)
    y += shift
    return y


def _input_grad(dy: np.ndarray, xc: np.ndarray, k: np.ndarray, by_xc: np.ndarray, shift: np.ndarray,
                out: np.ndarray | None = None) -> np.ndarray:
    """batch_norm's dx = dy·k - (x - μ)·by_xc - shift, written into `out`."""
    dx = np.multiply(dy, k, out=out)
    dx -= xc * by_xc
    dx -= shift
    return dx


def _input_grad_from_x(dy: np.ndarray, x: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray,
                       out: np.ndarray | None = None) -> np.ndarray:
    """batch_norm's dx = c·(dy - (a·x + b)), written into `out`: four passes, no temporary."""
    dx = np.multiply(x, a, out=out)
    dx += b
    np.subtract(dy, dx, out=dx)
    dx *= c
    return dx


def _channel_rows(a: Any) -> tuple[np.ndarray, int] | None:
    """a (N, C, ...) as a 3-d view of rows, each a run of one channel's values contiguous in memory, and the
    view's axis that indexes the channel: each channel one block of memory (a conv's output: see _channel_block),
    (C, N/g, g·L), runs of about RUN values; in C order, (N, C, L). None where a is neither, or its rows are
    shorter than ROW_MIN."""
    if type(a) is not np.ndarray or a.ndim < 2 or a.size == 0:
        return None
    n, c = a.shape[:2]
    length = a.size // (n * c)
    if (flat := _channel_block(a)) is not None and n * length >= ROW_MIN:
        g = max(1, min(n, RUN // length))
        while n % g:
            g -= 1
        return flat.reshape(c, n // g, g * length), 0
    if a.flags.c_contiguous and length >= ROW_MIN:
        return a.reshape(n, c, length), 1
    return None


def _channel_block(a: np.ndarray) -> np.ndarray | None:
    """a (N, C, ...) as (C, N·L): each channel's values, one contiguous block of memory each (in whatever order
    they lie there: (C, N, H, W), or a conv's grid, (C, H, N, W)); None where they do not lie so."""
    if a.swapaxes(0, 1).flags.c_contiguous:
        return a.swapaxes(0, 1).reshape(a.shape[1], -1)
    order = parallel.memory_order(a)
    if order[0] == 1 and a.transpose(order).flags.c_contiguous:
        return a.transpose(order).reshape(a.shape[1], -1)
    return None


def _row_sums(rows: np.ndarray, other: np.ndarray | None = None) -> np.ndarray:
    """Σ rows (or Σ rows·other) along the last axis, by BLAS (a matrix-vector product, or a dot product a row)."""
    if other is None:
        return parallel.batched(np.matmul, rows, np.ones(rows.shape[-1], rows.dtype), shape=rows.shape[:2])
    return parallel.batched(_vecdot, rows, other, shape=rows.shape[:2])


def _einsum_vecdot(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """np.vecdot for NumPy before 2.0."""
    return np.einsum("...i,...i->...", a, b, out=out)


_vecdot = getattr(np, "vecdot", _einsum_vecdot)


def _per_channel(per_row: np.ndarray, caxis: int) -> np.ndarray:
    """The row sums of _channel_rows' view added up per channel in float64: (C,)."""
    return np.add.reduce(per_row, axis=1 - caxis, dtype=np.float64)


def _centered(x: np.ndarray, mean: np.ndarray, channels: np.ndarray) -> np.ndarray:
    """x - μ on a copy of the given channels, as (N, k, L) rows."""
    xc = x[:, channels]
    xc -= mean[channels].astype(x.dtype).reshape((-1,) + (1,) * (x.ndim - 2))
    return xc.reshape(len(x), len(channels), -1)


def _param(op: str, name: str, p: Any, shape: tuple[int, ...], like: Tensor, fill: float,
           error: type = ValueError) -> Tensor:
    if p is None:  # a constant: no gradient is asked of it
        return Tensor._make(np.full_like(like.array, fill, shape=shape), None, False)
    t = as_tensor(p)
    if tuple(t.shape) != shape:
        raise error(f"{op}: {name} must have shape {shape}, got {tuple(t.shape)}")
    return t


def batch_norm(input: Any, running_mean: Tensor | None, running_var: Tensor | None, weight: Any = None,
               bias: Any = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) over the batch, as torch.nn.functional.batch_norm.

    In training, batch statistics are used and running_mean/running_var (if given) are
    updated in place: r ← (1 - momentum)·r + momentum·stat, the variance unbiased (m/(m-1)).
    Otherwise the running statistics are used.
    """
    op = "batch_norm"
    x = as_tensor(input)
    # PyTorch's checks, in its order and with its error types: F.batch_norm's batch size (training only), then
    # the stats' and parameters' shapes against C (0 for a 1-D input), then dim 1 itself, then the dtype
    if training:
        if x.ndim == 0:
            raise IndexError(f"{op}: expected an input of shape (N, C, ...), got a 0-d tensor")
        m = x.shape[0] * int(np.prod(x.shape[2:], dtype=np.int64))
        if m == 1:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, got input {x.shape}")
        if eps <= 0.0:
            raise ValueError(f"{op}: batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"{op}: batch_norm eps must be non-negative, but got {eps}")
    c = x.shape[1] if x.ndim > 1 else 0
    for name, r in (("running_mean", running_mean), ("running_var", running_var)):
        rshape = None if r is None else tuple(np.shape(r.array if isinstance(r, Tensor) else r))
        if rshape is not None and rshape != (c,):
            raise RuntimeError(f"{op}: {name} should contain {c} elements (shape ({c},), one per channel), "
                               f"got shape {rshape}" + ("" if x.ndim > 1 else f"; an input of shape {x.shape} has "
                                                        "no channel dim: batch_norm takes (N, C, ...)"))
    gamma = _param(op, "weight", weight, (c,), x, 1.0, RuntimeError)
    beta = _param(op, "bias", bias, (c,), x, 0.0, RuntimeError)
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(f"{op}: eval mode (training=False) needs running_mean and running_var (PyTorch: "
                           f"{'running_mean' if running_mean is None else 'running_var'} must be defined in "
                           "evaluation mode)")
    if training and (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: running_mean and running_var must either both be None or neither be None")
    if x.ndim < 2:
        wrap_dim(op, 1, x.ndim)  # PyTorch's IndexError: a 1-D input has no channel dim
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"{op}" not implemented for {x.dtype}: it takes a floating input (N, C, ...); '
                                  "convert it with .float()")
    pview = (c,) + (1,) * (x.ndim - 2)
    if x.array.size == 0:  # an empty batch (or no channels): an empty result and no statistics, as PyTorch
        return x * gamma.reshape(pview) + beta.reshape(pview)
    if not training:
        # affine in x: y = x·(γ/√(r_var+ε)) + (β - r_mean·γ/√(r_var+ε)), composed from differentiable ops
        rm = as_tensor(running_mean).array.astype(x.array.dtype, copy=False)
        rv = as_tensor(running_var).array.astype(x.array.dtype, copy=False)
        scale = gamma * Tensor._make((1.0 / np.sqrt(rv + eps)).astype(x.dtype), None, False)
        shift = beta - Tensor._make(rm, None, False) * scale
        return x * scale.reshape(pview) + shift.reshape(pview)
    axes = (0,) + tuple(range(2, x.ndim))
    if running_mean is None and running_var is None:
        return Normalize.apply(x, gamma, beta, axes=axes, pview=pview, eps=eps)
    if (grad_mode._state.enabled and (x._requires_grad or gamma._requires_grad or beta._requires_grad)
            or not type(x.array) is type(gamma.array) is type(beta.array)):  # (apply says which device is off)
        y = Normalize.apply(x, gamma, beta, axes=axes, pview=pview, eps=eps)
        fn = y.grad_fn
    else:  # apply would keep no node, and so not the statistics its forward computes (no_grad, SWA's update_bn):
        # the forward run here, as apply runs it. A (128, 32, 28, 28) conv output on one thread: 1.99 ms, where
        # apply and then NumPy's strided mean and var took 5.22 (interleaved, paired 0.40; AMD EPYC Zen 5)
        fn = Normalize.__new__(Normalize)
        y = Tensor._make(fn.forward(x.array, gamma.array, beta.array, axes=axes, pview=pview, eps=eps), None, False)
    mean, var = fn.batch_stats if fn is not None else (x.array.mean(axis=axes), x.array.var(axis=axes))
    with no_grad():
        if running_mean is not None:
            _ema(running_mean, mean.reshape(c), momentum)
        if running_var is not None:
            _ema(running_var, var.reshape(c) * (m / (m - 1)), momentum)
    return y


def _ema(r: Any, stat: np.ndarray, momentum: float) -> None:
    data = r.array if isinstance(r, Tensor) else r
    data *= 1 - momentum
    data += momentum * stat.astype(data.dtype, copy=False)


def layer_norm(input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Tensor:
    """Normalize each sample over its trailing `normalized_shape` dims, as torch.nn.functional.layer_norm."""
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, weight, bias = _autocast.cast(_autocast.FP32_CUDA, input, weight, bias)
    op = "layer_norm"
    x = as_tensor(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating input, got {x.dtype}")
    if len(shape) == 0 or len(shape) > x.ndim or tuple(x.shape[-len(shape):]) != shape:
        raise RuntimeError(  # PyTorch's type, here and for weight and bias
            f"{op}: normalized_shape {shape} must equal the input's trailing dims, input shape {x.shape}"
        )
    gamma = _param(op, "weight", weight, shape, x, 1.0, RuntimeError)
    beta = _param(op, "bias", bias, shape, x, 0.0, RuntimeError)
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    return Normalize.apply(x, gamma, beta, axes=axes, pview=shape, eps=eps)


__all__: Sequence[str] = ["batch_norm", "layer_norm"]
