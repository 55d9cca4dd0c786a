"""Data parallelism over MPI, with torch.distributed's names.

    import matgrad.distributed as dist
    dist.init_process_group("mpi")          # under `mpiexec -n 4 python train.py`
    rank, world = dist.get_rank(), dist.get_world_size()
    dist.all_reduce(t, op=dist.ReduceOp.AVG)  # in place, on every rank

The collectives work in place on Tensors (their NumPy arrays) through mpi4py's buffer calls
(upper-case: no pickling, and no copy for a C-contiguous array). The group is mpiexec's
COMM_WORLD: `init_process_group` reads the rank and size from MPI itself, so the environment
that mpiexec sets up (any MPI: MPICH from PyPI's `mpich` wheel, Open MPI, Intel MPI) is all it
needs. Without mpiexec a lone process is a group of one.

Faults: after `init_process_group`, an exception that reaches the top of any rank prints
"rank R: <error>" and calls MPI_Abort, which stops every rank (mpiexec reports it) instead of
leaving the others waiting forever in a collective. A rank killed by a signal makes mpiexec
stop the rest.

Install: `pip install "matgrad[mpi]"` (mpi4py>=4.1 and the `mpich` wheel).
"""
from __future__ import annotations

import os
import sys
import time
import traceback
from typing import Any, Sequence

import numpy as np

from ..tensor import Tensor

__all__ = [
    "ReduceOp", "Work", "init_process_group", "is_initialized", "is_available", "get_rank", "get_world_size",
    "destroy_process_group", "all_reduce", "broadcast", "all_gather", "reduce", "barrier", "get_backend",
    "MPI_MISSING", "abort", "broadcast_bytes", "gather_bytes", "launched_by_mpiexec",
]

MPI_MISSING = 'matgrad.distributed needs mpi4py and an MPI library: pip install "matgrad[mpi]" (mpi4py>=4.1, mpich)'

_state: dict[str, Any] = {"comm": None, "hook": None}


def _mpi() -> Any:
    """mpi4py's MPI module, or a one-line error saying what to install."""
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError) as e:  # mpi4py absent, or present without an MPI library
        raise RuntimeError(f"{MPI_MISSING} ({e})") from None
    return MPI


def is_available() -> bool:
    """Whether mpi4py and an MPI library can be loaded."""
    try:
        _mpi()
    except RuntimeError:
        return False
    return True


class ReduceOp:
    """How all_reduce/reduce combine: SUM, AVG (sum / world size), MAX, MIN, PRODUCT."""

    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"
    PRODUCT = "product"


def _mpi_op(op: Any) -> Any:
    MPI = _mpi()
    table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.MAX: MPI.MAX, ReduceOp.MIN: MPI.MIN,
             ReduceOp.PRODUCT: MPI.PROD}
    if op not in table:
        raise ValueError(f"unknown reduce op {op!r}; use ReduceOp.SUM, AVG, MAX, MIN or PRODUCT")
    return table[op]


def _excepthook(kind: type, value: BaseException, tb: Any) -> None:
    """An uncaught exception on one rank: say which rank and why, then stop every rank."""
    prev = _state.get("prev_hook") or sys.__excepthook__
    comm = _state["comm"]
    if comm is None or comm.Get_size() == 1:
        prev(kind, value, tb)
        return
    rank = comm.Get_rank()
    err = sys.__stderr__ or sys.stderr  # the real stream: ranks other than 0 may have silenced sys.stderr
    try:
        traceback.print_exception(kind, value, tb, file=err)
        err.write(f"matgrad.distributed: rank {rank} of {comm.Get_size()} failed with "
                  f"{kind.__name__}: {value}; aborting all ranks\n")
        err.flush()
        # mpiexec forwards each rank's stderr through its proxy; Abort tears the proxies down at once,
        # and on a busy machine the lines above were lost (CI saw an empty stderr). A moment lets them out.
        time.sleep(1.0)
    finally:
        comm.Abort(1)


def init_process_group(backend: str = "mpi", init_method: str | None = None, timeout: Any = None,
                       world_size: int = -1, rank: int = -1, **kwargs: Any) -> None:
    """Join mpiexec's group of processes (COMM_WORLD); rank and size come from MPI itself.

    `backend` must be "mpi" (the only one here). `world_size`/`rank`, if given, are checked
    against what MPI reports. Also installs the abort-all-ranks exception hook (see the module doc).
    """
    if backend not in ("mpi", None):
        raise ValueError(f"init_process_group: backend {backend!r} is not available here; use backend='mpi'")
    if _state["comm"] is not None:
        raise RuntimeError("trying to initialize the default process group twice")
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    if world_size not in (-1, None) and world_size != comm.Get_size():
        raise ValueError(f"init_process_group: world_size={world_size} but mpiexec started {comm.Get_size()} ranks")
    if rank not in (-1, None) and rank != comm.Get_rank():
        raise ValueError(f"init_process_group: rank={rank} but MPI says this is rank {comm.Get_rank()}")
    _state["comm"] = comm
    if sys.excepthook is not _excepthook:
        _state["prev_hook"] = sys.excepthook
        sys.excepthook = _excepthook


def is_initialized() -> bool:
    """Whether init_process_group has been called (and not undone)."""
    return _state["comm"] is not None


def _comm(group: Any = None) -> Any:
    if group is not None:
        return group
    comm = _state["comm"]
    if comm is None:
        raise RuntimeError("Default process group has not been initialized, please make sure to call "
                           "init_process_group.")
    return comm


def get_backend(group: Any = None) -> str:
    _comm(group)
    return "mpi"


def get_rank(group: Any = None) -> int:
    """This process's rank in the group (0 when not initialized, as a lone process)."""
    if group is None and _state["comm"] is None:
        return 0
    return _comm(group).Get_rank()


def get_world_size(group: Any = None) -> int:
    """How many ranks the group has (1 when not initialized)."""
    if group is None and _state["comm"] is None:
        return 1
    return _comm(group).Get_size()


def destroy_process_group(group: Any = None) -> None:
    """Leave the group; the exception hook goes back to what it was. (MPI itself finalizes at exit.)"""
    _state["comm"] = None
    if sys.excepthook is _excepthook:
        sys.excepthook = _state.pop("prev_hook", None) or sys.__excepthook__


def _array(tensor: Any, what: str) -> np.ndarray:
    if isinstance(tensor, Tensor):
        return tensor.array
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"{what}: expected a Tensor, got {type(tensor).__name__}")


class Work:
    """What an async_op=True collective returns: `.wait()` finishes it, `.is_completed()` asks."""

    def __init__(self, request: Any = None, finish: Any = None) -> None:
        self._request, self._finish, self._done = request, finish, request is None

    def is_completed(self) -> bool:
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def wait(self, timeout: Any = None) -> bool:
        if not self._done:
            self._request.Wait()
            self._complete()
        return True

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            self._finish()
            self._finish = None


def _in_place(arr: np.ndarray) -> tuple[np.ndarray, Any]:
    """A C-contiguous buffer for `arr` (itself if it is one) and how to copy a result back."""
    if arr.flags.c_contiguous:
        return arr, None
    buf = np.ascontiguousarray(arr)

    def back() -> None:
        arr[...] = buf
    return buf, back


def _then(*steps: Any) -> Any:
    steps = [s for s in steps if s is not None]
    if not steps:
        return None

    def run() -> None:
        for s in steps:
            s()
    return run


def all_reduce(tensor: Tensor, op: Any = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> Work | None:
    """Combine `tensor` over all ranks, in place on every rank (MPI_Allreduce / MPI_Iallreduce)."""
    comm, arr = _comm(group), _array(tensor, "all_reduce")
    mop = _mpi_op(op)
    if op == ReduceOp.AVG and arr.dtype.kind != "f":
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating tensor, got {arr.dtype}")
    buf, back = _in_place(arr)
    MPI = _mpi()
    size = comm.Get_size()

    def average() -> None:
        buf[...] /= size
    finish = _then(average if op == ReduceOp.AVG else None, back)
    if async_op:
        return Work(comm.Iallreduce(MPI.IN_PLACE, buf, op=mop), finish)
    comm.Allreduce(MPI.IN_PLACE, buf, op=mop)
    if finish is not None:
        finish()
    return Work() if async_op else None


def reduce(tensor: Tensor, dst: int = 0, op: Any = ReduceOp.SUM, group: Any = None,
           async_op: bool = False) -> Work | None:
    """Combine `tensor` over all ranks into rank `dst`'s tensor, in place (others keep theirs)."""
    comm, arr = _comm(group), _array(tensor, "reduce")
    mop = _mpi_op(op)
    MPI = _mpi()
    buf, back = _in_place(arr)
    root = comm.Get_rank() == dst
    if root:
        comm.Reduce(MPI.IN_PLACE, buf, op=mop, root=dst)
        if op == ReduceOp.AVG:
            buf[...] /= comm.Get_size()
        if back is not None:
            back()
    else:
        comm.Reduce(buf, None, op=mop, root=dst)
    return Work() if async_op else None


def broadcast(tensor: Tensor, src: int = 0, group: Any = None, async_op: bool = False) -> Work | None:
    """Copy rank `src`'s tensor into every rank's, in place (MPI_Bcast / MPI_Ibcast)."""
    comm, arr = _comm(group), _array(tensor, "broadcast")
    buf, back = _in_place(arr)
    if async_op:
        return Work(comm.Ibcast(buf, root=src), back)
    comm.Bcast(buf, root=src)
    if back is not None:
        back()
    return None


def all_gather(tensor_list: Sequence[Tensor], tensor: Tensor, group: Any = None, async_op: bool = False) -> Work | None:
    """Fill `tensor_list[r]` with rank r's `tensor`, on every rank (MPI_Allgather)."""
    comm, arr = _comm(group), _array(tensor, "all_gather")
    size = comm.Get_size()
    if len(tensor_list) != size:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors for a group of {size} ranks")
    outs = [_array(t, "all_gather") for t in tensor_list]
    for o in outs:
        if o.shape != arr.shape or o.dtype != arr.dtype:
            raise ValueError(f"all_gather: every output must be like the input {arr.shape} {arr.dtype}, "
                             f"got {o.shape} {o.dtype}")
    recv = np.empty((size,) + arr.shape, dtype=arr.dtype)
    comm.Allgather(np.ascontiguousarray(arr), recv)
    for o, r in zip(outs, recv):
        o[...] = r
    return Work() if async_op else None


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group: Any = None,
                           async_op: bool = False) -> Work | None:
    """Rank r's `input_tensor` into the r-th chunk (along dim 0) of `output_tensor`, on every rank."""
    comm = _comm(group)
    out, arr = _array(output_tensor, "all_gather_into_tensor"), _array(input_tensor, "all_gather_into_tensor")
    if out.size != arr.size * comm.Get_size() or out.dtype != arr.dtype:
        raise ValueError(f"all_gather_into_tensor: output {out.shape} {out.dtype} does not hold "
                         f"{comm.Get_size()} inputs of {arr.shape} {arr.dtype}")
    buf, back = _in_place(out)
    comm.Allgather(np.ascontiguousarray(arr), buf)
    if back is not None:
        back()
    return Work() if async_op else None


def barrier(group: Any = None, async_op: bool = False) -> Work | None:
    """Wait until every rank has reached this call."""
    _comm(group).Barrier()
    return Work() if async_op else None


def gather_bytes(data: bytes, group: Any = None) -> list[bytes]:
    """Every rank's `data` on every rank, as byte buffers (Allgather of lengths, then Allgatherv)."""
    comm = _comm(group)
    size = comm.Get_size()
    n = np.array([len(data)], dtype=np.int64)
    lens = np.empty(size, dtype=np.int64)
    comm.Allgather(n, lens)
    out = np.empty(int(lens.sum()), dtype=np.uint8)
    displs = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    comm.Allgatherv(np.frombuffer(data, dtype=np.uint8) if data else np.empty(0, np.uint8),
                    [out, (lens.tolist(), displs.tolist())])
    return [out[d:d + n_].tobytes() for d, n_ in zip(displs.tolist(), lens.tolist())]


def launched_by_mpiexec() -> bool:
    """Whether this process looks started by mpiexec (MPICH/Hydra, Open MPI, Intel MPI, Slurm's PMI)."""
    return any(k in os.environ for k in ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK",
                                          "MPI_LOCALNRANKS", "HYDI_CONTROL_FD"))


def abort(rank_message: str, code: int = 1) -> None:
    """Print `rank_message` (prefixed with this rank) to the real stderr and stop every rank."""
    comm = _comm()
    err = sys.__stderr__ or sys.stderr
    err.write(f"matgrad.distributed: rank {comm.Get_rank()} of {comm.Get_size()}: {rank_message}; "
              "aborting all ranks\n")
    err.flush()
    comm.Abort(code)


def broadcast_bytes(data: bytes | None, src: int = 0, group: Any = None) -> bytes:
    """Rank `src`'s `data` on every rank (others pass None)."""
    comm = _comm(group)
    n = np.array([len(data) if comm.Get_rank() == src and data is not None else 0], dtype=np.int64)
    comm.Bcast(n, root=src)
    buf = np.frombuffer(data, dtype=np.uint8).copy() if comm.Get_rank() == src else np.empty(int(n[0]), np.uint8)
    comm.Bcast(buf, root=src)
    return buf.tobytes()
