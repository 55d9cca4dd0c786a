"""The CUDA device: CuPy's arrays on an NVIDIA GPU, loaded only when CUDA is asked for.

`load()` answers (backend, "") or (None, why not) and never raises: without CuPy it says what to
install; with CuPy but no driver or no GPU it says what CuPy reported. The ops need nothing from
here (NumPy's functions dispatch to CuPy's on CuPy arrays); this module gives what has no NumPy
counterpart on the GPU: `erf` (cupyx.scipy.special), the scatter-add behind index_add
(cupyx.scatter_add for `np.add.at`), moves to and from the host, seeding, and the fused
optimizer updates (one ElementwiseKernel each, where NumPy needs several passes).
"""
from __future__ import annotations

from typing import Any

from .backend import ArrayBackend, plain_namespace

INSTALL = 'pip install "matgrad[cuda]" (cupy-cuda12x; use cupy-cuda13x for CUDA 13 drivers)'


def load() -> tuple[ArrayBackend | None, str]:
    """The CUDA backend, or None and the reason there is none."""
    try:
        import cupy
    except ImportError:
        return None, f"CuPy is not installed: {INSTALL}"
    except Exception as e:  # noqa: BLE001 - a broken CuPy install: say what it said, don't fail the import
        return None, f"CuPy could not be imported ({type(e).__name__}: {e})"
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as e:  # noqa: BLE001 - no driver, no device: CuPy raises its own CUDA errors
        return None, (f"CuPy {cupy.__version__} is installed but found no usable NVIDIA GPU or driver "
                      f"({type(e).__name__}: {e})")
    if count == 0:
        return None, f"CuPy {cupy.__version__} is installed but found no NVIDIA GPU"
    import cupyx
    import cupyx.scipy.special

    def index_add(shape: tuple[int, ...], index: Any, values: Any, basic: bool) -> Any:
        out = cupy.zeros(shape, dtype=values.dtype)
        if basic:
            out[index] += values
        else:
            cupyx.scatter_add(out, index, values)
        return out

    def from_host(a: Any, index: int | None = None) -> Any:
        with cupy.cuda.Device(0 if index is None else index):
            return cupy.asarray(a)

    def seed(s: int) -> None:
        for i in range(count):
            with cupy.cuda.Device(i):
                cupy.random.seed(s)

    def synchronize(index: int | None = None) -> None:
        with cupy.cuda.Device(0 if index is None else index):
            cupy.cuda.runtime.deviceSynchronize()

    def name(index: int | None = None) -> str:
        props = cupy.cuda.runtime.getDeviceProperties(0 if index is None else index)
        raw = props["name"]
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    ns = plain_namespace("cupy", cupy, "cuda", erf=cupyx.scipy.special.erf, index_add=index_add)
    return ArrayBackend("cuda", cupy, cupy.ndarray, ns, to_host=cupy.asnumpy, from_host=from_host,
                        index_of=lambda a: a.device.id, device_count=count, seed=seed,
                        synchronize=synchronize, name=name, fused=_fused_kernels(cupy)), ""


def _fused_kernels(cupy: Any) -> dict[str, Any]:
    """One kernel per optimizer update (PyTorch's formulas; see matgrad/optim for the NumPy passes)."""
    sgd = cupy.ElementwiseKernel(
        "T g, T lr, T momentum, T dampening, T weight_decay, T nesterov, T first",
        "T p, T v",
        """
        T d = g + weight_decay * p;
        if (momentum != 0) {
            v = first != 0 ? d : momentum * v + (1 - dampening) * d;
            d = nesterov != 0 ? d + momentum * v : v;
        }
        p = p - lr * d;
        """,
        "matgrad_sgd")
    adam = cupy.ElementwiseKernel(
        "T g, T lr, T beta1, T beta2, T eps, T weight_decay, T decoupled, T bc1, T bc2",
        "T p, T m, T v",
        """
        T d = g;
        if (decoupled != 0) { p = p * (1 - lr * weight_decay); } else { d = g + weight_decay * p; }
        m = beta1 * m + (1 - beta1) * d;
        v = beta2 * v + (1 - beta2) * d * d;
        p = p - lr * (m / bc1) / (sqrt(v / bc2) + eps);
        """,
        "matgrad_adam")
    return {"sgd": sgd, "adam": adam}
