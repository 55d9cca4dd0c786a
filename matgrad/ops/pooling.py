"""Pooling over windows of an image: max_pool2d, avg_pool2d, adaptive_avg_pool2d (and, at the end,
max_pool2d's indices, max_unpool2d and adaptive_max_pool2d).

The windows are a strided view of the padded input, (N, C, Hₒ, Wₒ, kH, kW), never
copied pixel by pixel; forward and backward loop only over the kH·kW kernel offsets. ceil_mode's
windows that run past the right edge see the input padded after its end (-inf for max, 0 for sums).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import parallel
from ..autograd.op import Op
from ..devices import backend_of, move
from ..tensor import ShapeError, Tensor, as_tensor
from .conv import Pair, apply_in, out_size, pair
from .reduction import EmptyInputError


def _pad(x: np.ndarray, p: Pair, value: float) -> np.ndarray:
    if p == (0, 0):
        return x
    n, c, h, w = x.shape
    out = np.full_like(x, value, shape=(n, c, h + 2 * p[0], w + 2 * p[1]))
    out[:, :, p[0]:p[0] + h, p[1]:p[1] + w] = x
    return out


def _offsets(xp: np.ndarray, k: Pair, s: Pair, d: Pair, ho: int, wo: int):
    """(index, view) for each kernel offset: the (N, C, Hₒ, Wₒ) pixels it sees."""
    for i in range(k[0]):
        for j in range(k[1]):
            r, q = i * d[0], j * d[1]
            yield i * k[1] + j, xp[:, :, r:r + s[0] * (ho - 1) + 1:s[0], q:q + s[1] * (wo - 1) + 1:s[1]]


def _scatter(parts: Any, x_shape: tuple[int, ...], k: Pair, s: Pair, p: Pair, d: Pair, ho: int, wo: int,
             like: Any) -> np.ndarray:
    """The transpose of `_offsets`: add each offset's (N, C, Hₒ, Wₒ) part back into the input (`like`'s
    dtype and device)."""
    n, c, h, w = x_shape
    dx = np.zeros_like(like, shape=(n, c, h + 2 * p[0], w + 2 * p[1]))
    for (_, view), part in zip(_offsets(dx, k, s, d, ho, wo), parts):
        view += part
    return dx[:, :, p[0]:p[0] + h, p[1]:p[1] + w]


def _window_max(x: Any, k: Pair, s: Pair, p: Pair, d: Pair, out: Any = None) -> Any:
    """The maximum of each window of x (N, C, H, W): (N, C, Hₒ, Wₒ), written into `out`."""
    ho, wo = (out_size(x.shape[2 + i], k[i], s[i], p[i], d[i]) for i in range(2))
    first, *rest = (v for _, v in _offsets(_pad(x, p, -np.inf), k, s, d, ho, wo))
    y = np.empty_like(first) if out is None else out
    y[...] = first
    for v in rest:
        np.maximum(y, v, out=y)  # nan wins, as PyTorch
    return y


def _routes(x: Any, y: Any, k: Pair, s: Pair, p: Pair, d: Pair):
    """(index, mask) per kernel offset: where that offset holds its window's first maximum."""
    ho, wo = y.shape[2:]
    taken = np.zeros_like(y, dtype=bool)
    for idx, v in _offsets(_pad(x, p, -np.inf), k, s, d, ho, wo):
        hit = v == y
        np.greater(hit, taken, out=hit)  # hit and not taken: ties go to the first offset, as PyTorch
        taken |= hit
        yield idx, hit


def _route_back(x: np.ndarray, y: np.ndarray, dy: np.ndarray, k: Pair, s: Pair, p: Pair, d: Pair,
                out: np.ndarray | None = None) -> np.ndarray:
    """dx: each window's dy at its first maximum in x, 0 elsewhere (the plain arrays' backward), into `out`."""
    n, c, h, w = x.shape
    ho, wo = y.shape[2:]
    if all(s[i] > d[i] * (k[i] - 1) for i in (0, 1)):  # windows apart: each pixel in one at most
        into_out = out is not None and p == (0, 0)
        if into_out:
            out[...] = 0
        dx = out if into_out else np.zeros_like(dy, shape=(n, c, h + 2 * p[0], w + 2 * p[1]))
        for (_, view), (_, hit) in zip(_offsets(dx, k, s, d, ho, wo), _routes(x, y, k, s, p, d)):
            np.multiply(dy, hit, out=view)  # straight into place: no part to add up
        if into_out:
            return out
        dx = dx[:, :, p[0]:p[0] + h, p[1]:p[1] + w]
    else:
        parts = (np.multiply(dy, hit, dtype=dy.dtype) for _, hit in _routes(x, y, k, s, p, d))
        dx = _scatter(parts, x.shape, k, s, p, d, ho, wo, dy)
    if out is None:
        return dx
    out[...] = dx
    return out


# --- max_pool2d(2): the 2×2 windows of the cnn recipe, with the winner of each window kept -------------------
#: For each window's code (bit 0: the right column won its row, bit 1: the lower row won), the factor dy is
#: multiplied by to give (left, right) of the upper row (_UP) and of the lower row (_DOWN), as complex numbers:
#: a row's pair of pixels viewed as one complex number is contiguous, where each pixel alone is every other one.
_UP, _DOWN = (1, 1j, 0, 0), (0, 0, 1, 1j)
_COMPLEX = {np.dtype(np.float32): np.dtype(np.complex64), np.dtype(np.float64): np.dtype(np.complex128)}
#: Windows per row from which _max2x2 and _route2x2 pay (see MaxPool2d.forward).
_MIN_WIDTH = 7
#: Windows per plane up to which narrower images take _max2x2_planes (its backward makes 4 calls a window).
_PLANES_WINDOWS = 16


def _max2x2(x: np.ndarray, y: np.ndarray, up: np.ndarray, down: np.ndarray) -> None:
    """y = each 2×2 window's maximum (stride 2); up/down: the window's code (see _UP), for the upper/lower row.

    Ties go to the first maximum in PyTorch's scan order (left before right, upper row before lower): a
    later pixel wins only if strictly greater. (A nan window's code is not its nan: MaxPool2d.backward then
    routes by index, see _finite.) Even images whose planes are one block of memory, or that lie on a stride-1
    conv's grid, laid out alike in all four arrays (a conv's output and what MaxPool2d.forward makes for it), go by
    _max2x2_blocks (through _window_planes).
    """
    h, w = x.shape[2:]
    if h % 2 == 0 and w % 2 == 0 and (planes := _window_planes(x, y, up, down)) is not None:
        _max2x2_blocks(*planes)
        return
    ho, wo = y.shape[2:]
    a, b = x[:, :, 0:2 * ho:2, 0:2 * wo:2], x[:, :, 0:2 * ho:2, 1:2 * wo:2]
    c, d = x[:, :, 1:2 * ho:2, 0:2 * wo:2], x[:, :, 1:2 * ho:2, 1:2 * wo:2]
    np.greater(b, a, out=up.view(bool))
    np.greater(d, c, out=down.view(bool))
    np.maximum(a, b, out=y)
    lower = np.maximum(c, d)
    wins = np.greater(lower, y).view(np.uint8)
    np.maximum(y, lower, out=y)
    wins <<= 1
    up |= wins
    down |= wins


#: Elements of x per block of _max2x2_blocks: its temporaries (~1.5 bytes per element of x) stay in L2, and a
#: thread makes ~12 NumPy calls a block, between which two threads pass the GIL (tens of µs each on a VM).
#: max_pool2d(2) fwd+bwd, 1 << 18 against 1 << 16 (benchmarks/bench_cnn_parts.py --against, 15 rounds, 2-core
#: AMD EPYC, NumPy 2.4.6): (128, 32, 28, 28) 0.82× on two threads, 0.94× on one; (128, 64, 14, 14) 0.85× and
#: 0.97×. 1 << 20 was no better.
_BLOCK = 1 << 18


def _max2x2_blocks(x: np.ndarray, y: np.ndarray, up: np.ndarray, down: np.ndarray) -> None:
    """_max2x2 for C-contiguous arrays of even height and width, in contiguous passes over blocks of planes.

    NumPy's loops over the windows' pixels (every other element of every other row) run without SIMD or
    with inner loops Wₒ long: 2-4 ns an element. Here the left and right pixels are copied out of each block
    (one 1-D strided copy each, ~0.75 ns an element) and every comparison and maximum is then a contiguous
    pass: a row's pairs side by side, the upper and lower rows' as the same array shifted by a row (half of
    each such pass is thrown away, but it is still cheaper); the upper rows' results are copied out. The
    same comparisons in the same order as _max2x2's strided passes: y, up and down are bit for bit theirs.
    Blocks of planes keep the temporaries in cache (fresh ones as large as x cost page faults: slower than
    the strided passes). (128, 32, 28, 28) float32 as a conv's output: 0.64× _max2x2's strided passes, 0.74×
    at (128, 64, 14, 14) (one thread, 11 interleaved rounds).
    """
    planes, h, w = x.shape[0] * x.shape[1], x.shape[2], x.shape[3]
    ho, wo = h // 2, w // 2
    flat_x, flat_y, flat_up, flat_down = (a.reshape(-1) for a in (x, y, up, down))
    per = max(1, _BLOCK // (h * w))  # planes per block
    size = min(per, planes) * h * w // 2
    left, right = np.empty(size, x.dtype), np.empty(size, x.dtype)
    right_wins, lower_wins, code = (np.empty(size, np.uint8) for _ in range(3))
    for p in range(0, planes, per):
        q = min(p + per, planes)
        half = (q - p) * h * w // 2  # pixel pairs in the block; rows of Wₒ, upper and lower rows alternating
        last = half - wo  # pairs with a row below them
        block = flat_x[p * h * w:q * h * w]
        a, b = left[:half], right[:half]
        np.copyto(a, block[0::2])
        np.copyto(b, block[1::2])
        np.greater(b, a, out=right_wins[:half].view(bool))
        np.maximum(a, b, out=a)  # each row's pair maximum
        wins = lower_wins[:last]
        np.greater(a[wo:], a[:last], out=wins.view(bool))  # at upper rows: the lower row's maximum is greater
        np.maximum(a[:last], a[wo:], out=b[:last])  # at upper rows: the window's maximum
        out = slice(p * ho * wo, q * ho * wo)
        np.copyto(flat_y[out].reshape(q - p, ho, wo), b.reshape(q - p, ho, 2, wo)[:, :, 0])
        wins <<= 1
        for row, dest in ((right_wins[:last], flat_up), (right_wins[wo:half], flat_down)):
            np.bitwise_or(row, wins, out=code[:last])
            np.copyto(dest[out].reshape(q - p, ho, wo), code[:half].reshape(q - p, ho, 2, wo)[:, :, 0])


def _route2x2(dy: np.ndarray, up: np.ndarray, down: np.ndarray, dx: np.ndarray) -> None:
    """dx (zeroed where no window reaches): dy at each window's winner, 0 at its other three pixels.

    Each row of dx is written in one contiguous pass, its pixel pairs viewed as complex numbers: the
    pair is dy·(1 + 0j) = (dy, 0), dy·(0 + 1j) = (0, dy) or dy·0 (exact: every product but dy·1 is
    a zero). max_pool2d(2) fwd+bwd at (128, 32, 28, 28) float32 with these two against _window_max and
    _route_back's four compared masks: 0.62-0.66× the time, 0.99× at (128, 64, 14, 14) (two runs of
    benchmarks/bench_cnn_parts.py --against HEAD, 9 rounds, one thread).

    The four arrays are first put in memory order (_window_planes where they lie alike, else _outer_first), so that
    `take` makes its factors laid out as dy and dx are and each pass runs along memory; in NumPy's order of
    the axes, take's C-ordered result crossed the others' layout. The backward alone, in memory order against
    not (through _by_planes, 9 interleaved rounds; 2-core AMD EPYC Zen 3, AVX2, NumPy 2.4.6): (128, 32, 28, 28)
    0.76× on one thread, 0.83× on two; (128, 64, 14, 14) 0.75× and 0.70×. max_pool2d(2) fwd+bwd
    (bench_cnn_parts.py --against, 15 rounds): 0.92× and 0.89×; 0.86× and 0.84×.
    """
    planes = _window_planes(dx, dy, up, down) if dx.shape[2] % 2 == 0 and dx.shape[3] % 2 == 0 else None
    if planes is not None:
        dx, dy, up, down = planes
    else:
        perm = _outer_first(dx)
        dy, up, down, dx = (a.transpose(perm) for a in (dy, up, down, dx))
    ho, wo = dy.shape[2:]
    cx = _COMPLEX[dx.dtype]
    for row, (code, factors) in enumerate(((up, _UP), (down, _DOWN))):
        np.multiply(dy, np.array(factors, cx).take(code), out=dx[:, :, row:2 * ho:2, :2 * wo].view(cx))
    dx[:, :, 2 * ho:] = 0  # an odd last row or column is in no window
    dx[:, :, :2 * ho, 2 * wo:] = 0


# --- narrow images (Wₒ < _MIN_WIDTH): the same codes, computed with the planes innermost ----------------
# A 7×7 image's windows are 3 wide: every strided pass over them runs NumPy inner loops 3 elements long. A block
# of planes copied out transposed, (H, W, planes), makes each comparison one contiguous loop over the block's
# planes; the backward writes each window pixel of dx straight into place, one pass a pixel along the planes
# (dx built transposed and copied back costs more: NumPy runs that copy's inner loop along a plane's 49 pixels,
# each read a block's length apart). 2-core AMD EPYC Zen 3 (AVX2), NumPy 2.4.6, (128, 128, 7, 7) float32 laid out
# as a conv's output: one strided max pass 0.58 ms, the same pass over the transposed planes 0.04, the transposed
# copy ~0.7. max_pool2d(2) fwd+bwd against _window_max and _route_back (benchmarks/bench_cnn_parts.py --against
# --only pool, dy from Flatten): 0.77 on one thread, 0.83 on two; inside the cnn recipe's step (2 threads, timed
# op by op, 12 interleaved rounds) forward 1.22 ms against 1.32, backward 2.79 against 4.68.


def _max2x2_planes(xm: np.ndarray, ym: np.ndarray, up: np.ndarray, down: np.ndarray) -> None:
    """_max2x2 for planes xm (A, B, H, W) into ym (A, B, Hₒ, Wₒ) (in any layout), codes up/down (Hₒ, Wₒ, A·B):
    the same comparisons in the same order, so the same maxima and codes bit for bit. Blocks of whole rows of A."""
    outer, inner, h, w = xm.shape
    ho, wo = h // 2, w // 2
    per = min(outer, max(1, _BLOCK // (h * w * inner)))  # rows of A per block
    xt = np.empty((2 * ho, 2 * wo, per * inner), xm.dtype)
    upper, lower = np.empty((ho, wo, per * inner), xm.dtype), np.empty((ho, wo, per * inner), xm.dtype)
    wins = np.empty((ho, wo, per * inner), np.uint8)
    for p in range(0, outer, per):
        q = min(p + per, outer)
        k = (q - p) * inner  # planes in the block
        xb, yb, lb, wb = xt[..., :k], upper[..., :k], lower[..., :k], wins[..., :k]
        np.copyto(xb.reshape(2 * ho, 2 * wo, q - p, inner), xm[p:q, :, :2 * ho, :2 * wo].transpose(2, 3, 0, 1))
        a, b, c, d = xb[0::2, 0::2], xb[0::2, 1::2], xb[1::2, 0::2], xb[1::2, 1::2]
        u, dn = up[..., p * inner:q * inner], down[..., p * inner:q * inner]
        np.greater(b, a, out=u.view(bool))
        np.greater(d, c, out=dn.view(bool))
        np.maximum(a, b, out=yb)
        np.maximum(c, d, out=lb)
        np.greater(lb, yb, out=wb.view(bool))
        np.maximum(yb, lb, out=yb)
        wb <<= 1
        u |= wb
        dn |= wb
        np.copyto(ym[p:q], yb.reshape(ho, wo, q - p, inner).transpose(2, 3, 0, 1))


def _route2x2_planes(dyt: np.ndarray, up: np.ndarray, down: np.ndarray, dxm: np.ndarray) -> None:
    """_route2x2 for planes: dxm (A, B, H, W) (in any layout) = dy at each window's winner, 0 elsewhere (an odd
    last row or column too); dy and the codes as (Hₒ, Wₒ, A·B)."""
    outer, inner, h, w = dxm.shape
    ho, wo = h // 2, w // 2
    per = min(outer, max(1, _BLOCK // (h * w * inner)))
    hits = np.empty((4, ho, wo, per * inner), bool)  # per window: where each of its four pixels won
    for p in range(0, outer, per):
        q = min(p + per, outer)
        k = (q - p) * inner
        db, hit, out = dyt[..., p * inner:q * inner], hits[..., :k], dxm[p:q]
        for code in range(4):
            np.equal((up, up, down, down)[code][..., p * inner:q * inner], code, out=hit[code])
        out[...] = 0
        for i, j in np.ndindex(ho, wo):  # each pixel of each window written straight into dx, a plane apart
            for code in range(4):
                row, col = 2 * i + code // 2, 2 * j + code % 2  # dy·1 at the winner, dy·0 beside it
                np.multiply(db[i, j].reshape(q - p, inner), hit[code, i, j].reshape(q - p, inner),
                            out=out[:, :, row, col])


def _by_plane_ranges(work: Any, planes: int, size: int) -> None:
    """work(lo, hi) over ranges of `planes`, on matgrad's threads when the input (`size` elements) is large."""
    count = min(planes, 4) if size >= parallel.MIN_SIZE_HEAVY else 1  # two per thread on 2 threads
    step = -(-planes // count)
    parallel.run(lambda i: work(i * step, min(planes, (i + 1) * step)), -(-planes // step))


def _window_planes(*arrays: np.ndarray) -> list[np.ndarray] | None:
    """Arrays (N, C, H, W) of even H and W, laid out alike, as C-contiguous views whose 2×2 windows are theirs: in
    memory order where each image's plane is a block of memory; on a stride-1 conv's grid, (A, H, B, W) in memory
    (A, B: C and N), as (A, 1, H, B·W) (a row of B images side by side: W even, no window crosses from one to the
    next). None where they lie otherwise."""
    perm = _outer_first(arrays[0])
    if all(a.transpose(perm).flags.c_contiguous for a in arrays):
        return [a.transpose(perm) for a in arrays]
    grid = (perm[0], 2, perm[1], 3)
    if all(a.transpose(grid).flags.c_contiguous for a in arrays):
        return [a.transpose(grid).reshape(a.shape[perm[0]], 1, a.shape[2], a.shape[perm[1]] * a.shape[3])
                for a in arrays]
    return None


def _outer_first(x: np.ndarray) -> tuple[int, ...]:
    """x's axes with whichever of N and C is outer in memory first (a conv's output: C)."""
    return (0, 1, 2, 3) if abs(x.strides[0]) >= abs(x.strides[1]) else (1, 0, 2, 3)


def _planes_perm(x: np.ndarray) -> tuple[int, ...] | None:
    """_outer_first(x) where x is one block of memory with N or C outermost in it (its planes a block each, or a
    conv's grid, (C, H, N, W)), else None."""
    order = parallel.memory_order(x)
    return _outer_first(x) if order[0] < 2 and x.transpose(order).flags.c_contiguous else None


def _like(a: np.ndarray, like: np.ndarray) -> np.ndarray:
    """A copy of a laid out in memory as `like` (of a's shape) is."""
    out = np.empty_like(like, dtype=a.dtype)
    np.copyto(out, a)
    return out


def _finite(dy: np.ndarray, y: np.ndarray) -> bool:
    """Whether dy is finite and y has no nan, so the masks may route dy (a sum each: a quarter of the input)."""
    with np.errstate(all="ignore"):
        return bool(np.isfinite(np.add.reduce(dy, axis=None)) and not np.isnan(np.add.reduce(y, axis=None)))


def _by_planes(work: Any, x: np.ndarray) -> None:
    """work(part) for parts that cut x's samples or channels (whichever is outer in memory), on matgrad's threads
    (matgrad.parallel.run) when x is large; `part` indexes dims 0 and 1."""
    axis = _outer_first(x)[0]
    lead = (slice(None),) * axis
    _by_plane_ranges(lambda lo, hi: work(lead + (slice(lo, hi),)), x.shape[axis], x.size)


class MaxPool2d(Op):
    """y = max over each window.  dx = dy routed to the window's first maximum (others get 0).

    Only branch-free whole-array operations (np.maximum, ==, &, *): NumPy's masked copies
    and np.where are several times slower on the random masks pooling makes. Plain arrays
    are done a group of samples or channels per thread (matgrad.parallel). 2×2 windows at
    stride 2 (the cnn recipe's) keep each window's winner as a code, so the backward writes
    dx without comparing again (_max2x2, _route2x2; for narrow images, _max2x2_planes and
    _route2x2_planes).
    """

    save_output = True
    codes = None
    perm = None  # the codes of narrow images: (Hₒ, Wₒ, planes), planes in the order of x's axes this gives

    def forward(self, x, *, k, s, p, d):
        self.conf = (k, s, p, d)
        ho, wo = (out_size(x.shape[2 + i], k[i], s[i], p[i], d[i]) for i in range(2))
        # (narrow images do not take _max2x2: its strided passes run inner loops Wₒ long, and it makes four such
        # passes to _window_max's three; fwd+bwd at (128, 128, 7, 7), Wₒ = 3: 1.13× _window_max's time. Small
        # ones whose planes are one block take _max2x2_planes; the rest keep _window_max.)
        two = k == s == (2, 2) and p == (0, 0) and d == (1, 1) and type(x) is np.ndarray and x.dtype in _COMPLEX
        if two and wo >= _MIN_WIDTH:
            y = np.empty_like(x, shape=x.shape[:2] + (ho, wo))  # laid out as x: a conv's (C, N, H, W) stays so
            up, down = np.empty_like(y, np.uint8), np.empty_like(y, np.uint8)  # laid out as y (_max2x2_blocks)
            _by_planes(lambda i: _max2x2(x[i], y[i], up[i], down[i]), x)
            self.codes = (up, down)
            return y
        perm = _planes_perm(x) if two and 0 < ho * wo <= _PLANES_WINDOWS and x.size else None
        if perm is not None:  # narrow images, planes innermost (see _max2x2_planes)
            xm = x.transpose(perm)
            ym = np.empty(xm.shape[:2] + (ho, wo), x.dtype)  # y's planes in x's order of them, a block each
            inner, planes = xm.shape[1], xm.shape[0] * xm.shape[1]
            up, down = np.empty((ho, wo, planes), np.uint8), np.empty((ho, wo, planes), np.uint8)
            _by_plane_ranges(lambda lo, hi: _max2x2_planes(xm[lo:hi], ym[lo:hi], up[..., lo * inner:hi * inner],
                                                           down[..., lo * inner:hi * inner]), xm.shape[0], x.size)
            self.codes, self.perm = (up, down), perm
            return ym.transpose(perm)
        return parallel.batched(lambda x, out=None: _window_max(x, k, s, p, d, out), x, axes=(0, 1),
                                shape=x.shape[:2] + (ho, wo), heavy=True)

    def backward(self, dy):
        k, s, p, d = self.conf
        x = self.input_arrays[0]
        y = self.out
        host = type(dy) is np.ndarray
        if self.perm is not None and host and dy.dtype == x.dtype and self.xp.plain and _finite(dy, y):
            return self._backward_planes(dy, x)
        if host and type(y) is np.ndarray and dy.shape == y.shape and dy.strides != y.strides and dy.size >= 4096:
            # laid out as y (Flatten's C order meets a conv's (C, N, H, W)): every pass below then runs in memory
            # order and the planes can be cut across threads; the copy is a quarter of x. The last pool of the cnn
            # recipe's step, backward: 4.0 ms before, 2.1 after (2 threads, 2-core AMD EPYC, Zen 4)
            dy = _like(dy, y)
        plain = self.xp.plain and (not host or _finite(dy, y))  # (a device's arrays: its masks, unchecked)
        if plain and host and self.codes is not None and self.perm is None and dy.dtype == x.dtype:
            dx = np.empty_like(x)  # laid out as x, so batch_norm's backward finds dy laid out as its x
            if dx.strides[-1] != dx.itemsize:
                dx = np.empty(x.shape, x.dtype)
            up, down = self.codes
            _by_planes(lambda i: _route2x2(dy[i], up[i], down[i], dx[i]), dx)
            return dx
        return self._backward_routes(dy, x, y, k, s, p, d, plain)

    def release(self) -> None:
        super().release()
        self.codes = self.perm = None

    def _backward_planes(self, dy, x):
        """dx for the codes of narrow images (_route2x2_planes); dy in any layout, copied out planes last."""
        perm, (up, down) = self.perm, self.codes
        dyt = np.empty(up.shape, x.dtype)
        xm = x.transpose(perm)
        np.copyto(dyt.reshape(up.shape[:2] + xm.shape[:2]), dy.transpose(perm).transpose(2, 3, 0, 1))
        dx = np.empty_like(x)  # laid out as x (one block of memory: see _planes_perm)
        dxm, inner = dx.transpose(perm), xm.shape[1]
        _by_plane_ranges(lambda lo, hi: _route2x2_planes(*(a[..., lo * inner:hi * inner] for a in (dyt, up, down)),
                                                         dxm[lo:hi]), xm.shape[0], dx.size)
        return dx

    def _backward_routes(self, dy, x, y, k, s, p, d, plain):
        """The gradient from comparing x with y again: any window; by index under create_graph or non-finite values."""
        ho, wo = y.shape[2:]
        if plain and p == (0, 0):  # (padded, the plain call returns a view: kept as it is)
            return parallel.batched(lambda dy, y, x, out=None: _route_back(x, y, dy, k, s, p, d, out), dy, y, x,
                                    axes=(0, 1), shape=x.shape, heavy=True)
        if plain:
            return _route_back(x, y, dy, k, s, p, d)
        # create_graph, an inf or nan in dy, or a nan window: the same routing as an index_add on flat indices,
        # which moves each dy as it is (masks multiply: inf·0 would put nan beside the maximum)
        x_shape = x.shape
        arg = np.zeros_like(y, dtype=np.int64)
        for idx, hit in _routes(x, y, k, s, p, d):
            arg += hit * idx
        if np.isnan(y).any():  # PyTorch's scan: a nan always takes the window over, so its last nan wins
            for idx, v in _offsets(_pad(x, p, -np.inf), k, s, d, ho, wo):
                nan = np.isnan(v)
                arg[nan] = idx
        n, c, h, w = x_shape
        hp, wp = h + 2 * p[0], w + 2 * p[1]
        ki, kj = np.divmod(arg, k[1])
        xa = backend_of(y).xp  # the indices are made where the data is
        rows = xa.arange(ho).reshape(-1, 1) * s[0] + ki * d[0]
        cols = xa.arange(wo) * s[1] + kj * d[1]
        plane = (xa.arange(n * c) * hp * wp).reshape(n, c, 1, 1)
        flat = (plane + rows * wp + cols).ravel()
        dx = self.xp.index_add((n * c * hp * wp,), flat, self.xp.reshape(dy, (-1,)), False)
        return self.xp.reshape(dx, (n, c, hp, wp))[:, :, p[0]:p[0] + h, p[1]:p[1] + w]


def _avg_divisor(x: Any, k: Pair, s: Pair, p: Pair, ho: int, wo: int,
                 count_include_pad: bool, divisor_override: int | None) -> Any:
    """What each window's sum is divided by: a scalar of x's dtype, or a (1, 1, Hₒ, Wₒ) array on x's device."""
    if divisor_override:
        return x.dtype.type(divisor_override)
    if count_include_pad or p == (0, 0):
        return x.dtype.type(k[0] * k[1])
    inside = _pad(np.ones_like(x, shape=(1, 1) + tuple(x.shape[2:])), p, 0)
    return sum(v for _, v in _offsets(inside, k, s, (1, 1), ho, wo))  # (1, 1, Hₒ, Wₒ)


class AvgPool2d(Op):
    """y = Σ window / divisor.  dx = Pᵀ(dy / divisor): each window's dy shared by its pixels."""

    def forward(self, x, *, k, s, p, divisor):
        self.conf = (k, s, p, divisor)
        ho, wo = (out_size(x.shape[2 + i], k[i], s[i], p[i], 1) for i in range(2))
        y = None
        for _, v in _offsets(_pad(x, p, 0), k, s, (1, 1), ho, wo):
            y = v.copy() if y is None else np.add(y, v, out=y)
        return y / divisor

    def backward(self, dy):
        k, s, p, divisor = self.conf
        return apply_in(self.xp, AvgPool2dTranspose, dy, x_shape=self.input_arrays[0].shape, k=k, s=s, p=p,
                    divisor=divisor)


class AvgPool2dTranspose(Op):
    """x = Pᵀ(y / divisor), avg_pool2d's backward as an op.  dy = avg_pool2d(dx): the map is linear."""

    def forward(self, y, *, x_shape, k, s, p, divisor):
        self.conf = (k, s, p, divisor)
        ho, wo = y.shape[2:]
        g = y / divisor
        return _scatter((g for _ in range(k[0] * k[1])), x_shape, k, s, p, (1, 1), ho, wo, g)

    def backward(self, dx):
        k, s, p, divisor = self.conf
        return apply_in(self.xp, AvgPool2d, dx, k=k, s=s, p=p, divisor=divisor)


def adaptive_weights(size: int, out: int, dtype: Any) -> np.ndarray:
    """A (out, size): row i averages pixels floor(i·size/out) .. ceil((i+1)·size/out) - 1."""
    a = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        lo, hi = (i * size) // out, -((-(i + 1) * size) // out)
        a[i, lo:hi] = 1.0 / (hi - lo)
    return a


class AdaptiveAvgPool2d(Op):
    """Y = A_h·X·A_wᵀ per (n, c) plane: a rectangle's mean is separable.  dX = A_hᵀ·dY·A_w."""

    def forward(self, x, *, ah, aw):
        self.ah, self.aw = ah, aw
        return np.matmul(np.matmul(ah, x), aw.T)

    def backward(self, dy):
        xp = self.xp
        return xp.matmul(xp.matmul(self.ah.T, dy), self.aw)


# --- ceil_mode: PyTorch's rounding up of the output size --------------------------------------
def pool_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """Output length of a pooling window, as PyTorch's pooling_output_shape (ceil_mode rounds up)."""
    if not ceil_mode:
        return out_size(size, k, s, p, d)
    n = -(-(size + 2 * p - d * (k - 1) - 1) // s) + 1
    # the last window must start inside the input or the left padding: one starting in the right padding goes
    if (n - 1) * s >= size + p:
        n -= 1
    return n


def ceil_extra(size: int, k: int, s: int, p: int, d: int, out: int) -> int:
    """How far the last of `out` windows reaches past size + 2p (0 unless ceil_mode added a window)."""
    return max(0, (out - 1) * s + d * (k - 1) + 1 - size - 2 * p)


def _extra(x: Tensor, k: Pair, s: Pair, p: Pair, d: Pair, ceil_mode: bool) -> Pair:
    """(rows, columns) that ceil_mode's last windows reach past x's padded (H, W); (0, 0) without ceil_mode."""
    if not ceil_mode:
        return (0, 0)
    return tuple(ceil_extra(x.shape[2 + i], k[i], s[i], p[i], d[i],  # type: ignore[return-value]
                            pool_size(x.shape[2 + i], k[i], s[i], p[i], d[i], True)) for i in range(2))


def _pad_end(x: Tensor, extra: Pair, value: float) -> Tensor:
    """x with `extra` (rows, columns) of `value` after its last row and column, differentiably: the floor-mode
    ops on it then see ceil_mode's windows that run off the right edge (max: -inf, never the maximum; sums: 0)."""
    if extra == (0, 0):
        return x
    from .join import pad

    return pad(x, (0, extra[1], 0, extra[0]), value=value)


def window_counts(size: int, k: int, s: int, p: int, out: int, count_include_pad: bool) -> np.ndarray:
    """avg_pool's divisor along one dim, as PyTorch's: each window clipped to size + p on the right, then,
    without count_include_pad, to the input [0, size)."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if not count_include_pad:
        start, end = np.maximum(start, 0), np.minimum(end, size)
    return end - start


# --- the functions users call -------------------------------------------------------------
def _prepare(op: str, input: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
             ceil_mode: bool) -> tuple[Tensor, bool, Pair, Pair, Pair, Pair]:
    x = as_tensor(input)
    unbatched = x.ndim == 3
    if unbatched:
        x = x.reshape(1, *x.shape)
    if x.ndim != 4:
        raise ShapeError(f"{op}: expected input of shape (N, C, H, W) or (C, H, W), got {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating input, got {x.dtype}; convert it with .float()")
    if 0 in x.shape[1:]:  # only the batch may be empty, as PyTorch
        raise EmptyInputError(f"{op}: Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for "
                              f"input, but got {x.shape[1:] if unbatched else x.shape}: only the batch dim may be 0")
    k = pair(op, "kernel_size", kernel_size)
    s = k if stride is None or stride == () or stride == [] else pair(op, "stride", stride)
    p, d = pair(op, "padding", padding), pair(op, "dilation", dilation)
    if any(p[i] > k[i] // 2 for i in range(2)) or min(p) < 0:
        raise ShapeError(f"{op}: padding {p} should be at most half the kernel size {k}")
    if min(k + s + d) < 1:
        raise ShapeError(f"{op}: kernel_size {k}, stride {s} and dilation {d} must be positive")
    ho, wo = (pool_size(x.shape[2 + i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(2))
    if ho < 1 or wo < 1:
        raise ShapeError(
            f"{op}: input {x.shape[2:]} is smaller than the window {k} (padding {p}, dilation {d})"
        )
    return x, unbatched, k, s, p, d


def _unbatch(y: Tensor, unbatched: bool) -> Tensor:
    return y.reshape(*y.shape[1:]) if unbatched else y


def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """Maximum over each window, as torch.nn.functional.max_pool2d (stride defaults to the kernel)."""
    if return_indices:
        return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    x, unbatched, k, s, p, d = _prepare("max_pool2d", input, kernel_size, stride, padding, dilation,
                                        ceil_mode)
    x = _pad_end(x, _extra(x, k, s, p, d, ceil_mode), -np.inf)
    return _unbatch(MaxPool2d.apply(x, k=k, s=s, p=p, d=d), unbatched)


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over each window, as torch.nn.functional.avg_pool2d (stride defaults to the kernel)."""
    x, unbatched, k, s, p, _ = _prepare("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    extra = _extra(x, k, s, p, (1, 1), ceil_mode)
    ho, wo = (pool_size(x.shape[2 + i], k[i], s[i], p[i], 1, ceil_mode) for i in range(2))
    if extra == (0, 0):  # (ceil_mode's sizes are floor's: the same path as without it)
        divisor = _avg_divisor(x.array, k, s, p, ho, wo, count_include_pad, divisor_override)
    elif divisor_override:
        divisor = x.dtype.type(divisor_override)
    else:  # windows off the right edge count fewer pixels: a (1, 1, Hₒ, Wₒ) divisor, as PyTorch's
        ch, cw = (window_counts(x.shape[2 + i], k[i], s[i], p[i], o, count_include_pad)
                  for i, o in enumerate((ho, wo)))
        divisor = np.multiply.outer(ch, cw).astype(x.dtype).reshape(1, 1, ho, wo)
        if type(x.array) is not np.ndarray:  # the divisor goes where the data is
            divisor = move(divisor, x.device)
    x = _pad_end(x, extra, 0.0)
    return _unbatch(AvgPool2d.apply(x, k=k, s=s, p=p, divisor=divisor), unbatched)


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Tensor:
    """Mean over output_size (h, w) near-equal regions, as torch.nn.functional.adaptive_avg_pool2d."""
    op = "adaptive_avg_pool2d"
    x = as_tensor(input)
    if x.ndim not in (3, 4) or x.dtype.kind != "f":
        raise ShapeError(
            f"{op}: expected a floating (N, C, H, W) or (C, H, W) input, got {x.shape} {x.dtype}"
        )
    size = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(size) != 2:
        raise ShapeError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    oh, ow = (x.shape[-2 + i] if v is None else int(v) for i, v in enumerate(size))
    if oh < 1 or ow < 1:
        raise ShapeError(f"{op}: output_size must be positive, got {output_size!r}")
    _nonempty(op, x.shape, x.shape[-2:])
    ah = adaptive_weights(x.shape[-2], oh, x.dtype)
    aw = adaptive_weights(x.shape[-1], ow, x.dtype)
    if type(x.array) is not np.ndarray:  # the weights go where the data is
        ah, aw = move(ah, x.device), move(aw, x.device)
    return AdaptiveAvgPool2d.apply(x, ah=ah, aw=aw)


# --- indices: max_pool2d(return_indices=True), max_unpool2d, adaptive_max_pool2d ---------------
def max_pool2d_indices(x: np.ndarray, y: np.ndarray, k: Pair, s: Pair, p: Pair, d: Pair,
                       width: int | None = None) -> np.ndarray:
    """Where each window's (first) maximum sits, as a flat index into its (H, W) input plane (PyTorch's);
    `width`: the plane's W when x was padded past it for ceil_mode."""
    ho, wo = y.shape[2:]
    arg = np.zeros_like(y, dtype=np.int64)
    taken = np.zeros_like(y, dtype=bool)
    for idx, v in _offsets(_pad(x, p, -np.inf), k, s, d, ho, wo):
        hit = (v == y) & ~taken
        taken |= hit
        arg[hit] = idx
    ki, kj = np.divmod(arg, k[1])
    xa = backend_of(y).xp
    rows = xa.arange(ho).reshape(-1, 1) * s[0] - p[0] + ki * d[0]
    cols = xa.arange(wo) * s[1] - p[1] + kj * d[1]
    return rows * (x.shape[3] if width is None else width) + cols


def _gather_planes(x: Tensor, flat: np.ndarray) -> Tensor:
    """x (N, C, H, W) read at flat (N, C, h, w) indices into each H·W plane, differentiably (a gather)."""
    from .indexing import getitem

    n, c = x.shape[:2]
    planes = x.reshape(n, c, int(np.prod(x.shape[2:])))  # not -1: N or C may be 0
    xa = backend_of(flat).xp  # the index arrays sit with `flat`, on the data's device
    hw = int(np.prod(flat.shape[2:]))
    index = (xa.arange(n).reshape(n, 1, 1), xa.arange(c).reshape(1, c, 1), flat.reshape(n, c, hw))
    return getitem(planes, index).reshape(*flat.shape)


def max_pool2d_with_indices(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False) -> tuple[Tensor, Tensor]:
    """max_pool2d and the int64 flat (H·W) index of each maximum, as PyTorch's return_indices=True."""
    x, unbatched, k, s, p, d = _prepare("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    width = x.shape[3]
    x = _pad_end(x, _extra(x, k, s, p, d, ceil_mode), -np.inf)
    y = MaxPool2d.apply(x, k=k, s=s, p=p, d=d)
    idx = Tensor._make(max_pool2d_indices(x.array, y.array, k, s, p, d, width), None, False)
    return _unbatch(y, unbatched), _unbatch(idx, unbatched)


class MaxUnpool2d(Op):
    """y = zeros with y.flat[idx] = x.  dx = dy.flat[idx].

    A repeated index keeps the last write, as PyTorch on the CPU; dx gathers for every input as
    PyTorch's does, so with repeats it is not the exact transpose.
    """

    def forward(self, x, *, flat, shape):
        self.flat = flat
        y = np.zeros_like(x, shape=shape)
        y.reshape(-1)[flat] = x.reshape(-1)
        return y

    def backward(self, dy):
        xp = self.xp
        return xp.reshape(xp.reshape(dy, (-1,))[self.flat], self.input_arrays[0].shape)


def max_unpool2d(input: Any, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """max_pool2d's partial inverse: each value put back at its index in a zero (H, W) plane (MaxUnpool2d)."""
    op = "max_unpool2d"
    x = as_tensor(input)
    ind = indices.array if isinstance(indices, Tensor) else np.asarray(indices)
    if type(ind) is not type(x.array):  # the indices go where the data is
        ind = move(ind, x.device)
    if ind.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer tensor, got {ind.dtype}")
    if tuple(ind.shape) != tuple(x.shape):
        raise ShapeError(f"{op}: Expected shape of indices to be same as that of the input tensor "
                         f"({tuple(x.shape)}) but got indices tensor with shape: {tuple(ind.shape)}")
    unbatched = x.ndim == 3
    if x.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected input of shape (N, C, H, W) or (C, H, W), got {tuple(x.shape)}")
    if unbatched:
        x, ind = x.reshape(1, *x.shape), ind.reshape(1, *ind.shape)
    k = pair(op, "kernel_size", kernel_size)
    s = k if stride is None or stride == () or stride == [] else pair(op, "stride", stride)
    p = pair(op, "padding", padding)
    n, c, h, w = x.shape
    if output_size is None:
        oh, ow = ((h - 1) * s[0] - 2 * p[0] + k[0], (w - 1) * s[1] - 2 * p[1] + k[1])
    else:
        size = tuple(int(v) for v in output_size)[-2:]
        if len(size) != 2:
            raise ShapeError(f"{op}: output_size must end with (H, W), got {output_size!r}")
        oh, ow = size
    if ind.size and (ind.min() < 0 or ind.max() >= oh * ow):
        bad = int(ind.max() if ind.max() >= oh * ow else ind.min())
        raise IndexError(f"{op}: Found an invalid max index: {bad} (output volumes are of size {oh}x{ow})")
    base = (backend_of(ind).xp.arange(n * c, dtype=np.int64) * (oh * ow)).reshape(n, c, 1, 1)
    flat = (base + ind.astype(np.int64)).ravel()
    y = MaxUnpool2d.apply(x, flat=flat, shape=(n, c, oh, ow))
    return _unbatch(y, unbatched)


def _nonempty(op: str, shape: tuple[int, ...], dims: tuple[int, ...]) -> None:
    """PyTorch's error for an adaptive pooling input with an empty dim among `dims` (the batch may be 0)."""
    if 0 in dims:
        raise EmptyInputError(f"{op}(): Expected input to have non-zero size for non-batch dimensions, but input "
                              f"has sizes {tuple(shape)}: only the batch dim may be 0")


def adaptive_max_pool2d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Maximum over output_size near-equal regions (PyTorch's floor/ceil bounds); gradient to the argmax."""
    op = "adaptive_max_pool2d"
    x = as_tensor(input)
    if x.ndim not in (3, 4) or x.dtype.kind != "f":
        raise ShapeError(f"{op}: expected a floating (N, C, H, W) or (C, H, W) input, got {x.shape} {x.dtype}")
    _nonempty(op, x.shape, x.shape[1:])
    unbatched = x.ndim == 3
    if unbatched:
        x = x.reshape(1, *x.shape)
    size = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(size) != 2:
        raise ShapeError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    h, w = x.shape[2:]
    oh, ow = (x.shape[2 + i] if v is None else int(v) for i, v in enumerate(size))
    if oh < 1 or ow < 1:
        raise ShapeError(f"{op}: output_size must be positive, got {output_size!r}")
    a = x.array
    flat = np.empty_like(a, shape=a.shape[:2] + (oh, ow), dtype=np.int64)
    for i in range(oh):
        r0, r1 = (i * h) // oh, -((-(i + 1) * h) // oh)
        for j in range(ow):
            c0, c1 = (j * w) // ow, -((-(j + 1) * w) // ow)
            region = a[:, :, r0:r1, c0:c1].reshape(a.shape[0], a.shape[1], (r1 - r0) * (c1 - c0))  # (N may be 0)
            am = np.argmax(region, axis=-1)  # the first maximum (a nan counts as the maximum)
            flat[:, :, i, j] = (r0 + am // (c1 - c0)) * w + c0 + am % (c1 - c0)
    y = _unbatch(_gather_planes(x, flat), unbatched)
    if return_indices:
        return y, _unbatch(Tensor._make(flat, None, False), unbatched)
    return y


# --- 1-D: the 2-D ops on an (N, C, 1, L) view (issue 20) ---------------------------------------
def _as3d(op: str, input: Any) -> Tensor:
    x = as_tensor(input)
    if x.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected input of shape (N, C, L) or (C, L), got {x.shape}")
    return x


def _one(op: str, name: str, v: Any) -> int:
    from .conv import single

    return single(op, name, v)


def max_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Maximum over each window of (N, C, L) or (C, L), as torch.nn.functional.max_pool1d."""
    op = "max_pool1d"
    x = _as3d(op, input)
    k = _one(op, "kernel_size", kernel_size)
    s = k if stride is None or stride == () or stride == [] else _one(op, "stride", stride)
    p, d = _one(op, "padding", padding), _one(op, "dilation", dilation)
    out = max_pool2d(x.unsqueeze(-2), (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over each window of (N, C, L) or (C, L), as torch.nn.functional.avg_pool1d."""
    op = "avg_pool1d"
    x = _as3d(op, input)
    k = _one(op, "kernel_size", kernel_size)
    s = k if stride is None or stride == () or stride == [] else _one(op, "stride", stride)
    p = _one(op, "padding", padding)
    return avg_pool2d(x.unsqueeze(-2), (1, k), (1, s), (0, p), ceil_mode, count_include_pad).squeeze(-2)


def adaptive_avg_pool1d(input: Any, output_size: Any) -> Tensor:
    """Mean over output_size near-equal regions of (N, C, L) or (C, L), as torch's adaptive_avg_pool1d."""
    op = "adaptive_avg_pool1d"
    x = _as3d(op, input)
    size = _one(op, "output_size", output_size)
    return adaptive_avg_pool2d(x.unsqueeze(-2), (1, size)).squeeze(-2)


def adaptive_max_pool1d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Maximum over output_size near-equal regions of (N, C, L) or (C, L), as torch's adaptive_max_pool1d."""
    op = "adaptive_max_pool1d"
    x = _as3d(op, input)
    size = _one(op, "output_size", output_size)
    out = adaptive_max_pool2d(x.unsqueeze(-2), (1, size), return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def max_pool1d_with_indices(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """max_pool1d and the int64 index (along L) of each maximum; always both, as PyTorch's function."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_unpool1d(input: Any, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """max_pool1d's partial inverse on (N, C, L) or (C, L): max_unpool2d on an (N, C, 1, L) view."""
    op = "max_unpool1d"
    x = _as3d(op, input)
    ind = indices if isinstance(indices, Tensor) else Tensor._make(np.asarray(indices), None, False)
    if tuple(ind.shape) != tuple(x.shape):
        raise ShapeError(f"{op}: Expected shape of indices to be same as that of the input tensor "
                         f"({tuple(x.shape)}) but got indices tensor with shape: {tuple(ind.shape)}")
    k = _one(op, "kernel_size", kernel_size)
    s = k if stride is None or stride == () or stride == [] else _one(op, "stride", stride)
    p = _one(op, "padding", padding)
    size = None
    if output_size is not None:
        size = (1, int(tuple(output_size)[-1]))
    return max_unpool2d(x.unsqueeze(-2), ind.unsqueeze(-2), (1, k), (1, s), (0, p), size).squeeze(-2)
