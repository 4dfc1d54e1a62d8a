"""Who a route acts for: the key holder `core.api.gate` resolved before the body was read, and its scope.

Each route depends on `Reader` or `Writer`; `Writer` answers 403 for a read-only key. The key's owner is
then the owner of everything the request touches, under the same ownership rules as the pages. The two
security schemes are declared on the router for the OpenAPI document (its Authorize button).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPBearer

from core.accounts.api_keys import KeyHolder
from core.api.problems import Problem

SCHEMES = (APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key made on your profile page."),
           HTTPBearer(auto_error=False, description="The same API key, as `Authorization: Bearer <key>`."))


def caller(request: Request) -> KeyHolder:
    return request.state.holder


def writer(holder: Annotated[KeyHolder, Depends(caller)]) -> KeyHolder:
    if "write" not in holder.scopes:
        raise Problem(403, "This API key may only read; make a key with the write scope to change things.")
    return holder


Reader = Annotated[KeyHolder, Depends(caller)]
Writer = Annotated[KeyHolder, Depends(writer)]
