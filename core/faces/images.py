"""Safe image loading: every upload, photo and frame enters the app through `load_image`.

Why here: a hostile or broken file must be refused with a clear message before it costs
memory (decompression bombs are refused from the header, before decoding) and every
colour mode must come out as plain 8-bit RGB so the models see what a person sees.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.config import get_settings
from core.faces.errors import ImageTooLarge, UnreadableImage, UnsupportedImageFormat

ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "BMP", "TIFF", "GIF"})
MAX_FILE_BYTES = 200 * 1024 * 1024

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


def _read_source(source: bytes | bytearray | str | Path) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    path = Path(source)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableImage(f"Cannot open {path.name}: {exc.strerror or exc}.") from exc
    if size > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // 10**6
        raise ImageTooLarge(f"{path.name} is {size / 1e6:.0f} MB; images over {limit} MB are refused.")
    return path.read_bytes()


def _to_rgb(img: Image.Image) -> np.ndarray:
    """Any PIL mode to HxWx3 uint8 RGB; transparency is laid on white, deep images scaled down."""
    if img.mode in {"I;16", "I;16B", "I;16L", "I;16N", "I", "F"}:
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        grey = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in {"RGBA", "LA", "PA", "RGBa", "La"}:
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(canvas, rgba)
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


def load_image(source: bytes | bytearray | str | Path, max_pixels: int | None = None) -> np.ndarray:
    """Decode an image to an upright HxWx3 uint8 RGB array, or raise an `ImageError` saying why not."""
    data = _read_source(source)
    if not data:
        raise UnreadableImage("The file is empty.")
    cap = max_pixels if max_pixels is not None else get_settings().max_image_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            width, height = img.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(f"The image declares too many pixels to open safely ({exc}).") from exc
    except UnidentifiedImageError as exc:
        what = _describe_non_image(data)
        if what:
            raise UnsupportedImageFormat(f"This file is {what}, not an image. Use JPG, PNG, WEBP or BMP.") from exc
        raise UnreadableImage("This file is not an image we can read. Use JPG, PNG, WEBP or BMP.") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnreadableImage(f"The image is damaged and cannot be read ({exc}).") from exc
    if img.format not in ACCEPTED_FORMATS:
        raise UnsupportedImageFormat(f"{img.format or 'This'} images are not accepted. Use JPG, PNG, WEBP or BMP.")
    if width * height > cap:
        raise ImageTooLarge(
            f"The image is {width}x{height} ({width * height / 1e6:.0f} MP); the limit is {cap / 1e6:.0f} MP."
        )
    if width < 1 or height < 1:
        raise UnreadableImage("The image has no pixels.")
    try:
        img.load()
        img = ImageOps.exif_transpose(img)
        return _to_rgb(img)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(f"The image is truncated or damaged and cannot be read ({exc}).") from exc
