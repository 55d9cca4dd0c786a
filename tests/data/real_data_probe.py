"""Run only by tests/data/test_real_data.py, in a pytest of its own with $MATGRAD_DATA set.

Not named test_*.py, so a plain `pytest` does not collect it.
"""
from __future__ import annotations

import os
from pathlib import Path


def test_mnist_dir_is_the_expected_folder(mnist_dir):
    assert mnist_dir == Path(os.environ["MATGRAD_TEST_EXPECT_MNIST"])
