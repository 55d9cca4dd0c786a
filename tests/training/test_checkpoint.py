"""Checkpoints: arrays and nested state round-trip through a pickle-free .npz, written atomically."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

import matgrad as mg
from matgrad import nn, optim
from matgrad.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def test_round_trip_of_model_optimizer_and_rng(tmp_path: Path) -> None:
    mg.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(mg.randn(5, 4)).sum().backward()
    opt.step()
    rng = mg.get_rng_state()
    path = save_checkpoint(tmp_path / "m.npz", model.state_dict(), optimizer=opt.state_dict(),
                           rng=rng, settings={"lr": 0.01, "sizes": [4, 3, 2]}, epoch=3, nothing=None)
    ckpt = load_checkpoint(path)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(ckpt.model_state[k], v.array)
    assert ckpt["epoch"] == 3 and ckpt["nothing"] is None
    assert ckpt["settings"] == {"lr": 0.01, "sizes": [4, 3, 2]}
    assert ckpt["rng"] == rng  # PCG64's 128-bit integers survive JSON
    state = ckpt["optimizer"]["state"]
    assert sorted(state) == [0, 1, 2, 3]  # int keys come back as ints
    np.testing.assert_array_equal(state[0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    opt2 = optim.Adam(model.parameters(), lr=0.5)
    opt2.load_state_dict(ckpt["optimizer"])
    assert opt2.param_groups[0]["lr"] == 0.01
    with np.load(path, allow_pickle=False) as z:  # readable without pickle
        assert "meta.json" in z.files


def test_checkpoints_get_the_mode_an_ordinary_open_would(tmp_path: Path) -> None:
    """Not the 0600 of a temp file: colleagues can read a shared run folder under umask 022."""
    old = os.umask(0o022)
    try:
        ckpt = save_checkpoint(tmp_path / "model.npz", {"w": np.zeros(2)})
    finally:
        os.umask(old)
    assert stat.S_IMODE(ckpt.stat().st_mode) == 0o644


def test_bad_checkpoints_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "none.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(tmp_path / "text.npz")
    np.savez(tmp_path / "other.npz", a=np.ones(2))
    with pytest.raises(CheckpointError, match="not a matgrad checkpoint"):
        load_checkpoint(tmp_path / "other.npz")
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(CheckpointError, match="folder without a model.npz"):
        load_checkpoint(tmp_path / "emptydir")
