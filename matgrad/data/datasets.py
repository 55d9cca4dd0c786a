"""MNIST, Fashion-MNIST (IDX files found by locate) and the packaged 8x8 Digits; load_dataset."""
from __future__ import annotations

import gzip
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from ..creation import from_numpy
from ..tensor import Tensor
from .catalog import DIGITS_FILE, canonical_name
from .dataset import Dataset
from .download import download as fetch
from .idx import IDXError, read_images, read_labels
from .locator import DatasetNotFound, locate


class _IDXImageDataset(Dataset):
    """Images (n, 28, 28) uint8 and labels (n,) int64 from a pair of IDX files.

    `ds[i]` is (image, label): a float32 Tensor (1, 28, 28) in [0, 1] and an int, each passed
    through `transform` / `target_transform` when given (as torchvision's datasets).
    """

    name = ""
    classes: list[str] = []

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        download: bool = False,
    ) -> None:
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        try:
            images_path, labels_path = locate(self.name, train, root)
        except DatasetNotFound:
            if not download:
                raise
            fetch(self.name, root)
            images_path, labels_path = locate(self.name, train, root)
        self.images = read_images(images_path)
        labels = read_labels(labels_path)
        if len(labels) != len(self.images):
            raise IDXError(
                f"{self.name}: {images_path} holds {len(self.images)} images but {labels_path} holds "
                f"{len(labels)} labels; the two files are from different sets. Fetch both again "
                f"(`matgrad data download {self.name}`)."
            )
        if labels.size and labels.max() >= len(self.classes):
            raise IDXError(
                f"{self.name}: {labels_path} has label {labels.max()}, but {self.name} has "
                f"{len(self.classes)} classes (0..{len(self.classes) - 1}); "
                f"it is not a {self.name} labels file."
            )
        self.labels = labels.astype(np.int64)
        self.source = (images_path, labels_path)

    @property
    def data(self) -> Tensor:
        """The images as a uint8 Tensor (n, 28, 28), as torchvision's `.data`."""
        return from_numpy(self.images)

    @property
    def targets(self) -> Tensor:
        """The labels as an int64 Tensor (n,), as torchvision's `.targets`."""
        return from_numpy(self.labels)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img: Any = from_numpy(self.images[index][None].astype(np.float32) / np.float32(255))
        label: Any = int(self.labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return img, label

    def get_batch(self, indices: np.ndarray) -> list[Tensor] | None:
        """[images (b, 1, 28, 28) float32 in [0, 1], labels (b,) int64] in one copy; None with transforms."""
        if self.transform is not None or self.target_transform is not None:
            return None
        x = self.images[indices].astype(np.float32)[:, None]
        x /= np.float32(255)  # divide, not multiply by 1/255: the exact values of torchvision
        return [from_numpy(x), from_numpy(self.labels[indices])]

    def as_tensors(self, flatten: bool = True) -> tuple[Tensor, Tensor]:
        """(X float32 in [0, 1], y int64): X is (n, 784) when flatten else (n, 1, 28, 28)."""
        x = self.images.astype(np.float32)
        x /= np.float32(255)  # divide, not multiply by 1/255: the exact values of torchvision
        x = x.reshape(len(x), -1) if flatten else x[:, None]
        return from_numpy(x), from_numpy(self.labels)

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"{type(self).__name__}({split}, {len(self)} samples from {self.source[0].parent})"


class MNIST(_IDXImageDataset):
    """MNIST handwritten digits (LeCun, Cortes, Burges; CC BY-SA 3.0): 60,000 train / 10,000 test."""

    name = "mnist"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]


class FashionMNIST(_IDXImageDataset):
    """Fashion-MNIST (Zalando Research, MIT): 28x28 clothing images, 60,000 train / 10,000 test."""

    name = "fashion-mnist"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class Digits(Dataset):
    """UCI optical handwritten digits (test set; Alpaydin & Kaynak, CC BY 4.0), shipped with matgrad.

    1,797 images of 8x8 pixels with values 0..16. train=None gives all of them; train=True /
    False a fixed split: every 5th image (index % 5 == 0, 360 images) is the test set, the
    other 1,437 the train set. `ds[i]` is (image float32 (1, 8, 8) in [0, 1], label int).
    """

    name = "digits"
    classes = [str(d) for d in range(10)]

    def __init__(self, train: bool | None = None) -> None:
        with gzip.open(DIGITS_FILE, "rt") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.int64)
        if table.shape != (1797, 65):
            raise ValueError(f"{DIGITS_FILE}: expected 1797 rows of 64 pixels + 1 label, got {table.shape}; "
                             "the matgrad install is damaged, reinstall it")
        if train is not None:
            test = np.arange(len(table)) % 5 == 0
            table = table[~test if train else test]
        self.train = train
        self.images = table[:, :64].reshape(-1, 8, 8).astype(np.uint8)
        self.labels = table[:, 64].copy()
        self.source = (DIGITS_FILE,)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        img = self.images[index][None].astype(np.float32) / np.float32(16)
        return from_numpy(img), int(self.labels[index])

    def get_batch(self, indices: np.ndarray) -> list[Tensor]:
        """[images (b, 1, 8, 8) float32 in [0, 1], labels (b,) int64]."""
        x = self.images[indices].astype(np.float32)[:, None] / np.float32(16)
        return [from_numpy(x), from_numpy(self.labels[indices])]

    def as_tensors(self, flatten: bool = True) -> tuple[Tensor, Tensor]:
        """(X float32 in [0, 1], y int64): X is (n, 64) when flatten else (n, 1, 8, 8)."""
        x = self.images.astype(np.float32) / np.float32(16)
        x = x.reshape(len(x), -1) if flatten else x[:, None]
        return from_numpy(x), from_numpy(self.labels)


@dataclass
class DatasetInfo:
    """What load_dataset returns beside X and y: enough to build a model and report on it."""

    name: str
    split: str
    num_samples: int
    input_shape: tuple[int, ...]  # one sample as an image: (channels, height, width)
    num_features: int  # the flattened size, the input width of an MLP
    num_classes: int
    class_names: list[str]
    source: list[str] = field(default_factory=list)  # the files read

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_CLASSES = {"mnist": MNIST, "fashion-mnist": FashionMNIST}


def load_dataset(
    name: str, data_dir: str | os.PathLike | None = None, train: bool = True, flatten: bool = True
) -> tuple[Tensor, Tensor, DatasetInfo]:
    """(X, y, info) for "mnist", "fashion-mnist" or "digits".

    X: float32 Tensor in [0, 1], (n, features) when flatten else (n, 1, h, w); y: int64 (n,).
    MNIST and Fashion-MNIST are found as locate() says (data_dir, $MATGRAD_DATA, cache, system);
    digits ships with matgrad (train/test: the fixed split described in Digits).
    """
    key = canonical_name(name)
    ds = Digits(train=train) if key == "digits" else _CLASSES[key](data_dir, train=train)
    x, y = ds.as_tensors(flatten=flatten)
    h, w = ds.images.shape[1:]
    info = DatasetInfo(
        name=key, split="train" if train else "test", num_samples=len(ds), input_shape=(1, h, w),
        num_features=h * w, num_classes=len(ds.classes), class_names=list(ds.classes),
        source=[str(p) for p in ds.source],
    )
    return x, y, info
