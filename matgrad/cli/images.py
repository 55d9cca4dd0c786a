"""Turn a user's picture (any size, colour mode, background) into the input a trained model expects.

MNIST's own preprocessing is followed: white ink on black, the digit's bounding box scaled to
fit 20x20 keeping its aspect ratio, then placed in 28x28 so its centre of mass is the centre.
Fashion-MNIST items fill the frame (longest side 28). The digits set is 8x8, values 0..16.
Pillow is imported here only.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from .errors import UsageError

PILLOW_MISSING = 'reading images needs Pillow, which cannot be imported here; get it with: pip install "matgrad[cli]"'


def _pil() -> Any:
    try:
        from PIL import Image, ImageOps
    except ImportError:
        raise UsageError(PILLOW_MISSING) from None
    return Image, ImageOps


def require_pillow() -> None:
    """UsageError saying what to install when Pillow cannot be imported."""
    _pil()


def read_grey(path: str | os.PathLike) -> np.ndarray:
    """The image as float64 grey levels 0..255, (H, W); transparent parts count as white paper."""
    Image, ImageOps = _pil()
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                im = im.convert("RGBA")
                paper = Image.new("RGBA", im.size, (255, 255, 255, 255))
                im = Image.alpha_composite(paper, im)
            return np.asarray(im.convert("L"), dtype=np.float64)
    except FileNotFoundError:
        raise UsageError(f"image {path} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a folder, not an image") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        # PIL.UnidentifiedImageError is an OSError
        raise UsageError(f"cannot read {path} as an image (PNG or JPEG expected): {e}") from None


def ink(grey: np.ndarray) -> np.ndarray:
    """Ink as 0..1 on a 0 background: inverted when the paper is light, the paper level subtracted."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) > 127:
        grey = 255 - grey
        border = 255 - border
    a = np.clip(grey - np.median(border), 0, None)
    top = a.max()
    return a / top if top > 0 else a


def _bbox(a: np.ndarray, path: Any) -> np.ndarray:
    rows, cols = np.nonzero(a > 0.1)
    if rows.size == 0:
        raise UsageError(f"{path}: no drawing found (the image is blank or has no contrast)")
    return a[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def _resize(a: np.ndarray, fit: int) -> np.ndarray:
    """`a` scaled so its longer side is `fit` pixels, aspect ratio kept (antialiased)."""
    Image, _ = _pil()
    h, w = a.shape
    scale = fit / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    im = Image.fromarray((a * 255).astype(np.uint8), mode="L").resize(size, Image.LANCZOS)
    return np.asarray(im, dtype=np.float64) / 255


def _place(patch: np.ndarray, size: int, by_mass: bool) -> np.ndarray:
    """`patch` in a size x size black canvas, centred by centre of mass (or by its box)."""
    h, w = patch.shape
    if by_mass and patch.sum() > 0:
        ys, xs = np.indices(patch.shape)
        cy, cx = (ys * patch).sum() / patch.sum(), (xs * patch).sum() / patch.sum()
        top, left = round(size / 2 - cy - 0.5), round(size / 2 - cx - 0.5)
    else:
        top, left = (size - h) // 2, (size - w) // 2
    top, left = min(max(top, 0), size - h), min(max(left, 0), size - w)
    out = np.zeros((size, size))
    out[top:top + h, left:left + w] = patch
    return out


def prepare(path: str | os.PathLike, dataset: str) -> np.ndarray:
    """The image as a float32 (1, H, W) array in [0, 1], preprocessed like `dataset`'s images."""
    a = _bbox(ink(read_grey(path)), path)
    if dataset == "digits":
        img = _place(_resize(a, 8), 8, by_mass=False)
        img = np.round(img * 16) / 16  # the set's 17 grey levels (0..16)
    elif dataset == "fashion-mnist":
        img = _place(_resize(a, 28), 28, by_mass=False)
    else:
        img = _place(_resize(a, 20), 28, by_mass=True)
    return np.clip(img, 0, 1).astype(np.float32)[None]
