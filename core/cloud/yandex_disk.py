"""Yandex.Disk public links (a file or a folder, with its sub-folders) through the public REST API.

`GET {WEBTUBE_YANDEX_DISK_API}/public/resources?public_key=<link>&path=<folder>&limit=&offset=` answers a
Resource: a file, or a folder whose `_embedded` ResourceList holds one page of `items` (each with `type`
dir/file, `name`, `path`, `size`, `mime_type`, `sha256`, `resource_id` and `file`, the download link) and the
folder's `total`. Errors are JSON `{"error": "DiskNotFoundError", "description": ..., "message": ...}` with
their HTTP status; 429 means slow down. Public links need no token.
Docs: https://yandex.com/dev/disk-api/doc/en/reference/public and
https://yandex.com/dev/disk-api/doc/en/reference/response-objects
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlsplit

from core.cloud import http
from core.cloud.errors import CloudError
from core.cloud.items import CloudItem
from core.config import get_settings

SERVICE = "Yandex.Disk"
PAGE = 100  # items asked for per request
RATE_LIMIT_TRIES = 3
_HOSTS = frozenset({"disk.yandex.ru", "disk.yandex.com", "disk.yandex.by", "disk.yandex.kz", "disk.yandex.ua",
                    "disk.yandex.uz", "disk.yandex.com.tr", "disk.360.yandex.ru", "yadi.sk"})
_PUBLIC_PATHS = ("d", "i")  # /d/<key>: a folder or a file; /i/<key>: a file (older links)


def parse(link: str) -> str | None:
    """The public link as the API takes it (`https://host/d/<key>`, query and fragment dropped), or None."""
    try:
        parts = urlsplit(link.strip())
        host = (parts.hostname or "").lower().removeprefix("www.")
    except ValueError:
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if parts.scheme not in ("http", "https") or host not in _HOSTS:
        return None
    if len(segments) < 2 or segments[0] not in _PUBLIC_PATHS:
        return None
    return f"https://{host}/{'/'.join(segments)}"


class YandexDiskFolder:
    """The photos behind one public link: the file itself, or every image in the folder and its sub-folders."""

    def __init__(self, link: str) -> None:
        self.link = link
        self.default_album = f"{SERVICE} {link.rsplit('/', 1)[-1]}"[:120]

    def list_items(self) -> Iterator[CloudItem]:
        budget = get_settings().cloud_max_photos
        folders = ["/"]
        while folders:
            folder = folders.pop(0)
            offset = 0
            while True:
                resource = self._resource(folder, offset)
                if resource.get("type") == "file":  # the link is one file
                    if _is_image(resource):
                        yield self._item(resource)
                    return
                page = resource.get("_embedded") or {}
                entries = [entry for entry in page.get("items") or [] if isinstance(entry, dict)]
                budget -= len(entries)
                if budget < 0:
                    raise CloudError("too_large", f"This link holds more than {get_settings().cloud_max_photos} "
                                                  "files and folders; import a smaller folder.")
                for entry in entries:
                    if entry.get("type") == "dir" and entry.get("path"):
                        folders.append(str(entry["path"]))
                    elif _is_image(entry):
                        yield self._item(entry)
                offset += len(entries)
                if not entries or offset >= int(page.get("total") or 0):
                    break

    def _resource(self, path: str, offset: int) -> dict:
        """One page of a folder (or the file), waiting out rate limits a couple of times."""
        query: dict[str, object] = {"public_key": self.link, "limit": PAGE, "offset": offset}
        if path != "/":
            query["path"] = path
        url = f"{get_settings().yandex_disk_api}/public/resources"
        for attempt in range(1, RATE_LIMIT_TRIES + 1):
            answer = http.call_api(url, SERVICE, query=query)
            if answer.status != 429:
                break
            if attempt < RATE_LIMIT_TRIES:
                time.sleep(http.retry_after(answer, 1.0))
        body = http.json_object(answer, SERVICE)
        if answer.status == 200:
            return body
        raise _error(answer.status, str(body.get("error") or ""))

    def _item(self, entry: dict) -> CloudItem:
        path = str(entry.get("path") or "/")
        name = str(entry.get("name") or path.rsplit("/", 1)[-1] or "photo")
        stable = entry.get("resource_id") or entry.get("sha256") or f"{self.link}:{path}"
        size = entry.get("size")
        return CloudItem(
            source_id=f"yadisk:{stable}", name=name, size=int(size) if isinstance(size, int) else None,
            url=str(entry.get("file") or ""), origin=self.link if path == "/" else f"{self.link} › {path.lstrip('/')}",
            sha256=str(entry["sha256"]).lower() if entry.get("sha256") else None)


def _is_image(entry: dict) -> bool:
    return entry.get("media_type") == "image" or str(entry.get("mime_type") or "").startswith("image/")


def _error(status: int, name: str) -> CloudError:
    """The documented error answers as sentences (the name, such as DiskNotFoundError, and the status)."""
    if status == 404 or name == "DiskNotFoundError":
        return CloudError("not_found", "Yandex.Disk has nothing public at this link; it may have been unpublished "
                                       "or mistyped.")
    if status in (401, 403):
        return CloudError("private", "Yandex.Disk refused to share the files of this link (its owner may have "
                                     "turned downloads off).")
    if status == 429:
        return CloudError("rate_limited", "Yandex.Disk is limiting requests right now; try again in a few minutes.")
    if status == 413:
        return CloudError("too_large", "Yandex.Disk says this folder is too large to list.")
    return CloudError("failed", f"Yandex.Disk could not list this link (HTTP {status}); try again later.")
