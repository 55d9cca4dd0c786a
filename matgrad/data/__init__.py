"""matgrad.data: datasets, batching, and the MNIST-family files (PyTorch's torch.utils.data API).

Batching (dataset.py, dataloader.py)
    Dataset                      subclass with __getitem__ / __len__
    TensorDataset(*tensors)      rows of tensors sharing their first dim
    Subset(dataset, indices), ConcatDataset(datasets)
    random_split(dataset, lengths, generator=None)    lengths may be fractions
    DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
               generator=None)   generator: np.random.Generator or int seed; default: matgrad's
                                 generator (matgrad.manual_seed makes shuffling reproducible)
    default_collate(samples)     stacks samples into Tensors, as torch's

Datasets (datasets.py)
    MNIST(root=None, train=True, transform=None, target_transform=None, download=False)
    FashionMNIST(...)            same; .images (n, 28, 28) uint8, .labels (n,) int64, .classes,
                                 .as_tensors(flatten=True) -> (X float32 in [0, 1], y int64)
    Digits(train=None)           UCI 8x8 digits, 1,797 images shipped in the package (CC BY 4.0)
    load_dataset(name, data_dir=None, train=True, flatten=True) -> (X, y, DatasetInfo)
                                 name: "mnist", "fashion-mnist", "digits"; DatasetInfo has
                                 input_shape, num_features, num_classes, class_names, source

The known datasets (catalog.py; the lowest module here, imported by the three below)
    canonical_name(name) -> "mnist" | "fashion-mnist" | "digits"    any accepted spelling
    IDX_DATASETS, SPLITS (each split's file stems), DIGITS_FILE (the packaged digits)

Finding files (locator.py)
    locate(name, train=True, data_dir=None) -> (images, labels)   order: data_dir (--data),
        $MATGRAD_DATA, cache_dir() ($XDG_CACHE_HOME/matgrad or ~/.cache/matgrad),
        /usr/share/datasets/<name>; files in DIR/<name>/ or DIR itself, .gz or raw
    find_datasets(data_dir=None) -> list[FoundDataset]   what was found where (`matgrad data list`)
    DatasetNotFound              lists every folder looked in and how to get the data

Downloading (download.py)
    download(name, root=None, mirrors=None, timeout=30.0, progress=None, force=False) -> folder
        into ROOT/<name>/ (ROOT: cache_dir()); MD5-checked; mirrors from MIRRORS, `mirrors=`
        or $MATGRAD_MIRRORS; progress(file, bytes_done, bytes_total_or_None)
    DownloadError                no mirror gave a good copy; nothing partial is left

IDX files (idx.py)
    read_idx(path, expect_magic=None), read_images(path), read_labels(path)
    write_idx(path, array, compress=None), encode_idx(array)
    IDXError (a ValueError), IDXFileNotFoundError (a FileNotFoundError)
"""
from __future__ import annotations

from .dataloader import DataLoader, default_collate, default_convert
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .datasets import MNIST, DatasetInfo, Digits, FashionMNIST, load_dataset
from .download import CHECKSUMS, MIRRORS, DownloadError, download
from .idx import IDXError, IDXFileNotFoundError, read_idx, read_images, read_labels, write_idx
from .locator import DatasetNotFound, FoundDataset, cache_dir, find_datasets, locate

__all__ = [
    "CHECKSUMS", "ConcatDataset", "DataLoader", "Dataset", "DatasetInfo", "DatasetNotFound", "Digits",
    "DownloadError", "FashionMNIST", "FoundDataset", "IDXError", "IDXFileNotFoundError", "MIRRORS", "MNIST",
    "Subset", "TensorDataset", "cache_dir", "default_collate", "default_convert", "download",
    "find_datasets", "load_dataset", "locate", "random_split", "read_idx", "read_images", "read_labels",
    "write_idx",
]
