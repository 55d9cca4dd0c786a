"""The CuPy-like test device as a backend (`fake_backend`); tests/conftest.py's `cuda` fixture installs it as
matgrad's "cuda" for one test."""
from __future__ import annotations

import numpy as np

from matgrad import backend, cupy_backend
from tests.devices.fake_cupy import fake_cupy, fake_cupyx, ndarray


def fake_backend() -> backend.ArrayBackend:
    """The test device as matgrad sees a GPU: fake_cupy's arrays, moved through .get() and asarray, seen
    through the same `device_module` and `device_namespace` as CuPy (matgrad/cupy_backend.py)."""
    xp = cupy_backend.device_module(fake_cupy, fake_cupyx)
    ns = cupy_backend.device_namespace("fake_cupy", xp, fake_cupyx)
    return backend.ArrayBackend("cuda", xp, ndarray, ns, to_host=lambda a: a.get(),
                                from_host=lambda a, index=None: ndarray(np.array(a)),
                                index_of=lambda a: 0, device_count=1, name=lambda index=None: "fake_cupy")
