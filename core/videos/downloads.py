"""Downloading a shared video for its viewer: core.videos.downloader fetches, this names and describes the file.

The downloader keeps one finished file per video in `<data dir>/downloads` (named by the
canonical URL), so a second download of the same video, by anyone, is served from there. The
viewer saves it through a signed, expiring link (`save_link`) that streams it from disk.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from core.config import get_settings
from core.videos.download_cache import cache_root
from core.videos.downloader import MediaError, Progress, cached_file, download
from core.videos.file_links import make_link
from core.videos.sharing import VideoNotFound, get_video

_UNSAFE_IN_NAMES = re.compile(r'[<>:"/\\|?*]+')


class DownloadFailed(ValueError):
    """The video could not be downloaded; the message says why, for the viewer."""


@dataclass(frozen=True)
class DownloadedFile:
    path: Path
    file_name: str  # what the browser saves it as: the video's title and the file's extension
    size: int
    mime: str


def download_dir() -> Path:
    return cache_root()


def file_name(title: str, suffix: str) -> str:
    """A file name every OS accepts, from the title people see: 'Hamilton test clip.mp4'."""
    cleaned = "".join(ch for ch in title if not unicodedata.category(ch).startswith("C"))
    cleaned = " ".join(_UNSAFE_IN_NAMES.sub(" ", cleaned).split()).strip(" .")[:100].rstrip(" .")
    return f"{cleaned or 'video'}{suffix}"


def cached_download(video_id: int) -> DownloadedFile | None:
    """The video's file when the cache already holds it (no network), so the page can offer it in one step."""
    try:
        video = get_video(video_id)
        path = cached_file(video.canonical_url, download_dir())
    except (VideoNotFound, MediaError):
        return None
    return None if path is None else _described(video.card.title, path)


def _described(title: str, path: Path) -> DownloadedFile:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return DownloadedFile(path, file_name(title, path.suffix), path.stat().st_size, mime)


def download_video(video_id: int, progress: Progress | None = None) -> DownloadedFile:
    """Fetch one video as a single file (size-capped by WEBTUBE_DOWNLOAD_MAX_MB) or reuse the cached copy."""
    try:
        video = get_video(video_id)
    except VideoNotFound as exc:
        raise DownloadFailed(str(exc)) from exc
    max_bytes = get_settings().download_max_mb * 1_000_000
    try:
        path = download(video.canonical_url, download_dir(), max_bytes, progress)
    except MediaError as exc:
        raise DownloadFailed(exc.message) from exc
    return _described(video.card.title, path)


def save_link(saved: DownloadedFile, base_url_path: str = "") -> str:
    """A fresh link (valid for WEBTUBE_DOWNLOAD_LINK_TTL_S) that saves the file under its title's name."""
    return make_link(saved.path, saved.file_name, saved.mime, base_url_path)
