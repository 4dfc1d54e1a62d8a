"""Pytest plugin: a local HTTP media server on 127.0.0.1, and a guard that keeps tests on loopback.

Tests that exercise yt-dlp, downloads or anything that fetches a URL point it here instead of the
internet. The server serves the project's real clip (read in place from tests/data/faces/video) with
HTTP Range support, a web page that embeds it, a redirect to a private address and a 404. Tests can
add their own routes with `media_server.add(...)`, and count what was asked with `.hits(path)`.
A route can `trickle` its body (so many bytes, then a pause, after a prefix sent at once), to play
a slow or stalling server.

It also answers CONNECT with 502, like an egress proxy that has no internet: give it to a client
as its proxy to be offline deterministically, without waiting for DNS or TCP time-outs.
"""

from __future__ import annotations

import errno
import html
import ipaddress
import re
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.paths import FACES_DIR

VIDEO_DIR = FACES_DIR / "video"
CLIP = VIDEO_DIR / "short_hamilton_clip.mp4"
CLIP_TITLE = "Hamilton test clip"
PRIVATE_TARGET = "http://169.254.169.254/latest"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(frozen=True)
class Route:
    """One canned response; a 200 with a body honours Range requests."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/octet-stream"
    headers: Mapping[str, str] = field(default_factory=dict)
    trickle: tuple[int, float] | None = None  # (bytes, seconds): send this many bytes, then wait, until done
    trickle_after: int = 0  # bytes sent at once before trickling starts


@dataclass(frozen=True)
class Hit:
    """One request the server received, for tests that count traffic."""

    method: str
    path: str
    headers: Mapping[str, str]


class _Handler(BaseHTTPRequestHandler):
    """Serves `server.routes`; anything unknown is a 404."""

    protocol_version = "HTTP/1.1"
    server: _MediaHTTPServer

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def do_CONNECT(self) -> None:
        """Refuse tunnels the way an egress proxy with no upstream does."""
        self._record()
        self._send(502, b"no upstream network", "text/plain", {}, send_body=True)

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet; tests read `hits` instead of the log."""

    def _record(self) -> None:
        self.server.hits.append(Hit(self.command, self.path, dict(self.headers.items())))

    def _respond(self, send_body: bool) -> None:
        self._record()
        route = self.server.routes.get(self.path.split("?", 1)[0], Route(404, b"not found", "text/plain"))
        if route.status == 200 and route.body and "Range" in self.headers:
            self._send_range(route, self.headers["Range"], send_body)
        else:
            self._send(route.status, route.body, route.content_type, route.headers, send_body, route)

    def _send_range(self, route: Route, header: str, send_body: bool) -> None:
        size = len(route.body)
        match = _RANGE.fullmatch(header.strip())
        if not match or match.groups() == ("", ""):
            self._send(416, b"", route.content_type, {"Content-Range": f"bytes */{size}"}, send_body)
            return
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        else:
            start, end = max(size - int(last), 0), size - 1
        if start > end:
            self._send(416, b"", route.content_type, {"Content-Range": f"bytes */{size}"}, send_body)
            return
        headers = {**route.headers, "Content-Range": f"bytes {start}-{end}/{size}"}
        self._send(206, route.body[start : end + 1], route.content_type, headers, send_body, route)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str],
        send_body: bool,
        route: Route | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not send_body:
            return
        if route is None or route.trickle is None:
            self.wfile.write(body)
            return
        step, pause = route.trickle
        self.wfile.write(body[: route.trickle_after])
        for offset in range(route.trickle_after, len(body), step):
            self.wfile.flush()
            time.sleep(pause)
            self.wfile.write(body[offset : offset + step])


class _MediaHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up mid-body (a download aborted on purpose) is not a server fault."""


class MediaServer:
    """Handle on the running server: its address, its routes and what it was asked."""

    def __init__(self, server: _MediaHTTPServer) -> None:
        self._server = server
        host, port = server.server_address[:2]
        self.base_url = f"http://{host}:{port}"

    def url(self, path: str) -> str:
        """Absolute URL of `path` on this server."""
        return self.base_url + "/" + path.lstrip("/")

    def add(self, path: str, route: Route) -> None:
        """Serve `route` at `path` (replacing what was there) for the rest of the session."""
        self._server.routes["/" + path.lstrip("/")] = route

    def hits(self, path: str | None = None) -> list[Hit]:
        """Requests received so far, all of them or those for one path (query ignored)."""
        wanted = None if path is None else "/" + path.lstrip("/")
        return [hit for hit in self._server.hits if wanted is None or hit.path.split("?", 1)[0] == wanted]

    @property
    def proxy_url(self) -> str:
        """This server as an HTTP proxy that has no upstream: every tunnel is refused with 502."""
        return self.base_url


def _watch_page() -> bytes:
    """A page in the shape video sites publish: a title, Open Graph tags and a <video> tag."""
    title = html.escape(CLIP_TITLE)
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta property="og:title" content="{title}">
<meta property="og:image" content="/poster.jpg">
<meta property="og:type" content="video.other">
</head>
<body>
<h1>{title}</h1>
<video controls width="640" poster="/poster.jpg"><source src="/clip.mp4" type="video/mp4"></video>
</body>
</html>
"""
    return page.encode()


def _default_routes(clip: bytes) -> dict[str, Route]:
    return {
        "/clip.mp4": Route(body=clip, content_type="video/mp4"),
        "/watch.html": Route(body=_watch_page(), content_type="text/html; charset=utf-8"),
        "/redirect-to-private": Route(302, headers={"Location": PRIVATE_TARGET}),
        "/notfound": Route(404, b"not found", "text/plain"),
    }


@pytest.fixture(scope="session")
def media_clip() -> bytes:
    """The bytes the server sends for /clip.mp4: the project's real clip, read in place."""
    assert CLIP.is_file(), f"test clip missing at {CLIP}"
    return CLIP.read_bytes()


@pytest.fixture(scope="session")
def media_server(media_clip: bytes) -> Iterator[MediaServer]:
    """A threaded HTTP server on 127.0.0.1 for the whole session; see the module docstring."""
    server = _MediaHTTPServer()
    server.routes.update(_default_routes(media_clip))
    thread = threading.Thread(target=server.serve_forever, name="media-server", daemon=True)
    thread.start()
    try:
        yield MediaServer(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class FakeDns(dict[str, list[str]]):
    """Host name → addresses that `loopback_only` answers with; any other name does not resolve."""


def _is_loopback(host: object) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    """Keep a test off the network: names resolve only through the returned FakeDns, connects only to loopback.

    A name not in the FakeDns fails like a machine with no DNS server; a connect to anything but
    loopback fails with ENETUNREACH, like a machine with no route out.
    """
    fake = FakeDns()
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host: object, port: object, *args: object, **kwargs: object) -> list:
        name = host.decode() if isinstance(host, bytes) else host
        if name in fake:
            return [entry for address in fake[name] for entry in real_getaddrinfo(address, port, *args, **kwargs)]
        if _is_loopback(name):
            return real_getaddrinfo(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def connect(sock: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(host):
            raise OSError(errno.ENETUNREACH, "Network is unreachable (test is loopback-only)")
        real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return fake
