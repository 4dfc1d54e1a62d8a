"""What the video page hands viewers' browsers: never a private address, never a third party's thumbnail.

Rows are written straight into the database, as videos shared before these checks existed would
be; the page is rendered through AppTest, under `loopback_only` so nothing can leave the machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.accounts.users import register
from core.config import get_settings
from core.storage.database import session_scope
from core.storage.models import Video, utcnow
from core.videos.thumbnails import thumbnail_path
from tests.support.app_driver import open_app
from tests.support.media_server import MediaServer, Route
from tests.support.waiting import wait_until

pytestmark = pytest.mark.usefixtures("loopback_only")
ROUTER = "http://192.168.1.1/admin/reboot.cgi"


def _old_row(media_url: str | None, thumbnail_url: str | None) -> int:
    owner = register("Ann", "ann@example.com", "a long enough password", "a long enough password")
    with session_scope() as session:
        video = Video(
            owner_id=owner.id,
            original_url="http://videos.example/trap",
            canonical_url="http://videos.example/trap",
            site="videos.example",
            title="Trap",
            thumbnail_url=thumbnail_url,
            media_url=media_url,
            comment="",
            created_at=utcnow(),
        )
        session.add(video)
        session.flush()
        return video.id


def _browser_urls(at: AppTest) -> str:
    """Everything the page's players and images would make the browser load."""
    return "\n".join(str(element.proto) for kind in ("video", "image") for element in at.get(kind))


def test_a_stored_video_file_on_a_private_address_is_not_played(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    video_id = _old_row(media_url=ROUTER, thumbnail_url=ROUTER)
    monkeypatch.setenv("WEBTUBE_ALLOW_PRIVATE_URLS", "false")
    get_settings.cache_clear()
    at = open_app(None, "pages/watch.py", v=str(video_id))
    assert not at.exception
    assert at.get("video") == []
    assert "192.168.1.1" not in _browser_urls(at)
    assert any("cannot be played here" in caption.value for caption in at.caption)
    assert not thumbnail_path(ROUTER).exists()


def test_thumbnails_come_from_the_server_cache_not_the_site(site: Path, media_server: MediaServer) -> None:
    poster = (Path(__file__).parent / "data" / "faces" / "people").rglob("*.jpg")
    media_server.add("old-row-poster.jpg", Route(body=next(poster).read_bytes(), content_type="image/jpeg"))
    remote = media_server.url("old-row-poster.jpg")
    video_id = _old_row(media_url=None, thumbnail_url=remote)
    at = open_app(None, "pages/watch.py", v=str(video_id))  # the page starts the fetch (and waits a little)
    wait_until(thumbnail_path(remote).is_file, "the thumbnail cached", timeout_s=30)
    at.run()
    shown = _browser_urls(at)
    assert remote not in shown and media_server.base_url not in shown
    assert "/media/" in shown  # Streamlit serves the cached JPEG from this server
    hits = len(media_server.hits("old-row-poster.jpg"))
    at.run()
    assert len(media_server.hits("old-row-poster.jpg")) == hits == 1
