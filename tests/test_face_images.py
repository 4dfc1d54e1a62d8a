"""The safe loader against broken, hostile and unusual images."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.faces.errors import ImageTooLarge, UnreadableImage, UnsupportedImageFormat
from core.faces.images import load_image


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny file whose header claims a huge picture: the classic decompression bomb."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def _encode(img: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def photo(faces_dir: Path) -> Image.Image:
    return Image.open(faces_dir / "people" / "obama" / "obama_2.jpg").convert("RGB")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableImage, match="empty"):
        load_image(empty)


def test_text_renamed_jpg_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "notes.jpg"
    fake.write_text("these are my notes, not a photo\n" * 20)
    with pytest.raises(UnreadableImage, match="not an image"):
        load_image(fake)


def test_pdf_renamed_jpg_names_what_it_is() -> None:
    with pytest.raises(UnsupportedImageFormat, match="PDF"):
        load_image(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")


def test_truncated_jpeg_is_refused(faces_dir: Path) -> None:
    data = (faces_dir / "people" / "biden" / "biden_1.jpg").read_bytes()
    with pytest.raises(UnreadableImage, match=r"truncated|damaged"):
        load_image(data[: len(data) // 3])


def test_png_declaring_30000_squared_is_refused_before_decoding() -> None:
    with pytest.raises(ImageTooLarge):
        load_image(_png_declaring(30000, 30000))


def test_pixel_cap_is_configurable(photo: Image.Image) -> None:
    with pytest.raises(ImageTooLarge, match="limit is"):
        load_image(_encode(photo, "PNG"), max_pixels=100_000)


def test_a_jpeg_over_the_cap_is_decoded_reduced(photo: Image.Image) -> None:
    rgb = load_image(_encode(photo, "JPEG"), max_pixels=100_000)  # 626x1200: 1/4 is the mildest that fits
    assert rgb.shape == (300, 157, 3)


def test_gif_and_unknown_formats(photo: Image.Image) -> None:
    assert load_image(_encode(photo.resize((64, 64)), "GIF")).shape == (64, 64, 3)
    with pytest.raises(UnsupportedImageFormat):
        load_image(_encode(photo.resize((64, 64)), "ICO"))


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [("CMYK", "JPEG"), ("L", "PNG"), ("P", "PNG"), ("RGBA", "PNG"), ("RGB", "WEBP"), ("RGB", "BMP"), ("LA", "PNG")],
)
def test_every_mode_becomes_rgb(photo: Image.Image, mode: str, fmt: str) -> None:
    rgb = load_image(_encode(photo.convert(mode), fmt))
    assert rgb.dtype == np.uint8
    assert rgb.shape == (photo.height, photo.width, 3)


def test_sixteen_bit_png_keeps_its_contrast(photo: Image.Image) -> None:
    grey16 = np.asarray(photo.convert("L"), dtype=np.uint16) * 257
    rgb = load_image(_encode(Image.fromarray(grey16), "PNG"))
    assert rgb.shape == (photo.height, photo.width, 3)
    assert abs(float(rgb.mean()) - float(np.asarray(photo.convert("L")).mean())) < 1.0


def test_transparent_pixels_are_laid_on_white() -> None:
    clear = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert load_image(_encode(clear, "PNG")).min() == 255


def test_exif_orientation_is_applied(photo: Image.Image) -> None:
    turned = photo.transpose(Image.Transpose.ROTATE_90)  # stored sideways ...
    exif = Image.Exif()
    exif[0x0112] = 6  # ... and tagged "rotate 90 clockwise to view"
    rgb = load_image(_encode(turned, "JPEG", exif=exif.tobytes()))
    assert rgb.shape == (photo.height, photo.width, 3)
