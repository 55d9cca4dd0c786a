"""Where datasets are looked for, in order: --data, $MATGRAD_DATA, cache, system folder."""
from __future__ import annotations

import pytest

from matgrad.data import MNIST, DatasetNotFound, cache_dir, find_datasets, locate, locator
from tests.data.conftest import tiny_split


def _places(tmp_path, monkeypatch):
    """Four places, each with its own tiny MNIST; returns them in search order."""
    arg, env, cache, system = (tmp_path / p for p in ("arg", "env", "xdg", "sys"))
    monkeypatch.setenv("MATGRAD_DATA", str(env))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setattr(locator, "SYSTEM_DATA_DIR", system)
    for seed, d in enumerate((arg / "mnist", env / "mnist", cache / "matgrad" / "mnist", system / "mnist")):
        tiny_split(d, n=2 + seed, seed=seed)
    return arg, env, cache / "matgrad", system


def test_search_order(tmp_path, monkeypatch):
    arg, env, cache, system = _places(tmp_path, monkeypatch)
    assert locate("mnist", data_dir=arg)[0].parent == arg / "mnist"
    assert len(MNIST(arg)) == 2
    assert locate("mnist")[0].parent == env / "mnist"
    monkeypatch.delenv("MATGRAD_DATA")
    assert locate("mnist")[0].parent == cache / "mnist"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty"))
    assert locate("mnist")[0].parent == system / "mnist"
    assert len(MNIST()) == 5


def test_files_directly_in_dir_raw_or_dotted(tmp_path):
    tiny_split(tmp_path, n=3, gz=False)
    images, labels = locate("mnist", data_dir=tmp_path)
    assert images == tmp_path / "train-images-idx3-ubyte" and labels.parent == tmp_path
    dotted = tmp_path / "old"
    tiny_split(dotted, n=3, train=False)
    (dotted / "t10k-images-idx3-ubyte.gz").rename(dotted / "t10k-images.idx3-ubyte.gz")
    assert locate("mnist", train=False, data_dir=dotted)[0].name == "t10k-images.idx3-ubyte.gz"


def test_subfolder_preferred_over_dir(tmp_path):
    tiny_split(tmp_path, n=2)
    tiny_split(tmp_path / "fashion-mnist", n=4)
    assert locate("FashionMNIST", data_dir=tmp_path)[0].parent == tmp_path / "fashion-mnist"


def test_only_complete_splits_count(tmp_path):
    tiny_split(tmp_path / "mnist", n=2)
    (tmp_path / "mnist" / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetNotFound):
        locate("mnist", data_dir=tmp_path)


def test_not_found_lists_every_place(tmp_path, monkeypatch):
    monkeypatch.setenv("MATGRAD_DATA", str(tmp_path / "env"))
    with pytest.raises(DatasetNotFound) as e:
        locate("fashion-mnist", train=False, data_dir=tmp_path / "arg")
    msg = str(e.value)
    for place in (tmp_path / "arg" / "fashion-mnist", tmp_path / "arg", tmp_path / "env",
                  cache_dir() / "fashion-mnist", locator.SYSTEM_DATA_DIR / "fashion-mnist"):
        assert f"{place}  (" in msg
    assert "matgrad data download fashion-mnist" in msg and "--data DIR" in msg and "test split" in msg
    assert isinstance(e.value, FileNotFoundError)


def test_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "matgrad"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "matgrad"


def test_find_datasets(tmp_path, monkeypatch):
    arg, env, cache, system = _places(tmp_path, monkeypatch)
    tiny_split(system / "fashion-mnist", n=2, train=False)
    found = find_datasets(arg)
    mnist = [f for f in found if f.name == "mnist"]
    assert [f.folder for f in mnist] == [arg / "mnist", env / "mnist", cache / "mnist", system / "mnist"]
    assert [f.used for f in mnist] == [True, False, False, False]
    assert mnist[0].splits == ["train"] and mnist[0].source == "--data"
    fashion = [f for f in found if f.name == "fashion-mnist"]
    assert len(fashion) == 1 and fashion[0].splits == ["test"] and fashion[0].source == "system datasets"
    assert found[-1].name == "digits" and found[-1].files[0].name == "digits.csv.gz"
