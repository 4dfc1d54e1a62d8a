"""Local stand-ins for Yandex.Disk's public REST API and the VK API, answering as their documentation says.

One threaded `http.server` on 127.0.0.1, reached by the name `localhost` (the one name the tests exempt
through WEBTUBE_CLOUD_ALLOWED_HOSTS, so a redirect from it to 127.0.0.1 is still refused):

- `/yandex/v1/disk/public/resources?public_key=&path=&limit=&offset=`: a Resource (a file, or a folder with
  an `_embedded` ResourceList page of `items` and its `total`), or the JSON error object with its status.
  Docs: https://yandex.com/dev/disk-api/doc/en/reference/public and
  https://yandex.com/dev/disk-api/doc/en/reference/response-objects
- `POST /vk/method/photos.getAlbums` and `/vk/method/photos.get` (form body: owner_id, album_id, offset,
  count, photo_sizes, access_token, v): `{"response": {"count", "items"}}` with each photo's `sizes`, or
  `{"error": {"error_code", "error_msg"}}` with HTTP 200. Docs: https://dev.vk.com/en/method/photos.get,
  https://dev.vk.com/en/method/photos.getAlbums, https://dev.vk.com/en/reference/errors
- `/files/<name>`: the photos' bytes, which may be cut off once mid-body, redirect, or be any other file.

Tests script the first answers of a route (`script`: a 429 or a VK error 6 before the real answer) and read
what was asked (`hits`, with the time of each request and its form body).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from core.config import get_settings

YANDEX_API = "/yandex/v1/disk"
VK_API = "/vk/method"


@dataclass(frozen=True)
class Hit:
    method: str
    path: str  # without the query
    query: dict[str, str]
    form: dict[str, str]
    at: float  # time.monotonic() when it arrived


@dataclass
class FileRoute:
    """A download: the bytes, cut short on the first `cuts` requests, or a redirect to `redirect`."""

    body: bytes = b""
    cuts: int = 0
    redirect: str | None = None


@dataclass(frozen=True)
class Canned:
    """A scripted answer: status, JSON body, headers."""

    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class YandexFile:
    name: str
    body: bytes
    reported_size: int | None = None  # what the listing says (the real size unless set)
    mime_type: str = "image/jpeg"


@dataclass
class _Folder:
    entries: dict[str, _Folder | YandexFile] = field(default_factory=dict)


@dataclass
class VkAlbum:
    owner_id: int
    album_id: int
    title: str
    photos: list[bytes]
    error: int | None = None  # answer photos.get with this VK error code (15: private album)
    zero_sizes: bool = False  # list every size as 0x0, as VK does for photos uploaded before 2012


class CloudServer:
    """The server's state: public Yandex.Disk links, VK albums and a token, file routes, scripts, hits."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.yandex: dict[str, _Folder | YandexFile] = {}
        self.vk_albums: list[VkAlbum] = []
        self.vk_token = "vk-test-token"
        self.files: dict[str, FileRoute] = {}
        self.scripts: dict[str, deque[Canned]] = defaultdict(deque)
        self.hits: list[Hit] = []
        self._lock = threading.Lock()

    # what tests set up

    def publish_folder(self, link: str, tree: dict) -> None:
        """A public folder at `link`: `tree` maps names to YandexFile or to a nested dict (a sub-folder)."""
        self.yandex[link] = self._folder(link, "", tree)

    def publish_file(self, link: str, file: YandexFile) -> None:
        self.yandex[link] = file
        self.files[self._file_key(link, "/")] = FileRoute(file.body)

    def add_vk_album(self, album: VkAlbum) -> None:
        self.vk_albums.append(album)
        for number, body in enumerate(album.photos):
            self.files[f"vk_{album.owner_id}_{album.album_id}_{number}_big.jpg"] = FileRoute(body)

    def download_url(self, link: str, path: str) -> str:
        """Where the listing says the file at `path` in the folder published at `link` is downloaded from."""
        return self.file_url(self._file_key(link, path))

    def route(self, link: str, path: str) -> FileRoute:
        """The download of the file at `path` in the folder published at `link`, to change how it answers."""
        return self.files[self._file_key(link, path)]

    def script(self, path: str, *answers: Canned) -> None:
        """Answer the next requests of `path` (e.g. "/vk/method/photos.get") with these, then as usual."""
        self.scripts[path].extend(answers)

    def file_url(self, name: str) -> str:
        return f"{self.base_url}/files/{name}"

    def downloads(self, name: str | None = None) -> list[Hit]:
        return [hit for hit in self.hits if hit.path.startswith("/files/")
                and (name is None or hit.path == f"/files/{name}")]

    def api_hits(self, prefix: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path.startswith(prefix)]

    def _folder(self, link: str, path: str, tree: dict) -> _Folder:
        folder = _Folder()
        for name, value in tree.items():
            if isinstance(value, dict):
                folder.entries[name] = self._folder(link, f"{path}/{name}", value)
            else:
                folder.entries[name] = value
                self.files[self._file_key(link, f"{path}/{name}")] = FileRoute(value.body)
        return folder

    @staticmethod
    def _file_key(link: str, path: str) -> str:
        return hashlib.sha256(f"{link}:{path}".encode()).hexdigest()[:16] + "_" + (path.rsplit("/", 1)[-1] or "f")

    # what the handler answers

    def record(self, hit: Hit) -> Canned | None:
        with self._lock:
            self.hits.append(hit)
            queue = self.scripts.get(hit.path)
            return queue.popleft() if queue else None

    def yandex_answer(self, query: dict[str, str]) -> Canned:
        link = query.get("public_key", "")
        root = self.yandex.get(link)
        if root is None:
            return _yandex_error(404, "DiskNotFoundError", "Resource not found.")
        path = query.get("path", "/") or "/"
        node: _Folder | YandexFile = root
        for part in [p for p in path.split("/") if p]:
            if not isinstance(node, _Folder) or part not in node.entries:
                return _yandex_error(404, "DiskNotFoundError", "Resource not found.")
            node = node.entries[part]
        if isinstance(node, YandexFile):
            return Canned(200, self._resource(link, path, node))
        limit, offset = int(query.get("limit", 20)), int(query.get("offset", 0))
        children = list(node.entries.items())
        page = [self._resource(link, f"{path.rstrip('/')}/{name}", child)
                for name, child in children[offset:offset + limit]]
        return Canned(200, {
            "type": "dir", "name": path.rsplit("/", 1)[-1] or "album", "path": path, "public_key": link,
            "resource_id": _rid(link, path),
            "_embedded": {"items": page, "limit": limit, "offset": offset, "total": len(children), "path": path,
                          "public_key": link, "sort": ""}})

    def _resource(self, link: str, path: str, node: _Folder | YandexFile) -> dict:
        if isinstance(node, _Folder):
            return {"type": "dir", "name": path.rsplit("/", 1)[-1], "path": path, "resource_id": _rid(link, path),
                    "public_key": link, "created": "2026-11-30T10:00:00+00:00"}
        return {"type": "file", "name": node.name, "path": path, "resource_id": _rid(link, path),
                "public_key": link, "mime_type": node.mime_type,
                "media_type": "image" if node.mime_type.startswith("image/") else "document",
                "size": len(node.body) if node.reported_size is None else node.reported_size,
                "md5": hashlib.md5(node.body).hexdigest(), "sha256": hashlib.sha256(node.body).hexdigest(),
                "file": self.file_url(self._file_key(link, path)), "created": "2026-11-30T10:00:00+00:00"}

    def vk_answer(self, method: str, form: dict[str, str]) -> Canned:
        if form.get("access_token") != self.vk_token:
            return _vk_error(5, "User authorization failed: invalid access_token (4).")
        if form.get("v") != "5.199":
            return _vk_error(8, "Invalid request: v (version) is required")
        try:
            owner = int(form["owner_id"])
        except (KeyError, ValueError):
            return _vk_error(100, "One of the parameters specified was missing or invalid: owner_id is undefined")
        albums = [album for album in self.vk_albums if album.owner_id == owner]
        if not albums:
            return _vk_error(113, "Invalid user id")
        offset, count = int(form.get("offset", 0)), min(int(form.get("count", 50)), 1000)
        if method == "photos.getAlbums":
            items = [{"id": a.album_id, "owner_id": a.owner_id, "title": a.title, "size": len(a.photos)}
                     for a in albums]
            return Canned(200, {"response": {"count": len(items), "items": items[offset:offset + count]}})
        if method != "photos.get":
            return _vk_error(3, "Unknown method passed")
        album = next((a for a in albums if str(a.album_id) == form.get("album_id")), None)
        if album is None:
            return _vk_error(200, "Access denied: album not found or private")
        if album.error is not None:
            return _vk_error(album.error, "Access denied")
        photos = [self._vk_photo(album, number) for number in range(len(album.photos))]
        return Canned(200, {"response": {"count": len(photos), "items": photos[offset:offset + count]}})

    def _vk_photo(self, album: VkAlbum, number: int) -> dict:
        """A photo as photos.get with photo_sizes=1 describes it: small sizes first, the largest last but one."""
        stem = f"vk_{album.owner_id}_{album.album_id}_{number}"
        sizes = [{"type": "s", "url": self.file_url(f"{stem}_s.jpg"), "width": 75, "height": 56},
                 {"type": "w", "url": self.file_url(f"{stem}_big.jpg"), "width": 1280, "height": 960},
                 {"type": "x", "url": self.file_url(f"{stem}_x.jpg"), "width": 604, "height": 453}]
        if album.zero_sizes:
            sizes = [{**size, "width": 0, "height": 0} for size in sizes]
        return {"id": 456239000 + number, "album_id": album.album_id, "owner_id": album.owner_id, "date": 1733130000,
                "sizes": sizes, "text": "", "has_tags": False}


def _rid(link: str, path: str) -> str:
    return "4242:" + hashlib.sha256(f"{link}{path}".encode()).hexdigest()[:40]


def _yandex_error(status: int, name: str, message: str) -> Canned:
    return Canned(status, {"error": name, "description": message, "message": message})


def _vk_error(code: int, message: str) -> Canned:
    return Canned(200, {"error": {"error_code": code, "error_msg": message, "request_params": []}})


def yandex_rate_limited() -> Canned:
    """Yandex.Disk's answer to too many requests (HTTP 429 with its error object)."""
    return Canned(429, {"error": "TooManyRequestsError", "description": "Too Many Requests",
                        "message": "Too Many Requests"}, {"Retry-After": "0"})


def vk_rate_limited() -> Canned:
    return _vk_error(6, "Too many requests per second")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self._answer({})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self._answer(form)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read `hits`."""

    def _answer(self, form: dict[str, str]) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        state = self.server.state
        canned = state.record(Hit(self.command, parts.path, query, form, time.monotonic()))
        if parts.path.startswith("/files/"):
            self._file(parts.path.removeprefix("/files/"))
            return
        if canned is None and parts.path == f"{YANDEX_API}/public/resources":
            canned = state.yandex_answer(query)
        elif canned is None and parts.path.startswith(f"{VK_API}/"):
            canned = state.vk_answer(parts.path.removeprefix(f"{VK_API}/"), form)
        elif canned is None:
            canned = Canned(404, {"error": "NotFound"})
        self._send(canned.status, json.dumps(canned.body).encode(), "application/json; charset=utf-8",
                   canned.headers)

    def _file(self, name: str) -> None:
        route = self.server.state.files.get(name)
        if route is None:
            self._send(404, b"not found", "text/plain", {})
        elif route.redirect is not None:
            self._send(302, b"", "text/plain", {"Location": route.redirect})
        elif route.cuts > 0:  # the connection drops halfway through the body, once per cut
            route.cuts -= 1
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body[: len(route.body) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self._send(200, route.body, "image/jpeg", {})

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = CloudServer(f"http://localhost:{self.server_address[1]}")

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up (a refused download) is not a server fault."""


@contextmanager
def cloud_server() -> Iterator[CloudServer]:
    """The server running on loopback for the block; its state is the CloudServer yielded."""
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, name="cloud-server", daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def point_at(server: CloudServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings of a test that imports from `server`: its API bases, `localhost` (only) exempt from the
    private-address check, private addresses otherwise refused (the data_dir fixture allows them)."""
    monkeypatch.setenv("WEBTUBE_YANDEX_DISK_API", server.base_url + YANDEX_API)
    monkeypatch.setenv("WEBTUBE_VK_API", server.base_url + VK_API)
    monkeypatch.setenv("WEBTUBE_CLOUD_ALLOWED_HOSTS", "localhost")
    monkeypatch.setenv("WEBTUBE_ALLOW_PRIVATE_URLS", "false")
    get_settings.cache_clear()
