"""Convolution as a matrix product over unfolded patches: conv2d and conv_transpose2d.

Shapes (PyTorch's): input X (N, C, H, W), weight W (O, C/g, kH, kW), output Y (N, O, Hₒ, Wₒ).
Unfolding X gives cols, one column per output pixel and one row per (channel, kh, kw):

    cols  (g, C/g·kH·kW, Hₒ·N·Wₒ)      W₂ = W as (g, O/g, C/g·kH·kW)      Y₂ = W₂·cols
    dW₂ = dY₂·colsᵀ                    dcols = W₂ᵀ·dY₂                    dX = fold(dcols)

so a convolution is one large GEMM forward and two backward. `fold` (col2im) is the
transpose of unfold: it adds every column back to the pixels its patch came from.
At stride 1 (one group, NumPy arrays) the same three products are computed without cols,
as shifted products over flat copies of X and dY (see "stride 1" below). Either way Y lies on the
output's grid, (O, Hₒ, N, Wₒ) in memory.

The three products are three Functions, each the others' backward (they are the three
faces of one trilinear form ⟨dY, conv(X, W)⟩), so gradients of gradients are convolutions
too and create_graph works to any order. conv_transpose2d is conv2d's input gradient.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import _autocast, blas, parallel, threads
from ..autograd.op import Op
from ..tensor import ArgumentError, ShapeError, Tensor, as_tensor

Pair = tuple[int, int]


# --- the NumPy kernels ------------------------------------------------------------------
def out_size(size: int, k: int, s: int, p: int, d: int) -> int:
    """Output length of a window of k taps (dilation d) sliding with stride s over size + 2p."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def unfold(x: np.ndarray, k: Pair, s: Pair, p: Pair, d: Pair, size: Pair | None = None,
           grid: bool = False) -> np.ndarray:
    """im2col: X (N, C, H, W) -> cols (C, kH, kW, N, Hₒ, Wₒ), contiguous; with `grid`, (C, kH, kW, Hₒ, N, Wₒ): each
    row of cols in the output's grid order, so that the conv's output lies on the grid (see conv_forward).

    `size` (Hₒ, Wₒ) may cut the output short: conv_transpose2d's output_padding adds
    pixels that no output position of the matching conv2d sees.

    X is first laid out padded, as (C, N, H+2p, W+2p) (with `grid`, (C, H+2p, N, W+2p)), so for a fixed
    (c, kh, kw) the copied patch pixels are close in memory and the copy streams.
    """
    n, c, h, w = x.shape
    ho, wo = size or (out_size(h, k[0], s[0], p[0], d[0]), out_size(w, k[1], s[1], p[1], d[1]))
    hp, wp = h + 2 * p[0], w + 2 * p[1]
    if grid:
        xp = np.zeros_like(x, shape=(c, hp, n, wp))  # on x's device
        _copy_rows(xp[:, p[0]:p[0] + h, :, p[1]:p[1] + w], x.transpose(1, 2, 0, 3))
        sc, sh, sn, sw = xp.strides
    else:
        xp = np.zeros_like(x, shape=(c, n, hp, wp))
        xp[:, :, p[0]:p[0] + h, p[1]:p[1] + w] = x.transpose(1, 0, 2, 3)
        sc, sn, sh, sw = xp.strides
    if type(x) is not np.ndarray:  # another device's arrays: one strided slice per kernel offset, stacked
        rows = [slice(i * d[0], i * d[0] + s[0] * (ho - 1) + 1, s[0]) for i in range(k[0])]
        cols = [slice(j * d[1], j * d[1] + s[1] * (wo - 1) + 1, s[1]) for j in range(k[1])]
        taps = [xp[:, r, :, q] if grid else xp[:, :, r, q] for r in rows for q in cols]
        return np.stack(taps, axis=1).reshape((c,) + tuple(k) + ((ho, n, wo) if grid else (n, ho, wo)))
    if grid:
        shape, strides = (c, k[0], k[1], ho, n, wo), (sc, sh * d[0], sw * d[1], sh * s[0], sn, sw * s[1])
    else:
        shape, strides = (c, k[0], k[1], n, ho, wo), (sc, sh * d[0], sw * d[1], sn, sh * s[0], sw * s[1])
    return np.ascontiguousarray(as_strided(xp, shape, strides, writeable=False))


def fold(cols: np.ndarray, x_shape: tuple[int, ...], s: Pair, p: Pair, d: Pair, grid: bool = False) -> np.ndarray:
    """col2im, unfold's transpose: cols (C, kH, kW, N, Hₒ, Wₒ) (with `grid`, (C, kH, kW, Hₒ, N, Wₒ), and X's
    gradient then on the grid too, (C, H, N, W) in memory) summed back into X's pixels.

    One strided add per kernel offset (kH·kW of them); within one offset no two output
    pixels share an input pixel, so a plain `+=` on the strided slice is exact.
    """
    n, c, h, w = x_shape
    kh, kw = cols.shape[1:3]
    ho, wo = (cols.shape[3], cols.shape[5]) if grid else cols.shape[4:]
    if grid:  # (C, H+2p, N, W+2p): a tap's pixels are rows of the grid
        dx = np.zeros_like(cols, shape=(c, h + 2 * p[0], n, w + 2 * p[1]))  # on cols' device
    else:
        dx = np.zeros_like(cols, shape=(c, n, h + 2 * p[0], w + 2 * p[1]))
    for i in range(kh):
        r = slice(i * d[0], i * d[0] + s[0] * (ho - 1) + 1, s[0])
        for j in range(kw):
            q = slice(j * d[1], j * d[1] + s[1] * (wo - 1) + 1, s[1])
            if grid:
                dx[:, r, :, q] += cols[:, i, j]
            else:
                dx[:, :, r, q] += cols[:, i, j]
    if grid:
        return dx[:, p[0]:p[0] + h, :, p[1]:p[1] + w].transpose(2, 0, 1, 3)
    return dx[:, :, p[0]:p[0] + h, p[1]:p[1] + w].transpose(1, 0, 2, 3)


def _rows(dy: np.ndarray, groups: int) -> np.ndarray:
    """dY (N, O, Hₒ, Wₒ) as the GEMM's (g, O/g, Hₒ·N·Wₒ) operand, its columns in the grid's order (a view where dY
    lies on the grid)."""
    n, o, ho, wo = dy.shape
    return _grid_rows(dy).reshape(groups, o // groups, ho * n * wo)


def _unrows(y2: np.ndarray, n: int, ho: int, wo: int) -> np.ndarray:
    """The GEMM's (g, O/g, Hₒ·N·Wₒ) result as Y (N, O, Hₒ, Wₒ) on the output's grid: a view, no copy."""
    return y2.reshape(y2.shape[0] * y2.shape[1], ho, n, wo).transpose(2, 0, 1, 3)  # (not -1: N may be 0)


# --- stride 1: shifted products (no im2col) --------------------------------------------------
# At stride 1 every kernel tap reads its input at a fixed offset from the output pixel, once the input
# is laid out flat and channel-major with the N images side by side in each row. Each product is then a
# few GEMMs on contiguous slices of one buffer, summed in place by BLAS (beta = 1), instead of one GEMM
# over a kH·kW-fold copy (im2col). Two layouts:
#
# Y and dW: X stacked kW times on the output's grid, S (kW·C, rows·N·Wₒ), block j shifted so that its
# column u holds X's column u + j·d - p (zero past X's edges). A row i of kernel taps reads S at
# shift_i = i·d·N·Wₒ columns past the output pixel:
#
#     Y[:, q] = Σ_i W_i·S[:, q + shift_i]        dW_i = Σ_q dY[:, q]·S[:, q + shift_i]ᵀ
#     (W_i = W[:, :, i, :] as (O, kW·C), its taps in S's block order)
#
# kH products with K = kW·C, every column an output pixel; S (a third of im2col's copy at 3×3) is what
# the forward keeps for dW.
#
# dX, where the conv changes the size (else "dX by rows of taps" below): dY on a padded grid (O, H_p, N, W_q),
# rows W + p apart so that one row's right border is the next one's left, after a zero margin: tap t = (i, j)
# reads it at shift_t = i·d·N·W_q + j·d before the input pixel, and dX[:, q] = Σ_t W_tᵀ·dY[:, q - shift_t] is
# kH·kW products with K = O. (The grid's border columns are computed and dropped; stacking dY as X is stacked costs
# more here than it saves.)
#
# A block of columns at a time keeps the block being summed in cache across the products.
# Measured with benchmarks/bench_conv.py --against (each library in its own process, alternating, 2 threads)
# on a 2-core AMD EPYC (Zen 4, AVX-512), NumPy 2.4.6 with scipy-openblas 0.3.31 (SkylakeX kernels), float32,
# batch 128, 3×3, padding 1; paired ratios of this layout's time to that of the one before it (all three
# products as kH·kW taps with K = C or O on padded grids, X's kept for dW), 2026-12-01:
#     32→64 on 14×14   forward 1.05 (S costs more to lay out)   forward + backward 0.88 (dW: 0.71)
#     64→128 on 7×7    forward 0.77                             forward + backward 0.83 (dW: 0.73)
#     the cnn recipe's step (its 1→32 layer stays on im2col): 0.75, 0.89, 0.96 in three runs
# dX from dY stacked as X is (kH products, K = kW·O) took 1.30× and 1.07× the padded grid's time at these two
# sizes (in one process, interleaved): laying dY out three times costs more than the larger K saves.
# The step's peak memory grows by S's two extra copies of X (11 MB for the cnn recipe at batch 128).
#
# Y stays on the output's grid: the products leave it as (O, Hₒ·N·Wₒ) rows, and the forward returns that buffer
# seen as (N, O, Hₒ, Wₒ), (O, Hₒ, N, Wₒ) in memory (_on_grid), instead of copying it into (O, N, Hₒ, Wₒ). What
# follows a conv in a network takes the layout as it is: BatchNorm's sums and passes and ReLU's need only each
# channel to be one block of memory, and a 2×2 max-pool sees the grid's rows as planes (Hₒ, N·Wₒ) (pooling.py,
# _window_planes; narrow images: _max2x2_planes) and leaves its output and gradient on the grid too. dY then
# comes back on the grid, where its rows for dW, db and dX are a view (_grid_rows), and dX is laid out as X
# (on the grid where X came from such a conv). The cnn recipe's step on a 2-core AMD EPYC (Zen 3, AVX2), NumPy
# 2.4.6 with scipy-openblas 0.3.31 (Haswell kernels), float32, batch 128, interleaved in one process against
# the revision before (each layer as its library lays out its input and gradient, 21 rounds on 2 threads / 15
# on 1), 2026-12-03:
#     conv 32→64 on 14×14 fwd+bwd 0.92 / 0.93    conv 64→128 on 7×7 0.96 / 0.98
#     max_pool2d(2) fwd+bwd at (128, 64, 14, 14) 0.87 / 0.78, at (128, 128, 7, 7) 0.85 / 0.71; BatchNorm2d 0.98-1.02
#     the whole step (benchmarks/ab.py --cnn): 0.94-0.99 in four runs on 2 threads, 0.95-0.97 in two on 1
# The im2col path (stride 2, groups, thin channels: a network's first conv) lays cols out in the grid's order too,
# (C, kH, kW, Hₒ, N, Wₒ) (unfold's `grid`), so its Y, and what follows it, lie on the grid as well; its dY's rows are
# then a view, and fold lays dX out on the grid. In the cnn recipe the first block (1→32 at 28×28) then hands the
# second conv its input on the grid, whose stack copies rows as they lie (2.3 ms at 14×14 instead of 4.4) and whose
# dX needs no copy back. benchmarks/ab.py --cnn against the revision before, same machine, 2026-12-03: 0.980 and
# 0.978 on 2 threads (30 rounds, 21 of them faster each), 0.986 on 1 (18 of 20).
#
# dX by rows of taps, where the conv keeps its size (Hₒ = H, Wₒ = W: 3×3 with padding 1, as in most networks): dY's
# grid rows are then X's grid rows too, and a row i of taps reads dY (p - i·d) whole grid rows away, which never
# carries a pixel from one image into another. So the kW taps of a row are stacked as one matrix's rows (M = kW·C
# instead of C), and their columns are summed after the products:
#
#     T_j[:, q] = Σ_i W_ijᵀ·dY[:, q + (p - i·d)·N·W]      kH products, K = O, on dY's rows as they lie
#     dX[:, q] = Σ_j T_j[:, q + p - j·d]                   kW - 1 adds along the grid's rows
#
# T_j's columns whose shift would carry them into the next or the last image are zeroed before the adds; a block of
# whole grid rows at a time keeps T in cache for them. OpenBLAS packs its B operand (dY's columns) once per product:
# kH products with M = kW·C pack a third of what the kH·kW single taps with M = C pack (3×3), for as many
# multiplications. And nothing is laid out: no padded grid for dY (it zeroed and copied dY), and dX comes out on the
# grid, as X lies after such a conv. Other stride-1 convs keep the single taps on the padded grid. dX alone against
# the padded grid's single taps (with its layout copies), in one process, interleaved, on the 2-core AMD EPYC (Zen 3,
# AVX2, OpenBLAS's Haswell kernel), float32, batch 128, 2026-12-03, 2 threads / 1 thread:
#     32→64 on 14×14 0.73 / 0.75        64→128 on 7×7 (X on the grid) 0.74 / 0.78        32→64 on 28×28 0.75 / 0.75
# (the T_j as M = kW·C products and the adds alone took 0.81-0.93× the single taps' products; block sizes of 4096 to
# 16384 columns were within 5% of each other, 8192 the best at both sizes).
_BLOCK = 16384  # grid columns per block of products (on a quiet machine 16384 beat 4096-32768 and all at once)
_ROW_BLOCK = 8192  # dX's columns per block by rows of taps (whole grid rows; measured: "dX by rows of taps")
_MIN_CHANNELS = 16  # fewer input or output channels: BLAS is slow on such thin products, im2col does better


def _copy_rows(dst: np.ndarray, src: np.ndarray) -> None:
    """dst[...] = src, for arrays whose last axes are contiguous rows: each row moved as one element.

    NumPy copies a strided array row by row in an inner loop as long as the last axis, and the
    grids' rows are short (7 to 28 pixels). Viewed as one opaque element per row, the inner loop
    runs along the next axis instead: the (64, 14, 128, 14) grid copy takes 2.6 ms instead of 4.6 (on a 2-core
    AMD EPYC Zen 3, AVX2, NumPy 2.4.6).
    """
    item = dst.itemsize
    if dst.dtype == src.dtype and dst.shape == src.shape and dst.ndim > 1 and dst.size \
            and dst.strides[-1] == src.strides[-1] == item and type(src) is np.ndarray:
        row = np.dtype((np.void, dst.shape[-1] * item))
        parallel.copyto(dst.view(row)[..., 0], src.view(row)[..., 0])  # a group of channels per thread
    else:
        dst[...] = src


def _on_grid(a: np.ndarray) -> bool:
    """Whether a (N, C, H, W) lies on the output's grid, (C, H, N, W) in memory, as the forward leaves Y."""
    return a.ndim == 4 and a.transpose(1, 2, 0, 3).flags.c_contiguous


def _unstack(flat: np.ndarray, c: int, n: int, size: Pair, width: int, col: int = 0,
             like: np.ndarray | None = None) -> np.ndarray:
    """(N, C, h, w) from flat (C, h·N·width) grid rows, from column `col` of each image's row: a view of a
    compact copy, laid out on the grid as (C, h, N, w) where `like` is (so that X and dX lie alike), else as
    (C, N, h, w)."""
    grid = flat.reshape(c, size[0], n, width)[..., col:col + size[1]]
    if like is not None and _on_grid(like):
        out = np.empty((c, size[0], n, size[1]), dtype=flat.dtype)
        _copy_rows(out, grid)
        return out.transpose(2, 0, 1, 3)
    out = np.empty((c, n) + tuple(size), dtype=flat.dtype)
    _copy_rows(out.transpose(0, 2, 1, 3), grid)
    return out.transpose(1, 0, 2, 3)


def _grid_rows(dy: np.ndarray) -> np.ndarray:
    """dY (N, O, Hₒ, Wₒ) as (O, Hₒ·N·Wₒ) rows of the output's grid (a view where dY lies on it, else a copy)."""
    n, o, ho, wo = dy.shape
    if _on_grid(dy):
        return dy.transpose(1, 2, 0, 3).reshape(o, -1)
    out = np.empty_like(dy, shape=(o, ho, n, wo), order="C")  # on dy's device
    _copy_rows(out, dy.transpose(1, 2, 0, 3))
    return out.reshape(o, -1)


class _Rows:
    """X's stack S on the output's grid, for Y and dW: X (N, C, H, W), kernel k, padding p, dilation d,
    output `size` (default: the whole output)."""

    def __init__(self, x_shape: tuple[int, ...], k: Pair, p: Pair, d: Pair, size: Pair | None = None) -> None:
        n, c, h, w = x_shape
        self.x_shape, self.k, self.p, self.d = tuple(x_shape), k, p, d
        self.out = tuple(size) if size is not None else (out_size(h, k[0], 1, p[0], d[0]),
                                                           out_size(w, k[1], 1, p[1], d[1]))
        self.shifts = [i * d[0] * n * self.out[1] for i in range(k[0])]

    def stack(self, x: np.ndarray) -> np.ndarray:
        """S (kW·C, rows·N·Wₒ), zero where no pixel of X is: block j's row r (X's row r - p), image n,
        column u holds X[n, :, r - p, u + j·d - p]."""
        (kh, kw), (p0, p1), (d0, d1), (ho, wo) = self.k, self.p, self.d, self.out
        n, c, h, w = x.shape
        rows = ho + (kh - 1) * d0  # the rows the products read
        out = np.zeros((kw, c, rows, n, wo), dtype=x.dtype)
        src = x.transpose(1, 2, 0, 3)[:, :max(0, min(h, rows - p0))]
        for j in range(kw):
            off = j * d1 - p1
            lo, hi = max(0, -off), min(wo, w - off)  # the columns u whose u + off lies in X
            if hi > lo:
                _copy_rows(out[j, :, p0:p0 + src.shape[1], :, lo:hi], src[..., lo + off:hi + off])
        return out.reshape(kw * c, rows * n * wo)


class _StackedX:
    """What the stride-1 forward keeps for the weight gradient: X's stack S (instead of cols)."""

    def __init__(self, rows: _Rows, buf: np.ndarray) -> None:
        self.rows, self.buf = rows, buf


class _Grid:
    """dY's padded grid for dX: flat (O, margin + H_p·N·W_q + tail), X (N, C, H, W), stride-1 kernel k,
    padding p, dilation d."""

    def __init__(self, x_shape: tuple[int, ...], k: Pair, p: Pair, d: Pair) -> None:
        n, c, h, w = x_shape
        self.x_shape, self.p = tuple(x_shape), p
        out = (out_size(h, k[0], 1, p[0], d[0]), out_size(w, k[1], 1, p[1], d[1]))
        # rows W + p apart leave p zeros between them; at least Wₒ, so no two outputs share a column
        self.hp, self.wq = h + 2 * p[0], max(w + p[1], out[1])
        self.row = n * self.wq  # columns per grid row (all N images)
        self.shifts = [i * d[0] * self.row + j * d[1] for i in range(k[0]) for j in range(k[1])]
        self.tail = (k[1] - 1) * d[1]  # the last row's last tap reads this far past the grid

    def put(self, dy: np.ndarray) -> np.ndarray:
        """dY (N, O, h, w) on the grid's top left, zero elsewhere, after a zero margin of the largest shift."""
        n, o, h, w = dy.shape
        lead = self.shifts[-1]
        buf = np.zeros((o, lead + self.hp * self.row + self.tail), dtype=dy.dtype)
        grid = buf[:, lead:lead + self.hp * self.row].reshape(o, self.hp, n, self.wq)
        _copy_rows(grid[:, :h, :, :w], dy.transpose(1, 2, 0, 3))
        return buf


def _use_shifted(a: Any, b: Any, s: Pair, g: int, w_shape: tuple[int, ...]) -> bool:
    """Whether the shifted-products path applies: NumPy arrays, stride 1, one group, enough channels."""
    return (type(a) is np.ndarray and type(b) is np.ndarray  # other backends (a GPU array) take im2col
            and s == (1, 1) and g == 1 and min(w_shape[:2]) >= _MIN_CHANNELS)


def _tap_rows(w: np.ndarray) -> np.ndarray:
    """W (O, C, kH, kW) as kH contiguous matrices W_i (O, kW·C), in S's block order."""
    t = w.transpose(2, 0, 3, 1)
    return np.ascontiguousarray(t).reshape(t.shape[0], t.shape[1], -1)


def _taps_t(w: np.ndarray) -> np.ndarray:
    """W (O, C, kH, kW) as kH·kW contiguous matrices W_tᵀ (C, O)."""
    t = w.transpose(2, 3, 1, 0)
    return np.ascontiguousarray(t).reshape(-1, t.shape[2], t.shape[3])


def _blocks(m: int) -> list[tuple[int, int]]:
    """[0, m) in near-equal blocks of at most _BLOCK columns."""
    count = -(-m // _BLOCK)
    edges = [m * i // count for i in range(count + 1)] if count else [0]
    return list(zip(edges[:-1], edges[1:]))


def _shifted_products(mats: np.ndarray, src: np.ndarray, shifts: list[int], m: int) -> np.ndarray:
    """out[:, q] = Σ_i mats[i]·src[:, q + shifts[i]] for q < m: (P, m)."""
    out = np.empty((mats.shape[1], m), dtype=src.dtype)
    for q, e in _blocks(m):
        block = out[:, q:e]
        for i, shift in enumerate(shifts):
            blas.gemm(1.0, mats[i], src[:, q + shift:e + shift], 1.0 if i else 0.0, block)
    return out


def _shifted_outer(dy: np.ndarray, src: np.ndarray, shifts: list[int]) -> np.ndarray:
    """out[i] = Σ_q dy[:, q]·src[:, q + shifts[i]]ᵀ: (kH, P, kW·C)."""
    out = np.zeros((len(shifts), dy.shape[0], src.shape[0]), dtype=src.dtype)
    for q, e in _blocks(dy.shape[1]):
        for i, shift in enumerate(shifts):
            blas.gemm(1.0, dy[:, q:e], src[:, q + shift:e + shift].T, 1.0, out[i])
    return out


def _shifted_forward(x: np.ndarray, w: np.ndarray, p: Pair, d: Pair, size: Pair | None) -> tuple[np.ndarray, _StackedX]:
    """Y = Σ_i W_i·S_shift(i): Y (N, O, Hₒ, Wₒ) as the products leave it, on the output's grid ((O, Hₒ, N, Wₒ) in
    memory: see "Y stays on the output's grid" above), and X's stack for the weight gradient."""
    rows = _Rows(x.shape, w.shape[2:], p, d, size)
    s = rows.stack(x)
    (ho, wo), n, o = rows.out, x.shape[0], w.shape[0]
    y = _shifted_products(_tap_rows(w), s, rows.shifts, ho * n * wo)
    return y.reshape(o, ho, n, wo).transpose(2, 0, 1, 3), _StackedX(rows, s)


def _shifted_input_grad(dy: np.ndarray, w: np.ndarray, x_shape: tuple[int, ...], p: Pair, d: Pair,
                        like: np.ndarray | None = None, dyr: np.ndarray | None = None) -> np.ndarray:
    """dX at stride 1, laid out as `like` (X) where that lies on a grid: by rows of taps where the conv keeps its
    size (dyr: dY's grid rows, if already at hand), else by single taps over dY's padded grid."""
    n, c, h, w_ = x_shape
    if _keeps_size(x_shape, dy.shape, w.shape[2:], p, d):
        dx = _row_tap_input_grad(_grid_rows(dy) if dyr is None else dyr, w, x_shape, p, d)
        if like is not None and _on_grid(like):  # already X's layout: (C, H, N, W) in memory
            return dx.reshape(c, h, n, w_).transpose(2, 0, 1, 3)
        return _unstack(dx, c, n, (h, w_), w_)
    grid = _Grid(x_shape, w.shape[2:], p, d)
    first = grid.shifts[-1] + grid.p[0] * grid.row  # dY's column for the first row of X
    dx = _shifted_products(_taps_t(w), grid.put(dy), [first - s for s in grid.shifts], h * grid.row)
    return _unstack(dx, c, n, (h, w_), grid.wq, grid.p[1], like)


def _keeps_size(x_shape: tuple[int, ...], dy_shape: tuple[int, ...], k: Pair, p: Pair, d: Pair) -> bool:
    """Whether a stride-1 conv's output, and dY, have its input's height and width ("same" padding, as 3×3 with
    padding 1; conv_transpose2d's output_padding may leave dY short of the output)."""
    h, w = x_shape[2:]
    return (tuple(dy_shape[2:]) == (h, w) and out_size(h, k[0], 1, p[0], d[0]) == h
            and out_size(w, k[1], 1, p[1], d[1]) == w)


def _row_tap_input_grad(dyr: np.ndarray, w: np.ndarray, x_shape: tuple[int, ...], p: Pair, d: Pair) -> np.ndarray:
    """dX as (C, H·N·W) grid rows from dY's (O, H·N·W) on the same grid: T_j = Σ_i W_ijᵀ·dY shifted by whole grid
    rows, then dX = Σ_j T_j shifted along them (see "dX by rows of taps" above)."""
    n, c, h, wd = x_shape
    o, _, kh, kw = w.shape
    row = n * wd  # columns per grid row (all N images)
    m = h * row
    if m == 0:  # no images (or no pixels): nothing to sum
        return np.empty((c, 0), dtype=dyr.dtype)
    mats = np.ascontiguousarray(w.transpose(2, 3, 1, 0)).reshape(kh, kw * c, o)  # row i's taps j: rows j·C...
    # tap row i adds into T's columns [lo, hi) (the grid rows whose dY row r + p - i·d exists), from dY's `shift` on
    reach = [(max(0, i * d[0] - p[0]) * row, min(h, h + i * d[0] - p[0]) * row, (p[0] - i * d[0]) * row)
             for i in range(kh)]
    col = [p[1] - j * d[1] for j in range(kw)]  # dX's column q takes T_j's column q + col[j]
    ext = -(-max(map(abs, col)) // wd) * wd  # T's columns past a block on either side: whole image rows
    step = max(1, _ROW_BLOCK // row) * row
    dx = np.empty((c, m), dtype=dyr.dtype)
    buf = np.empty((kw, c, min(m, step + 2 * ext)), dtype=dyr.dtype)
    flat = buf.reshape(kw * c, -1)
    for q in range(0, m, step):
        e = min(q + step, m)
        lo, hi = max(0, q - ext), min(m, e + ext)
        t = flat[:, :hi - lo]
        full = [i for i in range(kh) if reach[i][0] <= lo and reach[i][1] >= hi]  # rows that write all of t
        if not full:
            t.fill(0)
        for i in full[:1] + [i for i in range(kh) if i not in full[:1]]:
            a, b, shift = max(lo, reach[i][0]), min(hi, reach[i][1]), reach[i][2]
            if b > a:
                blas.gemm(1.0, mats[i], dyr[:, a + shift:b + shift], 0.0 if full and i == full[0] else 1.0,
                          t[:, a - lo:b - lo])
        rows = buf[:, :, :hi - lo].reshape(kw, c, -1, wd)  # (a view: only the contiguous last axis is split)
        for j, s in enumerate(col):  # a column whose shift would carry it into the next or last image: none
            if s > 0:
                rows[j, ..., :s] = 0
            elif s < 0:
                rows[j, ..., wd + s:] = 0
        _sum_shifted(dx[:, q:e], buf, col, q, lo, m)
    return dx


def _sum_shifted(out: np.ndarray, t: np.ndarray, col: list[int], q: int, lo: int, m: int) -> None:
    """out (dX's columns [q, q + width)) = Σ_j t[j]'s columns shifted by col[j] (t's column 0 is grid column lo),
    each where it lies in the grid's m columns; the first two added in one pass."""
    e = q + out.shape[1]
    span = [(max(q, -s), min(e, m - s)) for s in col]
    part = [lambda a, b, j=j: t[j, :, a + col[j] - lo:b + col[j] - lo] for j in range(len(col))]
    whole = [j for j in range(len(col)) if span[j] == (q, e)]
    if len(whole) >= 2:
        np.add(part[whole[0]](q, e), part[whole[1]](q, e), out=out)
        done = whole[:2]
    elif whole:
        np.copyto(out, part[whole[0]](q, e))
        done = whole
    else:
        out.fill(0)
        done = []
    for j, (a, b) in enumerate(span):
        if j not in done and b > a:
            out[:, a - q:b - q] += part[j](a, b)


def _shifted_weight_grad(rows: _Rows, dyr: np.ndarray, s: np.ndarray, w_shape: tuple[int, ...]) -> np.ndarray:
    """dW_i = Σ_q dY[:, q]·S[:, q + shift_i]ᵀ (dyr: dY's rows on the output's grid)."""
    o, c, kh, kw = w_shape
    dw = _shifted_outer(dyr, s, rows.shifts)
    return np.ascontiguousarray(dw.reshape(kh, o, kw, c).transpose(1, 3, 0, 2))


# --- the three products, through whichever path applies ---------------------------------
def conv_forward(x: np.ndarray, w: np.ndarray, s: Pair, p: Pair, d: Pair, g: int,
                 size: Pair | None = None) -> tuple[np.ndarray, Any]:
    """Y = W₂·cols(X); returns Y and what the weight gradient needs (cols, or X's stride-1 stack)."""
    if _use_shifted(x, w, s, g, w.shape):
        return _shifted_forward(x, w, p, d, size)
    n = x.shape[0]
    o, cg, kh, kw = w.shape
    cols = unfold(x, (kh, kw), s, p, d, size, grid=True)
    ho, wo = cols.shape[3], cols.shape[5]
    cols = cols.reshape(g, cg * kh * kw, ho * n * wo)
    y = np.matmul(w.reshape(g, o // g, cg * kh * kw), cols)
    return _unrows(y, n, ho, wo), cols


def conv_input_grad(dy: np.ndarray, w: np.ndarray, x_shape: tuple[int, ...], s: Pair, p: Pair, d: Pair,
                    g: int) -> np.ndarray:
    """dX = fold(W₂ᵀ·dY₂)."""
    if _use_shifted(dy, w, s, g, w.shape):
        return _shifted_input_grad(dy, w, x_shape, p, d)
    n, o, ho, wo = dy.shape
    _, cg, kh, kw = w.shape
    w2 = w.reshape(g, o // g, cg * kh * kw)
    hp, wp = x_shape[2] + 2 * p[0], x_shape[3] + 2 * p[1]
    if s == (1, 1) and hp * wp <= 1.35 * ho * wo:
        return _input_grad_flat(dy, w2, x_shape, p, d, (kh, kw))
    dcols = np.matmul(w2.transpose(0, 2, 1), _rows(dy, g))
    return fold(dcols.reshape(g * cg, kh, kw, ho, n, wo), x_shape, s, p, d, grid=True)


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
    grid = np.zeros_like(dy, shape=(o, n, hp, wp))  # on dy's device
    grid[:, :, :ho, :wo] = dy.transpose(1, 0, 2, 3)
    grid = grid.reshape(g, o // g, m)
    w2t = w2.transpose(0, 2, 1)
    shifts = [i * d[0] * wp + j * d[1] for i in range(k[0]) for j in range(k[1])]
    dx = np.zeros_like(dy, shape=(c, m + shifts[-1]))
    # a block of columns at a time, so each block of dcols is still in cache when folded
    for q in range(0, m, _FOLD_BLOCK):
        e = min(q + _FOLD_BLOCK, m)
        dcols = np.matmul(w2t, grid[:, :, q:e]).reshape(c, len(shifts), e - q)
        for t, shift in enumerate(shifts):
            dx[:, q + shift:e + shift] += dcols[:, t]
    grid_x = dx[:, :m].reshape(c, n, hp, wp)
    return grid_x[:, :, p[0]:p[0] + x_shape[2], p[1]:p[1] + x_shape[3]].transpose(1, 0, 2, 3)


def conv_weight_grad(x: np.ndarray, dy: np.ndarray, w_shape: tuple[int, ...], s: Pair, p: Pair, d: Pair,
                     g: int, cols: Any = None) -> np.ndarray:
    """dW₂ = dY₂·colsᵀ (cols, or X's stride-1 stack, recomputed from X unless given)."""
    o, cg, kh, kw = w_shape
    if cols is None and _use_shifted(x, dy, s, g, w_shape):
        rows = _Rows(x.shape, (kh, kw), p, d, dy.shape[2:])
        cols = _StackedX(rows, rows.stack(x))
    if isinstance(cols, _StackedX):
        return _shifted_weight_grad(cols.rows, _grid_rows(dy), cols.buf, w_shape)
    if cols is None:
        cols = unfold(x, (kh, kw), s, p, d, dy.shape[2:], grid=True).reshape(g, cg * kh * kw, -1)
    return np.matmul(_rows(dy, g), cols.transpose(0, 2, 1)).reshape(w_shape)


# --- the three Functions ------------------------------------------------------------------
def apply_in(xp: Any, cls: type[Op], *args: Any, **params: Any) -> Any:
    """Apply `cls` inside a backward: on arrays (plain backward) or on Tensors (create_graph, recorded)."""
    if xp.plain:
        return cls.apply(*(Tensor._make(a, None, False) for a in args), **params).array
    return cls.apply(*args, **params)


def _bias_grad(xp: Any, dy: Any) -> Any:
    return xp.sum(dy, axis=(0, 2, 3))


def _first_conv(a: Any) -> None:
    """The process's first convolution on the CPU has OpenBLAS's idle threads sleep soon after each product,
    leaving the cores to BatchNorm's, ReLU's and pooling's threads between them (threads.conv_blas_timeout)."""
    if not threads._conv_timeout_done and type(a) is np.ndarray:
        threads.conv_blas_timeout()


class Conv2d(Op):
    """Y = W₂·cols(X) + b.  dW₂ = dY₂·colsᵀ, dcols = W₂ᵀ·dY₂, dX = fold(dcols), db = Σ dY over N, H, W.

    X (N, C, H, W), W (O, C/g, kH, kW), b (O,), Y (N, O, Hₒ, Wₒ); cols (g, C/g·kH·kW, Hₒ·N·Wₒ).
    """

    def forward(self, x, w, b=None, *, stride, padding, dilation, groups, size=None):
        _first_conv(x)
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
        if xp.plain and isinstance(self.cols, _StackedX):  # stride 1: dY on the output's grid for dW and db
            rows = self.cols.rows
            dyr = _grid_rows(dy)
            if len(need) == 3 and need[2]:
                db = dyr.sum(axis=1)
            if need[0]:
                dx = _shifted_input_grad(dy, w, x.shape, c["padding"], c["dilation"], like=x, dyr=dyr)
            if need[1]:
                dw = _shifted_weight_grad(rows, dyr, self.cols.buf, w.shape)
        elif xp.plain:  # reuse the forward's cols: no second unfold
            n, o, ho, wo = dy.shape
            dy2 = _rows(dy, c["groups"])  # a view where dY lies on the grid, else one copy for all three
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
        _first_conv(y)
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
def _wrong_kind(v: Any) -> type:
    """The error for a bad int-or-ints argument, as PyTorch's: ints of the wrong count fail when the op runs
    (RuntimeError, ArgumentError), anything else in its argument parser (TypeError)."""
    ints = isinstance(v, (tuple, list)) and all(isinstance(i, (int, np.integer)) and not isinstance(i, bool)
                                                 for i in v)
    return ArgumentError if ints else TypeError


def pair(op: str, name: str, v: Any) -> Pair:
    """An int or a pair of ints as (h, w), or a clear error naming the argument."""
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(i, (int, np.integer)) for i in v):
        return int(v[0]), int(v[1])
    raise _wrong_kind(v)(f"{op}: {name} must be an int or a pair of ints, got {v!r}")


class _Shown:
    """What conv2d's and conv_transpose2d's errors name: their own op, shapes and pairs, or (a 1-D call lifted to
    them on an (N, C, 1, L) view) the caller's op, its own input and weight shapes and each pair's length half."""

    def __init__(self, op: str, input_shape: Any = None, weight_shape: Any = None) -> None:
        self.op, self.lifted = op, input_shape is not None
        self.input_shape, self.weight_shape = input_shape, weight_shape

    def x(self, shape: Any) -> Any:
        return tuple(self.input_shape) if self.lifted else shape

    def w(self, shape: Any) -> Any:
        return tuple(self.weight_shape) if self.lifted else shape

    def t(self, pair: Any) -> Any:
        """A (h, w) pair as shown: (w,) when lifted from 1-D (h is the lifted 1)."""
        return tuple(pair)[1:] if self.lifted else pair


def _check_4d(op: str, x: Tensor, w: Tensor) -> None:
    if x.ndim != 4:
        raise ShapeError(f"{op}: expected input of shape (N, C, H, W) or (C, H, W), got {x.shape}")
    if w.ndim != 4:
        raise ShapeError(f"{op}: expected a 4-D weight, got shape {w.shape}")
    if x.dtype != w.dtype or x.dtype.kind != "f":
        raise ArgumentError(
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
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, weight, bias = _autocast.cast(_autocast.LOWER, input, weight, bias)
    return _conv2d(input, weight, bias, stride, padding, dilation, groups, _Shown("conv2d"))


def _conv2d(input: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any, groups: int,
            say: _Shown) -> Tensor:
    """conv2d after autocast; its errors name what `say` shows (conv1d's call when lifted from it)."""
    op = say.op
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
                raise ShapeError(f"{op}: padding='same' needs stride 1, got stride {say.t(s)}")
            x, p = _same_padding(x, k, d)
        else:
            kinds = "an int" if say.lifted else "an int, a pair"
            raise ShapeError(f"{op}: padding must be {kinds}, 'valid' or 'same', got {padding!r}")
    else:
        p = pair(op, "padding", padding)
    c = x.shape[1]
    if groups < 1 or c % groups or w.shape[0] % groups:
        raise ShapeError(
            f"{op}: groups={groups} must divide both input channels ({c}) and output channels ({w.shape[0]}) "
            f"(input {say.x(x.shape)}, weight {say.w(w.shape)})"
        )
    if w.shape[1] * groups != c:
        raise ShapeError(
            f"{op}: weight {say.w(w.shape)} expects {w.shape[1] * groups} input channels "
            f"(weight.shape[1]·groups), but the input {say.x(x.shape)} has {c}"
        )
    if min(s + d) < 1 or min(p) < 0:
        raise ShapeError(f"{op}: stride {say.t(s)} and dilation {say.t(d)} must be positive and padding {say.t(p)} "
                         "not negative")
    ho, wo = (out_size(x.shape[2 + i], k[i], s[i], p[i], d[i]) for i in range(2))
    if ho < 1 or wo < 1:
        raise ShapeError(
            f"{op}: input {say.t(x.shape[2:])} padded by {say.t(p)} is smaller than the kernel {say.t(k)} at dilation "
            f"{say.t(d)}; output would be {'×'.join(str(v) for v in say.t((ho, wo)))}"
        )
    params = dict(stride=s, padding=p, dilation=d, groups=groups)
    if bias is None:
        y = Conv2d.apply(x, w, **params)
    else:
        b = as_tensor(bias)
        if b.shape != (w.shape[0],):
            raise ShapeError(f"{op}: bias must have shape ({w.shape[0]},), got {b.shape}")
        y = Conv2d.apply(x, w, b, **params)
    return y.reshape(*y.shape[1:]) if unbatched else y


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """Transposed convolution (conv2d's input gradient), as torch.nn.functional.conv_transpose2d.

    weight (C_in, C_out/groups, kH, kW); output size (H-1)·s - 2p + d·(k-1) + output_padding + 1.
    """
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, weight, bias = _autocast.cast(_autocast.LOWER, input, weight, bias)
    return _conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation,
                             _Shown("conv_transpose2d"))


def _conv_transpose2d(input: Any, weight: Any, bias: Any, stride: Any, padding: Any, output_padding: Any,
                      groups: int, dilation: Any, say: _Shown) -> Tensor:
    """conv_transpose2d after autocast; its errors name what `say` shows (conv_transpose1d's call when lifted)."""
    op = say.op
    y, unbatched = _batched(op, input)
    w = as_tensor(weight)
    _check_4d(op, y, w)
    s, p = pair(op, "stride", stride), pair(op, "padding", padding)
    d, op_ = pair(op, "dilation", dilation), pair(op, "output_padding", output_padding)
    n, c, h, wd = y.shape
    if groups < 1 or w.shape[0] % groups or c != w.shape[0]:
        raise ShapeError(
            f"{op}: weight {say.w(w.shape)} expects {w.shape[0]} input channels divisible by groups={groups}, "
            f"but the input {say.x(y.shape)} has {c}"
        )
    if min(s + d) < 1:
        raise ShapeError(f"{op}: stride {say.t(s)} and dilation {say.t(d)} must be positive")
    if any(op_[i] >= max(s[i], d[i]) or op_[i] < 0 for i in range(2)):
        raise ShapeError(f"{op}: output_padding {say.t(op_)} must not be negative and must be smaller than stride "
                         f"{say.t(s)} or dilation {say.t(d)}")
    if min(p) < 0:
        raise ShapeError(f"{op}: padding {say.t(p)} must not be negative")
    k = (w.shape[2], w.shape[3])
    size = tuple((y.shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op_[i] + 1 for i in range(2))
    if min(size) < 1:
        raise ShapeError(f"{op}: padding {say.t(p)} leaves no output from input {say.t(y.shape[2:])} "
                         f"(size {say.t(size)})")
    x_shape = (n, w.shape[1] * groups) + size
    params = dict(x_shape=x_shape, stride=s, padding=p, dilation=d, groups=groups)
    if bias is None:
        x = ConvTranspose2d.apply(y, w, **params)
    else:
        b = as_tensor(bias)
        if b.shape != (x_shape[1],):
            raise ShapeError(f"{op}: bias must have shape ({x_shape[1]},), got {b.shape}")
        x = ConvTranspose2d.apply(y, w, b, **params)
    return x.reshape(*x.shape[1:]) if unbatched else x


# --- 1-D: conv2d on an (N, C, 1, L) view (issue 20) ------------------------------------------
def single(op: str, name: str, v: Any) -> int:
    """An int or a 1-tuple of an int, or a clear error naming the argument."""
    if isinstance(v, (tuple, list)) and len(v) == 1:
        v = v[0]
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v)
    raise _wrong_kind(v)(f"{op}: {name} must be an int or a 1-tuple of an int, got {v!r}")


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation, as torch.nn.functional.conv1d: input (N, C_in, L) or (C_in, L),
    weight (C_out, C_in/groups, k); padding may be an int, 'valid' or 'same'.

    Runs as conv2d on an (N, C, 1, L) view, so gradients of every order come from Conv2d.
    """
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, weight, bias = _autocast.cast(_autocast.LOWER, input, weight, bias)
    op = "conv1d"
    x, w = as_tensor(input), as_tensor(weight)
    if x.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected input of shape (N, C, L) or (C, L), got {x.shape}")
    if w.ndim != 3:
        raise ShapeError(f"{op}: expected a 3-D weight (C_out, C_in/groups, k), got shape {w.shape}")
    s, d = single(op, "stride", stride), single(op, "dilation", dilation)
    p: Any = padding if isinstance(padding, str) else (0, single(op, "padding", padding))
    x4 = x.unsqueeze(-2)
    y = _conv2d(x4, w.unsqueeze(2), bias, (1, s), p, (1, d), groups, _Shown(op, x.shape, w.shape))
    return y.squeeze(-2)


def conv_transpose1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """1-D transposed convolution, as torch.nn.functional.conv_transpose1d: input (N, C_in, L) or (C_in, L),
    weight (C_in, C_out/groups, k); output length (L-1)·s - 2p + d·(k-1) + output_padding + 1.

    Runs as conv_transpose2d on an (N, C, 1, L) view, so gradients of every order come from ConvTranspose2d.
    """
    if _autocast.on:  # mixed precision (matgrad/_autocast.py): torch's autocast op lists
        input, weight, bias = _autocast.cast(_autocast.LOWER, input, weight, bias)
    op = "conv_transpose1d"
    x, w = as_tensor(input), as_tensor(weight)
    if x.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected input of shape (N, C_in, L) or (C_in, L), got {x.shape}")
    if w.ndim != 3:
        raise ShapeError(f"{op}: expected a 3-D weight (C_in, C_out/groups, k), got shape {w.shape}")
    s, p = single(op, "stride", stride), single(op, "padding", padding)
    d, o = single(op, "dilation", dilation), single(op, "output_padding", output_padding)
    y = _conv_transpose2d(x.unsqueeze(-2), w.unsqueeze(2), bias, (1, s), (0, p), (0, o), groups, (1, d),
                          _Shown(op, x.shape, w.shape))
    return y.squeeze(-2)
