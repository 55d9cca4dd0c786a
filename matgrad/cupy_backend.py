"""The CUDA device: CuPy's arrays on an NVIDIA GPU, loaded only when CUDA is asked for.

`load()` answers (backend, "") or (None, why not) and never raises: without CuPy it says what to
install; with CuPy but no driver or no GPU it says what CuPy reported. The ops need nothing from
here (NumPy's functions dispatch to CuPy's on CuPy arrays); this module gives what has no NumPy
counterpart on the GPU: `erf`, `erfc` and the other special functions CuPy has (cupyx.scipy.special:
SPECIAL), the scatter-add behind index_add (cupyx.scatter_add for `np.add.at`), moves to and from the
host, seeding, and the fused optimizer updates and bias + activation chains (one ElementwiseKernel each,
where NumPy needs several passes).

The backend's `xp` is CuPy seen through `device_module`: the same module, but for `linalg.inv`,
`.solve` and `.cholesky`, which raise numpy.linalg.LinAlgError on a singular (not positive-definite)
input as NumPy's do. CuPy's own do not by default: they check cuSOLVER's info only under
`cupyx.errstate(linalg='raise')`, and return garbage otherwise.
"""
from __future__ import annotations

import types
from typing import Any

from .backend import ArrayBackend, plain_namespace

INSTALL = 'pip install "matgrad[cuda]" (cupy-cuda12x; use cupy-cuda13x for CUDA 13 drivers)'
#: cupyx.scipy.special's functions the ops use where CuPy has them (matgrad.ops.special; the host otherwise)
SPECIAL = ("gammaln", "digamma", "polygamma", "erfinv", "i0", "i1", "gammainc", "gammaincc")
#: the linalg functions `device_module` runs under cupyx.errstate(linalg='raise')
CHECKED_LINALG = ("inv", "solve", "cholesky")


class _Forward(types.ModuleType):
    """A module that is `base` but for the attributes set on it."""

    def __init__(self, name: str, base: Any) -> None:
        super().__init__(name)
        self._base = base

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._base, name)


def _checked(fn: Any, errstate: Any) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        with errstate(linalg="raise"):  # cuSOLVER's info checked: numpy.linalg.LinAlgError, as NumPy
            return fn(*args, **kwargs)
    call.__name__ = getattr(fn, "__name__", "linalg")
    call.__doc__ = f"{call.__name__} that raises numpy.linalg.LinAlgError where NumPy's does."
    return call


def device_module(cupy: Any, cupyx: Any) -> types.ModuleType:
    """`cupy` with `linalg.inv`, `.solve` and `.cholesky` raising numpy.linalg.LinAlgError on a singular (or not
    positive-definite) input, as NumPy's: what the backend offers as `xp` (linalg.py, ops/decomp.py call it)."""
    linalg = _Forward(f"{cupy.__name__}.linalg", cupy.linalg)
    for name in CHECKED_LINALG:
        setattr(linalg, name, _checked(getattr(cupy.linalg, name), cupyx.errstate))
    module = _Forward(cupy.__name__, cupy)
    module.linalg = linalg
    return module


#: the target dtypes CuPy's `ufunc.at` (and cupyx.scatter_add/max/min) take (cupy/_core/_routines_indexing.pyx):
#: not int64 nor bool, and no float16 for maximum/minimum; `multiply.at` not at all. `ufunc_at` does the rest.
UFUNC_AT = {
    "add": ("int32", "float16", "float32", "float64", "uint32", "uint64"),
    "maximum": ("int32", "float32", "float64", "uint32", "uint64"),
    "minimum": ("int32", "float32", "float64", "uint32", "uint64"),
    "multiply": (),
}


def ufunc_at(xp: Any, ufunc: Any, out: Any, index: Any, values: Any) -> None:
    """`ufunc.at(out, index, values)` (add, multiply, maximum, minimum) on a CuPy-like device: CuPy's own where
    it has one for out's dtype, else `segmented_at`."""
    name = ufunc.__name__
    if name not in UFUNC_AT:
        raise NotImplementedError(f"ufunc_at: {name}.at is not written for devices (add, multiply, maximum, minimum)")
    if out.dtype.name in UFUNC_AT[name]:
        getattr(xp, name).at(out, index, values)
    else:
        segmented_at(xp, name, out, index, values)


def segmented_at(xp: Any, name: str, out: Any, index: Any, values: Any) -> None:
    """out[index] = op(out[index], values) with repeats combining, for an associative op (add, multiply, maximum,
    minimum), from array operations alone: the values are sorted by the flat place they go to and combined
    per place by a segmented inclusive scan (Hillis-Steele, ⌈log₂(most repeats)⌉ passes), then each place is
    updated once. Exact for integers and bools; a float sum or product rounds in another order than NumPy's."""
    op = getattr(xp, name)
    pos = xp.arange(out.size).reshape(out.shape)[index]  # the flat place each value goes to
    vals = xp.broadcast_to(xp.asarray(values, dtype=out.dtype), pos.shape).reshape(-1)
    pos = pos.reshape(-1)
    if pos.size == 0:
        return
    order = xp.argsort(pos)
    pos, vals = pos[order], vals[order]
    first = xp.searchsorted(pos, pos, side="left")  # where each value's place starts in the sorted order
    end = xp.searchsorted(pos, pos, side="right")
    i = xp.arange(pos.size)
    most, step = int((end - first).max()), 1
    while step < most:  # vals[i] becomes op over vals[first[i] .. i]
        prev = vals[xp.maximum(i - step, 0)]
        vals = xp.where(i - step >= first, op(prev, vals), vals)
        step *= 2
    last = i == end - 1
    target = out if out.flags.c_contiguous else xp.ascontiguousarray(out)
    flat = target.reshape(-1)  # a view: writes land in target
    places = pos[last]
    flat[places] = op(flat[places], vals[last])  # one value a place: plain indexing is exact
    if target is not out:
        out[...] = target


def index_add_kernel(cupy: Any, cupyx: Any) -> Any:
    """The namespace's index_add: cupyx.scatter_add where an index repeats (CuPy has `add.at` only from v12), or
    `segmented_at` for the dtypes it does not take (int64, bool ...)."""
    def index_add(shape: tuple[int, ...], index: Any, values: Any, basic: bool) -> Any:
        out = cupy.zeros(shape, dtype=values.dtype)
        if basic:
            out[index] += values
        elif out.dtype.name in UFUNC_AT["add"]:
            cupyx.scatter_add(out, index, values)
        else:
            segmented_at(cupy, "add", out, index, values)
        return out
    return index_add


def device_namespace(name: str, xp: Any, cupyx: Any) -> Any:
    """The plain namespace a CuPy-like device's backward passes run on, with cupyx.scipy.special's kernels
    (erf, erfc, and those of SPECIAL this CuPy has) and the scatter-add behind index_add."""
    special = cupyx.scipy.special
    kernels = {n: getattr(special, n) for n in SPECIAL if hasattr(special, n)}
    return plain_namespace(name, xp, "cuda", erf=special.erf, erfc=special.erfc,
                           index_add=index_add_kernel(xp, cupyx), **kernels)


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

    def from_host(a: Any, index: int | None = None) -> Any:
        if index is None:  # "cuda": the current device (matgrad.cuda.set_device)
            return cupy.asarray(a)
        with cupy.cuda.Device(index):
            return cupy.asarray(a)

    def seed(s: int) -> None:
        for i in range(count):
            with cupy.cuda.Device(i):
                cupy.random.seed(s)

    def current() -> int:
        return int(cupy.cuda.runtime.getDevice())

    def synchronize(index: int | None = None) -> None:
        with cupy.cuda.Device(current() if index is None else index):
            cupy.cuda.runtime.deviceSynchronize()

    def name(index: int | None = None) -> str:
        props = cupy.cuda.runtime.getDeviceProperties(current() if index is None else index)
        raw = props["name"]
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    def properties(index: int) -> dict[str, Any]:
        props = cupy.cuda.runtime.getDeviceProperties(index)
        return {"name": name(index), "major": props.get("major", 0), "minor": props.get("minor", 0),
                "total_memory": props.get("totalGlobalMem", 0),
                "multi_processor_count": props.get("multiProcessorCount", 0)}

    def memory(index: int) -> tuple[int, int]:
        with cupy.cuda.Device(index):  # the default pool is per device
            pool = cupy.get_default_memory_pool()
            return int(pool.used_bytes()), int(pool.total_bytes())

    def empty_cache() -> None:
        for i in range(count):
            with cupy.cuda.Device(i):
                cupy.get_default_memory_pool().free_all_blocks()

    xp = device_module(cupy, cupyx)
    ns = device_namespace("cupy", xp, cupyx)
    backend = ArrayBackend("cuda", xp, cupy.ndarray, ns, to_host=cupy.asnumpy, from_host=from_host,
                           index_of=lambda a: a.device.id, device_count=count, seed=seed,
                           synchronize=synchronize, name=name, fused=_fused_kernels(cupy))
    # what matgrad.cuda asks for beyond ArrayBackend's fields (each optional there)
    backend.current_device = current
    backend.set_device = lambda index: cupy.cuda.Device(index).use()
    backend.properties = properties
    backend.memory = memory
    backend.empty_cache = empty_cache
    return backend, ""


def _fused_kernels(cupy: Any) -> dict[str, Any]:
    """One kernel per optimizer update and per bias + activation (KERNELS), by name: what the optimizers'
    `_fused_update` and matgrad.ops.linear.LinearActivation call."""
    # the same operations in the same order as matgrad/optim's NumPy passes, so results agree but for
    # the GPU's fused multiply-adds; scalars NumPy computes in double on the host (1 − dampening,
    # 1 − lr·wd, √(1 − β2ᵗ), lr / (1 − β1ᵗ)) come in precomputed; `sign` is −1 when maximizing;
    # outputs are updated in place (Chainer's optimizer pattern)
    return {name: cupy.ElementwiseKernel(ins, outs, body, f"matgrad_{name}")
            for name, (ins, outs, body) in KERNELS.items()}


_DECAYED = "T d = weight_decay != 0 ? sign * g + weight_decay * p : sign * g;"  # optim's signed_decayed_grad
_ADAM_IN = ("T g, T decay, T weight_decay, T sign, T w1, T w1c, T lerp_hi, T beta2, T beta2c, T sqrt_bc2, T eps, "
            "T step_size")
_ADAM_BODY = """
    if (decay != 1) { p = p * decay; }
    DECAYED
    T diff = d - m;
    m = lerp_hi != 0 ? d - diff * w1c : m + diff * w1;
    v = v * beta2 + (d * beta2c) * d;
    DENOMINATOR
    T denom = sqrt(vv) / sqrt_bc2 + eps;
    p = p - (m / denom) * step_size;
    """.replace("DECAYED", _DECAYED)

#: name -> (in_params, out_params, body): the kernels `_fused_kernels` builds, and the tests compile on the CPU.
KERNELS: dict[str, tuple[str, str, str]] = {
    # SGD with momentum: v is the momentum buffer (first step: v = d)
    "sgd": ("T g, T lr, T momentum, T damp1, T weight_decay, T sign, T nesterov, T first", "T p, T v", """
    DECAYED
    v = first != 0 ? d : momentum * v + damp1 * d;
    d = nesterov != 0 ? d + momentum * v : v;
    p = p - lr * d;
    """.replace("DECAYED", _DECAYED)),
    # SGD without momentum
    "sgd_plain": ("T g, T lr, T weight_decay, T sign", "T p", """
    DECAYED
    p = p - lr * d;
    """.replace("DECAYED", _DECAYED)),
    "adam": (_ADAM_IN, "T p, T m, T v", _ADAM_BODY.replace("DENOMINATOR", "T vv = v;")),
    # amsgrad: vmax = max(vmax, v) with NumPy's NaN propagation
    "adam_amsgrad": (_ADAM_IN, "T p, T m, T v, T vmax", _ADAM_BODY.replace(
        "DENOMINATOR", "vmax = (vmax != vmax || vmax >= v) ? vmax : v;\n    T vv = vmax;")),
    # LinearActivation (matgrad/ops/linear.py): y = act(y + b) in place on the matmul's output, called
    # kernel(b, y) with b (out,) broadcast over y's rows; the same operations as its NumPy passes:
    # relu keeps -0.0 and NaN as np.maximum(0, z) does (z < 0 is false for both)
    "bias_relu": ("T b", "T y", "T z = y + b;\n    y = z < 0 ? (T)0 : z;"),
    # 1 / (1 + e⁻ᶻ): e⁻ᶻ = inf for very negative z gives exactly 0
    "bias_sigmoid": ("T b", "T y", "y = (T)1 / ((T)1 + exp(-(y + b)));"),
    "bias_tanh": ("T b", "T y", "y = tanh(y + b);"),
    # dz = dy · act'(y) from the saved output, dz = kernel(dy, y); relu selects as ops/activation.py's
    # _relu_grad (PyTorch's `y <= 0 ? 0 : dy` on relu's output): +0.0 where y is ±0, an inf or NaN dy included
    "relu_grad": ("T dy, T y", "T dz", "dz = y != (T)0 ? dy : (T)0;"),
    "sigmoid_grad": ("T dy, T y", "T dz", "dz = dy * (y * ((T)1 - y));"),
    "tanh_grad": ("T dy, T y", "T dz", "dz = dy * ((T)1 - y * y);"),
}
