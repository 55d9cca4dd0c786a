"""Loading in worker processes: what `DataLoader(num_workers=N)` runs (PyTorch's multiprocessing loader).

The main process runs the sampler and hands each worker, in turn, the index list of one batch
(a small message on the worker's task pipe). The worker calls the dataset's __getitem__ (or its
get_batch / __getitems__) and the collate function, writes every numeric array of the batch
into one shared-memory segment and sends back only the metadata: the segment's name, each
array's offset, dtype and shape, and the batch's structure. The main process copies the arrays
out, unlinks the segment at once, and hands out batches in sampler order.

    get_worker_info()   None in the main process; in a worker a WorkerInfo(id, num_workers, seed, dataset)

Seeds: each worker seeds Python's `random`, matgrad's generator (manual_seed) with
base_seed + worker_id, and NumPy's legacy global generator (np.random.seed) from a
SeedSequence of both. base_seed is drawn from the loader's generator (or the global one) when
an iterator is made, before the sampler draws, in one process as in many (as PyTorch), so a
seeded loader gives the same order whatever num_workers; persistent workers keep theirs.

Failures: an exception in a worker is raised again in the main process, of the same type when it
can be rebuilt from a message (else RuntimeError), with the text "Caught ValueError in DataLoader
worker process 1.\\nOriginal Traceback (most recent call last): ..." (PyTorch's). A worker that
dies (killed, crashed, exited) is seen through its process sentinel at the next wait, which is
bounded (at most _POLL_S between checks), and is a RuntimeError naming the worker, its pid and
its exit code. Workers watch for the main process dying (their parent pid changes) and exit.

Cleanup: segments are unlinked as soon as the main process has read them; on shutdown (the
epoch's end, an error, `del` of the iterator or loader, or interpreter exit) the workers are
told to stop, joined (terminated after _JOIN_S), their unread replies drained, and any segment
still named with the pool's prefix (a worker killed mid-batch) unlinked.
"""
from __future__ import annotations

import copy
import itertools
import multiprocessing
import multiprocessing.connection as mp_connection
import os
import pickle
import random
import secrets
import signal
import sys
import time
import traceback
import weakref
from multiprocessing import shared_memory
from typing import Any, Callable

import numpy as np

from .. import random as _random
from ..creation import from_numpy
from ..tensor import Tensor

_POLL_S = 0.5  # the longest the main process waits before looking at the workers again
_WATCHDOG_S = 1.0  # how often an idle worker checks that the main process is still there
_JOIN_S = 5.0  # how long shutdown waits for a worker to finish its batch before terminating it
_ALIGN = 64  # each array's offset in a segment
_SHM_PREFIX = "mgdl"
_SHM_DIR = "/dev/shm"

_worker_info: WorkerInfo | None = None


class WorkerInfo:
    """What a worker knows about itself: id, num_workers, seed, dataset (its own copy). Read-only."""

    __initialized = False

    def __init__(self, **kwargs: Any) -> None:
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key: str, val: Any) -> None:
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        super().__setattr__(key, val)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__keys)
        return f"{type(self).__name__}({items})"


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker, its WorkerInfo (id, num_workers, seed, dataset); None in the main process.

    Use it in an IterableDataset's __iter__ to give each worker its own share of the stream, or in
    worker_init_fn to configure the worker's copy of the dataset.
    """
    return _worker_info


# --- fetching a batch (the same code in the main process and in the workers) ----------------------------

class _MapFetcher:
    """One batch of a map-style dataset from its indices: get_batch, else __getitems__, else __getitem__."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable, fast: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.get_batch = getattr(dataset, "get_batch", None) if fast and auto_collation else None
        getitems = getattr(dataset, "__getitems__", None)
        self.getitems = getitems if callable(getitems) else None

    def fetch(self, index: Any) -> Any:
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.get_batch is not None:
            batch = self.get_batch(np.asarray(index, dtype=np.int64))
            if batch is not None:
                return batch
            self.get_batch = None  # the dataset declined: use the sample path from now on
        data = self.getitems(index) if self.getitems is not None else [self.dataset[i] for i in index]
        return self.collate_fn(data)


class _IterableFetcher:
    """The next batch of an iterable dataset's stream; StopIteration when it has none left."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool) -> None:
        self.iterator = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            try:
                sample = next(self.iterator)
            except StopIteration:
                self.ended = True
                raise
            return self.collate_fn(sample)
        data = []
        for _ in index:
            try:
                data.append(next(self.iterator))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            self.ended = True
            raise StopIteration
        return self.collate_fn(data)


def make_fetcher(iterable: bool, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool,
                 fast: bool) -> _MapFetcher | _IterableFetcher:
    if iterable:
        return _IterableFetcher(dataset, auto_collation, collate_fn, drop_last)
    return _MapFetcher(dataset, auto_collation, collate_fn, fast)


# --- batches through shared memory ------------------------------------------------------------------------

class _ArrayRef:
    """Stands for array `i` of a batch's segment; kind 0: ndarray, 1: Tensor, 2: Tensor requiring grad."""

    __slots__ = ("i", "kind")

    def __init__(self, i: int, kind: int) -> None:
        self.i, self.kind = i, kind

    def __reduce__(self) -> tuple:
        return (_ArrayRef, (self.i, self.kind))


def _strip(obj: Any, arrays: list) -> Any:
    """`obj` with its numeric arrays and Tensors moved into `arrays` and replaced by _ArrayRefs."""
    if isinstance(obj, Tensor):
        arr = np.asarray(obj)
        if arr.dtype.kind not in "biufc":
            return obj
        arrays.append(arr)
        return _ArrayRef(len(arrays) - 1, 2 if obj.requires_grad and obj.grad_fn is None else 1)
    if type(obj) is np.ndarray and obj.dtype.kind in "biufc":
        arrays.append(obj)
        return _ArrayRef(len(arrays) - 1, 0)
    return _map_structure(obj, lambda v: _strip(v, arrays))


def _fill(obj: Any, arrays: list) -> Any:
    """The inverse of _strip: _ArrayRefs replaced by their arrays (as Tensors where they were)."""
    if type(obj) is _ArrayRef:
        arr = arrays[obj.i]
        if obj.kind == 0:
            return arr
        t = from_numpy(arr)
        if obj.kind == 2:
            t.requires_grad = True
        return t
    return _map_structure(obj, lambda v: _fill(v, arrays))


def _map_structure(obj: Any, fn: Callable) -> Any:
    """`fn` applied to the items of a dict, list, tuple or namedtuple (same type back); others as they are."""
    kind = type(obj)
    if kind is dict:
        return {k: fn(v) for k, v in obj.items()}
    if kind is list:
        return [fn(v) for v in obj]
    if kind is tuple:
        return tuple(fn(v) for v in obj)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return kind(*(fn(v) for v in obj))
    if isinstance(obj, dict):
        mapped = {k: fn(v) for k, v in obj.items()}
        try:
            clone = copy.copy(obj)
            clone.update(mapped)
            return clone
        except Exception:
            return mapped
    return obj


def _write_segment(arrays: list, name: str) -> tuple[str | None, list]:
    """Copy `arrays` into a new shared-memory segment `name`; its name and each array's (offset, dtype, shape)."""
    specs, total = [], 0
    for a in arrays:
        off = -(-total // _ALIGN) * _ALIGN
        specs.append((off, a.dtype.str, a.shape))
        total = off + a.nbytes
    if total == 0:
        return None, specs
    shm = shared_memory.SharedMemory(name=name, create=True, size=total)
    try:
        for a, (off, dt, shape) in zip(arrays, specs):
            if a.size:
                dst = np.ndarray(shape, dtype=dt, buffer=shm.buf, offset=off)
                dst[...] = a
                del dst
    except BaseException:
        shm.close()
        shm.unlink()
        raise
    shm.close()
    return name, specs


def _read_segment(name: str | None, specs: list) -> list:
    """The arrays of segment `name` (copied out); the segment is unlinked."""
    if name is None:
        return [np.empty(shape, dtype=dt) for _, dt, shape in specs]
    shm = shared_memory.SharedMemory(name=name)
    try:
        out = []
        for off, dt, shape in specs:
            count = int(np.prod(shape, dtype=np.int64))
            if count == 0:
                out.append(np.empty(shape, dtype=dt))
            else:
                out.append(np.frombuffer(shm.buf, dtype=dt, count=count, offset=off).reshape(shape).copy())
        return out
    finally:
        try:
            shm.close()
        finally:
            shm.unlink()


def encode_batch(batch: Any, name: str) -> tuple:
    """A batch as (segment name, array specs, structure): the arrays go into the segment."""
    arrays: list = []
    skeleton = _strip(batch, arrays)
    seg, specs = _write_segment(arrays, name)
    return seg, specs, skeleton


def decode_batch(payload: tuple) -> Any:
    """The batch from encode_batch's payload (its segment unlinked)."""
    name, specs, skeleton = payload
    return _fill(skeleton, _read_segment(name, specs))


def _discard(payload: Any) -> None:
    """Unlink the segment of a reply nobody will read."""
    if isinstance(payload, tuple) and len(payload) == 3 and isinstance(payload[0], str):
        try:
            shm = shared_memory.SharedMemory(name=payload[0])
            shm.close()
            shm.unlink()
        except (FileNotFoundError, OSError):
            pass


def leftover_segments(prefix: str) -> list[str]:
    """Names of the shared-memory segments that start with `prefix` (Linux: /dev/shm), for cleanup and tests."""
    try:
        return sorted(n for n in os.listdir(_SHM_DIR) if n.startswith(prefix))
    except OSError:
        return []


def _unlink_leftovers(prefix: str) -> None:
    for name in leftover_segments(prefix):
        _discard((name, None, None))


# --- errors from workers ------------------------------------------------------------------------------------

class _KeyErrorMessage(str):
    """A KeyError's message that prints as itself (KeyError would show its repr), as PyTorch's."""

    def __repr__(self) -> str:
        return self


class WorkerError:
    """An exception caught in a worker: its type (when it can be pickled), its name and the traceback text."""

    def __init__(self, worker_id: int, exc: BaseException) -> None:
        self.worker_id = worker_id
        self.type_name = type(exc).__name__
        self.text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        try:
            pickle.dumps(type(exc))
            self.exc_type: type | None = type(exc)
        except Exception:
            self.exc_type = None

    def message(self) -> str:
        return f"Caught {self.type_name} in DataLoader worker process {self.worker_id}.\nOriginal {self.text}"

    def reraise(self) -> None:
        """Raise the worker's exception here: same type where it takes one message, else RuntimeError."""
        msg = self.message()
        exc_type = self.exc_type
        if exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        if exc_type is None or not issubclass(exc_type, Exception):
            raise RuntimeError(msg)
        try:
            exc = exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exc


# --- the worker process -------------------------------------------------------------------------------------

class _Resume:
    """Start epoch `epoch` (persistent workers): make a fresh fetcher and acknowledge."""

    __slots__ = ("epoch",)

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def __reduce__(self) -> tuple:
        return (_Resume, (self.epoch,))


def _seed_worker(seed: int, base_seed: int, worker_id: int) -> None:
    random.seed(seed)
    _random.manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))


def _worker_loop(iterable: bool, dataset: Any, task_conn: Any, result_conn: Any, worker_id: int, num_workers: int,
                 base_seed: int, worker_init_fn: Callable | None, auto_collation: bool, collate_fn: Callable,
                 drop_last: bool, fast: bool, parent_pid: int, shm_prefix: str) -> None:
    """A worker: fetch the batches it is sent, reply with each (through shared memory) or its error."""
    global _worker_info
    try:
        seed = base_seed + worker_id
        _seed_worker(seed, base_seed, worker_id)
        try:
            from ..threads import set_num_threads

            set_num_threads(1)  # N workers each with a full BLAS thread pool would oversubscribe the cores
        except Exception:
            pass
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        init_error: WorkerError | None = None
        fetcher: Any = None
        try:
            if worker_init_fn is not None:
                worker_init_fn(worker_id)
            fetcher = make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last, fast)
        except Exception as exc:
            init_error = WorkerError(worker_id, exc)
        counter = itertools.count()
        while True:
            if not task_conn.poll(_WATCHDOG_S):
                if os.getppid() != parent_pid:
                    return  # the main process is gone
                continue
            try:
                msg = task_conn.recv()
            except (EOFError, OSError):
                return
            if msg is None:
                return
            if type(msg) is _Resume:
                if init_error is None:
                    try:
                        fetcher = make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last, fast)
                    except Exception as exc:
                        init_error = WorkerError(worker_id, exc)
                result_conn.send((msg.epoch, -1, "resumed", None))
                continue
            epoch, idx, index = msg
            if init_error is not None:
                result_conn.send((epoch, idx, "error", init_error))
                continue
            try:
                batch = fetcher.fetch(index)
            except StopIteration:
                result_conn.send((epoch, idx, "end", None))
                continue
            except Exception as exc:
                result_conn.send((epoch, idx, "error", WorkerError(worker_id, exc)))
                continue
            try:
                payload = encode_batch(batch, f"{shm_prefix}{worker_id}_{next(counter)}")
                del batch
            except Exception as exc:
                result_conn.send((epoch, idx, "error", WorkerError(worker_id, exc)))
                continue
            try:
                result_conn.send((epoch, idx, "ok", payload))
            except Exception:
                _discard(payload)
                raise
    except KeyboardInterrupt:
        pass  # the main process gets its own KeyboardInterrupt
    except (BrokenPipeError, ConnectionResetError):
        pass  # the main process went away
    finally:
        for conn in (task_conn, result_conn):
            try:
                conn.close()
            except OSError:
                pass


# --- the main process's side --------------------------------------------------------------------------------

def default_context() -> Any:
    """'fork' on Linux (cheap: the dataset is not pickled), else 'spawn'."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") and "fork" in methods else "spawn")


def draw_base_seed(generator: Any) -> int:
    """The epoch's base seed, drawn from the loader's generator (or the global one) as PyTorch draws it:
    once per iterator, in one process or many, before the sampler's first draw."""
    return int(_random.numpy_generator(generator).integers(0, 2**63, dtype=np.int64))


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "an unknown exit code"
    if code < 0:
        try:
            return f"exit code {code} (killed by signal {signal.Signals(-code).name})"
        except ValueError:
            return f"exit code {code} (killed by signal {-code})"
    return f"exit code {code}"


class _Pool:
    """The worker processes and their pipes; shutdown() is safe to call twice and from a finalizer."""

    def __init__(self, ctx: Any, num_workers: int, make_args: Callable[[int, Any, Any, str], tuple]) -> None:
        self.owner_pid = os.getpid()
        self.prefix = f"{_SHM_PREFIX}{self.owner_pid}_{secrets.token_hex(3)}_"
        self.processes: list = []
        self.task_conns: list = []
        self.result_conns: list = []
        self.closed = False
        if os.name == "posix":
            from multiprocessing import resource_tracker

            resource_tracker.ensure_running()  # one tracker, shared by the workers (they inherit it)
        try:
            for wid in range(num_workers):
                task_r, task_w = ctx.Pipe(duplex=False)
                res_r, res_w = ctx.Pipe(duplex=False)
                p = ctx.Process(target=_worker_loop, args=make_args(wid, task_r, res_w, self.prefix), daemon=True,
                                name=f"DataLoader worker {wid}")
                self.task_conns.append(task_w)
                self.result_conns.append(res_r)
                try:
                    p.start()
                finally:
                    task_r.close()
                    res_w.close()
                self.processes.append(p)
        except BaseException:
            self.shutdown()
            raise

    def send(self, wid: int, msg: Any) -> None:
        try:
            self.task_conns[wid].send(msg)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.check_alive()
            raise

    def dead_worker_error(self, wid: int) -> RuntimeError:
        p = self.processes[wid]
        p.join(timeout=1.0)
        return RuntimeError(f"DataLoader worker {wid} (pid {p.pid}) exited unexpectedly with "
                            f"{_describe_exit(p.exitcode)}")

    def check_alive(self) -> None:
        for wid, p in enumerate(self.processes):
            if not p.is_alive():
                err = self.dead_worker_error(wid)
                self.shutdown()
                raise err

    def receive(self, timeout: float) -> tuple[int, Any]:
        """The next reply from any worker, as (worker id, message). Raises if a worker died or on timeout."""
        conn_ids = {id(c): wid for wid, c in enumerate(self.result_conns)}
        sentinels = {p.sentinel: wid for wid, p in enumerate(self.processes)}
        start = time.monotonic()
        while True:
            wait_s = _POLL_S if timeout <= 0 else max(0.0, min(_POLL_S, start + timeout - time.monotonic()))
            ready = mp_connection.wait(self.result_conns + list(sentinels), timeout=wait_s)
            for obj in ready:
                wid = conn_ids.get(id(obj))
                if wid is not None and not isinstance(obj, int):
                    try:
                        return wid, obj.recv()
                    except (EOFError, OSError):
                        err = self.dead_worker_error(wid)
                        self.shutdown()
                        raise err from None
            for obj in ready:
                if isinstance(obj, int):
                    wid = sentinels[obj]
                    if self.result_conns[wid].poll(0):
                        continue  # its last reply first (read on the next round)
                    err = self.dead_worker_error(wid)
                    self.shutdown()
                    raise err
            if timeout > 0 and not ready and time.monotonic() - start >= timeout:
                raise RuntimeError(f"DataLoader timed out after {timeout} seconds")

    def shutdown(self) -> None:
        """Stop the workers (terminate them after _JOIN_S), drain their replies, unlink every segment left."""
        if self.closed or os.getpid() != self.owner_pid:
            return
        self.closed = True
        for conn in self.task_conns:
            try:
                conn.send(None)
            except Exception:
                pass
        deadline = time.monotonic() + _JOIN_S
        alive = [p for p in self.processes if p.exitcode is None]
        while alive and time.monotonic() < deadline:
            self._drain()  # a worker blocked on a full pipe would never read its stop message
            mp_connection.wait([p.sentinel for p in alive], timeout=0.05)
            alive = [p for p in alive if p.exitcode is None and p.is_alive()]
        for p in alive:
            p.terminate()
        for p in alive:
            p.join(timeout=1.0)
            if p.is_alive():
                p.kill()
                p.join(timeout=1.0)
        self._drain()
        for conn in self.task_conns + self.result_conns:
            try:
                conn.close()
            except Exception:
                pass
        _unlink_leftovers(self.prefix)

    def _drain(self) -> None:
        for conn in self.result_conns:
            try:
                while not conn.closed and conn.poll(0):
                    msg = conn.recv()
                    if isinstance(msg, tuple) and len(msg) == 4 and msg[2] == "ok":
                        _discard(msg[3])
            except Exception:
                pass


class MultiProcessIter:
    """An epoch of a DataLoader with num_workers > 0: batches in sampler order (or as ready, in_order=False)."""

    def __init__(self, loader: Any, base_seed: int) -> None:
        self._iterable = loader._is_iterable
        self._index_sampler = loader._index_sampler
        self._num_workers = int(loader.num_workers)
        self._max_tasks = max(1, int(loader.prefetch_factor)) * self._num_workers
        self._persistent = bool(loader.persistent_workers)
        self._timeout = float(loader.timeout)
        self._in_order = bool(getattr(loader, "in_order", True))
        self._length = loader._length_or_none()
        dataset, collate_fn, init_fn = loader.dataset, loader.collate_fn, loader.worker_init_fn
        auto, drop_last, fast = loader._auto_collation, loader.drop_last, loader._fast_batches
        ctx = loader._mp_context()
        parent = os.getpid()
        self._epoch = 0
        self._pool: _Pool | None = None

        def make_args(wid: int, task_r: Any, res_w: Any, prefix: str) -> tuple:
            return (self._iterable, dataset, task_r, res_w, wid, self._num_workers, base_seed, init_fn, auto,
                    collate_fn, drop_last, fast, parent, prefix)

        pool = _Pool(ctx, self._num_workers, make_args)
        self._pool = pool
        self._finalizer = weakref.finalize(self, pool.shutdown)
        self._start_epoch()

    # --- bookkeeping ---------------------------------------------------------------------------------------
    def _start_epoch(self) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._sampler_done = False
        self._send_idx = 0
        self._rcvd_idx = 0
        self._pending: dict[int, int] = {}  # task -> worker, awaiting a reply
        self._ready: dict[int, tuple] = {}  # task -> ("ok", batch) or ("error", WorkerError)
        self._active = [True] * self._num_workers
        self._next_worker = itertools.cycle(range(self._num_workers))
        self._finished = False
        for _ in range(self._max_tasks):
            self._try_put_index()

    def _try_put_index(self) -> None:
        if self._sampler_done or len(self._pending) >= self._max_tasks or not any(self._active):
            return
        for _ in range(self._num_workers):
            wid = next(self._next_worker)
            if self._active[wid]:
                break
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            self._sampler_done = True
            return
        self._pool.send(wid, (self._epoch, self._send_idx, index))
        self._pending[self._send_idx] = wid
        self._send_idx += 1

    def _handle(self, wid: int, msg: Any) -> None:
        epoch, idx, status, payload = msg
        if epoch != self._epoch or idx not in self._pending:
            if status == "ok":
                _discard(payload)  # a reply from an abandoned epoch
            return
        del self._pending[idx]
        if status == "end":
            self._active[wid] = False
            self._try_put_index()
        elif status == "ok":
            self._ready[idx] = ("ok", decode_batch(payload))
        else:
            self._ready[idx] = ("error", payload)

    def _deliver(self, idx: int) -> Any:
        status, value = self._ready.pop(idx)
        self._try_put_index()
        if status == "error":
            value.reraise()
        return value

    def __iter__(self) -> MultiProcessIter:
        return self

    def __next__(self) -> Any:
        if self._finished or self._pool is None or self._pool.closed:
            raise StopIteration
        while True:
            if self._in_order:
                while self._rcvd_idx < self._send_idx and self._rcvd_idx not in self._pending \
                        and self._rcvd_idx not in self._ready:
                    self._rcvd_idx += 1  # a task that gave nothing (an iterable worker had ended)
                if self._rcvd_idx in self._ready:
                    idx = self._rcvd_idx
                    self._rcvd_idx += 1
                    return self._deliver(idx)
            elif self._ready:
                return self._deliver(next(iter(self._ready)))
            if not self._pending:
                self._try_put_index()
                if not self._pending:
                    self._finish()
                    raise StopIteration
                continue
            wid, msg = self._pool.receive(self._timeout)
            self._handle(wid, msg)

    def __len__(self) -> int:
        if self._length is None:
            raise TypeError("this DataLoader's dataset has no len()")
        return self._length

    def _finish(self) -> None:
        self._finished = True
        if not self._persistent:
            self._shutdown()

    def _reset(self, loader: Any) -> None:
        """A new epoch on the same (persistent) workers: fresh sampler order; stale replies are dropped."""
        if self._pool is None or self._pool.closed:
            raise RuntimeError("DataLoader: the persistent workers have been shut down")
        self._index_sampler = loader._index_sampler
        self._length = loader._length_or_none()
        self._epoch += 1
        for wid in range(self._num_workers):
            self._pool.send(wid, _Resume(self._epoch))
        waiting = set(range(self._num_workers))
        while waiting:
            wid, msg = self._pool.receive(self._timeout)
            epoch, _, status, payload = msg
            if status == "resumed" and epoch == self._epoch:
                waiting.discard(wid)
            elif status == "ok":
                _discard(payload)
        self._start_epoch()

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._finalizer()  # runs pool.shutdown once

    @property
    def shm_prefix(self) -> str:
        """The prefix of this iterator's shared-memory segment names (for tests of the cleanup)."""
        return self._pool.prefix if self._pool is not None else ""
