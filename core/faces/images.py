"""Safe image loading: every upload, photo and frame enters the app through `load_image`.

Why here: a hostile or broken file must be refused with one clear sentence before it costs
memory, and every colour mode must come out as plain 8-bit RGB so the models see what a person
sees. Small files can decode large (a 120 KB PNG holds 40 MP), so everything is decided from the
header, before decoding: the pixels against the use's cap (faces need no more than ~12 MP), the
decoded size in bytes (mode and bit depth included: a 16-bit grey pixel is 2 bytes, RGBA or float
4) against `WEBTUBE_MAX_DECODED_MB`. JPEGs over the caps are decoded reduced by libjpeg itself
(`Image.draft`: 1/2, 1/4 or 1/8 scale, so the full size never exists in memory); other formats over
them are refused. Heavy decodes take one of a few process-wide slots (`decode_slots`). Conversion
to RGB runs in bands of rows, so besides the decoded image and the result only a band's worth of
temporaries exists, and deep images are scaled in float32, never float64.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Collection
from pathlib import Path

import numpy as np
from PIL import Image, ImageMode, ImageOps, UnidentifiedImageError

from core.config import get_settings
from core.faces.decode_slots import decode_slot
from core.faces.errors import ImageTooLarge, UnreadableImage, UnsupportedImageFormat
from core.faces.image_files import read_bytes

ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "BMP", "TIFF", "GIF"})
_REDUCIBLE = frozenset({"JPEG", "MPO"})  # libjpeg decodes these at 1/2, 1/4 or 1/8 scale
_SHOWN_NAMES = {"JPEG": "JPG", "PNG": "PNG", "WEBP": "WEBP", "BMP": "BMP", "TIFF": "TIFF", "GIF": "GIF"}
_DEEP_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_BAND_PIXELS = 1 << 20  # rows converted at a time: about a megapixel, a few MB of temporaries
_log = logging.getLogger(__name__)

_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"\x1f\x8b": "a gzip archive",
    b"<svg": "an SVG drawing",
    b"<?xml": "an XML file",
    b"<!DOCTYPE": "an HTML page",
    b"<html": "an HTML page",
}


def _describe_non_image(data: bytes) -> str | None:
    head = data[:16].lstrip()
    for signature, what in _SIGNATURES.items():
        if head[: len(signature)].lower() == signature.lower():
            return what
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "a video or HEIC file"
    return None


def _use_these(formats: Collection[str]) -> str:
    """'Use JPG, PNG or WEBP.' for the accepted formats, in a stable order."""
    names = [name for fmt, name in _SHOWN_NAMES.items() if fmt in formats]
    return f"Use {', '.join(names[:-1])} or {names[-1]}." if len(names) > 1 else f"Use {names[0]}."


def bytes_per_pixel(mode: str) -> int:
    """What one pixel of `mode` takes in Pillow's memory: 1 (L, P, 1), 2 (16-bit grey), 4 (I, F, any multi-band)."""
    try:
        descriptor = ImageMode.getmode(mode)
    except KeyError:
        return 4
    if len(descriptor.bands) > 1:
        return 4  # Pillow keeps RGB, RGBA, LA, CMYK, YCbCr ... at 4 bytes a pixel
    return np.dtype(descriptor.typestr).itemsize


def _fits(width: int, height: int, mode: str, max_pixels: int, max_bytes: int) -> bool:
    return width * height <= max_pixels and width * height * bytes_per_pixel(mode) <= max_bytes


def _reduce_jpeg(img: Image.Image, max_pixels: int, max_bytes: int) -> None:
    """Ask libjpeg for the mildest of 1/2, 1/4, 1/8 that fits the caps (no-op when none does or it cannot)."""
    width, height = img.size
    for scale in (2, 4, 8):
        if _fits(-(-width // scale), -(-height // scale), img.mode, max_pixels, max_bytes):
            img.draft(None, (max(1, width // scale), max(1, height // scale)))
            return


def _too_large(img: Image.Image, max_pixels: int, max_bytes: int) -> ImageTooLarge:
    width, height = img.size
    if width * height > max_pixels:
        return ImageTooLarge(
            f"The image is {width}x{height} ({width * height / 1e6:.0f} MP); the limit is {max_pixels / 1e6:.0f} MP."
        )
    decoded = width * height * bytes_per_pixel(img.mode)
    return ImageTooLarge(
        f"The image is {width}x{height} at {bytes_per_pixel(img.mode)} bytes a pixel ({decoded / 2**20:.0f} MB "
        f"once opened); the limit is {max_bytes / 2**20:.0f} MB."
    )


def _deep_top(img: Image.Image) -> float:
    """The value that maps to white: 16-bit files use their full range, deeper ones whichever range they hold."""
    if img.mode.startswith("I;16"):
        return 65535.0
    _, high = img.getextrema()
    return 65535.0 if float(high) > 255 else 255.0


def _band_to_rgb(band: Image.Image, top: float | None) -> np.ndarray:
    """One band of rows as uint8 RGB (or grey, broadcast by the caller): deep values scaled, alpha laid on white."""
    if top is not None:
        values = np.asarray(band).astype(np.float32)
        np.nan_to_num(values, copy=False, nan=0.0, posinf=top, neginf=0.0)
        values *= 255.0 / top
        values += 0.5
        return np.clip(values, 0, 255, out=values).astype(np.uint8)[:, :, None]
    if band.mode == "P" and "transparency" in band.info:
        band = band.convert("RGBA")
    if band.mode in _ALPHA_MODES:
        rgba = band.convert("RGBA")
        band = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return np.asarray(band.convert("RGB"))


def _to_rgb(img: Image.Image) -> np.ndarray:
    """Any Pillow mode to HxWx3 uint8 RGB, a band of rows at a time into one preallocated array."""
    width, height = img.size
    top = _deep_top(img) if img.mode in _DEEP_MODES else None
    out = np.empty((height, width, 3), dtype=np.uint8)
    rows = max(1, _BAND_PIXELS // width)
    for y in range(0, height, rows):
        out[y : y + rows] = _band_to_rgb(img.crop((0, y, width, min(y + rows, height))), top)
    return out


def _open(data: bytes, formats: Collection[str]) -> Image.Image:
    """Read the header only; each way a file can fail becomes one of our sentences."""
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge("The image declares far too many pixels to open safely.") from exc
    except UnidentifiedImageError as exc:
        what = _describe_non_image(data)
        if what:
            raise UnsupportedImageFormat(f"This file is {what}, not an image. {_use_these(formats)}") from exc
        raise UnreadableImage(f"This file is not an image we can read. {_use_these(formats)}") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        _log.info("image header refused: %r", exc)
        raise UnreadableImage("The image is damaged and cannot be read.") from exc
    if img.format not in formats:
        raise UnsupportedImageFormat(f"{img.format or 'These'} images are not accepted here. {_use_these(formats)}")
    if img.width < 1 or img.height < 1:
        raise UnreadableImage("The image has no pixels.")
    return img


def load_image(
    source: bytes | bytearray | str | Path,
    max_pixels: int | None = None,
    formats: Collection[str] = ACCEPTED_FORMATS,
) -> np.ndarray:
    """Decode an image to an upright HxWx3 uint8 RGB array, or raise an `ImageError` saying why not.

    `max_pixels` is the use's cap (default `WEBTUBE_FACE_MAX_PIXELS`); a JPEG over it comes back
    reduced (its shape says by how much), anything else over it is refused.
    """
    settings = get_settings()
    data = read_bytes(source, settings.max_upload_mb * 2**20)
    if not data:
        raise UnreadableImage("The file is empty.")
    img = _open(data, formats)
    cap = min(max_pixels if max_pixels is not None else settings.face_max_pixels, settings.max_image_pixels)
    max_bytes = settings.max_decoded_mb * 2**20
    if img.width * img.height > settings.max_image_pixels:
        raise _too_large(img, settings.max_image_pixels, max_bytes)
    if not _fits(img.width, img.height, img.mode, cap, max_bytes) and img.format in _REDUCIBLE:
        _reduce_jpeg(img, cap, max_bytes)
    if not _fits(img.width, img.height, img.mode, cap, max_bytes):
        raise _too_large(img, cap, max_bytes)
    cost = img.width * img.height * (bytes_per_pixel(img.mode) + 3)
    try:
        with decode_slot(cost):
            img.load()
            ImageOps.exif_transpose(img, in_place=True)
            return _to_rgb(img)
    except MemoryError as exc:
        raise ImageTooLarge("The server has not enough memory to open this image now; try a smaller one.") from exc
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        _log.info("image decode refused: %r", exc)
        raise UnreadableImage("The image is truncated or damaged and cannot be read.") from exc
