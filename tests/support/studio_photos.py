"""Photos and archives for the studio tests, made from the real test photos (tests/data/faces)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from tests.support.paths import FACES_DIR

PEOPLE = sorted((FACES_DIR / "people").rglob("*.*"))
GROUPS = sorted((FACES_DIR / "groups").glob("*.jpg"))


def variants(source: Path, count: int, folder: Path) -> list[Path]:
    """`count` different files (one pixel changed, so different SHA-256) showing the same photo."""
    folder.mkdir(parents=True, exist_ok=True)
    base = np.asarray(Image.open(source).convert("RGB")).copy()
    made = []
    for number in range(count):
        pixels = base.copy()
        pixels[0, 0] = (number % 256, number // 256, 7)
        path = folder / f"{source.stem}_v{number:03d}.png"
        Image.fromarray(pixels).save(path)
        made.append(path)
    return made


def no_face_photo(path: Path) -> Path:
    """A real-looking photo with no face: a smooth colour gradient with noise, 640x480."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:480, 0:640]
    pixels = np.stack([x * 255 / 640, y * 255 / 480, np.full_like(x, 90)], axis=-1)
    pixels = np.clip(pixels + rng.normal(0, 8, pixels.shape), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, quality=90)
    return path


def zip_of(path: Path, members: dict[str, bytes]) -> Path:
    """A zip holding `members` (name -> bytes), names written exactly as given (even `../x` or `/x`)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def jpeg_bytes(image: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90, **options)
    return out.getvalue()
