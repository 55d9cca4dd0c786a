"""The `cuda` fixture: the CuPy-like test device installed as matgrad's "cuda" for one test."""
from __future__ import annotations

import numpy as np
import pytest

from matgrad import backend, devices
from tests.devices.fake_cupy import fake_cupy, ndarray


def fake_backend() -> backend.ArrayBackend:
    """The test device as matgrad sees a GPU: fake_cupy's arrays, moved through .get() and asarray."""
    from matgrad import kernels

    def erf(x):  # what cupyx.scipy.special.erf is on a GPU: here NumPy's kernel on the wrapped array
        return ndarray(kernels.erf(x._a))

    def erfc(x):  # cupyx.scipy.special.erfc's stand-in, the same way
        return ndarray(kernels.erfc(x._a))

    ns = backend.plain_namespace("fake_cupy", fake_cupy, "cuda", erf=erf, erfc=erfc)
    return backend.ArrayBackend("cuda", fake_cupy, ndarray, ns, to_host=lambda a: a.get(),
                                from_host=lambda a, index=None: ndarray(np.array(a)),
                                index_of=lambda a: 0, device_count=1, name=lambda index=None: "fake_cupy")


@pytest.fixture
def cuda():
    """matgrad's "cuda" is the test device for this test (a real GPU backend, if any, is put back after)."""
    before = devices.set_cuda_backend(fake_backend())
    try:
        yield devices.device("cuda", 0)
    finally:
        devices.restore_cuda_backend(before)
