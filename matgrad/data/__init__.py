"""matgrad.data: datasets, batching, and the MNIST-family files (PyTorch's torch.utils.data API).

Batching (dataset.py, sampler.py, dataloader.py, worker.py)
    Dataset                      subclass with __getitem__ / __len__ (optionally __getitems__ or get_batch)
    IterableDataset              subclass with __iter__: a stream; ChainDataset(datasets) chains them
    TensorDataset(*tensors)      rows of tensors sharing their first dim
    Subset(dataset, indices), ConcatDataset(datasets), StackDataset(*datasets) / StackDataset(**datasets)
    random_split(dataset, lengths, generator=None)    lengths may be fractions
    Sampler, SequentialSampler, RandomSampler(data_source, replacement=False, num_samples=None, generator=None),
    SubsetRandomSampler(indices, generator=None), WeightedRandomSampler(weights, num_samples, replacement=True,
    generator=None), BatchSampler(sampler, batch_size, drop_last)
    DataLoader(dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
               collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
               multiprocessing_context=None, generator=None, *, prefetch_factor=None,
               persistent_workers=False, pin_memory_device="", in_order=True)     as torch's
                                 generator: matgrad.Generator, np.random.Generator or int seed; default:
                                 matgrad's generator (matgrad.manual_seed makes shuffling reproducible)
                                 num_workers > 0: worker processes, batches through shared memory
    get_worker_info()            in a worker: WorkerInfo(id, num_workers, seed, dataset); else None
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
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .datasets import MNIST, DatasetInfo, Digits, FashionMNIST, load_dataset
from .distributed import DistributedSampler
from .download import CHECKSUMS, MIRRORS, DownloadError, download
from .idx import IDXError, IDXFileNotFoundError, read_idx, read_images, read_labels, write_idx
from .locator import DatasetNotFound, FoundDataset, cache_dir, find_datasets, locate
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .worker import WorkerInfo, get_worker_info

__all__ = [
    "BatchSampler", "ChainDataset", "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler",
    "StackDataset", "SubsetRandomSampler", "WeightedRandomSampler", "WorkerInfo", "get_worker_info",
    "CHECKSUMS", "ConcatDataset", "DataLoader", "Dataset", "DatasetInfo", "DatasetNotFound", "Digits",
    "DownloadError", "FashionMNIST", "FoundDataset", "IDXError", "IDXFileNotFoundError", "MIRRORS", "MNIST",
    "Subset", "TensorDataset", "cache_dir", "default_collate", "default_convert", "download",
    "find_datasets", "load_dataset", "locate", "random_split", "read_idx", "read_images", "read_labels",
    "write_idx", "DistributedSampler",
]
