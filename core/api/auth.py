"""Who is calling: the API key from `X-API-Key` (CompreFace's header) or `Authorization: Bearer`, and its scope.

Each route depends on `reader` or `writer`; both answer 401 for a missing, unknown or revoked key, 403
for a read-only key asking to write, and 429 past the key's rate. The key's owner is then the owner
of everything the request touches, under the same ownership rules as the pages.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from core.accounts.api_keys import KeyHolder, holder_of
from core.api.problems import Problem
from core.api.rate_limit import RateLimiter
from core.api.uploads import NO_KEY
from core.config import get_settings

_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key made on your profile page.")
_bearer = HTTPBearer(auto_error=False, description="The same API key, as `Authorization: Bearer <key>`.")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="webtube"'}


@lru_cache(maxsize=1)
def limiter() -> RateLimiter:
    return RateLimiter(get_settings().api_rate_per_minute)


def caller(header_key: Annotated[str | None, Security(_header)] = None,
           bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None) -> KeyHolder:
    token = header_key or (bearer.credentials if bearer else None)
    if not token:
        raise Problem(401, NO_KEY, _CHALLENGE)
    holder = holder_of(token.strip())
    if holder is None:
        raise Problem(401, "This API key is not valid: it is unknown or was revoked.", _CHALLENGE)
    wait = limiter().take(holder.key_id)
    if wait:
        raise Problem(429, f"This key made too many requests; try again in {wait} s.", {"Retry-After": str(wait)})
    return holder


def writer(holder: Annotated[KeyHolder, Depends(caller)]) -> KeyHolder:
    if "write" not in holder.scopes:
        raise Problem(403, "This API key may only read; make a key with the write scope to change things.")
    return holder


Reader = Annotated[KeyHolder, Depends(caller)]
Writer = Annotated[KeyHolder, Depends(writer)]
