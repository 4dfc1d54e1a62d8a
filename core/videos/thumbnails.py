"""Thumbnails fetched once by the server and shown from its own cache, so viewers' browsers never call other sites.

A card's thumbnail URL (from the site's page) is fetched through the downloader's guarded client
(every hop checked, connections pinned to checked addresses, time and speed limits), decoded by
the face engine's safe loader (header checks before decoding, formats allowed by name), shrunk
and re-encoded as a JPEG under `<data dir>/thumbnails/<hash of the URL>.jpg`. Re-encoding means
what is served is always a plain JPEG of ours, never the site's bytes (no SVG, no HTML).

Pages never wait for the network: `cached_thumbnail` answers from disk and, on a miss, starts
one background fetch for that URL (failures are not retried for a while) and says None, so the
card shows the placeholder until a later run. Works offline once fetched; rows shared before
this cache existed are fetched the same lazy way.

A direct video file has no thumbnail of its own: the video-details job (`core.videos.details`)
stores a frame of it under the URL `<file URL>#t=<seconds>` (a W3C media fragment: that file at that
time), which is never fetched from the network; a missing frame shows the placeholder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from core.config import get_settings
from core.faces.errors import ImageError
from core.faces.images import load_image
from core.videos.downloader import MediaError, fetch_bytes

MAX_THUMBNAIL_BYTES = 5_000_000
MAX_THUMBNAIL_PIXELS = 8_000_000
THUMBNAIL_SIDE = 640
RETRY_AFTER_S = 600.0
_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
_LOG = logging.getLogger(__name__)
_lock = threading.Lock()
_pending: dict[str, Future[Path | None]] = {}
_failed_at: dict[str, float] = {}
_executor: ThreadPoolExecutor | None = None


class ThumbnailUnavailable(ValueError):
    """The thumbnail could not be fetched or is not an image; the message says why."""


def thumbnail_dir() -> Path:
    return get_settings().data_dir / "thumbnails"


def thumbnail_path(url: str) -> Path:
    """Where the cached copy of `url` lives (whether or not it is there yet)."""
    return thumbnail_dir() / f"{hashlib.sha256(url.encode()).hexdigest()[:32]}.jpg"


def cached_thumbnail(url: str | None, wait_s: float = 0.0) -> Path | None:
    """The cached file for `url`, or None (then a background fetch is started, waited for up to `wait_s`)."""
    if not url:
        return None
    path = thumbnail_path(url)
    if path.is_file() and _readable(path):
        return path
    if is_frame_url(url):
        return None  # only the details job makes frames
    future = _schedule(url)
    if future is None or wait_s <= 0:
        return None
    try:
        return future.result(timeout=wait_s)
    except TimeoutError:
        return None


def _readable(path: Path) -> bool:
    """A JPEG of ours whose header still reads; a damaged file (a full disk, a hand edit) is removed, so the card
    shows the placeholder instead of a broken image, and the next miss fetches it again."""
    try:
        with Image.open(path) as image:
            image.verify()
        return True
    except (OSError, SyntaxError, ValueError):
        _LOG.warning("thumbnail %s is damaged; removed", path)
        path.unlink(missing_ok=True)
        return False


def fetch_thumbnail(url: str) -> Path:
    """Fetch `url` now through the guarded client and cache it as a JPEG; raises ThumbnailUnavailable."""
    try:
        body = fetch_bytes(url, MAX_THUMBNAIL_BYTES)
        pixels = load_image(body, max_pixels=MAX_THUMBNAIL_PIXELS, formats=_FORMATS)
    except (MediaError, ImageError) as exc:
        raise ThumbnailUnavailable(str(exc)) from exc
    return save_thumbnail(url, Image.fromarray(pixels))


def frame_url(media_url: str, at_s: float) -> str:
    """The thumbnail URL of a frame of a video file: the file's URL with a media-fragment time."""
    return f"{media_url.split('#', 1)[0]}#t={at_s:.2f}"


def is_frame_url(url: str) -> bool:
    return "#t=" in url


def save_thumbnail(url: str, image: Image.Image) -> Path:
    """Shrink `image` and store it as the cached JPEG for `url`, in one rename (readers never see half a file)."""
    image = image.convert("RGB")
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    path = thumbnail_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=".thumb-", suffix=".jpg", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            image.save(out, "JPEG", quality=85)
        os.replace(staging, path)  # readers see the whole file or none
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return path


def _schedule(url: str) -> Future[Path | None] | None:
    """One background fetch per URL at a time; None while a recent failure is being respected."""
    global _executor
    with _lock:
        if url in _pending:
            return _pending[url]
        if time.monotonic() - _failed_at.get(url, -RETRY_AFTER_S) < RETRY_AFTER_S:
            return None
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="thumbnails")
        future = _pending[url] = _executor.submit(_fetch_quietly, url)
    return future


def _fetch_quietly(url: str) -> Path | None:
    try:
        return fetch_thumbnail(url)
    except (ThumbnailUnavailable, OSError) as exc:
        _LOG.info("thumbnail %s not cached: %s", url, exc)
        _remember_failure(url)
    except Exception:  # a background job: a bug here must cost a placeholder, never the page
        _LOG.exception("thumbnail %s failed unexpectedly", url)
        _remember_failure(url)
    finally:
        with _lock:
            _pending.pop(url, None)
    return None


def _remember_failure(url: str) -> None:
    with _lock:
        _failed_at[url] = time.monotonic()
