"""Convolution as a matrix product over unfolded patches: conv2d and conv_transpose2d.

Shapes (PyTorch's): input X (N, C, H, W), weight W (O, C/g, kH, kW), output Y (N, O, Hₒ, Wₒ).
Unfolding X gives cols, one column per output pixel and one row per (channel, kh, kw):

    cols  (g, C/g·kH·kW, N·Hₒ·Wₒ)      W₂ = W as (g, O/g, C/g·kH·kW)      Y₂ = W₂·cols
    dW₂ = dY₂·colsᵀ                    dcols = W₂ᵀ·dY₂                    dX = fold(dcols)

so a convolution is one large GEMM forward and two backward. `fold` (col2im) is the
transpose of unfold: it adds every column back to the pixels its patch came from.

The three products are three Functions, each the others' backward (they are the three
faces of one trilinear form ⟨dY, conv(X, W)⟩), so gradients of gradients are convolutions
too and create_graph works to any order. conv_transpose2d is conv2d's input gradient.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd.op import Op
from ..tensor import Tensor, as_tensor

Pair = tuple[int, int]


# --- the NumPy kernels ------------------------------------------------------------------
def out_size(size: int, k: int, s: int, p: int, d: int) -> int:
    """Output length of a window of k taps (dilation d) sliding with stride s over size + 2p."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def unfold(x: np.ndarray, k: Pair, s: Pair, p: Pair, d: Pair, size: Pair | None = None) -> np.ndarray:
    """im2col: X (N, C, H, W) -> cols (C, kH, kW, N, Hₒ, Wₒ), contiguous.

    `size` (Hₒ, Wₒ) may cut the output short: conv_transpose2d's output_padding adds
    pixels that no output position of the matching conv2d sees.

    X is first laid out as (C, N, H+2p, W+2p), so for a fixed (c, kh, kw) the copied
    patch pixels are close in memory and the copy streams.
    """
    n, c, h, w = x.shape
    ho, wo = size or (out_size(h, k[0], s[0], p[0], d[0]), out_size(w, k[1], s[1], p[1], d[1]))
    xp = np.zeros((c, n, h + 2 * p[0], w + 2 * p[1]), dtype=x.dtype)
    xp[:, :, p[0]:p[0] + h, p[1]:p[1] + w] = x.transpose(1, 0, 2, 3)
    sc, sn, sh, sw = xp.strides
    view = as_strided(
        xp, (c, k[0], k[1], n, ho, wo), (sc, sh * d[0], sw * d[1], sn, sh * s[0], sw * s[1]),
        writeable=False,
    )
    return np.ascontiguousarray(view)


def fold(cols: np.ndarray, x_shape: tuple[int, ...], s: Pair, p: Pair, d: Pair) -> np.ndarray:
    """col2im, unfold's transpose: cols (C, kH, kW, N, Hₒ, Wₒ) summed back into X's pixels.

    One strided add per kernel offset (kH·kW of them); within one offset no two output
    pixels share an input pixel, so a plain `+=` on the strided slice is exact.
    """
    n, c, h, w = x_shape
    _, kh, kw, _, ho, wo = cols.shape
    dx = np.zeros((c, n, h + 2 * p[0], w + 2 * p[1]), dtype=cols.dtype)
    for i in range(kh):
        r = i * d[0]
        for j in range(kw):
            q = j * d[1]
            dx[:, :, r:r + s[0] * (ho - 1) + 1:s[0], q:q + s[1] * (wo - 1) + 1:s[1]] += cols[:, i, j]
    return dx[:, :, p[0]:p[0] + h, p[1]:p[1] + w].transpose(1, 0, 2, 3)


def _rows(dy: np.ndarray, groups: int) -> np.ndarray:
    """dY (N, O, Hₒ, Wₒ) as the GEMM's (g, O/g, N·Hₒ·Wₒ) operand."""
    n, o, ho, wo = dy.shape
    return dy.transpose(1, 0, 2, 3).reshape(groups, o // groups, n * ho * wo)


def _unrows(y2: np.ndarray, n: int, ho: int, wo: int) -> np.ndarray:
    """The GEMM's (g, O/g, N·Hₒ·Wₒ) result as Y (N, O, Hₒ, Wₒ): a view, no copy."""
    return y2.reshape(-1, n, ho, wo).transpose(1, 0, 2, 3)


def conv_forward(x: np.ndarray, w: np.ndarray, s: Pair, p: Pair, d: Pair, g: int,
                 size: Pair | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Y = W₂·cols(X); returns Y and cols (g, C/g·kH·kW, N·Hₒ·Wₒ) for the backward."""
    n = x.shape[0]
    o, cg, kh, kw = w.shape
    cols = unfold(x, (kh, kw), s, p, d, size)
    ho, wo = cols.shape[-2:]
    cols = cols.reshape(g, cg * kh * kw, n * ho * wo)
    y = np.matmul(w.reshape(g, o // g, cg * kh * kw), cols)
    return _unrows(y, n, ho, wo), cols


def conv_input_grad(dy: np.ndarray, w: np.ndarray, x_shape: tuple[int, ...], s: Pair, p: Pair, d: Pair,
                    g: int) -> np.ndarray:
    """dX = fold(W₂ᵀ·dY₂)."""
    n, o, ho, wo = dy.shape
    _, cg, kh, kw = w.shape
    w2 = w.reshape(g, o // g, cg * kh * kw)
    hp, wp = x_shape[2] + 2 * p[0], x_shape[3] + 2 * p[1]
    if s == (1, 1) and hp * wp <= 1.35 * ho * wo:
        return _input_grad_flat(dy, w2, x_shape, p, d, (kh, kw))
    dcols = np.matmul(w2.transpose(0, 2, 1), _rows(dy, g))
    return fold(dcols.reshape(g * cg, kh, kw, n, ho, wo), x_shape, s, p, d)


_FOLD_BLOCK = 4096  # columns per GEMM block in the stride-1 input gradient (measured best of 4096-16384)


def _input_grad_flat(dy: np.ndarray, w2: np.ndarray, x_shape: tuple[int, ...], p: Pair, d: Pair,
                     k: Pair) -> np.ndarray:
    """dX = fold(W₂ᵀ·dY₂) at stride 1, with dY laid out on the padded input's pixel grid.

    Then kernel offset (i, j) is a plain shift by i·d·W_p + j·d along the flattened
    (N, H_p, W_p) axis, so the fold is kH·kW contiguous adds instead of strided ones; the
    price is a GEMM over H_p·W_p rather than Hₒ·Wₒ columns (the extra ones are zero).
    """
    n, o, ho, wo = dy.shape
    g, _, cgk = w2.shape
    c = x_shape[1]
    hp, wp = x_shape[2] + 2 * p[0], x_shape[3] + 2 * p[1]
    m = n * hp * wp
    grid = np.zeros((o, n, hp, wp), dtype=dy.dtype)
    grid[:, :, :ho, :wo] = dy.transpose(1, 0, 2, 3)
    grid = grid.reshape(g, o // g, m)
    w2t = w2.transpose(0, 2, 1)
    shifts = [i * d[0] * wp + j * d[1] for i in range(k[0]) for j in range(k[1])]
    dx = np.zeros((c, m + shifts[-1]), dtype=dy.dtype)
    # a block of columns at a time, so each block of dcols is still in cache when folded
    for q in range(0, m, _FOLD_BLOCK):
        e = min(q + _FOLD_BLOCK, m)
        dcols = np.matmul(w2t, grid[:, :, q:e]).reshape(c, len(shifts), e - q)
        for t, shift in enumerate(shifts):
            dx[:, q + shift:e + shift] += dcols[:, t]
    grid_x = dx[:, :m].reshape(c, n, hp, wp)
    return grid_x[:, :, p[0]:p[0] + x_shape[2], p[1]:p[1] + x_shape[3]].transpose(1, 0, 2, 3)


def conv_weight_grad(x: np.ndarray, dy: np.ndarray, w_shape: tuple[int, ...], s: Pair, p: Pair, d: Pair,
                     g: int, cols: np.ndarray | None = None) -> np.ndarray:
    """dW₂ = dY₂·colsᵀ (cols recomputed from X unless given)."""
    o, cg, kh, kw = w_shape
    if cols is None:
        cols = unfold(x, (kh, kw), s, p, d, dy.shape[2:]).reshape(g, cg * kh * kw, -1)
    return np.matmul(_rows(dy, g), cols.transpose(0, 2, 1)).reshape(w_shape)


# --- the three Functions ------------------------------------------------------------------
def apply_in(xp: Any, cls: type[Op], *args: Any, **params: Any) -> Any:
    """Apply `cls` inside a backward: on arrays (plain backward) or on Tensors (create_graph, recorded)."""
    if xp.plain:
        return cls.apply(*(Tensor._make(a, None, False) for a in args), **params).array
    return cls.apply(*args, **params)


def _bias_grad(xp: Any, dy: Any) -> Any:
    return xp.sum(dy, axis=(0, 2, 3))


class Conv2d(Op):
    """Y = W₂·cols(X) + b.  dW₂ = dY₂·colsᵀ, dcols = W₂ᵀ·dY₂, dX = fold(dcols), db = Σ dY over N, H, W.

    X (N, C, H, W), W (O, C/g, kH, kW), b (O,), Y (N, O, Hₒ, Wₒ); cols (g, C/g·kH·kW, N·Hₒ·Wₒ).
    """

    def forward(self, x, w, b=None, *, stride, padding, dilation, groups, size=None):
        self.conf = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        y, self.cols = conv_forward(x, w, stride, padding, dilation, groups, size)
        if b is not None:
            y += b.reshape(-1, 1, 1)
        return y

    def backward(self, dy):
        xp, c = self.xp, self.conf
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        dx = dw = None
        if xp.plain:  # reuse the forward's cols: no second unfold
            n, o, ho, wo = dy.shape
            dy2 = np.ascontiguousarray(_rows(dy, c["groups"]))  # one transposing copy for all three
            dy = _unrows(dy2, n, ho, wo)
            if len(need) == 3 and need[2]:
                db = dy2.reshape(o, -1).sum(axis=1)
            if need[0]:
                dx = conv_input_grad(dy, w, x.shape, c["stride"], c["padding"], c["dilation"], c["groups"])
            if need[1]:
                dw = conv_weight_grad(x, dy, w.shape, c["stride"], c["padding"], c["dilation"], c["groups"],
                                      cols=self.cols)
        else:
            if need[0]:
                dx = ConvTranspose2d.apply(dy, w, x_shape=x.shape, **c)
            if need[1]:
                dw = Conv2dWeightGrad.apply(x, dy, w_shape=w.shape, **c)
        if len(need) == 3:
            if not xp.plain and need[2]:
                db = _bias_grad(xp, dy)
            return dx, dw, (db if need[2] else None)
        return dx, dw

    def release(self) -> None:
        super().release()
        self.cols = None


class ConvTranspose2d(Op):
    """X = fold(W₂ᵀ·Y₂) + b.  dY = conv2d(dX, W), dW = conv2d_weight_grad(dX, Y), db = Σ dX over N, H, W.

    conv2d's input gradient used as a layer (Y (N, O, h, w) -> X (N, C, H, W)); its gradients are
    the other two faces of the same product.
    """

    def forward(self, y, w, b=None, *, x_shape, stride, padding, dilation, groups):
        self.conf = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        x = conv_input_grad(y, w, x_shape, stride, padding, dilation, groups)
        if b is not None:
            x += b.reshape(-1, 1, 1)
        return x

    def backward(self, dx):
        xp, c = self.xp, self.conf
        y, w = self.inputs[:2]
        need = self.needs_input_grad
        dy = apply_in(xp, Conv2d, dx, w, size=tuple(y.shape[2:]), **c) if need[0] else None
        dw = apply_in(xp, Conv2dWeightGrad, dx, y, w_shape=w.shape, **c) if need[1] else None
        if len(need) == 3:
            return dy, dw, (_bias_grad(xp, dx) if need[2] else None)
        return dy, dw


class Conv2dWeightGrad(Op):
    """G = dY₂·cols(X)ᵀ (conv2d's weight gradient).  dX = conv_transpose2d(dY, dG), d(dY) = conv2d(X, dG)."""

    def forward(self, x, dy, *, w_shape, stride, padding, dilation, groups):
        self.conf = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        return conv_weight_grad(x, dy, w_shape, stride, padding, dilation, groups)

    def backward(self, dg):
        xp, c = self.xp, self.conf
        x, dy = self.inputs
        need = self.needs_input_grad
        dx = apply_in(xp, ConvTranspose2d, dy, dg, x_shape=x.shape, **c) if need[0] else None
        ddy = apply_in(xp, Conv2d, x, dg, size=tuple(dy.shape[2:]), **c) if need[1] else None
        return dx, ddy


# --- the functions users call -------------------------------------------------------------
def pair(op: str, name: str, v: Any) -> Pair:
    """An int or a pair of ints as (h, w), or a clear error naming the argument."""
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(i, (int, np.integer)) for i in v):
        return int(v[0]), int(v[1])
    raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")


def _check_4d(op: str, x: Tensor, w: Tensor) -> None:
    if x.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W) or (C, H, W), got {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D weight, got shape {w.shape}")
    if x.dtype != w.dtype or x.dtype.kind != "f":
        raise TypeError(
            f"{op}: input ({x.dtype}) and weight ({w.dtype}) must be the same floating dtype; "
            "convert one with .to(...)"
        )


def _batched(op: str, x: Any) -> tuple[Tensor, bool]:
    t = as_tensor(x)
    if t.ndim == 3:  # unbatched (C, H, W), as PyTorch accepts
        return t.reshape(1, *t.shape), True
    return t, False


def _same_padding(x: Tensor, k: Pair, d: Pair) -> tuple[Tensor, Pair]:
    """padding='same' at stride 1: half the window each side, the odd extra pixel at the end."""
    from .join import pad

    total = (d[0] * (k[0] - 1), d[1] * (k[1] - 1))
    lo = (total[0] // 2, total[1] // 2)
    extra = (total[0] - 2 * lo[0], total[1] - 2 * lo[1])
    if extra != (0, 0):
        x = pad(x, (0, extra[1], 0, extra[0]))
    return x, lo


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation, as torch.nn.functional.conv2d (padding may be 'valid' or 'same')."""
    op = "conv2d"
    x, unbatched = _batched(op, input)
    w = as_tensor(weight)
    _check_4d(op, x, w)
    s, d = pair(op, "stride", stride), pair(op, "dilation", dilation)
    k = (w.shape[2], w.shape[3])
    if isinstance(padding, str):
        if padding == "valid":
            p = (0, 0)
        elif padding == "same":
            if s != (1, 1):
                raise ValueError(f"{op}: padding='same' needs stride 1, got stride {s}")
            x, p = _same_padding(x, k, d)
        else:
            raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    else:
        p = pair(op, "padding", padding)
    c = x.shape[1]
    if groups < 1 or c % groups or w.shape[0] % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide both input channels ({c}) and output channels ({w.shape[0]})"
        )
    if w.shape[1] * groups != c:
        raise ValueError(
            f"{op}: weight {w.shape} expects {w.shape[1] * groups} input channels "
            f"(weight.shape[1]·groups), but the input {x.shape} has {c}"
        )
    ho, wo = (out_size(x.shape[2 + i], k[i], s[i], p[i], d[i]) for i in range(2))
    if ho < 1 or wo < 1 or min(s + d) < 1 or min(p) < 0:
        raise ValueError(
            f"{op}: input {x.shape[2:]} padded by {p} is smaller than the kernel {k} at dilation {d} "
            f"(or stride/dilation < 1, padding < 0); output would be {ho}×{wo}"
        )
    params = dict(stride=s, padding=p, dilation=d, groups=groups)
    if bias is None:
        y = Conv2d.apply(x, w, **params)
    else:
        b = as_tensor(bias)
        if b.shape != (w.shape[0],):
            raise ValueError(f"{op}: bias must have shape ({w.shape[0]},), got {b.shape}")
        y = Conv2d.apply(x, w, b, **params)
    return y.reshape(*y.shape[1:]) if unbatched else y


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """Transposed convolution (conv2d's input gradient), as torch.nn.functional.conv_transpose2d.

    weight (C_in, C_out/groups, kH, kW); output size (H-1)·s - 2p + d·(k-1) + output_padding + 1.
    """
    op = "conv_transpose2d"
    y, unbatched = _batched(op, input)
    w = as_tensor(weight)
    _check_4d(op, y, w)
    s, p = pair(op, "stride", stride), pair(op, "padding", padding)
    d, op_ = pair(op, "dilation", dilation), pair(op, "output_padding", output_padding)
    n, c, h, wd = y.shape
    if groups < 1 or w.shape[0] % groups or c != w.shape[0]:
        raise ValueError(
            f"{op}: weight {w.shape} expects {w.shape[0]} input channels divisible by groups={groups}, "
            f"but the input {y.shape} has {c}"
        )
    if any(op_[i] >= max(s[i], d[i]) or op_[i] < 0 for i in range(2)):
        raise ValueError(f"{op}: output_padding {op_} must be smaller than stride {s} or dilation {d}")
    k = (w.shape[2], w.shape[3])
    size = tuple((y.shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op_[i] + 1 for i in range(2))
    if min(size) < 1 or min(p) < 0:
        raise ValueError(f"{op}: padding {p} leaves no output from input {y.shape[2:]} (size {size})")
    x_shape = (n, w.shape[1] * groups) + size
    params = dict(x_shape=x_shape, stride=s, padding=p, dilation=d, groups=groups)
    if bias is None:
        x = ConvTranspose2d.apply(y, w, **params)
    else:
        b = as_tensor(bias)
        if b.shape != (x_shape[1],):
            raise ValueError(f"{op}: bias must have shape ({x_shape[1]},), got {b.shape}")
        x = ConvTranspose2d.apply(y, w, b, **params)
    return x.reshape(*x.shape[1:]) if unbatched else x


# --- 1-D: conv2d on an (N, C, 1, L) view (issue 20) ------------------------------------------
def single(op: str, name: str, v: Any) -> int:
    """An int or a 1-tuple of an int, or a clear error naming the argument."""
    if isinstance(v, (tuple, list)) and len(v) == 1:
        v = v[0]
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v)
    raise TypeError(f"{op}: {name} must be an int or a 1-tuple of an int, got {v!r}")


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation, as torch.nn.functional.conv1d: input (N, C_in, L) or (C_in, L),
    weight (C_out, C_in/groups, k); padding may be an int, 'valid' or 'same'.

    Runs as conv2d on an (N, C, 1, L) view, so gradients of every order come from Conv2d.
    """
    op = "conv1d"
    x, w = as_tensor(input), as_tensor(weight)
    if x.ndim not in (2, 3):
        raise ValueError(f"{op}: expected input of shape (N, C, L) or (C, L), got {x.shape}")
    if w.ndim != 3:
        raise ValueError(f"{op}: expected a 3-D weight (C_out, C_in/groups, k), got shape {w.shape}")
    s, d = single(op, "stride", stride), single(op, "dilation", dilation)
    p: Any = padding if isinstance(padding, str) else (0, single(op, "padding", padding))
    x4 = x.unsqueeze(-2)
    y = conv2d(x4, w.unsqueeze(2), bias, (1, s), p, (1, d), groups)
    return y.squeeze(-2)
