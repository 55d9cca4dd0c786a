"""MNIST / FashionMNIST classes, the packaged digits, and load_dataset."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matgrad.data import MNIST, DataLoader, Digits, FashionMNIST, IDXError, load_dataset
from tests.data.conftest import tiny_split


def test_mnist_real(mnist_dir):
    ds = MNIST(mnist_dir, train=False)
    assert len(ds) == 10000 and ds.images.shape == (10000, 28, 28) and ds.images.dtype == np.uint8
    assert ds.labels.dtype == np.int64 and ds.labels[0] == 7
    img, label = ds[0]
    assert img.shape == (1, 28, 28) and img.dtype == np.float32 and label == 7
    assert 0 <= img.numpy().min() and img.numpy().max() <= 1
    x, y = ds.as_tensors()
    assert x.shape == (10000, 784) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x.numpy()[0], ds.images[0].ravel().astype(np.float32) / np.float32(255))
    assert ds.as_tensors(flatten=False)[0].shape == (10000, 1, 28, 28)


def test_mnist_loader_fast_path_matches_samples(mnist_dir):
    ds = MNIST(mnist_dir, train=False)
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert xb.shape == (4, 1, 28, 28) and xb.dtype == np.float32 and yb.dtype == np.int64
    for i in range(4):
        np.testing.assert_array_equal(xb.numpy()[i], ds[i][0].numpy())
        assert yb.numpy()[i] == ds[i][1]


def test_fashion_real_from_parent_dir(fashion_dir):
    if fashion_dir.name != "fashion-mnist":
        pytest.skip(f"the files sit directly in {fashion_dir}, not in a fashion-mnist/ folder")
    ds = FashionMNIST(fashion_dir.parent, train=True)  # found in DIR/fashion-mnist/
    assert len(ds) == 60000 and ds.labels[0] == 9
    assert int(ds.images[0].sum()) == 76247 and ds.images[0, 14, 12] == 237
    assert ds.classes[9] == "Ankle boot"


def test_load_dataset_real(mnist_dir):
    x, y, info = load_dataset("mnist", mnist_dir, train=True)
    assert x.shape == (60000, 784) and y.shape == (60000,)
    assert np.bincount(y.numpy())[:3].tolist() == [5923, 6742, 5958]
    assert info.input_shape == (1, 28, 28) and info.num_features == 784 and info.num_classes == 10
    assert info.split == "train" and Path(info.source[0]).name.startswith("train-images")


def test_transforms(tmp_path):
    tiny_split(tmp_path, n=3)
    ds = MNIST(tmp_path, transform=lambda im: im * 2, target_transform=lambda t: t + 100)
    img, label = ds[1]
    np.testing.assert_allclose(img.numpy(), ds.images[1][None] / 255 * 2, rtol=1e-6)
    assert label == ds.labels[1] + 100
    assert ds.get_batch(np.arange(2)) is None  # transforms force the sample path


def test_mislabelled_counts(tmp_path):
    tiny_split(tmp_path, n=5, n_labels=4)
    with pytest.raises(IDXError, match="5 images but .* 4 labels"):
        MNIST(tmp_path)


def test_label_out_of_range(tmp_path):
    from matgrad.data import write_idx
    tiny_split(tmp_path, n=2)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([1, 200], np.uint8))
    with pytest.raises(IDXError, match="label 200"):
        MNIST(tmp_path)


def test_digits_packaged():
    ds = Digits()
    assert len(ds) == 1797 and ds.images.shape == (1797, 8, 8)
    x, y = ds.as_tensors()
    assert x.shape == (1797, 64) and x.dtype == np.float32 and y.dtype == np.int64
    assert ds.images[0].ravel()[:16].tolist() == [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0]
    assert ds.labels[:10].tolist() == list(range(10))
    assert set(ds.labels.tolist()) == set(range(10)) and ds.images.max() == 16
    np.testing.assert_allclose(x.numpy()[0, 3], 13 / 16)


def test_digits_split_and_load_dataset():
    train, test = Digits(train=True), Digits(train=False)
    assert (len(train), len(test)) == (1437, 360)
    np.testing.assert_array_equal(test.images[0], Digits().images[0])
    x, y, info = load_dataset("digits", train=False)
    assert x.shape == (360, 64) and info.input_shape == (1, 8, 8) and info.num_classes == 10
    assert info.source[0].endswith("digits.csv.gz")
    xb, yb = next(iter(DataLoader(train, batch_size=5)))
    assert xb.shape == (5, 1, 8, 8)
    np.testing.assert_array_equal(xb.numpy()[0], train[0][0].numpy())


def test_load_dataset_unknown_name():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        load_dataset("cifar")
