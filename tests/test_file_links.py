"""The "Save" links over real HTTP against the real app server (`streamlit run serve.py`).

The test process shares the server's data dir, so it makes links exactly as the page does
(the signing key is the data dir's) and fetches them like a browser: the file streams from disk,
Range works, and a guessed, altered, expired or dangling link gets nothing.
"""

from __future__ import annotations

import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import get_settings
from core.videos.file_links import ROUTE, _serializer, make_link
from tests.support.app_server import AppServer, run_app_server

LINK_TTL_S = 3
BODY = secrets.token_bytes(300_000)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with run_app_server(tmp_path_factory.mktemp("links"), env={"WEBTUBE_DOWNLOAD_LINK_TTL_S": str(LINK_TTL_S)}) as app:
        yield app


@pytest.fixture
def cached_file(server: AppServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A video in the server's download cache; this process signs links with the server's key."""
    monkeypatch.setenv("WEBTUBE_DATA_DIR", str(server.data_dir))
    monkeypatch.setenv("WEBTUBE_DOWNLOAD_LINK_TTL_S", str(LINK_TTL_S))
    get_settings.cache_clear()
    folder = server.data_dir / "downloads" / secrets.token_hex(16)
    folder.mkdir(parents=True)
    path = folder / "Hamilton_test_clip.mp4"
    path.write_bytes(BODY)
    yield path
    get_settings.cache_clear()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


def test_a_link_streams_the_file_with_its_name(server: AppServer, cached_file: Path) -> None:
    link = make_link(cached_file, "Hamilton test clip.mp4", "video/mp4")
    assert link.startswith(ROUTE + "/")
    status, headers, body = _get(server.url + link)
    assert status == 200
    assert body == BODY
    assert headers["content-type"] == "video/mp4"
    assert headers["content-disposition"].startswith("attachment;")
    assert "Hamilton%20test%20clip.mp4" in headers["content-disposition"]
    assert headers["cache-control"] == "private, no-store"


def test_a_link_serves_ranges(server: AppServer, cached_file: Path) -> None:
    status, headers, body = _get(server.url + make_link(cached_file, "c.mp4", "video/mp4"), {"Range": "bytes=100-199"})
    assert status == 206
    assert body == BODY[100:200]
    assert headers["content-range"] == f"bytes 100-199/{len(BODY)}"


def test_a_guessed_or_altered_link_gets_nothing(server: AppServer, cached_file: Path) -> None:
    link = make_link(cached_file, "c.mp4", "video/mp4")
    token = link.rsplit("/", 1)[1]
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for guess in [secrets.token_urlsafe(40), altered, cached_file.parent.name]:
        status, _, body = _get(f"{server.url}{ROUTE}/{guess}")
        assert status == 404, guess
        assert body == b"This download link is not valid."
    # The file's own place in the cache is no link either (it falls through to the app's page).
    status, headers, body = _get(f"{server.url}{ROUTE}/{cached_file.parent.name}/{cached_file.name}")
    assert BODY[:1000] not in body
    assert headers["content-type"].startswith("text/html")


def test_a_signed_path_outside_the_cache_is_refused(server: AppServer, cached_file: Path) -> None:
    """Even a correctly signed token cannot name a file outside the served folders (the database, the key)."""
    for outside in ["webtube.sqlite3", ".file-link-key", "downloads/../webtube.sqlite3", "avatars", "/etc/passwd",
                    "video_analysis/../.file-link-key"]:
        token = _serializer().dumps({"p": outside, "n": "x", "m": "application/octet-stream"})
        status, _, _ = _get(f"{server.url}{ROUTE}/{token}")
        assert status == 404, outside


def test_a_link_expires(server: AppServer, cached_file: Path) -> None:
    link = make_link(cached_file, "c.mp4", "video/mp4")
    assert _get(server.url + link)[0] == 200
    time.sleep(LINK_TTL_S + 1.5)
    status, _, body = _get(server.url + link)
    assert status == 410
    assert body == b"This download link has expired; press Download on the video page again."


def test_a_link_to_an_evicted_file_says_so(server: AppServer, cached_file: Path) -> None:
    link = make_link(cached_file, "c.mp4", "video/mp4")
    cached_file.unlink()
    status, _, body = _get(server.url + link)
    assert status == 410
    assert b"no longer in the download cache" in body


def test_an_annotated_video_streams_from_the_analysis_folder(server: AppServer, cached_file: Path) -> None:
    """The player of an analysed video reads the annotated copy through a link too (never the server's memory)."""
    annotated = server.data_dir / "video_analysis" / "1" / secrets.token_hex(8) / "annotated.mp4"
    annotated.parent.mkdir(parents=True)
    annotated.write_bytes(BODY)
    status, headers, body = _get(server.url + make_link(annotated, "video-analysis-1.mp4", "video/mp4"),
                                 {"Range": "bytes=0-99"})
    assert (status, body, headers["content-type"]) == (206, BODY[:100], "video/mp4")
    link = make_link(annotated, "video-analysis-1.mp4", "video/mp4")
    annotated.unlink()  # the analysis was deleted
    status, _, body = _get(server.url + link)
    assert (status, body) == (410, b"This file has been deleted.")
