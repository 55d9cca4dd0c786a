"""memory: freed arrays reused instead of page-faulted in afresh; long-lived arrays on huge pages."""
from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys

import numpy as np
import pytest

import matgrad
from matgrad import memory

CHILD = """
import resource, sys
import numpy as np
if sys.argv[1] == "keep":
    import matgrad
    assert matgrad.keep_freed_memory()
elif sys.argv[1] == "backward":  # a training process: its first backward pass keeps freed memory
    import matgrad
    (matgrad.ones(3, requires_grad=True) * 2).sum().backward()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    a = np.ones(16 << 20, np.float32); del a  # 64 MB: above every threshold glibc picks itself
f0 = faults()
for _ in range(10):
    a = np.ones(16 << 20, np.float32); del a
print(faults() - f0)
"""

glibc = pytest.mark.skipif(not sys.platform.startswith("linux") or ctypes.util.find_library("c") is None,
                           reason="mallopt is glibc's (Linux)")


def _faults(mode: str, **env: str) -> int:
    out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True,
                         env={**os.environ, **env})
    return int(out.stdout.split()[-1])


@glibc
def test_a_freed_64mb_array_is_reused_without_page_faults():
    plain, kept = _faults("plain"), _faults("keep")  # each in a fresh process: the setting is global
    assert plain >= 100  # ten fresh 64 MB blocks: at least 32 huge pages each, 16,384 small ones
    assert kept <= 20


@glibc
def test_the_first_backward_keeps_freed_memory_unless_the_environment_says_no():
    assert _faults("backward", MATGRAD_KEEP_FREED_MEMORY="") <= 20
    assert _faults("backward", MATGRAD_KEEP_FREED_MEMORY="0") >= 100


def test_the_first_backward_asks_once_and_a_process_that_chose_is_left_alone(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "keep_freed_memory", lambda: calls.append(1) or True)
    monkeypatch.setattr(memory, "UNDECIDED", [True])
    monkeypatch.delenv("MATGRAD_KEEP_FREED_MEMORY", raising=False)
    for _ in range(2):
        (matgrad.ones(2, requires_grad=True) * 3).sum().backward()
    assert calls == [1] and memory.UNDECIDED == [False]
    monkeypatch.setattr(memory, "UNDECIDED", [True])
    monkeypatch.setenv("MATGRAD_KEEP_FREED_MEMORY", "off")
    (matgrad.ones(2, requires_grad=True) * 3).sum().backward()
    assert calls == [1] and memory.UNDECIDED == [False]  # the environment said no: glibc is left as it is


def test_calling_keep_freed_memory_is_the_processs_choice(monkeypatch):
    monkeypatch.setattr(memory, "UNDECIDED", [True])
    memory.keep_freed_memory(1 << 30)  # (the suite's process keeps freed memory anyway, from its first backward)
    assert memory.UNDECIDED == [False]  # so the first backward keeps the limit given here


def test_bad_limit_is_refused_with_the_value():
    with pytest.raises(ValueError, match="positive number of bytes, got 0"):
        matgrad.keep_freed_memory(0)


# --- long-lived arrays on huge pages (memory.empty, zeros_like, copy) ------------------------------------------


BIG = (1024, 784)  # the seed MLP's first weight: 3.2 MB, one whole 2 MiB page and a tail


def _vm_flags(address: int) -> list[str] | None:
    """The kernel's VmFlags of the mapping holding `address` (/proc/self/smaps); None where it shows none."""
    inside = False
    try:
        with open("/proc/self/smaps") as f:
            for line in f:
                head = line.split()[0]
                if "-" in head and not head.endswith(":"):
                    lo, hi = (int(x, 16) for x in head.split("-"))
                    inside = lo <= address < hi
                elif inside and head == "VmFlags:":
                    return line.split()[1:]
    except OSError:
        return None
    return None


def _advised(a: np.ndarray) -> bool:
    """Whether the mapping holding a's first byte is marked MADV_HUGEPAGE ('hg' in its VmFlags)."""
    flags = _vm_flags(a.ctypes.data)
    assert flags is not None, "the array's address is in no mapping"
    return "hg" in flags


def _kernel_marks_advice() -> bool:
    """Whether this kernel takes MADV_HUGEPAGE and shows it in smaps (not so in some sandboxes)."""
    if not memory._huge_pages_offered() or not memory._numpy_advises():
        return False
    import mmap

    block = mmap.mmap(-1, 1 << 22, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        block.madvise(mmap.MADV_HUGEPAGE)
    except OSError:
        return False
    flags = _vm_flags(np.frombuffer(block, np.uint8).ctypes.data)
    return flags is not None and "hg" in flags


offered = pytest.mark.skipif(not _kernel_marks_advice(),
                             reason="no transparent huge pages here (not Linux, THP set to never, or no smaps)")


def test_a_small_array_is_numpys_own():
    a = memory.empty((100, 10), np.float64)
    assert a.shape == (100, 10) and a.dtype == np.float64 and a.base is None


@offered
def test_a_large_array_starts_a_huge_page_and_lies_on_huge_pages_to_its_end():
    a = memory.empty(BIG, np.float32)  # 3.06 MiB: the second huge page reaches 0.94 MiB past its end
    assert a.shape == BIG and a.dtype == np.float32 and a.flags.c_contiguous and a.flags.writeable
    assert a.ctypes.data % memory.HUGE_PAGE == 0
    assert _advised(a) and _advised(a.reshape(-1)[-1:])
    a[...] = 1.5
    assert float(a.sum()) == 1.5 * a.size


@offered
def test_a_tail_under_two_thirds_of_a_huge_page_stays_on_small_pages():
    a = memory.empty((576, 1024), np.float32)  # 2.25 MiB: a second huge page would add 1.75 MiB
    flat = a.reshape(-1)
    assert _advised(a) and not _advised(flat[memory.HUGE_PAGE // 4:])


@offered
def test_numpys_switch_turns_it_off_too():
    core = getattr(np, "_core", None) or np.core
    before = core.multiarray._set_madvise_hugepage(False)
    try:
        assert memory.empty(BIG).base is None
    finally:
        core.multiarray._set_madvise_hugepage(before)


def test_without_huge_pages_or_mmap_it_falls_back_to_numpy(monkeypatch):
    monkeypatch.setattr(memory, "_huge_pages_offered", lambda: False)
    assert memory.empty(BIG).base is None
    monkeypatch.undo()

    def refuse(*args, **kwargs):
        raise OSError("no mmap in this sandbox")

    monkeypatch.setattr(memory.mmap, "mmap", refuse)
    a = memory.zeros_like(np.ones(BIG, np.float32))
    assert a.base is None and a.shape == BIG and not a.any()


@pytest.mark.parametrize("shape", [(7,), BIG, (2, 1024, 512)])
def test_zeros_like_and_copy_give_numpys_values(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)  # float64
    z = memory.zeros_like(x)
    assert z.shape == x.shape and z.dtype == x.dtype and not z.any()
    c = memory.copy(np.asfortranarray(x), np.float32)  # converted and C-ordered, as np.array(x, np.float32)
    assert c.dtype == np.float32 and c.flags.c_contiguous
    np.testing.assert_array_equal(c, np.array(x, np.float32))
    c[...] = 0
    assert x.any()  # a copy, not a view


@offered
def test_layers_weights_and_optimizer_state_are_placed():
    import pickle

    layer = matgrad.nn.Linear(784, 1024)
    w = layer.weight.array
    assert w.ctypes.data % memory.HUGE_PAGE == 0 and _advised(w)
    assert matgrad.nn.Linear(784, 10).weight.array.base is None  # 31 KB: NumPy's own
    layer.weight.grad = matgrad.ones_like(layer.weight)
    for opt, key in ((matgrad.optim.SGD([layer.weight], lr=0.1, momentum=0.9), "momentum_buffer"),
                     (matgrad.optim.Adam([layer.weight]), "exp_avg_sq")):
        opt.step()
        buf = opt.state[layer.weight][key]
        assert buf.ctypes.data % memory.HUGE_PAGE == 0 and _advised(buf)
        again = type(opt)([layer.weight])
        again.load_state_dict(opt.state_dict())
        loaded = again.state[layer.weight][key]
        assert loaded is not buf and _advised(loaded)
        np.testing.assert_array_equal(loaded, buf)
    back = pickle.loads(pickle.dumps(layer))  # a mapping pickles as its values
    np.testing.assert_array_equal(back.weight.array, w)
