"""Large elementwise work on all of matgrad's threads, as PyTorch spreads its elementwise kernels.

A NumPy ufunc runs on one core, but it releases the GIL: the chunks of one large array can be
computed on several threads at once. Four helpers do it; each is the plain call for small arrays,
for device (CuPy) arrays and Tensors, for arrays of mixed dtypes or layouts, and when one thread is set:

- `elementwise(fn, *arrays)`: fn applied element by element to arrays of one shape (exp, tanh,
  relu and their gradients); the arrays are cut in memory order.
- `batched(fn, *arrays, axes=...)`: fn treats each sample or channel on its own (pooling,
  batch_norm's passes and per-channel sums); the samples or the channels are cut into groups.
- `along(fn, *arrays, axis=axis)`: fn reduces along `axis` and treats the slices before it on
  their own (softmax); the dims before `axis` are cut.
- `copyto(dst, src)`: dst[...] = src, cut along the first axis (conv's grids).

fn is written as a ufunc is: `fn(*arrays, out=None)`, filling `out` (its chunk of the result) when
given. Every element is computed by the same arithmetic as in the plain call, only on another
thread, and the result is laid out in memory as the plain call's: results are bit for bit the same.
No sum is ever split across chunks (each is over one slice, or over one channel's block of memory).

The pool holds one thread less than `matgrad.set_num_threads` asks for (the caller is the last);
it is made on first use, remade when the count changes and dropped in a forked child (DataLoader
workers fork). Chunks are handed out one at a time to whoever is free, the caller included, so a
thread that is slow to wake, or busy with another Python thread's call, holds nobody up: the
caller waits only for chunks already started. A call made on a pool thread runs plainly.

What it costs, measured on the 2-core AMD EPYC VM this project runs on (2026-11-30, NumPy 2.4.6,
OpenBLAS 0.3.31; benchmarks/bench_parallel.py): waking a pool thread takes 40-160 µs (the longer it
slept, the longer), and the two threads pass the GIL between a chunk's ufunc calls, each pass costing
tens of µs on this VM. So chunks are few and large (one or two per thread), each fn writes into its
chunk of the result (a fresh temporary per chunk costs page faults here: ~4 µs per 4 KB page), and
small arrays keep the plain call. After a matrix product OpenBLAS's idle threads spin for a while on
the cores (they yield, but take their share), so within a network the pool's thread gets less than a
core: at 2 threads the ops alone (forward + backward) take 0.44-0.93× the time of one thread's, the
cnn recipe's step 0.78-0.82× (benchmarks/ab.py --cnn).
"""
from __future__ import annotations

import contextvars
import math
import os
import queue
import threading
from typing import Any, Callable

import numpy as np

from . import threads

#: Below this many elements the plain call, for passes as cheap as a copy (relu and its mask, exp's
#: and tanh's gradients, x - μ: ~0.25 ns an element). Two threads against one, relu forward alone:
#: 2.0× slower at 256K elements, 1.2× at 1M, 0.87× at 2M, 0.79× at 4M; relu forward + backward at
#: 1000×1000 through the op, where the backward finds the pool thread awake: 0.89×.
MIN_SIZE = 1_000_000
#: The same for `heavy` work, ~2 ns an element or several passes (exp, tanh, sigmoid, softmax, pooling,
#: batch_norm's scale-and-shift and gradient): exp forward alone, two threads against one, 1.12× at
#: 64K elements, 0.75-0.81× from 128K to 256K, 0.63-0.70× from 512K up.
MIN_SIZE_HEAVY = 1 << 18
#: A call is cut into one chunk per this many elements (at least two) ...
CHUNK = 1 << 17
#: ... and there are at most this many per thread: a second lets the threads even out when one starts late.
PER_THREAD = 2
#: Chunk boundaries fall on multiples of this many elements: each chunk starts as aligned as the
#: whole array (SIMD loops take the same path), and no two threads write one cache line.
ALIGN = 1024


# --- the pool ------------------------------------------------------------------------------------

class _Job:
    """One call's chunks, handed out one at a time to the caller and the pool's threads."""

    __slots__ = ("work", "n", "taken", "done", "lock", "finished", "error", "context")

    def __init__(self, work: Callable[[int], None], n: int) -> None:
        self.work, self.n = work, n
        self.taken = self.done = 0
        self.lock = threading.Lock()
        self.finished = threading.Lock()  # held until every chunk taken is done and none is left
        self.finished.acquire()
        self.error: BaseException | None = None
        self.context = contextvars.copy_context()  # the caller's np.errstate, for the pool's threads

    def drain(self) -> None:
        """Do chunks until none is left (or one has failed)."""
        lock = self.lock
        while True:
            with lock:
                i = self.taken
                if i >= self.n or self.error is not None:
                    return
                self.taken = i + 1
            error = None
            try:
                self.work(i)
            except BaseException as e:  # noqa: BLE001 - raised again in the caller
                error = e
            with lock:
                if error is not None and self.error is None:
                    self.error = error
                self.done += 1
                last = self.done == self.taken and (self.taken >= self.n or self.error is not None)
            if last:  # nothing more will be taken: the caller may go on
                self.finished.release()


class _Pool:
    """`size` daemon threads, each doing chunks of the jobs it is handed."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        for i in range(size):
            threading.Thread(target=self._serve, name=f"matgrad-parallel-{i}", daemon=True).start()

    def _serve(self) -> None:
        _here.in_pool = True
        while (job := self.jobs.get()) is not None:
            job.context.copy().run(job.drain)  # a copy each: one context cannot be entered by two threads

    def close(self) -> None:
        for _ in range(self.size):
            self.jobs.put(None)


_here = threading.local()
_pool: _Pool | None = None
_pool_lock = threading.Lock()
_blas_count: list[int] = []  # get_num_threads() on first use, until set_num_threads is called


def _threads() -> int:
    """How many threads a call may use now: set_num_threads' count (the BLAS's until set), 1 on a pool thread."""
    if getattr(_here, "in_pool", False):
        return 1
    if threads.chosen:
        return threads.chosen[0]
    if not _blas_count:
        _blas_count.append(threads.get_num_threads())
    return _blas_count[0]


def _after_fork() -> None:
    """In a forked child: the parent's pool threads do not exist here; a new pool is made if needed."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def restart() -> None:
    """Stop the pool's threads; the next call starts new ones from the calling thread, which pass on its
    floating-point mode (matgrad.denormal)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.close()
        _pool = None


def _get_pool(size: int) -> _Pool:
    """The pool, made (or remade, the thread count having changed) with `size` threads."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool.size != size:
            if _pool is not None:
                _pool.close()
            _pool = _Pool(size)
        return _pool


def run(work: Callable[[int], None], n: int) -> None:
    """work(i) for i in range(n), spread over the pool's threads and this one; returns when all are done."""
    helpers = _threads() - 1
    if helpers < 1 or n < 2:
        for i in range(n):
            work(i)
        return
    pool = _pool
    if pool is None or pool.size != helpers:
        pool = _get_pool(helpers)
    job = _Job(work, n)
    for _ in range(min(helpers, n - 1)):
        pool.jobs.put(job)
    job.drain()
    job.finished.acquire()  # the chunks the pool's threads started
    if job.error is not None:
        raise job.error


# --- the helpers the ops call ------------------------------------------------------------------------

def _worth(arrays: tuple[Any, ...]) -> bool:
    """Whether to cut arrays whose first is a large NumPy array: more than one thread, all of them NumPy
    arrays of one dtype, and those of the first's shape laid out as it is, so that the plain call's result
    would be laid out as the first is (NumPy's order 'K'). (Each helper checks size and type first.)"""
    first = arrays[0]
    shape, strides, dtype = first.shape, first.strides, first.dtype
    return _threads() > 1 and all(type(a) is np.ndarray and a.dtype == dtype
                                  and (a.shape != shape or a.strides == strides) for a in arrays)


def _spans(length: int, unit: int, multiple: int) -> list[tuple[int, int]]:
    """[lo, hi) spans covering range(length) (`unit` elements an index), a multiple of `multiple`
    indices each: one per CHUNK elements, but at least two and at most PER_THREAD per thread."""
    count = min(PER_THREAD * _threads(), max(2, length * unit // CHUNK))
    step = -(-length // count)
    step = -(-step // multiple) * multiple
    return [(lo, min(lo + step, length)) for lo in range(0, length, step)]


def _fill(fn: Callable[..., Any], out: np.ndarray, axis: int, spans: list[tuple[int, int]],
          cut: Callable[[slice], list[Any]]) -> np.ndarray:
    """fn(*cut(lo:hi), out=out's lo:hi along `axis`) for each span, on the threads."""
    lead = (slice(None),) * axis

    def work(i: int) -> None:
        part = slice(*spans[i])
        fn(*cut(part), out=out[lead + (part,)])

    run(work, len(spans))
    return out


def elementwise(fn: Callable[..., Any], *arrays: Any, heavy: bool = False) -> Any:
    """fn(*arrays), on all threads when large, for an fn computed element by element on arrays of one
    shape and dtype that takes out= as a ufunc does (a ufunc, or ufuncs writing into `out` in turn).
    The arrays are cut in memory order: they must be dense (C-contiguous, or so once their axes are
    put in memory order: a conv's (N, C, H, W) output lies as (C, N, H, W)). `heavy`: fn costs ~2 ns
    an element or more (exp, tanh): cut from MIN_SIZE_HEAVY elements, not MIN_SIZE."""
    first = arrays[0]
    if type(first) is not np.ndarray or first.size < (MIN_SIZE_HEAVY if heavy else MIN_SIZE) or not _worth(arrays):
        return fn(*arrays)
    return _elementwise_split(fn, arrays)


def memory_order(a: np.ndarray) -> list[int]:
    """a's axes from the outermost in memory to the innermost (by the size of their strides)."""
    return sorted(range(a.ndim), key=lambda i: -abs(a.strides[i]))


def _elementwise_split(fn: Callable[..., Any], arrays: tuple[Any, ...]) -> Any:
    """elementwise's large case (apart: the closures here would cost every small call a cell)."""
    first = arrays[0]
    if any(a.shape != first.shape for a in arrays):
        return fn(*arrays)
    order = memory_order(first)
    if not first.transpose(order).flags.c_contiguous:  # not dense: the plain call
        return fn(*arrays)
    out = np.empty_like(first)  # laid out as the first, as the plain call's result would be
    flat = [a.transpose(order).reshape(-1) for a in (out, *arrays)]
    _fill(fn, flat[0], 0, _spans(out.size, 1, ALIGN), lambda part: [a[part] for a in flat[1:]])
    return out


def batched(fn: Callable[..., Any], *arrays: Any, axes: tuple[int, ...] = (0,), shape: tuple[int, ...] | None = None,
            heavy: bool = False) -> Any:
    """fn(*arrays), on all threads when large, for an fn that treats each index along any of `axes` of
    the first array (samples, channels) on its own and takes out= as a ufunc does. The array is cut
    along the one of `axes` outermost in memory; so are the others that have it at full length (aligned
    from the right, as broadcasting aligns them), and the rest (a (1, C, 1, 1) statistic) go whole to
    every chunk. `shape`: the result's, where not the first's (it has the first's length on `axes`)."""
    first = arrays[0]
    if type(first) is not np.ndarray or first.size < (MIN_SIZE_HEAVY if heavy else MIN_SIZE) or not _worth(arrays):
        return fn(*arrays)
    axis = max((a for a in axes if a < first.ndim and first.shape[a] > 1), key=lambda a: abs(first.strides[a]),
               default=None)
    if axis is None or any(a.ndim > first.ndim for a in arrays):
        return fn(*arrays)
    length, ndim = first.shape[axis], first.ndim
    where = [axis - (ndim - a.ndim) if a.ndim > ndim - axis - 1 and a.shape[axis - (ndim - a.ndim)] == length
             else None for a in arrays]
    out = np.empty_like(first, shape=first.shape if shape is None else shape)  # laid out as the first
    return _fill(fn, out, axis, _spans(length, first.size // length, 1),
                 lambda part: [a if w is None else a[(slice(None),) * w + (part,)] for a, w in zip(arrays, where)])


def copyto(dst: Any, src: Any) -> None:
    """dst[...] = src for arrays of one shape, on all threads when large (as many bytes as MIN_SIZE float32s):
    cut along the first axis. (A copy is the cheapest pass there is; what it gains is the second core's.)"""
    if (type(dst) is not np.ndarray or type(src) is not np.ndarray or dst.nbytes < 4 * MIN_SIZE
            or dst.shape != src.shape or len(dst) < 2 or _threads() < 2):
        dst[...] = src
        return
    spans = _spans(len(dst), dst.nbytes // len(dst) // 4, 1)

    def work(i: int) -> None:
        part = slice(*spans[i])
        dst[part] = src[part]

    run(work, len(spans))


def along(fn: Callable[..., Any], *arrays: Any, axis: int, heavy: bool = False) -> Any:
    """fn(*arrays, axis=axis), on all threads when large, for an fn that reduces along `axis`, treats
    the slices before it on their own (softmax) and takes out= as a ufunc does; C-contiguous arrays of
    one shape. The dims before `axis` are cut (with none, the plain call). fn gets the axis counted
    from the end."""
    first = arrays[0]
    if (type(first) is not np.ndarray or first.size < (MIN_SIZE_HEAVY if heavy else MIN_SIZE)
            or not _worth(arrays) or any(a.shape != first.shape for a in arrays) or not first.flags.c_contiguous):
        return fn(*arrays, axis=axis)
    axis = axis % first.ndim - first.ndim
    lead = math.prod(first.shape[:first.ndim + axis])
    if lead < 2:
        return fn(*arrays, axis=axis)
    rows = [a.reshape((lead,) + a.shape[first.ndim + axis:]) for a in arrays]
    out = np.empty(rows[0].shape, first.dtype)
    _fill(lambda *parts, out: fn(*parts, axis=axis, out=out), out, 0, _spans(lead, first.size // lead, 1),
          lambda part: [r[part] for r in rows])
    return out.reshape(first.shape)
