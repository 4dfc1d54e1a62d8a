"""VK photo albums (`vk.com/album<owner>_<album>`, or every album of `vk.com/albums<owner>`) through the VK API.

`photos.getAlbums` and `photos.get` (owner_id, album_id, offset, count up to 1000, photo_sizes=1, v=5.199)
answer `{"response": {"count": N, "items": [...]}}`, each photo with `id`, `owner_id` and `sizes` (type, url,
width, height), of which the largest is taken. Errors come with HTTP 200 as `{"error": {"error_code": 6,
"error_msg": ...}}`: 6 is "too many requests per second" (paused and retried), 5 a bad token, 15/30/200 a
private album, 18/100/113 nothing at that address. About 3 calls a second are allowed per token, so calls
are spaced by a Throttle per token. Calls are POSTs: the token travels in the body, never in a URL.
Docs: https://dev.vk.com/en/method/photos.get, https://dev.vk.com/en/method/photos.getAlbums,
https://dev.vk.com/en/reference/errors, https://dev.vk.com/en/api/api-requests
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.cloud import http
from core.cloud.errors import CloudError
from core.cloud.items import CloudItem
from core.cloud.throttle import throttle_for
from core.config import get_settings

SERVICE = "VK"
API_VERSION = "5.199"
PAGE = 1000  # photos.get's largest count
CALLS_PER_SECOND = 3  # what VK allows per token (each call starts a third of a second after the last ended)
RATE_LIMIT_TRIES = 4
RATE_LIMIT_PAUSE_S = 1.0
_HOSTS = frozenset({"vk.com", "m.vk.com", "vk.ru", "m.vk.ru"})
_ALBUM = re.compile(r"album(-?\d+)_(\d+)")
_ALBUMS = re.compile(r"albums(-?\d+)")
_SERVICE_ALBUMS = {"0": "profile", "00": "wall", "000": "saved"}  # how VK's links spell its service albums
_SIZE_ORDER = "smxopqryzw"  # VK's size types, smallest to largest: the tie-break when old photos list 0x0 sizes
_PRIVATE = {15, 30, 200}
_NOT_FOUND = {18, 100, 113}
_SLOW_DOWN = {6, 9, 29}


@dataclass(frozen=True)
class VkRef:
    """What a VK link points at: one album of an owner (a user, or a community with a negative id), or all."""

    link: str
    owner_id: int
    album_id: str | None  # None: every album of the owner


def parse(link: str) -> VkRef | None:
    """The album or albums a VK link names, or None when it is not such a link."""
    try:
        parts = urlsplit(link.strip())
        host = (parts.hostname or "").lower().removeprefix("www.")
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or host not in _HOSTS:
        return None
    path = parts.path.strip("/")
    if match := _ALBUM.fullmatch(path):
        album = match[2]
        return VkRef(f"https://vk.com/{path}", int(match[1]), _SERVICE_ALBUMS.get(album, album))
    if match := _ALBUMS.fullmatch(path):
        return VkRef(f"https://vk.com/{path}", int(match[1]), None)
    return None


class VkAlbums:
    """The photos of one VK album, or of every album of an owner, listed with the person's token."""

    def __init__(self, ref: VkRef, token: str) -> None:
        self.link = ref.link
        self.ref = ref
        self.default_album = (f"VK album {ref.owner_id}_{ref.album_id}" if ref.album_id
                              else f"VK albums {ref.owner_id}")
        self._token = token
        self._throttle = throttle_for(token, CALLS_PER_SECOND)

    def __repr__(self) -> str:  # the token stays out of any log line that prints the source
        return f"VkAlbums({self.link!r})"

    def list_items(self) -> Iterator[CloudItem]:
        owner = self.ref.owner_id
        albums = [self.ref.album_id] if self.ref.album_id else [
            str(album["id"]) for album in self._pages("photos.getAlbums", {"owner_id": owner})]
        for album in albums:
            for photo in self._pages("photos.get", {"owner_id": owner, "album_id": album, "photo_sizes": 1}):
                item = _item(photo)
                if item is not None:
                    yield item

    def _pages(self, method: str, params: dict[str, object]) -> Iterator[dict]:
        budget = get_settings().cloud_max_photos
        offset = 0
        while True:
            response = self._call(method, {**params, "offset": offset, "count": PAGE})
            items = [item for item in response.get("items") or [] if isinstance(item, dict)]
            budget -= len(items)
            if budget < 0:
                raise CloudError("too_large", f"This VK link holds more than {get_settings().cloud_max_photos} "
                                              "photos; import one album at a time.")
            yield from items
            offset += len(items)
            if not items or offset >= int(response.get("count") or 0):
                return

    def _call(self, method: str, params: dict[str, object]) -> dict:
        """One method call, throttled; "too many requests" is waited out a few times."""
        form = {**params, "access_token": self._token, "v": API_VERSION}
        url = f"{get_settings().vk_api}/{method}"
        for attempt in range(1, RATE_LIMIT_TRIES + 1):
            with self._throttle.turn():
                answer = http.call_api(url, SERVICE, form=form)
            if answer.status != 200:
                raise CloudError("failed", f"VK did not answer properly (HTTP {answer.status}); try again later.")
            body = http.json_object(answer, SERVICE)
            error = body.get("error")
            if not isinstance(error, dict):
                response = body.get("response")
                if not isinstance(response, dict):
                    raise CloudError("failed", "VK answered without the album's photos; try again later.")
                return response
            code = error.get("error_code")
            if code != 6 or attempt == RATE_LIMIT_TRIES:
                raise _error(code)
            time.sleep(RATE_LIMIT_PAUSE_S)
        raise AssertionError("unreachable: the last try returns or raises")


def _item(photo: dict) -> CloudItem | None:
    """A photo as an item, downloaded at its largest size (by pixels, then by type); None when VK lists no size."""
    sizes = [size for size in photo.get("sizes") or [] if isinstance(size, dict) and size.get("url")]
    if not sizes:
        return None
    best = max(sizes, key=lambda size: (int(size.get("width") or 0) * int(size.get("height") or 0),
                                        _SIZE_ORDER.find(str(size.get("type") or ""))))
    key = f"{photo.get('owner_id')}_{photo.get('id')}"
    return CloudItem(source_id=f"vk:{key}", name=f"vk_{key}.jpg", size=None, url=str(best["url"]),
                     origin=f"https://vk.com/photo{key}")


def _error(code: object) -> CloudError:
    """VK's error codes as sentences; VK's own message is not repeated (it may echo the request)."""
    if code == 5:
        return CloudError("bad_token", "VK did not accept the access token (it may be mistyped or expired); "
                                       "get a new one and try again.")
    if code in _PRIVATE:
        return CloudError("private", "This VK album is private: the token's account may not see it.")
    if code in _NOT_FOUND:
        return CloudError("not_found", "VK has no album at this link; check the link.")
    if code in _SLOW_DOWN:
        return CloudError("rate_limited", "VK is limiting requests for this token right now; try again in a few "
                                          "minutes.")
    return CloudError("failed", f"VK refused the request (error {code}); try again later.")
