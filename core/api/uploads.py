"""Request bodies: refused before they are read when they cannot be served, capped while they are read.

Why a middleware: FastAPI reads and parses a body before any dependency runs, so the key check alone
would let anyone make the server buffer a body. `RequestGate` answers 401 at once for an API request
with no credentials at all, caps a declared length (`Content-Length`) before reading and an undeclared
one (chunked) while reading: WEBTUBE_API_MAX_BODY_MB for uploads (multipart), `JSON_MAX_BYTES` for the
rest. Image uploads are then held to the pages' per-file cap (WEBTUBE_MAX_UPLOAD_MB), and files for an
import are copied to staging in chunks, never held in memory whole.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import BinaryIO

from fastapi import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.config import get_settings
from core.faces.errors import ImageTooLarge
from core.faces.image_files import read_bytes

JSON_MAX_BYTES = 1 << 20  # a JSON or form body without files: names, ids, links
API_PREFIX = "/api/v1/"
NO_KEY = "This request needs an API key: send it as X-API-Key or as a bearer token."


class BodyTooLarge(Exception):
    """Raised from inside the body's reading; the HTTP error handler turns it into 413."""


def too_large_detail(limit_bytes: int) -> str:
    size = f"{limit_bytes // 2**20} MB" if limit_bytes >= 2**20 else f"{limit_bytes // 1024} KB"
    return f"The request is larger than the {size} this API accepts in one request of this kind."


class RequestGate:
    def __init__(self, app: ASGIApp, max_mb: int) -> None:
        self.app, self.upload_max = app, max_mb * 2**20

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if b"x-api-key" not in headers and b"authorization" not in headers:
            await _problem(scope, send, 401, NO_KEY, {"WWW-Authenticate": 'Bearer realm="webtube"'})
            return
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        limit = self.upload_max if multipart else JSON_MAX_BYTES
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _problem(scope, send, 413, too_large_detail(limit), {"Connection": "close"})
            return
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(too_large_detail(limit))
            return message

        await self.app(scope, bounded, send)


async def _problem(scope: Scope, send: Send, status: int, detail: str, headers: dict[str, str]) -> None:
    body = json.dumps({"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
                       "detail": detail, "instance": scope.get("path", "")}).encode()
    raw = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    raw += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def image_bytes(upload: UploadFile) -> bytes:
    """The uploaded image, refused (ImageTooLarge, so 413) past the per-file cap without reading it all."""
    limit = get_settings().max_upload_mb * 2**20
    if upload.size is not None and upload.size > limit:
        raise ImageTooLarge(f"The file is {upload.size / 2**20:.1f} MB; images can be at most {limit // 2**20} MB.")
    return read_bytes(upload.file.read(limit + 1), limit)


def upload_streams(uploads: list[UploadFile]) -> list[tuple[str, BinaryIO]]:
    """Uploaded photos or zips for an import, as (name, file) for staging to copy in chunks."""
    return [(upload.filename or "upload", upload.file) for upload in uploads]
