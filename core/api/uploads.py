"""Uploaded files: images held to the pages' per-file cap (WEBTUBE_MAX_UPLOAD_MB) without reading past it, files
for an import handed on as open files so staging copies them in chunks, never whole in memory. The body as a whole
is capped before this, by `core.api.gate`.
"""

from __future__ import annotations

from typing import BinaryIO

from fastapi import UploadFile

from core.config import get_settings
from core.faces.errors import ImageTooLarge
from core.faces.image_files import read_bytes


class BodyTooLarge(Exception):
    """Raised from inside the body's reading (core.api.gate); the HTTP error handler turns it into 413."""


def too_large_detail(limit_bytes: int) -> str:
    size = f"{limit_bytes // 2**20} MB" if limit_bytes >= 2**20 else f"{limit_bytes // 1024} KB"
    return f"The request is larger than the {size} this API accepts in one request of this kind."


def image_bytes(upload: UploadFile) -> bytes:
    """The uploaded image, refused (ImageTooLarge, so 413) past the per-file cap without reading it all."""
    limit = get_settings().max_upload_mb * 2**20
    if upload.size is not None and upload.size > limit:
        raise ImageTooLarge(f"The file is {upload.size / 2**20:.1f} MB; images can be at most {limit // 2**20} MB.")
    return read_bytes(upload.file.read(limit + 1), limit)


def upload_streams(uploads: list[UploadFile]) -> list[tuple[str, BinaryIO]]:
    """Uploaded photos or zips for an import, as (name, file) for staging to copy in chunks."""
    return [(upload.filename or "upload", upload.file) for upload in uploads]
