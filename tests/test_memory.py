"""keep_freed_memory: freed arrays are reused instead of being page-faulted in afresh."""
from __future__ import annotations

import ctypes.util
import subprocess
import sys

import pytest

import matgrad

CHILD = """
import resource, sys
import numpy as np
if sys.argv[1] == "keep":
    import matgrad
    assert matgrad.keep_freed_memory()
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


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


@glibc
def test_a_freed_64mb_array_is_reused_without_page_faults():
    plain, kept = _faults("plain"), _faults("keep")  # each in a fresh process: the setting is global
    assert plain >= 100  # ten fresh 64 MB blocks: at least 32 huge pages each, 16,384 small ones
    assert kept <= 20


def test_bad_limit_is_refused_with_the_value():
    with pytest.raises(ValueError, match="positive number of bytes, got 0"):
        matgrad.keep_freed_memory(0)
