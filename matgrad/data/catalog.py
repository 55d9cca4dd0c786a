"""The datasets matgrad knows: their names and spellings, their file names, and the packaged digits file.

The lowest module of matgrad.data: it imports nothing from the package, and locator.py,
download.py and datasets.py all read their names from here.
"""
from __future__ import annotations

from pathlib import Path

# UCI 8x8 digits, shipped inside the package (see DIGITS_LICENSE.txt)
DIGITS_FILE = Path(__file__).with_name("digits.csv.gz")

# the datasets stored as IDX files, found on disk by locator.py and fetched by download.py
IDX_DATASETS = ("mnist", "fashion-mnist")

# file stems of each split (train=True / False), as the official downloads name them (plus .gz)
SPLITS = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

_ALIASES = {"mnist": "mnist", "fashion-mnist": "fashion-mnist", "fashion_mnist": "fashion-mnist",
            "fashionmnist": "fashion-mnist", "fmnist": "fashion-mnist", "digits": "digits"}


def canonical_name(name: str) -> str:
    """'mnist', 'fashion-mnist' or 'digits' for any accepted spelling (FashionMNIST, fashion_mnist)."""
    key = str(name).strip().lower().replace(" ", "-")
    if key not in _ALIASES:
        raise ValueError(f"unknown dataset {name!r}; known: mnist, fashion-mnist, digits")
    return _ALIASES[key]
