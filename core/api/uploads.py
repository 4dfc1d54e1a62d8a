"""Request bodies: one cap on every body, read before any service sees it, and bounded reads of uploaded files.

Why a middleware: a client can send gigabytes, or a chunked body with no length; `BodyLimit` refuses a
declared length over WEBTUBE_API_MAX_BODY_MB at once and stops reading an undeclared one at the cap, so
the server never spools more than the cap to disk. Image uploads are then held to the same per-file cap
as the pages' (WEBTUBE_MAX_UPLOAD_MB).
"""

from __future__ import annotations

import json

from fastapi import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.config import get_settings
from core.faces.image_files import read_bytes


class BodyTooLarge(Exception):
    """Raised from inside the body's reading; the HTTP error handler turns it into 413."""


def too_large_detail(limit_mb: int) -> str:
    return f"The request is larger than the {limit_mb} MB this API accepts in one request."


class BodyLimit:
    def __init__(self, app: ASGIApp, max_mb: int) -> None:
        self.app, self.max_mb, self.max_bytes = app, max_mb, max_mb * 2**20

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, send)
            return
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(too_large_detail(self.max_mb))
            return message

        await self.app(scope, bounded, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = json.dumps({"type": "about:blank", "title": "Content Too Large", "status": 413,
                           "detail": too_large_detail(self.max_mb), "instance": scope.get("path", "")}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/problem+json"), (b"connection", b"close"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def image_bytes(upload: UploadFile) -> bytes:
    """The uploaded image, refused (ImageTooLarge, so 413) past the per-file cap without reading it all."""
    limit = get_settings().max_upload_mb * 2**20
    return read_bytes(upload.file.read(limit + 1), limit)


def file_bytes(upload: UploadFile) -> tuple[str, bytes]:
    """An uploaded photo or zip for an import, with its name (the body cap already bounds it)."""
    return upload.filename or "upload", upload.file.read()
