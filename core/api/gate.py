"""The API's front gate: who is calling and whether the request may be read, decided before its body is read.

Why a middleware: FastAPI reads and parses a body before any dependency runs, so a key checked in a
dependency would let anyone (no key, a revoked key, a key past its rate) make the server read a body
first. `RequestGate` resolves the key (`X-API-Key`, CompreFace's header, or `Authorization: Bearer`),
answers 401 or 429 at once, and then caps the body: a declared length (`Content-Length`) before reading,
an undeclared one (chunked) while reading; WEBTUBE_API_MAX_BODY_MB for uploads (multipart), 1 MB for the
rest. The key's holder is handed to the routes in the request's state (`core.api.auth`).
"""

from __future__ import annotations

from functools import lru_cache

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.accounts.api_keys import holder_of
from core.api.problems import problem_response
from core.api.rate_limit import RateLimiter
from core.api.uploads import BodyTooLarge, too_large_detail
from core.config import get_settings

JSON_MAX_BYTES = 1 << 20  # a JSON or form body without files: names, ids, links
API_PREFIX = "/api/v1/"
NO_KEY = "This request needs an API key: send it as X-API-Key or as a bearer token."
BAD_KEY = "This API key is not valid: it is unknown or was revoked."
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="webtube"'}


@lru_cache(maxsize=1)
def limiter() -> RateLimiter:
    return RateLimiter(get_settings().api_rate_per_minute)


def presented_key(headers: dict[bytes, bytes]) -> str | None:
    """The key a request carries, from X-API-Key or a bearer Authorization header."""
    raw = headers.get(b"x-api-key") or b""
    scheme, _, credentials = (headers.get(b"authorization") or b"").partition(b" ")
    if not raw and scheme.lower() == b"bearer":
        raw = credentials
    return raw.decode("latin-1").strip() or None


class RequestGate:
    def __init__(self, app: ASGIApp, max_mb: int) -> None:
        self.app, self.upload_max = app, max_mb * 2**20

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        token = presented_key(headers)
        holder = await run_in_threadpool(holder_of, token) if token else None
        if holder is None:
            await _problem(scope, send, 401, BAD_KEY if token else NO_KEY, _CHALLENGE)
            return
        wait = limiter().take(holder.key_id)
        if wait:
            await _problem(scope, send, 429, f"This key made too many requests; try again in {wait} s.",
                           {"Retry-After": str(wait)})
            return
        scope.setdefault("state", {})["holder"] = holder
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
    response = problem_response(status, detail, scope.get("path", ""), headers)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
