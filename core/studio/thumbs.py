"""Thumbnails for the studio's grids: photos, face crops (cached on disk) and photos with their faces boxed.

Photos are read back through the safe loader at a modest pixel cap (large JPEGs decode reduced by
libjpeg, which is most of the cost saved), and boxes, kept in the stored photo's pixels, are scaled
to what was decoded. Cached files live in the owner's `thumbs/` folder and leave with their face or
photo (library.delete_*). Why Pillow: it is already how every image enters the app, and it resizes,
draws and encodes JPEG well enough for thumbnails.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.faces.images import load_image
from core.studio import library
from core.studio.errors import BadInput, NotFound
from core.studio.records import FaceInfo

_DECODE_PIXELS = 4_000_000  # enough for a 960 px view; a 12 MP JPEG decodes at half size
_MARGIN = 0.3  # face crops keep this much of the box's size around it on every side
_COLOURS = ((46, 204, 113), (241, 196, 15))  # a face's box; a chosen face's box


def _check_side(side: int) -> int:
    if not 32 <= side <= 2048:
        raise BadInput("A thumbnail is 32 to 2048 pixels on a side.")
    return side


def _jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _cached(path: Path, make: Callable[[], bytes]) -> bytes:
    """The cached file's bytes, made (and written atomically) on first use."""
    if path.is_file():
        return path.read_bytes()
    data = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    partial.write_bytes(data)
    os.replace(partial, path)
    return data


def _decoded(owner_id: int, photo_id: int) -> tuple[np.ndarray, float]:
    """The stored photo, decoded at most about 4 MP, and its scale from stored pixels to decoded ones."""
    detail = library.photo_detail(owner_id, photo_id)
    rgb = load_image(library.photo_file(owner_id, photo_id), max_pixels=_DECODE_PIXELS)
    width = detail.photo.width or rgb.shape[1]
    return rgb, rgb.shape[1] / width


def _fit(image: Image.Image, side: int) -> Image.Image:
    image = image.copy()
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return image


def photo_thumbnail(owner_id: int, photo_id: int, side: int = 320) -> bytes:
    """A JPEG of the photo, its longer side `side` pixels at most (cached)."""
    side = _check_side(side)

    def make() -> bytes:
        rgb, _ = _decoded(owner_id, photo_id)
        return _jpeg(_fit(Image.fromarray(rgb), side))

    library.photo_detail(owner_id, photo_id)  # refuses other owners' ids before touching the cache
    return _cached(library.thumbs_dir(owner_id) / f"p{photo_id}-{side}.jpg", make)


def _face(owner_id: int, face_id: int) -> FaceInfo:
    found = library.faces_of(owner_id, [face_id])
    if not found:
        raise NotFound("There is no such face in your library.")
    return found[0]


def face_thumbnail(owner_id: int, face_id: int, side: int = 112) -> bytes:
    """A square JPEG crop of one face with a margin around its box (cached)."""
    side = _check_side(side)
    face = _face(owner_id, face_id)

    def make() -> bytes:
        rgb, scale = _decoded(owner_id, face.photo_id)
        x1, y1, x2, y2 = (v * scale for v in face.box)
        half = max(x2 - x1, y2 - y1) * (0.5 + _MARGIN)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        box = (round(cx - half), round(cy - half), round(cx + half), round(cy + half))
        crop = Image.fromarray(rgb).crop(box)  # outside the photo comes out black, as in dlib's chips
        return _jpeg(crop.resize((side, side), Image.Resampling.LANCZOS), quality=90)

    return _cached(library.thumbs_dir(owner_id) / f"f{face_id}-{side}.jpg", make)


def photo_with_boxes(owner_id: int, photo_id: int, face_ids: list[int] | None = None, side: int = 960) -> bytes:
    """A JPEG of the photo with every face boxed and labelled (person name, else #face id);
    the faces in `face_ids` are boxed in the highlight colour."""
    side = _check_side(side)
    detail = library.photo_detail(owner_id, photo_id)
    rgb, scale = _decoded(owner_id, photo_id)
    image = Image.fromarray(rgb)
    shown = _fit(image, side)
    factor = scale * shown.width / image.width
    draw = ImageDraw.Draw(shown)
    chosen = set(face_ids or ())
    line = max(2, round(shown.width / 320))
    font = ImageFont.load_default(size=max(12, round(shown.width / 60)))
    for face in detail.faces:
        x1, y1, x2, y2 = (v * factor for v in face.box)
        colour = _COLOURS[1] if face.id in chosen else _COLOURS[0]
        draw.rectangle((x1, y1, x2, y2), outline=colour, width=line)
        label = face.person_name or f"#{face.id}"
        left, top, right, bottom = draw.textbbox((x1, y1), label, font=font)
        lift = bottom - top + 4
        draw.rectangle((x1, y1 - lift, x1 + right - left + 6, y1), fill=colour)
        draw.text((x1 + 3, y1 - lift + 1), label, fill=(0, 0, 0), font=font)
    return _jpeg(shown)
