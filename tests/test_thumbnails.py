"""Thumbnails fetched once by the server through the guarded client, re-encoded, and served from the data dir.

Real HTTP against the local media server under `loopback_only`; real Pillow decoding.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from core.config import get_settings
from core.videos import thumbnails
from core.videos.thumbnails import ThumbnailUnavailable, cached_thumbnail, fetch_thumbnail, thumbnail_path
from tests.support.media_server import MediaServer, Route
from tests.support.waiting import wait_until

pytestmark = pytest.mark.usefixtures("loopback_only")


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def _refuse_private(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBTUBE_ALLOW_PRIVATE_URLS", "false")
    get_settings.cache_clear()


def test_a_thumbnail_is_fetched_once_and_stored_as_a_small_jpeg(data_dir: Path, media_server: MediaServer) -> None:
    media_server.add("big-poster.png", Route(body=_png(1920, 1080), content_type="image/png"))
    url = media_server.url("big-poster.png")
    path = fetch_thumbnail(url)
    assert path == thumbnail_path(url) and path.parent == data_dir / "thumbnails"
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert image.size == (640, 360)


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_cards_get_the_cached_copy_and_it_keeps_working_offline(data_dir: Path, media_server: MediaServer) -> None:
    media_server.add("lazy-poster.jpg", Route(body=_jpeg(320, 180), content_type="image/jpeg"))
    url = media_server.url("lazy-poster.jpg")
    first = cached_thumbnail(url)  # a miss starts the fetch in the background and does not wait
    path = thumbnail_path(url)
    wait_until(path.is_file, f"{path} appearing", timeout_s=30)
    assert first in {None, path}
    assert cached_thumbnail(url) == path
    hits = len(media_server.hits("lazy-poster.jpg"))
    assert hits == 1
    media_server.add("lazy-poster.jpg", Route(404, b"gone", "text/plain"))  # the site is gone or we are offline
    assert cached_thumbnail(url) == path
    assert len(media_server.hits("lazy-poster.jpg")) == hits


def test_a_thumbnail_on_a_private_address_is_never_fetched(
    data_dir: Path, media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's og:image on a LAN address: the server refuses it, and no viewer's browser is given it."""
    _refuse_private(monkeypatch)
    media_server.add("lan-admin.cgi", Route(body=_jpeg(10, 10), content_type="image/jpeg"))
    url = media_server.url("lan-admin.cgi")
    with pytest.raises(ThumbnailUnavailable) as caught:
        fetch_thumbnail(url)
    assert "private or local network address" in str(caught.value)
    assert cached_thumbnail(url, wait_s=5) is None
    assert media_server.hits("lan-admin.cgi") == []
    assert not thumbnail_path(url).exists()


def test_a_thumbnail_redirecting_to_a_private_address_is_refused(
    data_dir: Path, media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ThumbnailUnavailable):
        thumbnails_fetch_exempting_local(media_server.url("redirect-to-private"), monkeypatch)
    assert not thumbnail_path(media_server.url("redirect-to-private")).exists()


def thumbnails_fetch_exempting_local(url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """fetch_thumbnail with private addresses refused but the media server's own host exempt."""
    _refuse_private(monkeypatch)
    real_fetch = thumbnails.fetch_bytes

    def fetch(target: str, max_bytes: int) -> bytes:
        return real_fetch(target, max_bytes, allowed_hosts={"127.0.0.1"})

    monkeypatch.setattr(thumbnails, "fetch_bytes", fetch)
    return fetch_thumbnail(url)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"),
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "image/jpeg"),
        (b"\xff\xd8\xff\xe0 truncated", "image/jpeg"),
    ],
)
def test_what_is_not_a_plain_image_is_not_cached(
    body: bytes, content_type: str, data_dir: Path, media_server: MediaServer
) -> None:
    media_server.add("odd-thumb", Route(body=body, content_type=content_type))
    url = media_server.url("odd-thumb")
    with pytest.raises(ThumbnailUnavailable):
        fetch_thumbnail(url)
    assert not thumbnail_path(url).exists()
    assert list((data_dir / "thumbnails").glob("*")) == []


def test_a_huge_thumbnail_is_refused_before_it_is_all_read(data_dir: Path, media_server: MediaServer) -> None:
    media_server.add("huge-thumb.jpg", Route(body=b"\xff\xd8" + b"\0" * 6_000_000, content_type="image/jpeg"))
    with pytest.raises(ThumbnailUnavailable) as caught:
        fetch_thumbnail(media_server.url("huge-thumb.jpg"))
    assert "larger than" in str(caught.value)


def test_a_failed_fetch_is_not_retried_at_every_page_view(data_dir: Path, media_server: MediaServer) -> None:
    url = media_server.url("notfound")
    before = len(media_server.hits("notfound"))
    assert cached_thumbnail(url, wait_s=30) is None
    assert len(media_server.hits("notfound")) == before + 1
    for _ in range(3):
        assert cached_thumbnail(url, wait_s=1) is None
    assert len(media_server.hits("notfound")) == before + 1
