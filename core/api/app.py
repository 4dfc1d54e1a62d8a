"""The FastAPI application: the routes under /api/v1, OpenAPI at /docs and /openapi.json, errors as problems.

Why FastAPI: its OpenAPI page is generated from the routes' own types, so the documentation cannot drift
from what the server accepts; it runs on Starlette and uvicorn, which the Streamlit app already brings.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Security

from core.api import problems
from core.api.auth import SCHEMES
from core.api.gate import RequestGate
from core.api.routes import albums, export, faces, jobs, people, search, videos
from core.config import get_settings

DESCRIPTION = """WebTube's face studio for other programs. Every request carries an API key (made on your
profile page) as `X-API-Key` or `Authorization: Bearer`; it acts as the key's owner and sees only their
library. Errors are RFC 9457 problem details (`application/problem+json`)."""


def create_app() -> FastAPI:
    app = FastAPI(title="WebTube API", version="1", description=DESCRIPTION, docs_url="/docs",
                  openapi_url="/openapi.json", redoc_url=None)
    problems.install(app)
    api = APIRouter(prefix="/api/v1", responses=problems.RESPONSES,
                    dependencies=[Security(scheme) for scheme in SCHEMES])
    for module in (faces, search, people, albums, jobs, videos, export):
        api.include_router(module.router)
    app.include_router(api)
    app.add_middleware(RequestGate, max_mb=get_settings().api_max_body_mb)
    return app
