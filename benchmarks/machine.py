"""What the numbers were measured on: CPU, cores, BLAS and its threads, library versions."""
from __future__ import annotations

import os
import platform
import sys
from typing import Any

import numpy as np

#: Variables that change how fast NumPy's OpenBLAS runs; reported with every result.
BLAS_ENV = (
    "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
)


def cpu_model() -> str:
    """The CPU's name from /proc/cpuinfo (or platform's guess elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> list[dict[str, Any]]:
    """The thread pools loaded in this process (threadpoolctl), or [] without it."""
    try:
        import threadpoolctl
    except ImportError:
        return []
    return [
        {k: v for k, v in d.items() if k in ("user_api", "internal_api", "num_threads", "version",
                                               "architecture", "prefix")}
        for d in threadpoolctl.threadpool_info()
    ]


def blas_threads() -> int:
    """The number of threads NumPy's BLAS (so matgrad's matrix products) uses."""
    for pool in blas_info():
        if pool["user_api"] == "blas":
            return int(pool["num_threads"])
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def _dist_version(name: str) -> str:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # not installed as a distribution
        return "?"


def versions() -> dict[str, str]:
    """Python, NumPy, matgrad and (when installed) PyTorch versions."""
    out = {"python": sys.version.split()[0], "numpy": np.__version__}
    try:
        import matgrad

        out["matgrad"] = getattr(matgrad, "__version__", None) or _dist_version("matgrad")
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        out["torch"] = torch.__version__
    except ImportError:
        pass
    return out


def describe() -> dict[str, Any]:
    """Everything above in one dict, for the JSON and the table's header."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        affinity = os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "threads": blas_threads(),
        "blas": blas_info(),
        "blas_env": {k: os.environ[k] for k in BLAS_ENV if k in os.environ},
        "versions": versions(),
        "platform": platform.platform(),
    }
