"""torch.backends.cpu: the SIMD level NumPy found on this CPU, in PyTorch's words."""
from __future__ import annotations


def _cpu_features() -> dict[str, bool]:
    """NumPy's runtime CPU feature detection (__cpu_features__), wherever this NumPy keeps it."""
    for name in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            module = __import__(name, fromlist=["__cpu_features__"])
            return dict(module.__cpu_features__)
        except (ImportError, AttributeError):
            continue
    return {}


def get_cpu_capability() -> str:
    """"AVX512", "AVX2", "VSX", "ZVECTOR" or "DEFAULT": the widest vector level NumPy's own kernels can
    use here (from NumPy's __cpu_features__), named as torch.backends.cpu.get_cpu_capability names it."""
    f = _cpu_features()
    if all(f.get(k) for k in ("AVX512F", "AVX512BW", "AVX512VL", "AVX512DQ")):
        return "AVX512"
    if f.get("AVX2") and f.get("FMA3"):
        return "AVX2"
    if f.get("VSX"):
        return "VSX"
    if f.get("VX"):
        return "ZVECTOR"
    return "DEFAULT"

