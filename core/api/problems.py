"""Every refusal of the API as RFC 9457 problem details: a status, a title and one sentence a person understands.

Why here: the services already raise typed errors with messages written for people (core.faces.errors,
core.studio.errors, core.accounts.users); this maps each type to its HTTP status once, so no route
writes its own. An unexpected error is logged and answered with a plain 500, never a stack trace.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.accounts.users import AccountError
from core.api.uploads import BodyTooLarge
from core.faces import errors as face_errors
from core.studio.errors import NotFound, StudioError, TooLarge, WrongType

MEDIA_TYPE = "application/problem+json"
_log = logging.getLogger(__name__)

# The face engine's errors by how a client should read them; the first match wins (subclasses first).
_FACE_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (face_errors.ImageTooLarge, 413),
    (face_errors.UnsupportedImageFormat, 415),
    (face_errors.DecoderBusy, 503),
    (face_errors.ImageError, 422),
    (face_errors.FaceError, 422),  # no face, several faces where one is needed, a face too poor to use
)


class ProblemDetails(BaseModel):
    """The body of every refusal (RFC 9457), as the OpenAPI document shows it."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None


# The refusals every route may answer, for the OpenAPI document (a route's own, such as 409, are added there).
RESPONSES: dict[int | str, dict] = {
    status: {"model": ProblemDetails, "description": words} for status, words in (
        (401, "no API key, or an unknown or revoked one"), (403, "a read-only key asking to change something"),
        (404, "no such item in the key owner's library"), (413, "a body or a file over its cap"),
        (415, "a file of the wrong kind"), (422, "a missing or invalid field, no face, several faces"),
        (429, "the key's rate exceeded (Retry-After)"))}


class Problem(Exception):
    """A refusal the API raises itself (no key, wrong scope, too many requests, body too large)."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


def problem_response(status: int, detail: str, instance: str | None = None,
                     headers: dict[str, str] | None = None, **extra: object) -> JSONResponse:
    """The one way a refusal is written, from the exception handlers and from the front gate alike."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    if instance is not None:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def face_status(exc: BaseException) -> int | None:
    """The status of a face-engine error, also when a service re-raised it as its own (`raise ... from exc`)."""
    for candidate in (exc, exc.__cause__):
        for kind, status in _FACE_STATUS:
            if isinstance(candidate, kind):
                return status
    return None


def _status_of(exc: Exception) -> int:
    """The status of a service's own error: each is a refusal with a message for people, never a 500."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, TooLarge):
        return 413
    if isinstance(exc, WrongType):
        return 415
    return face_status(exc) or 422


def _plain_field(error: dict) -> str:
    if error.get("type") == "json_invalid":
        return "the body is not valid JSON"
    where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path"))
    return f"{where}: {error.get('msg', 'is not valid')}" if where else str(error.get("msg", "is not valid"))


def install(app: FastAPI) -> None:
    """Answer every error of `app` as problem details."""

    @app.exception_handler(Problem)
    async def _own(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.detail, request.url.path, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [_plain_field(e) for e in exc.errors()]
        return problem_response(422, "The request is not complete or not valid: " + "; ".join(fields) + ".",
                                request.url.path, errors=fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, BodyTooLarge):  # FastAPI reports a body it could not read as a 400
            return problem_response(413, str(exc.__cause__), request.url.path)
        detail = {404: "There is nothing at this address of the API; see /docs.",
                  405: "This address does not take that method; see /docs."}.get(exc.status_code, str(exc.detail))
        return problem_response(exc.status_code, detail, request.url.path, dict(exc.headers or {}))

    async def _service(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, face_errors.ModelUnavailable):  # its message names files of the server: logged, not sent
            _log.error("face model unavailable: %s", exc)
            return problem_response(503, "The face models are not available on this server; the error was logged.",
                                    request.url.path)
        status = _status_of(exc)
        headers = {"Retry-After": "5"} if status == 503 else None
        return problem_response(status, str(exc), request.url.path, headers)

    for known in (face_errors.FaceError, StudioError, AccountError):
        app.add_exception_handler(known, _service)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        """Starlette logs the traceback (for the operator); the client gets one plain sentence."""
        return problem_response(500, "Something went wrong on the server; the error was logged.", request.url.path)
