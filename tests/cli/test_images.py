"""Preprocessing of users' pictures: inversion, MNIST's 20x20 box and centre of mass, digits' 8x8."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matgrad.cli.errors import UsageError
from matgrad.cli.images import prepare

Image = pytest.importorskip("PIL.Image")
ImageDraw = pytest.importorskip("PIL.ImageDraw")


def draw_seven(path: Path, dark_on_light: bool, size: tuple[int, int] = (120, 200),
               mode: str = "RGB") -> None:
    paper, ink = ((255, 255, 255), (0, 0, 0)) if dark_on_light else ((0, 0, 0), (255, 255, 255))
    im = Image.new("RGB", size, paper)
    ImageDraw.Draw(im).line([(10, 30), (100, 30), (40, 180)], fill=ink, width=14)
    im.convert(mode).save(path)


def test_mnist_preprocessing(tmp_path: Path) -> None:
    draw_seven(tmp_path / "a.png", dark_on_light=True)
    draw_seven(tmp_path / "b.jpg", dark_on_light=False, mode="L")
    a, b = prepare(tmp_path / "a.png", "mnist"), prepare(tmp_path / "b.jpg", "mnist")
    assert a.shape == (1, 28, 28) and a.dtype == np.float32
    assert 0 <= a.min() and a.max() == pytest.approx(1, abs=0.02)
    assert np.abs(a - b).mean() < 0.02  # the same digit, whichever way round it was drawn
    img = a[0]
    rows, cols = np.nonzero(img > 0.1)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 <= 21  # fits MNIST's 20x20 box
    ys, xs = np.indices(img.shape)
    cy, cx = (ys * img).sum() / img.sum(), (xs * img).sum() / img.sum()
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1  # centred by mass


def test_digits_preprocessing_is_8x8_in_17_levels(tmp_path: Path) -> None:
    draw_seven(tmp_path / "a.png", dark_on_light=True, mode="RGBA")
    d = prepare(tmp_path / "a.png", "digits")
    assert d.shape == (1, 8, 8)
    np.testing.assert_allclose(d * 16, np.round(d * 16), atol=1e-6)
    assert d[0, 0].sum() > d[0, 7].sum()  # the 7's bar is on top


def test_unusable_images(tmp_path: Path) -> None:
    Image.new("RGB", (40, 40), (128, 128, 128)).save(tmp_path / "grey.png")
    with pytest.raises(UsageError, match="no drawing"):
        prepare(tmp_path / "grey.png", "mnist")
    with pytest.raises(UsageError, match="does not exist"):
        prepare(tmp_path / "none.png", "mnist")
