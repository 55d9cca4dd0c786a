"""Winograd convolution in NumPy against matgrad's stride-1 conv (shifted products), issue 19.

Question: does Winograd F(2×2, 3×3) (or F(4×4, 3×3), or a 1-D F(2, 3) along the rows) beat
matgrad/ops/conv.py's shifted-products path on the cnn recipe's layers (batch 128, 3×3, padding 1,
float32), forward and both backward products? Everything here is a prototype: the kernels below
are plain NumPy (+ BLAS through np.matmul and matgrad.blas.gemm), stride 1, padding 1, dilation 1,
groups 1. Every case of one layer is timed in one process, interleaved (timing.interleaved), and
compared by the paired ratio (median over rounds of case / current path of the same round).

Winograd F(m×m, 3×3) on (m+2)×(m+2) input tiles d (stride m), filter g, output tile y:

    y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A      summed over input channels: (m+2)² GEMMs (O×C)·(C×tiles)

The three products' Winograd forms (F(2×2, 3×3); the same trilinear form as conv.py's Functions):
    forward  V = Bᵀ d B per tile,  M_k = U_k·V_k (16 GEMMs),  y = Aᵀ M A
    dX       the forward on dY with the kernel flipped and transposed (W[:, :, ::-1, ::-1]ᵀ, padding 1)
    dW       Z = A dY Aᵀ per 2×2 tile of dY,  dU_k = Z_k·V_kᵀ (16 GEMMs, long K),  dW = Gᵀ dU G

Kernels compared (see `CASES`):
    cur        matgrad's conv path (conv_forward / conv_input_grad / the stride-1 weight gradient)
    f22        F(2×2, 3×3), transforms as separable elementwise NumPy ops, blocked over images
    f22-gemm   F(2×2, 3×3), transforms as small GEMMs: V = (Bᵀ⊗Bᵀ)·tiles, y = (Aᵀ⊗Aᵀ)·M
    f44-gemm   F(4×4, 3×3) the same way (36 GEMMs per 16 outputs; larger float32 error)
    1d         F(2, 3) along the rows only, kernel rows as shifted products (12 GEMMs per 2 outputs, not 18)
    *-gemm-only  the channel-mixing GEMMs alone, transforms left out: what Winograd could save at best

    python benchmarks/bench_winograd.py [--threads 1] [--repeats 7] [--layers 0123]

Measured (2026-11-30, the 2-core AMD EPYC VM, NumPy 2.4.6, OpenBLAS 0.3.31 Haswell kernels; other
agents' benchmarks and a valgrind run kept the load at 2-4.6 throughout, so the table is this script
at --threads 1 --repeats 7; ratios are case / current path, paired medians of the interleaved rounds,
current-path medians in ms in brackets; a second, shorter run of the 7×7 layer gave the values after "/"):

    forward             [cur]   f22        f22-gemm   f44-gemm  1d         GEMMs only (f22 / cur)
    32→64 on 14×14      [27.9]  2.33       2.57       1.75      1.17       0.80
    64→128 on 7×7       [22.9]  1.62/0.99  1.56/1.05  1.86      1.06/1.35  0.66/0.63
    32→64 on 28×28      [76.6]  1.29       2.12       1.79      1.41       0.75

    backward            dX [cur]  dX f22     dW [cur]  dW f22     dW GEMMs only (f22 / cur)
    32→64 on 14×14      [53.3]    1.43       [39.2]    2.41       0.46
    64→128 on 7×7       [31.0]    2.38/1.25  [52.0]    1.65/1.22  0.55/0.60
    32→64 on 28×28      [101]     1.78       [96.2]    2.14       0.58

    1→32 on 28×28       f22 8-13× slower (C = 1: the 16 GEMMs have K = 1; conv.py keeps im2col there)

At --threads 2 on the same loaded machine the current path's times were 2-8× their quiet values and
the ratios scattered (forward f22 1.33-4.58, dX f22 1.33-3.84, dW f22 1.65-1.91, 1d 0.88-1.10): no
case won reproducibly. The GEMMs gain from the second thread, NumPy's transforms do not, so two
threads can only make Winograd's share worse.

Float32 error, max |Δ| / max |ref| against float64, over the three layers: forward shifted products
1.6-2.2e-7, F(2×2) 2.5-3.6e-7 (about 1.5× the direct error), 1-D F(2, 3) 2.0-2.5e-7, F(4×4)
6.6-7.4e-6 (about 35×); dX shifted 1.9-2.6e-7, F(2×2) 3.3-5.9e-7; dW shifted 3.2-6.8e-7, F(2×2)
5.0-6.7e-7. In float64 F(2×2) is 5-7e-16 and F(4×4) 1.1-1.5e-14 (its 1/6, 1/24 and 8s).

Why it does not pay in NumPy:
  * The GEMMs are thin (K = C = 32 or 64): they are bound by reading and writing their outputs,
    not by multiplications. Winograd's 16 products write 16·O·tiles = 4× the output (and read
    4× the input) instead of accumulating into one cache-sized block, so the forward's GEMMs
    alone save 20-37% (not the 49-59% the multiplication count promises). The weight gradient's
    GEMMs (K = N·H·W/4, compute-bound) do save 40-54%.
  * The transforms are elementwise passes over 4× the input and 4× the output: as separable NumPy
    ops, 24 passes each way (one core, short strided rows); as 16×16 GEMMs they need the tile copy
    (a 4× strided gather) first, then an interleaving scatter back. Either costs as much as the
    whole current forward on these sizes, and on 7×7 (odd) 8×8 outputs are computed for 49.
    F(4×4) moves less data (2.25×) but its transforms are denser (36×36) and cost more still.
  * The 1-D F(2, 3) keeps the shifted products (12 GEMMs over half the columns instead of 9 over
    all: 0.69-0.83 of the multiplications) and needs only 4 cheap passes each way, but its four
    output streams are 2× the output's size, and came out 1.06-1.41× the current forward.
  * dW needs Bᵀ d B (the forward's V: 4× the input, to keep or recompute) and A dY Aᵀ (4× dY):
    with those two transforms the whole dW took 1.2-2.4× the current weight gradient, which is
    one pass of 9 long-K GEMMs over data already on the grid. Keeping the forward's V would save
    one of them, at 4× the input's memory per layer (51 MB for 32→64 on 28×28).
  A fused kernel (transform a tile in registers, GEMM, inverse transform, as cuDNN/oneDNN do)
  would keep the GEMM savings; with NumPy's one-pass-per-op model there is no way to fuse them.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
from numpy.lib.stride_tricks import as_strided

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from timing import interleaved, paired_ratio  # noqa: E402

import matgrad as mg  # noqa: E402
from matgrad import blas  # noqa: E402
from matgrad.ops import conv  # noqa: E402

LAYERS = [(128, 32, 64, 14), (128, 64, 128, 7), (128, 32, 64, 28), (128, 1, 32, 28)]  # (batch, in, out, size)
ONE, PAD = (1, 1), (1, 1)

# Bᵀ, G, Aᵀ for F(m, 3) (interpolation points 0, ±1 and for m = 4 also ±2, ∞)
MATRICES = {
    2: (np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], float),
        np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]]),
        np.array([[1, 1, 1, 0], [0, 1, -1, -1]], float)),
    4: (np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0],
                  [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], float),
        np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6],
                  [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]]),
        np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]], float)),
}


def filter_transform(w: np.ndarray, m: int = 2) -> np.ndarray:
    """U = G g Gᵀ per (o, c): ((m+2)², O, C), computed in float64."""
    g = MATRICES[m][1]
    a = m + 2
    u = np.einsum("ai,ocij,bj->aboc", g, w.astype(np.float64), g)
    return np.ascontiguousarray(u.reshape(a * a, *w.shape[:2]).astype(w.dtype))


def flipped(w: np.ndarray) -> np.ndarray:
    """The kernel whose forward conv (padding 1) is the 3×3 padding-1 conv's input gradient."""
    return np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))


# --- F(2×2, 3×3), separable elementwise transforms ------------------------------------------------
def _planes(x: np.ndarray, th: int, tw: int) -> np.ndarray:
    """x padded by 1 (to 2·th + 2, 2·tw + 2) as its four parity planes (2, 2, C, N, th + 1, tw + 1)."""
    n, c, h, w = x.shape
    xp = np.zeros((c, n, 2 * th + 2, 2 * tw + 2), x.dtype)
    conv._copy_rows(xp[:, :, 1:1 + h, 1:1 + w], x.transpose(1, 0, 2, 3))
    return np.ascontiguousarray(xp.reshape(c, n, th + 1, 2, tw + 1, 2).transpose(3, 5, 0, 1, 2, 4))


def _input_transform(p: np.ndarray, th: int, tw: int) -> np.ndarray:
    """V = Bᵀ d B for every tile: columns first (8 ops), then rows (16 ops): (16, C, N·th·tw)."""
    c, n = p.shape[2:4]
    v = np.empty((4, 4, c, n, th, tw), p.dtype)
    q = np.empty((2, 4, c, n, th + 1, tw), p.dtype)
    for pr in (0, 1):
        e0, e1, o0, o1 = p[pr, 0][..., :tw], p[pr, 0][..., 1:], p[pr, 1][..., :tw], p[pr, 1][..., 1:]
        np.subtract(e0, e1, out=q[pr, 0])
        np.add(o0, e1, out=q[pr, 1])
        np.subtract(e1, o0, out=q[pr, 2])
        np.subtract(o0, o1, out=q[pr, 3])
    for col in range(4):
        e0, e1, o0, o1 = q[0, col][:, :, :th], q[0, col][:, :, 1:], q[1, col][:, :, :th], q[1, col][:, :, 1:]
        np.subtract(e0, e1, out=v[0, col])
        np.add(o0, e1, out=v[1, col])
        np.subtract(e1, o0, out=v[2, col])
        np.subtract(o0, o1, out=v[3, col])
    return v.reshape(16, c, n * th * tw)


def _output_transform(m: np.ndarray, o: int, n: int, th: int, tw: int) -> np.ndarray:
    """y = Aᵀ M A for every tile, written interleaved: (N, O, 2·th, 2·tw)."""
    m = m.reshape(4, 4, o, n, th, tw)
    s = np.empty((2, 4, o, n, th, tw), m.dtype)
    tmp = np.empty((o, n, th, tw), m.dtype)
    for col in range(4):
        np.add(m[1, col], m[2, col], out=tmp)
        np.add(m[0, col], tmp, out=s[0, col])
        np.subtract(m[1, col], m[2, col], out=tmp)
        np.subtract(tmp, m[3, col], out=s[1, col])
    y = np.empty((n, o, th, 2, tw, 2), m.dtype)
    yv = y.transpose(3, 5, 1, 0, 2, 4)
    for a in (0, 1):
        np.add(s[a, 1], s[a, 2], out=tmp)
        np.add(s[a, 0], tmp, out=yv[a, 0])
        np.subtract(s[a, 1], s[a, 2], out=tmp)
        np.subtract(tmp, s[a, 3], out=yv[a, 1])
    return y.reshape(n, o, 2 * th, 2 * tw)


def forward_f22(x: np.ndarray, w: np.ndarray, images: int = 16) -> np.ndarray:
    """conv2d(x, w, padding=1) by F(2×2, 3×3), `images` at a time (their transforms stay in cache)."""
    n, c, h, wd = x.shape
    th, tw = -(-h // 2), -(-wd // 2)
    u = filter_transform(w)
    out = np.empty((n, w.shape[0], h, wd), x.dtype)
    for b in range(0, n, images):
        xb = x[b:b + images]
        v = _input_transform(_planes(xb, th, tw), th, tw)
        out[b:b + images] = _output_transform(np.matmul(u, v), w.shape[0], xb.shape[0], th, tw)[:, :, :h, :wd]
    return out


# --- F(m×m, 3×3), transforms as GEMMs ---------------------------------------------------------------
def _tiles(x: np.ndarray, m: int) -> np.ndarray:
    """The (m+2)×(m+2) tiles (stride m) of x padded by 1: ((m+2)², C·N·th·tw), one strided gather."""
    n, c, h, w = x.shape
    a, th, tw = m + 2, -(-h // m), -(-w // m)
    xp = np.zeros((c, n, m * th + 2, m * tw + 2), x.dtype)
    conv._copy_rows(xp[:, :, 1:1 + h, 1:1 + w], x.transpose(1, 0, 2, 3))
    s = xp.strides
    view = as_strided(xp, (a, a, c, n, th, tw), (s[2], s[3], s[0], s[1], m * s[2], m * s[3]), writeable=False)
    return np.ascontiguousarray(view).reshape(a * a, -1)


def forward_gemm_tf(x: np.ndarray, w: np.ndarray, m: int = 2) -> np.ndarray:
    """conv2d(x, w, padding=1) by F(m×m, 3×3): V = (Bᵀ⊗Bᵀ)·tiles, M_k = U_k·V_k, y = (Aᵀ⊗Aᵀ)·M."""
    bt, _, at = MATRICES[m]
    n, c, h, wd = x.shape
    o, a, th, tw = w.shape[0], m + 2, -(-h // m), -(-wd // m)
    v = (np.kron(bt, bt).astype(x.dtype) @ _tiles(x, m)).reshape(a * a, c, -1)
    y = np.kron(at, at).astype(x.dtype) @ np.matmul(filter_transform(w, m), v).reshape(a * a, -1)
    out = np.empty((n, o, th, m, tw, m), x.dtype)
    out.transpose(3, 5, 1, 0, 2, 4)[...] = y.reshape(m, m, o, n, th, tw)
    return out.reshape(n, o, m * th, m * tw)[:, :, :h, :wd]


def weight_grad_f22(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """conv2d's weight gradient by F(2×2, 3×3): dU_k = Z_k·V_kᵀ with Z = A dY Aᵀ, dW = Gᵀ dU G."""
    bt, g, at = MATRICES[2]
    n, c, h, wd = x.shape
    o, th, tw = dy.shape[1], -(-h // 2), -(-wd // 2)
    v = (np.kron(bt, bt).astype(x.dtype) @ _tiles(x, 2)).reshape(16, c, -1)
    dyp = np.zeros((n, o, 2 * th, 2 * tw), dy.dtype)
    dyp[:, :, :h, :wd] = dy
    y4 = np.ascontiguousarray(dyp.reshape(n, o, th, 2, tw, 2).transpose(3, 5, 1, 0, 2, 4)).reshape(4, -1)
    z = (np.kron(at, at).T.astype(dy.dtype) @ y4).reshape(16, o, -1)
    du = np.matmul(z, v.transpose(0, 2, 1)).reshape(4, 4, o, c)
    return np.einsum("ki,lj,kloc->ocij", g, g, du.astype(np.float64)).astype(dy.dtype)


# --- F(2, 3) along the rows only, the kernel's rows as shifted products ---------------------------------
def forward_1d(x: np.ndarray, w: np.ndarray, block: int = 16384) -> np.ndarray:
    """conv2d(x, w, padding=1) with F(2, 3) along each row: 4 transformed column streams, each the
    sum of 3 shifted products (one per kernel row) on a flat (C, H_p, N, P) grid, P = ⌈W/2⌉ + 1."""
    _, g, _ = MATRICES[2]
    n, c, h, wd = x.shape
    o, p = w.shape[0], -(-wd // 2) + 1
    hp, row = h + 2, n * -(-wd // 2) + n
    length = hp * row
    xg = np.zeros((c, 2 * length + 2), x.dtype)  # the padded grid, rows 2·P wide
    conv._copy_rows(xg[:, :2 * length].reshape(c, hp, n, 2 * p)[:, 1:1 + h, :, 1:1 + wd], x.transpose(1, 2, 0, 3))
    e, od = xg[:, 0::2], xg[:, 1::2]  # even and odd columns: d0 = e[t], d1 = od[t], d2 = e[t+1], d3 = od[t+1]
    v = np.empty((4, c, length), x.dtype)
    np.subtract(e[:, :length], e[:, 1:length + 1], out=v[0])
    np.add(od[:, :length], e[:, 1:length + 1], out=v[1])
    np.subtract(e[:, 1:length + 1], od[:, :length], out=v[2])
    np.subtract(od[:, :length], od[:, 1:length + 1], out=v[3])
    u = np.ascontiguousarray(np.einsum("lj,ocij->lioc", g, w.astype(np.float64)).astype(w.dtype))
    cols = h * row
    mm = np.empty((4, o, cols), x.dtype)
    for q in range(0, cols, block):
        end = min(q + block, cols)
        for k in range(4):
            for i in range(3):
                blas.gemm(1.0, u[k, i], v[k, :, q + i * row:end + i * row], 1.0 if i else 0.0, mm[k, :, q:end])
    y = np.empty((o, cols, 2), x.dtype)
    tmp = np.empty((o, cols), x.dtype)
    np.add(mm[1], mm[2], out=tmp)
    np.add(tmp, mm[0], out=y[..., 0])
    np.subtract(mm[1], mm[2], out=tmp)
    np.subtract(tmp, mm[3], out=y[..., 1])
    out = np.empty((o, n, h, wd), x.dtype)
    conv._copy_rows(out.transpose(0, 2, 1, 3), y.reshape(o, h, n, 2 * p)[..., :wd])
    return out.transpose(1, 0, 2, 3)


# --- the current path ---------------------------------------------------------------------------------
def cur_forward(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return conv.conv_forward(x, w, ONE, PAD, ONE, 1)[0]


def cur_input_grad(dy: np.ndarray, w: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
    return conv.conv_input_grad(dy, w, x_shape, ONE, PAD, ONE, 1)


def cur_weight_grad(x: np.ndarray, dy: np.ndarray, w_shape: tuple[int, ...]) -> np.ndarray:
    return conv.conv_weight_grad(x, dy, w_shape, ONE, PAD, ONE, 1)


def _rel(a: np.ndarray, ref: np.ndarray) -> float:
    return float(np.abs(a - ref).max() / np.abs(ref).max())


def accuracy(x: np.ndarray, w: np.ndarray, dy: np.ndarray) -> dict[str, float]:
    """Max error relative to the largest magnitude, each kernel in float32 against float64."""
    x64, w64, dy64 = x.astype(np.float64), w.astype(np.float64), dy.astype(np.float64)
    y64, dx64 = cur_forward(x64, w64), cur_input_grad(dy64, w64, x.shape)
    dw64 = cur_weight_grad(x64, dy64, w.shape)
    return {
        "fwd cur": _rel(cur_forward(x, w), y64), "fwd f22": _rel(forward_f22(x, w), y64),
        "fwd f44-gemm": _rel(forward_gemm_tf(x, w, 4), y64), "fwd 1d": _rel(forward_1d(x, w), y64),
        "dX cur": _rel(cur_input_grad(dy, w, x.shape), dx64), "dX f22": _rel(forward_f22(dy, flipped(w)), dx64),
        "dW cur": _rel(cur_weight_grad(x, dy, w.shape), dw64), "dW f22": _rel(weight_grad_f22(x, dy), dw64),
        "fwd f22 float64": _rel(forward_f22(x64, w64), y64), "fwd f44 float64": _rel(forward_gemm_tf(x64, w64, 4), y64),
        "dW f22 float64": _rel(weight_grad_f22(x64, dy64), dw64),
    }


def cases(x: np.ndarray, w: np.ndarray, dy: np.ndarray) -> dict[str, tuple[str, Callable[[], Any]]]:
    """{label: (the current case it is compared with, fn)}."""
    n, cin, h, wd = x.shape
    th, tw = -(-h // 2), -(-wd // 2)
    rows = conv._Rows(x.shape, (3, 3), PAD, ONE)
    xs, dy_rows = rows.stack(x), rows.dy_rows(dy)
    taps, u, wf = conv._tap_rows(w), filter_transform(w), flipped(w)
    v = _input_transform(_planes(x, th, tw), th, tw)
    z = np.random.default_rng(1).standard_normal((16, dy.shape[1], v.shape[2]), dtype=np.float32)
    return {
        "fwd cur": ("fwd cur", lambda: cur_forward(x, w)),
        "fwd f22": ("fwd cur", lambda: forward_f22(x, w)),
        "fwd f22-gemm": ("fwd cur", lambda: forward_gemm_tf(x, w, 2)),
        "fwd f44-gemm": ("fwd cur", lambda: forward_gemm_tf(x, w, 4)),
        "fwd 1d": ("fwd cur", lambda: forward_1d(x, w)),
        "fwd cur gemm-only": ("fwd cur gemm-only", lambda: conv._shifted_products(taps, xs, rows.shifts,
                                                                                   h * n * wd)),
        "fwd f22 gemm-only": ("fwd cur gemm-only", lambda: np.matmul(u, v)),
        "dX cur": ("dX cur", lambda: cur_input_grad(dy, w, x.shape)),
        "dX f22": ("dX cur", lambda: forward_f22(dy, wf)),
        "dW cur": ("dW cur", lambda: conv._shifted_weight_grad(rows, rows.dy_rows(dy), xs, w.shape)),
        "dW f22": ("dW cur", lambda: weight_grad_f22(x, dy)),
        "dW cur gemm-only": ("dW cur gemm-only", lambda: conv._shifted_outer(dy_rows, xs, rows.shifts)),
        "dW f22 gemm-only": ("dW cur gemm-only", lambda: np.matmul(z, v.transpose(0, 2, 1))),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None, help="matgrad.set_num_threads (default: as set)")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--layers", default="012", help="which of LAYERS, by index (3 = 1→32, where conv.py uses im2col)")
    args = ap.parse_args()
    if args.threads:
        mg.set_num_threads(args.threads)
    print(f"threads {mg.get_num_threads()}, repeats {args.repeats}; ratio = paired median case / current", flush=True)
    rng = np.random.default_rng(0)
    for n, cin, cout, size in (LAYERS[int(i)] for i in args.layers):
        x = rng.standard_normal((n, cin, size, size), dtype=np.float32)
        w = (rng.standard_normal((cout, cin, 3, 3)) * 0.1).astype(np.float32)
        dy = rng.standard_normal((n, cout, size, size), dtype=np.float32)
        print(f"conv2d {cin}→{cout} 3×3 pad 1, batch {n}, {size}×{size}", flush=True)
        print("  float32 error (max |Δ| / max |ref|, ref float64): "
              + ", ".join(f"{k} {v:.1e}" for k, v in accuracy(x, w, dy).items()), flush=True)
        table = cases(x, w, dy)
        stats = interleaved({k: fn for k, (_, fn) in table.items()}, repeats=args.repeats, warmup=1,
                            min_sample_s=0.05)
        for k, (base, _) in table.items():
            ratio = paired_ratio(stats[k], stats[base])
            print(f"  {k:18s} {statistics.median(stats[k].samples) * 1e3:8.1f} ms   "
                  f"ratio {ratio:.2f} (vs {base})", flush=True)


if __name__ == "__main__":
    main()
