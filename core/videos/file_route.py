"""The HTTP route behind "Save" and the annotated videos: streams a file from disk to whoever holds a valid link.

Mounted beside Streamlit's own routes by `serve.py` (Streamlit's `st.App(routes=...)`), so it runs
on the app's one port. Starlette's FileResponse reads the file in small chunks and honours Range
requests: no copy of the file is ever held in memory, however many people save it at once.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from core.videos.download_cache import touch
from core.videos.file_links import ROUTE, LinkExpired, LinkInvalid, in_download_cache, open_link


async def _serve(request: Request) -> Response:
    try:
        linked = open_link(request.path_params["token"])
    except LinkInvalid as exc:
        return PlainTextResponse(str(exc), status_code=404)
    except (LinkExpired, FileNotFoundError) as exc:
        return PlainTextResponse(str(exc), status_code=410)
    if in_download_cache(linked.path):
        touch(linked.path.parent)  # a saved video counts as used, for the cache's eviction order
    return FileResponse(
        linked.path,
        media_type=linked.mime,
        filename=linked.file_name,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


def file_routes(base_url_path: str = "") -> list[Route]:
    """The route, under Streamlit's `server.baseUrlPath` when one is set."""
    prefix = "/" + base_url_path.strip("/") if base_url_path.strip("/") else ""
    return [Route(f"{prefix}{ROUTE}/{{token}}", _serve, methods=["GET", "HEAD"])]
