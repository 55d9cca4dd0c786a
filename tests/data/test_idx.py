"""IDX reading and writing: the real files, and small written ones, good and broken."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from matgrad.data import IDXError, IDXFileNotFoundError, locator, read_idx, read_images, read_labels, write_idx
from matgrad.data.idx import IMAGES_MAGIC, LABELS_MAGIC, encode_idx


def test_real_mnist(mnist_dir):
    images = read_images(locator.find_file(mnist_dir, "train-images-idx3-ubyte"))
    labels = read_labels(locator.find_file(mnist_dir, "train-labels-idx1-ubyte"))
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert labels.min() == 0 and labels.max() == 9
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]
    # the top stroke of the famous first "5"
    assert images[0, 5, 12:24].tolist() == [3, 18, 18, 18, 126, 136, 175, 26, 166, 255, 247, 127]
    assert int(images[0].sum()) == 27525
    test = read_labels(locator.find_file(mnist_dir, "t10k-labels-idx1-ubyte"))
    assert test.shape == (10000,) and test[0] == 7
    assert np.bincount(test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_real_fashion(fashion_dir):
    images = read_images(locator.find_file(fashion_dir, "t10k-images-idx3-ubyte"))
    labels = read_labels(locator.find_file(fashion_dir, "t10k-labels-idx1-ubyte"))
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels[:3].tolist() == [9, 2, 1]
    assert np.bincount(labels).tolist() == [1000] * 10


def test_real_file_round_trips_byte_exact(mnist_dir):
    path = locator.find_file(mnist_dir, "t10k-labels-idx1-ubyte")
    raw = path.read_bytes()
    assert encode_idx(read_labels(path)) == (gzip.decompress(raw) if path.suffix == ".gz" else raw)


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_write_read_round_trip(tmp_path, gz, dtype):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    # the name says nothing: gzip is found by its magic bytes
    path = write_idx(tmp_path / "a.bin", a, compress=gz)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == gz
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative
    np.testing.assert_array_equal(a, b)
    assert not list(tmp_path.glob(".*.part"))  # atomic write leaves no temp file
    misnamed = write_idx(tmp_path / "raw.gz", a, compress=False)  # raw bytes under a .gz name
    np.testing.assert_array_equal(read_idx(misnamed), a)


def test_header_layout(tmp_path):
    raw = encode_idx(np.zeros((2, 28, 28), np.uint8))
    assert raw[:4] == IMAGES_MAGIC.to_bytes(4, "big")
    assert raw[4:16] == b"\x00\x00\x00\x02\x00\x00\x00\x1c\x00\x00\x00\x1c"
    assert encode_idx(np.zeros(3, np.uint8))[:4] == LABELS_MAGIC.to_bytes(4, "big")


def test_missing_file(tmp_path):
    with pytest.raises(IDXFileNotFoundError, match="no-such.gz.*matgrad data download"):
        read_images(tmp_path / "no-such.gz")
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "no-such.gz")


@pytest.mark.parametrize("gz", [True, False])
def test_truncated(tmp_path, gz):
    data = encode_idx(np.ones((4, 28, 28), np.uint8))[:-100]
    path = tmp_path / "cut"
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(IDXError, match=r"cut: file is truncated.*\(4, 28, 28\)"):
        read_images(path)


def test_truncated_gzip_stream(tmp_path):
    full = gzip.compress(encode_idx(np.arange(5000, dtype=np.uint8) % 7))
    path = tmp_path / "half.gz"
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(IDXError, match="half.gz"):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "tiny"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(IDXError, match="truncated"):
        read_idx(path)


def test_trailing_bytes(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(encode_idx(np.ones(5, np.uint8)) + b"\x00")
    with pytest.raises(IDXError, match="unexpected bytes after"):
        read_labels(path)


def test_wrong_magic(tmp_path):
    path = tmp_path / "junk.gz"
    path.write_bytes(gzip.compress(b"<html>not found</html>"))
    with pytest.raises(IDXError, match="junk.gz: not an IDX file"):
        read_images(path)


def test_wrong_kind(tmp_path):
    labels = write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros(10, np.uint8))
    with pytest.raises(IDXError, match="wrong kind of IDX file.*swapped"):
        read_images(labels)
    images = write_idx(tmp_path / "labels", np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(IDXError, match="0x00000803"):
        read_labels(images)


def test_encode_rejects_unsupported():
    with pytest.raises(ValueError, match="IDX stores"):
        encode_idx(np.zeros(3, np.uint64))
    with pytest.raises(ValueError, match="IDX stores"):
        encode_idx(np.float32(1))
