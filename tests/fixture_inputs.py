"""Test inputs rebuilt from ../shared/data by a recipe: the real footage is never stored in the project.

A recipe is a dict (kept in a fixture's JSON next to the reference outputs):

- `source`: a path under ../shared/data (a photo, or a video read with the package's `read_frames`);
- `t`: for a video, the seconds passed to `read_frames(start=t)`: the first frame it yields is used;
- `box` (optional): [x0, y0, x1, y1] in integer source pixels; parts outside the source are black;
- `size` (optional): [w, h] to resize to, with PIL's `resize` filter ('bilinear', 'bicubic', 'nearest', ...);
- `sha256`: of the rebuilt uint8 (h, w, 3) array's bytes (`array_sha256`).

The dev scripts in tools/ make their inputs with `rebuild` too, so a test sees what the reference saw, unless
a different decoder (ffmpeg, Pillow) gives other pixels: then the sha256 differs and the case is skipped.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")


def array_sha256(img: np.ndarray) -> str:
    "sha256 of the array's bytes in C order (dtype and shape are the recipe's: uint8 (h, w, 3))."
    return hashlib.sha256(np.ascontiguousarray(img).tobytes()).hexdigest()


def load_source(data_dir: Path, source: str, t: float | None = None) -> np.ndarray:
    "The uint8 RGB photo, or the first video frame `read_frames` gives from `t` seconds on."
    path = Path(data_dir) / source
    if path.suffix.lower() in VIDEO_SUFFIXES:
        from skeleton_cyclegan.video import read_frames
        return next(iter(read_frames(path, start=t, max_frames=1)))[1]
    from PIL import Image
    return np.asarray(Image.open(path).convert("RGB"))


def crop_box(img: np.ndarray, box) -> np.ndarray:
    "img[y0:y1, x0:x1] for integer `box` = (x0, y0, x1, y1), black where the box leaves the image."
    x0, y0, x1, y1 = (int(v) for v in box)
    h, w = img.shape[:2]
    out = np.zeros((y1 - y0, x1 - x0) + img.shape[2:], img.dtype)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if sx0 < sx1 and sy0 < sy1:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
    return out


def rebuild(recipe: dict, data_dir: Path) -> np.ndarray:
    "The uint8 (h, w, 3) input the recipe describes (see the module's doc)."
    from PIL import Image
    img = load_source(data_dir, recipe["source"], recipe.get("t"))
    if recipe.get("box") is not None:
        img = crop_box(img, recipe["box"])
    if recipe.get("size") is not None and tuple(recipe["size"]) != (img.shape[1], img.shape[0]):
        flt = getattr(Image.Resampling, recipe.get("resize", "bilinear").upper())
        img = np.asarray(Image.fromarray(img).resize(tuple(recipe["size"]), flt))
    return np.ascontiguousarray(img)


def rebuild_or_skip(name: str, recipe: dict, data_dir: Path | None, remake: str) -> np.ndarray:
    "`rebuild` for a test: skips (with the reason) without ../shared/data or when the pixels differ from the recipe's."
    import pytest
    if data_dir is None:
        pytest.skip(f"{name}: its input is rebuilt from ../shared/data/{recipe['source']}, and ../shared/data "
                    "(or $SKELETON_CYCLEGAN_SHARED_DATA) is absent")
    img = rebuild(recipe, data_dir)
    if array_sha256(img) != recipe["sha256"]:
        pytest.skip(f"{name}: the input rebuilt from {recipe['source']} differs from the one the reference outputs "
                    f"were made on (sha256 {array_sha256(img)[:12]}… ≠ {recipe['sha256'][:12]}…): another video or "
                    f"image decoder? Rerun {remake} to make new reference outputs")
    return img
