"""`matgrad.cuda` with a CUDA backend (the CuPy-like test device), seeding every device, the
DataLoader's pin_memory, and device tensors shown and read through the host."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import cuda as mcuda
from matgrad import devices
from matgrad.data import DataLoader, TensorDataset


def test_cuda_module_with_a_backend(cuda):
    assert mcuda.is_available() and mcuda.is_initialized() and mcuda.device_count() == 1
    mcuda.init()
    assert mcuda.current_device() == 0
    mcuda.set_device(0)
    mcuda.set_device("cuda:0")
    mcuda.set_device(cuda)
    assert mcuda.current_device() == 0
    assert mcuda.get_device_name() == mcuda.get_device_name(0) == "fake_cupy"
    assert mcuda.get_device_capability() == (0, 0)  # the test device reports none
    props = mcuda.get_device_properties(0)
    assert props.name == "fake_cupy" and props.total_memory == 0
    assert mcuda.synchronize() is None and mcuda.synchronize(0) is None
    assert mcuda.memory_allocated() == mcuda.max_memory_allocated() == 0  # no counters on the test device
    assert mcuda.memory_reserved() == mcuda.max_memory_reserved() == 0
    assert mcuda.reset_peak_memory_stats() is None and mcuda.empty_cache() is None
    with pytest.raises(RuntimeError, match="CUDA device 1 was asked for"):
        mcuda.set_device(1)
    with pytest.raises(RuntimeError, match="CUDA device 3 was asked for"):
        mcuda.get_device_name(3)
    with pytest.raises(ValueError, match="expected a cuda device"):
        mcuda.synchronize("cpu")


def test_memory_counters_and_peaks(cuda):
    used = [100, 0]
    backend = devices.cuda_backend()
    backend.memory = lambda index: (used[0], 2 * used[0])
    assert mcuda.memory_allocated() == 100 and mcuda.memory_reserved() == 200
    used[0] = 500
    mcuda.synchronize()
    used[0] = 50
    assert mcuda.memory_allocated() == 50 and mcuda.max_memory_allocated() == 500
    assert mcuda.max_memory_reserved() == 1000
    mcuda.reset_peak_memory_stats()
    assert mcuda.max_memory_allocated() == 50


def test_manual_seed_seeds_every_device(cuda):
    seen = []
    devices.cuda_backend().seed = seen.append
    mg.manual_seed(123)
    mcuda.manual_seed(7)
    mcuda.manual_seed_all(-1)  # as PyTorch: wraps to uint64
    mcuda.seed()
    assert seen[:3] == [123, 7, 2**64 - 1] and len(seen) == 4
    # matgrad draws on the host: a seed gives the same numbers on every device
    mg.manual_seed(5)
    a = mg.randn(4, device="cuda")
    mg.manual_seed(5)
    b = mg.randn(4)
    np.testing.assert_array_equal(a.cpu().numpy(), b.numpy())


def test_manual_seed_without_a_backend_imports_nothing():
    import sys

    had = "cupy" in sys.modules
    mg.manual_seed(0)
    assert ("cupy" in sys.modules) == had


@pytest.mark.parametrize("workers", [0])
def test_pin_memory_is_accepted(workers, cuda):
    ds = TensorDataset(mg.arange(10.0).reshape(5, 2), mg.arange(5))
    for pin in (False, True):
        batches = list(DataLoader(ds, batch_size=2, pin_memory=pin, num_workers=workers))
        assert all(type(x.array) is np.ndarray for x, _ in batches)  # host batches, moved by the loop
        x, y = batches[0]
        assert x.to("cuda").device == cuda and y.cuda().device == cuda


def test_item_and_printing_copy_to_the_host(cuda):
    t = mg.tensor([[1.5, 2.0], [3.0, 4.0]], device="cuda")
    assert t.sum().item() == 10.5 and isinstance(t.sum().item(), float)
    assert float(t[0, 0]) == 1.5 and int(t[1, 1]) == 4
    text = repr(t)
    assert "device='cuda:0'" in text and "1.5" in text
    assert str(t) == text and t.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert f"{t.sum():.1f}" == "10.5"
    with pytest.raises(TypeError, match="Use Tensor.cpu"):
        t.numpy()
