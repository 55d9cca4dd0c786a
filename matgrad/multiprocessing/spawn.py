"""torch.multiprocessing.spawn: run fn(i, *args) in nprocs new processes and report the first failure.

    spawn(fn, args=(a,), nprocs=2)      # fn(0, a) and fn(1, a), each in its own process; returns when all end

If a process raises, the others are stopped and the parent raises ProcessRaisedException, whose message
holds the child's traceback; a process that dies without raising (os._exit, a signal) gives
ProcessExitedException with its exit code. As PyTorch's: each child writes its traceback to its own file,
which the parent reads once it sees the process exit with a non-zero code.
"""
from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import tempfile
import time
import traceback
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Callable

ENV_VAR_PARALLEL_START = "TORCH_MP_PARALLEL_START"  # PyTorch's variable: "1" starts forkserver processes at once

log = logging.getLogger(__name__)

__all__ = ["ProcessContext", "ProcessException", "ProcessExitedException", "ProcessRaisedException", "spawn",
           "SpawnContext", "start_processes"]


class ProcessException(Exception):
    """A spawned process failed: `error_index` is its i, `error_pid` its process id."""

    __slots__ = ["error_index", "error_pid"]

    def __init__(self, msg: str, error_index: int, error_pid: int) -> None:
        super().__init__(msg)
        self.msg, self.error_index, self.error_pid = msg, error_index, error_pid

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.msg, self.error_index, self.error_pid)


class ProcessRaisedException(ProcessException):
    """A spawned process raised; the message ends with its traceback."""


class ProcessExitedException(ProcessException):
    """A spawned process ended with a non-zero exit code or a signal, without raising."""

    __slots__ = ["exit_code"]

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int,
                 signal_name: str | None = None) -> None:
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.msg, self.error_index, self.error_pid, self.exit_code, self.signal_name)


def _wrap(fn: Callable[..., Any], i: int, args: tuple[Any, ...], error_file: str) -> None:
    """The child's entry point: fn(i, *args); on an exception, its traceback goes to error_file and exit code 1."""
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # stopped by the parent (SIGINT): not a failure of its own
    except Exception:
        with open(error_file, "wb") as fh:
            pickle.dump(traceback.format_exc(), fh)
        sys.exit(1)


class ProcessContext:
    """The spawned processes (spawn(..., join=False) returns it): `join()` until it returns True; `pids()`."""

    def __init__(self, processes: list[Any], error_files: list[str]) -> None:
        self.error_files, self.processes = error_files, processes
        self.sentinels = {process.sentinel: index for index, process in enumerate(processes)}

    def pids(self) -> list[int]:
        return [int(process.pid) for process in self.processes]

    def _join_procs_with_timeout(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        for process in self.processes:
            process.join(max(0.0, end - time.monotonic()))

    def join(self, timeout: float | None = None, grace_period: float | None = None) -> bool:
        """Wait (up to `timeout` s) for processes to end: True once all ended well, False while some run.

        When one ended with a non-zero code, the others get `grace_period` s, then SIGTERM, then SIGKILL,
        and the failure is raised: ProcessRaisedException (with the child's traceback) or ProcessExitedException.
        """
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(self.sentinels.keys(), timeout=timeout)
        error_index = None
        for sentinel in ready:
            index = self.sentinels.pop(sentinel)
            process = self.processes[index]
            process.join()
            if process.exitcode != 0:
                error_index = index
                break
        if error_index is None:
            return len(self.sentinels) == 0
        if grace_period is not None:
            self._join_procs_with_timeout(grace_period)
        for process in self.processes:
            if process.is_alive():
                log.warning("Terminating process %s via signal SIGTERM", process.pid)
                process.terminate()
        self._join_procs_with_timeout(30 if grace_period is None else grace_period)
        for process in self.processes:
            if process.is_alive():
                log.warning("Unable to shutdown process %s via SIGTERM , forcefully exiting via SIGKILL", process.pid)
                process.kill()
            process.join()
        failed = self.processes[error_index]
        if not os.access(self.error_files[error_index], os.R_OK):  # it did not raise: it exited or was killed
            code = failed.exitcode
            if code < 0:
                try:
                    name = signal.Signals(-code).name
                except ValueError:
                    name = f"<Unknown signal {-code}>"
                raise ProcessExitedException(f"process {error_index:d} terminated with signal {name}",
                                             error_index=error_index, error_pid=failed.pid, exit_code=code,
                                             signal_name=name)
            raise ProcessExitedException(f"process {error_index:d} terminated with exit code {code:d}",
                                         error_index=error_index, error_pid=failed.pid, exit_code=code)
        with open(self.error_files[error_index], "rb") as fh:
            original_trace = pickle.load(fh)
        os.unlink(self.error_files[error_index])
        msg = f"\n\n-- Process {error_index:d} terminated with the following error:\n" + original_trace
        raise ProcessRaisedException(msg, error_index, failed.pid)


class SpawnContext(ProcessContext):
    """ProcessContext's name before PyTorch 1.4 (warns)."""

    def __init__(self, processes: list[Any], error_files: list[str]) -> None:
        warnings.warn("SpawnContext is renamed to ProcessContext since 1.4 release.", stacklevel=2)
        super().__init__(processes, error_files)


def start_processes(fn: Callable[..., Any], args: tuple[Any, ...] = (), nprocs: int = 1, join: bool = True,
                    daemon: bool = False, start_method: str = "spawn") -> ProcessContext | None:
    """Start fn(i, *args) for i in range(nprocs) with `start_method` ('spawn', 'fork' or 'forkserver').

    join=True waits for all and raises the first failure (returns None); join=False returns the ProcessContext.
    """
    parallel = start_method == "forkserver" and os.environ.get(ENV_VAR_PARALLEL_START, "0") == "1"
    mp = multiprocessing.get_context(start_method)
    error_files: list[Any] = [None] * nprocs
    processes: list[Any] = [None] * nprocs

    def start_process(i: int) -> tuple[int, Any, str]:
        # a free name for the child's traceback: the file exists only if the child raised
        tf = tempfile.NamedTemporaryFile(prefix="matgrad-errorfile-", suffix=".pickle", delete=False)  # noqa: SIM115
        tf.close()
        os.unlink(tf.name)
        process = mp.Process(target=_wrap, args=(fn, i, args, tf.name), daemon=daemon)
        process.start()
        return i, process, tf.name

    if parallel:
        with ThreadPoolExecutor(max_workers=nprocs) as executor:
            for fut in as_completed([executor.submit(start_process, i) for i in range(nprocs)]):
                idx, process, name = fut.result()
                error_files[idx], processes[idx] = name, process
    else:
        for i in range(nprocs):
            idx, process, name = start_process(i)
            error_files[idx], processes[idx] = name, process
    context = ProcessContext(processes, error_files)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn: Callable[..., Any], args: tuple[Any, ...] = (), nprocs: int = 1, join: bool = True,
          daemon: bool = False, start_method: str = "spawn") -> ProcessContext | None:
    """Run fn(i, *args) in nprocs spawned processes (fn must be importable: defined at a module's top level).

    join=True: wait for all; if one raised, stop the others and raise ProcessRaisedException with its traceback.
    join=False: return the ProcessContext. start_method is always 'spawn' (others warn; see start_processes).
    """
    if start_method != "spawn":
        warnings.warn(f"This method only supports start_method=spawn (got: {start_method}).\nTo use a different "
                      "start_method use:\n\t\t matgrad.multiprocessing.start_processes(...)", FutureWarning,
                      stacklevel=2)
    return start_processes(fn, args, nprocs, join, daemon, start_method="spawn")
