"""Unguessable, expiring links to files under the data dir, so "Save" and the annotated videos stream from disk.

Streamlit's download button and `st.video(path)` keep the file's bytes in the server's memory (one copy
per session); a link instead names the file, and `core.videos.file_route` streams it from disk.
A link is the file's place under the data dir and the name to save it as, signed with a key kept in the
data dir and stamped with the time: it cannot be guessed or altered, and it stops working
`WEBTUBE_DOWNLOAD_LINK_TTL_S` seconds after it was made. Nothing is stored per link, so every app
server sharing the data dir accepts the links of the others.

Why itsdangerous: signed, timestamped, URL-safe tokens are exactly what it does, it is small and
well kept (the Pallets project), and hand-rolled HMAC token code is where subtle bugs live.
"""

from __future__ import annotations

import functools
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core.config import get_settings
from core.video_analysis.files import ROOT as ANALYSIS_ROOT
from core.videos.download_cache import cache_root

ROUTE = "/_webtube/files"
_SALT = "webtube.download-link"
_KEY_FILE = ".file-link-key"


class LinkInvalid(ValueError):
    """Not a link this site made (mistyped, altered or guessed)."""


class LinkExpired(ValueError):
    """A real link, but older than its lifetime."""


@dataclass(frozen=True)
class LinkedFile:
    path: Path
    file_name: str
    mime: str


def make_link(path: Path, file_name: str, mime: str, base_url_path: str = "") -> str:
    """The URL path ("/_webtube/files/<token>") that serves `path`, a file under the data dir, as `file_name`."""
    relative = path.resolve().relative_to(_data_root())
    token = _serializer().dumps({"p": relative.as_posix(), "n": file_name, "m": mime})
    prefix = "/" + base_url_path.strip("/") if base_url_path.strip("/") else ""
    return f"{prefix}{ROUTE}/{token}"


def open_link(token: str) -> LinkedFile:
    """The file a token names; raises LinkInvalid or LinkExpired (FileNotFoundError when it left the cache)."""
    try:
        payload = _serializer().loads(token, max_age=get_settings().download_link_ttl_s)
    except SignatureExpired as exc:
        raise LinkExpired("This download link has expired; press Download on the video page again.") from exc
    except BadSignature as exc:
        raise LinkInvalid("This download link is not valid.") from exc
    path = (_data_root() / payload["p"]).resolve()
    if not any(path.is_relative_to(folder) for folder in _served_folders()):
        raise LinkInvalid("This download link is not valid.")
    if not path.is_file() and in_download_cache(path):
        raise FileNotFoundError("This video is no longer in the download cache; press Download on its page again.")
    if not path.is_file():
        raise FileNotFoundError("This file has been deleted.")
    return LinkedFile(path, payload["n"], payload["m"])


def in_download_cache(path: Path) -> bool:
    """Whether a linked file is a cached download (whose use counts for the cache's eviction order)."""
    return path.is_relative_to(cache_root().resolve())


def _data_root() -> Path:
    return get_settings().data_dir.resolve()


def _served_folders() -> tuple[Path, ...]:
    """Only these folders of the data dir are ever served, whatever a signed token names: never the database,
    the signing key, avatars or studio photos."""
    return cache_root().resolve(), (_data_root() / ANALYSIS_ROOT).resolve()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secret_key(get_settings().data_dir.resolve()), salt=_SALT)


def installation_secret() -> bytes:
    """The data dir's random key (below); other features derive their own keys from it under their own label
    (the cloud import's token box), so every server sharing the data dir shares them without a setting."""
    return _secret_key(get_settings().data_dir.resolve())


@functools.lru_cache(maxsize=4)
def _secret_key(data_dir: Path) -> bytes:
    """32 random bytes in `<data dir>/.file-link-key` (0600), made by whichever server needs it first.

    Written to a temporary file and hard-linked into place, so no server ever reads a half-written key.
    """
    path = data_dir / _KEY_FILE
    if not path.is_file():
        data_dir.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=".file-link-key-", dir=data_dir)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(secrets.token_bytes(32))
            os.link(staging, path)
        except FileExistsError:
            pass  # another server made it first: use theirs
        finally:
            os.unlink(staging)
    return path.read_bytes()
