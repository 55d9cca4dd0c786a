"""The README's pictures (docs/make_pictures.py): each is there, a screenshot-sized PNG, and shown by the README.

Making them needs Chromium, a kernel and a training run, so this only checks what was committed."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PICTURES = ["notebook_cell.png", "matrix_page.png", "tensorboard_scalars.png"]


@pytest.mark.parametrize("name", PICTURES)
def test_the_picture_is_a_small_png_the_readme_shows(name: str) -> None:
    path = ROOT / "docs" / "img" / name
    assert path.is_file(), f"{path} is missing: run python docs/make_pictures.py"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert 600 <= width <= 1000 and 150 <= height <= 1000, (width, height)
    assert len(data) <= 160_000
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"](docs/img/{name})" in readme


def test_the_readme_says_how_the_pictures_are_made() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "python docs/make_pictures.py" in readme
    assert (ROOT / "docs" / "make_pictures.py").is_file()
