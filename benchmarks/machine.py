"""What the numbers were measured on: CPU, cores, BLAS, its kernel and threads, NumPy's SIMD, versions."""
from __future__ import annotations

import ctypes
import glob
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


def _openblas_runtime() -> dict[str, Any]:
    """The kernel and threads of the OpenBLAS NumPy loaded, asked of the library itself (ctypes).

    A build with DYNAMIC_ARCH picks its kernel (Haswell, SkylakeX, Zen...) when it loads, so the
    build configuration does not say which one runs; `*get_corename*` does.
    """
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*"))
    libs += glob.glob(os.path.join(os.path.dirname(np.__file__), ".dylibs", "*openblas*"))
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        out: dict[str, Any] = {}
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("64_", ""):
                for key, fn, restype in (("architecture", "get_corename", ctypes.c_char_p),
                                         ("config", "get_config", ctypes.c_char_p),
                                         ("num_threads", "get_num_threads", ctypes.c_int)):
                    f = getattr(lib, prefix + fn + suffix, None)
                    if f is not None and key not in out:
                        f.restype = restype
                        value = f()
                        out[key] = value.decode() if isinstance(value, bytes) else value
        if out:
            return out
    return {}


def blas_summary() -> dict[str, Any]:
    """NumPy's BLAS in one dict: name, version, the kernel that runs (architecture), threads.

    From threadpoolctl when installed, else from numpy.show_config and the library itself.
    """
    for pool in blas_info():
        if pool.get("user_api") == "blas":
            return {"name": pool.get("internal_api"), "version": pool.get("version"),
                    "architecture": pool.get("architecture"), "num_threads": pool.get("num_threads")}
    out: dict[str, Any] = {"name": None, "version": None, "architecture": None, "num_threads": None}
    try:
        dep = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        out["name"], out["version"] = dep.get("name"), dep.get("version")
    except Exception:  # older NumPy: no dict mode
        pass
    runtime = _openblas_runtime()
    if runtime:
        out["name"] = out["name"] or "openblas"
        out["architecture"] = runtime.get("architecture")
        out["num_threads"] = runtime.get("num_threads")
    return out


def simd() -> dict[str, list[str]]:
    """NumPy's SIMD levels: the baseline it was built for and the dispatched ones this CPU runs."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # NumPy 1.x
        from numpy.core import _multiarray_umath as umath
    features = umath.__cpu_features__
    return {"baseline": list(umath.__cpu_baseline__),
            "dispatched": [f for f in umath.__cpu_dispatch__ if features.get(f)]}


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
        "blas_summary": blas_summary(),
        "numpy_simd": simd(),
        "blas_env": {k: os.environ[k] for k in BLAS_ENV if k in os.environ},
        "versions": versions(),
        "platform": platform.platform(),
    }
