"""Videos in core: sharing (real yt-dlp probes of a local server), the feed, similar videos, downloads, storage."""

from __future__ import annotations

import functools
import json
import threading
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from PIL import Image
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from core.accounts.users import UserInfo, register
from core.config import get_settings
from core.jobs.runner import run_now
from core.storage.database import create_engine_for, get_engine, session_scope
from core.storage.migrations import upgrade_to_head
from core.storage.models import Base, Category, FaceSample, User, Video, VideoTerm, utcnow, video_categories
from core.storage.studio_models import Job
from core.videos.categories import CATEGORIES, ensure_categories
from core.videos.details import UNREACHABLE, details_notice, retry_due
from core.videos.downloads import DownloadFailed, cached_download, download_video
from core.videos.feed import PAGE_SIZE, Author, AuthorNotFound, SearchFailed, author, feed_page
from core.videos.sharing import (
    DuplicateVideo,
    InvalidInput,
    NotYourVideo,
    NoVideoFound,
    ProbeFailed,
    RefusedUrl,
    VideoNotFound,
    delete_video,
    get_video,
    list_categories,
    share_video,
    update_video,
    videos_of,
)
from core.videos.similar import SIMILAR_COUNT, similar_videos
from core.videos.terms import index_terms, terms
from core.videos.thumbnails import cached_thumbnail, thumbnail_path
from tests.support.app_server import free_port
from tests.support.media_server import CLIP, CLIP_TITLE, FakeDns, MediaServer, Route

pytestmark = pytest.mark.both_databases

YOUTUBE_ID = "dQw4w9WgXcQ"


@pytest.fixture(autouse=True)
def _jobs_run_when_a_test_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """Details jobs queued by shares stay queued until a test runs them (`run_now`), so traffic counts hold."""
    monkeypatch.setenv("WEBTUBE_JOB_THREADS", "0")
    get_settings.cache_clear()


def _user(name: str = "Ann") -> UserInfo:
    return register(name, f"{name.lower()}@example.com", "a long enough password", "a long enough password")


def _video(
    owner: UserInfo, title: str, comment: str = "", categories: tuple[str, ...] = (), minutes_ago: int = 0
) -> int:
    """A video written straight to the database (no probe), for feed and ranking tests."""
    with session_scope() as session:
        chosen = list(session.scalars(select(Category).where(Category.slug.in_(categories))))
        url = f"https://videos.example/{title.replace(' ', '-')}-{minutes_ago}"
        video = Video(
            owner_id=owner.id,
            original_url=url,
            canonical_url=url,
            site="videos.example",
            title=title,
            comment=comment,
            created_at=utcnow() - timedelta(minutes=minutes_ago),
            categories=chosen,
        )
        session.add(video)
        session.flush()
        index_terms(session, video.id, title, comment)
        return video.id


# --- sharing -------------------------------------------------------------------------------------


def test_sharing_a_page_probes_it_for_real(site: Path, media_server: MediaServer) -> None:
    ann = _user()
    card = share_video(ann.id, media_server.url("watch.html"), "Great clip", ["music", "education"])
    detail = get_video(card.id)
    assert detail.card.title == CLIP_TITLE
    assert detail.card.site == "127.0.0.1"
    assert detail.card.thumbnail_url == media_server.url("poster.jpg")
    assert [c.slug for c in detail.card.categories] == ["education", "music"]
    assert detail.comment == "Great clip"
    assert (detail.player.kind, detail.player.url) == ("file", media_server.url("clip.mp4"))
    assert detail.card.author_name == "Ann"


def test_a_direct_media_link_plays_inline(site: Path, media_server: MediaServer) -> None:
    card = share_video(_user().id, media_server.url("clip.mp4"))
    assert get_video(card.id).player.kind == "file"


def test_same_link_twice_is_refused_for_one_person_and_allowed_for_another(
    site: Path, media_server: MediaServer
) -> None:
    ann, bob = _user("Ann"), _user("Bob")
    share_video(ann.id, media_server.url("watch.html"))
    with pytest.raises(DuplicateVideo, match="already shared"):
        share_video(ann.id, media_server.url("watch.html"))
    share_video(bob.id, media_server.url("watch.html"))
    assert feed_page().total == 2


def test_the_database_itself_refuses_a_duplicate(site: Path) -> None:
    """Two submissions that both pass the check still cannot both be written."""
    ann = _user()
    with pytest.raises(IntegrityError), session_scope() as session:
        for _ in range(2):
            session.add(Video(owner_id=ann.id, original_url="u", canonical_url="u", site="s", title="t"))
            session.flush()


@pytest.mark.parametrize(
    "url, message",
    [
        ("javascript:alert(document.cookie)", "not javascript: links"),
        ("file:///etc/passwd", "not file: links"),
        ("ftp://example.com/video.mp4", "not ftp: links"),
        ("", "paste a link"),
        ("http://user:secret@example.com/v", "user name or password"),
    ],
)
def test_links_that_are_not_web_links_are_refused(site: Path, url: str, message: str) -> None:
    with pytest.raises(RefusedUrl, match=message):
        share_video(_user().id, url, title="A title does not help")
    assert feed_page().total == 0


def test_private_network_addresses_are_refused_by_default(
    site: Path, monkeypatch: pytest.MonkeyPatch, media_server: MediaServer
) -> None:
    monkeypatch.setenv("WEBTUBE_ALLOW_PRIVATE_URLS", "false")
    get_settings.cache_clear()
    ann = _user()
    for url in ("http://169.254.169.254/latest/meta-data/", media_server.url("watch.html"), "http://10.0.0.1/v"):
        with pytest.raises(RefusedUrl, match="private or local network address"):
            share_video(ann.id, url, title="typed title")
    assert media_server.hits("latest/meta-data/") == []
    assert feed_page().total == 0


@pytest.mark.parametrize(
    "url, start",
    [
        (f"https://www.youtube.com/watch?v={YOUTUBE_ID}", 0),
        (f"https://youtu.be/{YOUTUBE_ID}?t=42", 42),
        (f"https://www.youtube.com/shorts/{YOUTUBE_ID}", 0),
        (f"https://www.youtube.com/embed/{YOUTUBE_ID}?start=90", 90),
        (f"https://m.youtube.com/watch?v={YOUTUBE_ID}&list=PL1234567890&index=3&t=1m5s", 65),
        (f"youtube.com/watch?feature=share&v={YOUTUBE_ID}", 0),
    ],
)
def test_youtube_links_work_offline(site: Path, loopback_only: FakeDns, url: str, start: int) -> None:
    card = share_video(_user().id, url, "offline share", ["music"])
    detail = get_video(card.id)
    assert detail.canonical_url == f"https://www.youtube.com/watch?v={YOUTUBE_ID}"
    assert detail.card.thumbnail_url == f"https://i.ytimg.com/vi/{YOUTUBE_ID}/hqdefault.jpg"
    assert detail.card.title == f"YouTube video {YOUTUBE_ID}"
    assert detail.card.site == "YouTube"
    assert (detail.player.kind, detail.player.start_s) == ("youtube", start)


def test_every_shape_of_one_youtube_video_is_one_video(site: Path, loopback_only: FakeDns) -> None:
    ann = _user()
    share_video(ann.id, f"https://youtu.be/{YOUTUBE_ID}", title="My favourite")
    for shape in (f"https://www.youtube.com/watch?v={YOUTUBE_ID}&t=10", f"https://www.youtube.com/shorts/{YOUTUBE_ID}"):
        with pytest.raises(DuplicateVideo, match="My favourite"):
            share_video(ann.id, shape)


def test_when_the_site_cannot_be_reached_a_typed_title_saves_the_link(site: Path, loopback_only: FakeDns) -> None:
    ann = _user()
    with pytest.raises(ProbeFailed, match="type a title") as failed:
        share_video(ann.id, "https://videos.example/watch/42", "offline")
    assert failed.value.reason == "offline"
    assert feed_page().total == 0
    card = share_video(ann.id, "https://videos.example/watch/42", "offline", ["travel"], title="  Trip to   Lisbon ")
    assert (card.title, card.site, card.thumbnail_url) == ("Trip to Lisbon", "videos.example", None)
    assert get_video(card.id).player.kind == "link"


@pytest.mark.parametrize(
    "path, route, reason",
    [
        ("gone.html", Route(404, b"gone", "text/html"), "unavailable"),
        ("members.html", Route(403, b"sign in first", "text/html"), "private"),
    ],
)
def test_probe_failures_say_why(site: Path, media_server: MediaServer, path: str, route: Route, reason: str) -> None:
    media_server.add(path, route)
    with pytest.raises(ProbeFailed) as failed:
        share_video(_user().id, media_server.url(path))
    assert failed.value.reason == reason
    assert "You can still save the link" in str(failed.value)


def test_a_page_with_no_video_is_refused_even_with_a_typed_title(site: Path, media_server: MediaServer) -> None:
    """Issue 13: any web page plus a typed title was saved as a "video"."""
    page = b"<html><head><title>News</title></head><body><p>No video here.</p></body></html>"
    media_server.add("article.html", Route(body=page, content_type="text/html"))
    ann = _user()
    for title in ("", "My favourite video"):
        with pytest.raises(NoVideoFound, match=r"found no video at this link.*video page or a video file"):
            share_video(ann.id, media_server.url("article.html"), title=title)
    assert feed_page().total == 0
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0  # nothing half-written, no job


def test_comments_are_kept_exactly_and_capped_with_a_clear_message(site: Path, media_server: MediaServer) -> None:
    ann = _user()
    hostile = "<script>alert('x')</script>\n**bold** [link](javascript:alert(1)) ![img](http://evil/x.png)"
    card = share_video(ann.id, media_server.url("watch.html"), hostile)
    assert get_video(card.id).comment == hostile
    with pytest.raises(InvalidInput, match="at most 5,000 characters; this one has 10,000"):
        share_video(ann.id, media_server.url("clip.mp4"), "x" * 10_000)
    assert feed_page().total == 1
    assert share_video(ann.id, media_server.url("clip.mp4"), "y" * 5000).id


def test_category_choices_are_checked(site: Path) -> None:
    ann = _user()
    with pytest.raises(InvalidInput, match="Unknown category: polka"):
        share_video(ann.id, "https://videos.example/v", categories=["polka"], title="t")
    with pytest.raises(InvalidInput, match="at most 5 categories"):
        share_video(ann.id, "https://videos.example/v", categories=[s for s, _ in CATEGORIES[:6]], title="t")


def test_only_the_owner_edits_or_deletes_and_edits_are_reindexed(site: Path) -> None:
    ann, bob = _user("Ann"), _user("Bob")
    video_id = _video(ann, "Old title", "old words", ("music",))
    with pytest.raises(NotYourVideo):
        update_video(bob.id, video_id, "Hijack", "", [])
    with pytest.raises(NotYourVideo):
        delete_video(bob.id, video_id)
    edited = update_video(ann.id, video_id, "Sourdough bread", "crust and crumb", ["cooking", "education"])
    assert (edited.card.title, edited.comment) == ("Sourdough bread", "crust and crumb")
    assert [c.slug for c in edited.card.categories] == ["cooking", "education"]
    with session_scope() as session:
        assert set(session.scalars(select(VideoTerm.term).where(VideoTerm.video_id == video_id))) == {
            "sourdough",
            "bread",
            "crust",
            "crumb",
        }
    with pytest.raises(InvalidInput, match="give the video a title"):
        update_video(ann.id, video_id, "   ", "", [])
    delete_video(ann.id, video_id)
    with pytest.raises(VideoNotFound):
        get_video(video_id)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(VideoTerm)) == 0
        assert session.scalar(select(func.count()).select_from(video_categories)) == 0


def test_my_videos_are_newest_first(site: Path) -> None:
    ann, bob = _user("Ann"), _user("Bob")
    _video(ann, "older", minutes_ago=10)
    _video(bob, "not mine", minutes_ago=5)
    _video(ann, "newer", minutes_ago=1)
    assert [v.card.title for v in videos_of(ann.id)] == ["newer", "older"]


# --- feed ----------------------------------------------------------------------------------------


def test_feed_is_newest_first_paginated_filtered_and_searchable(site: Path) -> None:
    ann, bob = _user("Ann"), _user("Bob")
    for i in range(PAGE_SIZE + 5):
        owner = ann if i % 2 else bob
        _video(owner, f"Video {i:02d}", "piano" if i % 3 == 0 else "", ("music",) if i % 4 == 0 else (), minutes_ago=i)
    first = feed_page()
    assert (first.total, first.num_pages, first.page) == (PAGE_SIZE + 5, 2, 1)
    assert [c.title for c in first.items[:3]] == ["Video 00", "Video 01", "Video 02"]
    assert {c.author_name for c in first.items} == {"Ann", "Bob"}
    second = feed_page(page=2)
    assert [c.title for c in second.items] == [f"Video {i:02d}" for i in range(PAGE_SIZE, PAGE_SIZE + 5)]
    assert feed_page(page=99).page == 2
    music = feed_page(category="music")
    assert [c.title for c in music.items] == ["Video 00", "Video 04", "Video 08", "Video 12", "Video 16"]
    assert music.category is not None and music.category.name == "Music"
    assert [c.title for c in feed_page(query="PIANO", category="music").items] == ["Video 00", "Video 12"]
    found = [c.title for c in feed_page(query="VIDEO 1").items]  # every word, in title or comment, any case
    assert found == ["Video 01", *(f"Video {i}" for i in range(10, PAGE_SIZE + 5))]
    assert feed_page(query="%").total == 0  # wildcards are literal
    assert feed_page(category="polka").category is None


def test_categories_are_loaded_once(site: Path) -> None:
    assert [c.name for c in list_categories()] == sorted(name for _, name in CATEGORIES)
    assert len(CATEGORIES) == 20
    with session_scope() as session:
        assert ensure_categories(session) == 0


# --- similar videos -------------------------------------------------------------------------------


def test_similar_videos_rank_shared_categories_and_words(site: Path) -> None:
    ann = _user()
    target = _video(ann, "Piano sonata lesson", "", ("music", "education"), minutes_ago=50)
    same_categories = _video(ann, "Unrelated words", "", ("music", "education"), minutes_ago=40)
    both = _video(ann, "Piano sonata lesson for beginners", "", ("music",), minutes_ago=30)
    words_only = _video(ann, "Piano sonata", "", (), minutes_ago=20)
    nothing_shared = _video(ann, "Racing game", "", ("gaming",), minutes_ago=10)
    ranked = [c.id for c in similar_videos(target)]
    assert ranked == [both, same_categories, words_only, nothing_shared]


def test_similar_videos_are_a_fixed_number_and_never_the_video_itself(site: Path) -> None:
    ann = _user()
    ids = [_video(ann, f"Cooking pasta number {i}", "tomato basil", ("cooking",), minutes_ago=i) for i in range(10)]
    for video_id in ids[:3]:
        similar = [c.id for c in similar_videos(video_id)]
        assert len(similar) == SIMILAR_COUNT
        assert video_id not in similar
        assert len(set(similar)) == SIMILAR_COUNT


def test_terms_skip_noise_and_keep_title_words_first() -> None:
    assert terms("The Best Piano video!", "piano and 2024 x the cello_suite") == ["best", "piano", "cello", "suite"]


# --- downloads -----------------------------------------------------------------------------------


def test_download_saves_one_file_named_after_the_title_and_reuses_it(
    site: Path, media_server: MediaServer, media_clip: bytes
) -> None:
    card = share_video(_user().id, media_server.url("watch.html"), categories=["music"])
    steps: list[tuple[float | None, str]] = []
    saved = download_video(card.id, progress=lambda fraction, message: steps.append((fraction, message)))
    assert saved.file_name == f"{CLIP_TITLE}.mp4"
    assert (saved.mime, saved.size) == ("video/mp4", len(media_clip))
    assert saved.path.read_bytes() == media_clip
    assert saved.path.is_relative_to(site / "downloads")
    assert steps[-1][0] == 1.0 and any(f is not None and 0 < f < 1 for f, _ in steps)
    fetched = len(media_server.hits("clip.mp4"))
    again = download_video(card.id)
    assert again.path == saved.path
    assert len(media_server.hits("clip.mp4")) == fetched  # served from the cache, no network


def test_download_failures_are_explained(
    site: Path, media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = _user()
    gone = share_video(ann.id, media_server.url("notfound"), title="Lost video")
    with pytest.raises(DownloadFailed, match="HTTP 404"):
        download_video(gone.id)
    clip = share_video(ann.id, media_server.url("clip.mp4"))
    monkeypatch.setenv("WEBTUBE_DOWNLOAD_MAX_MB", "0")
    get_settings.cache_clear()
    with pytest.raises(DownloadFailed, match="limit"):
        download_video(clip.id)
    assert not any((site / "downloads").glob("*/*"))  # nothing partial is left
    with pytest.raises(DownloadFailed, match="does not exist"):
        download_video(9999)


# --- storage -------------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_mode_with_foreign_keys(site: Path) -> None:
    with get_engine().connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert (site / "webtube.sqlite3").is_file()


def test_the_migrations_build_exactly_the_models(site: Path) -> None:
    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() is not None


def test_upgrading_again_keeps_existing_data(site: Path) -> None:
    ann = _user()
    _video(ann, "Kept", "", ("music",))
    engine = create_engine_for(get_settings().database_url)  # as a restarted server would
    with engine.begin() as connection:
        upgrade_to_head(connection)
    engine.dispose()
    assert [c.title for c in feed_page().items] == ["Kept"]


def test_deleting_an_account_deletes_its_videos_and_face_samples(site: Path) -> None:
    ann = _user()
    _video(ann, "Mine", "words here", ("music",))
    with session_scope() as session:
        session.add(FaceSample(user_id=ann.id, embedding=b"\0" * 512, embedder="dlib", dim=128))
    with session_scope() as session:
        session.delete(session.get_one(User, ann.id))
    with session_scope() as session:
        for table in (Video, VideoTerm, FaceSample):
            assert session.scalar(select(func.count()).select_from(table)) == 0
        assert session.scalar(select(func.count()).select_from(video_categories)) == 0


# --- issue 8: invisible characters in titles and comments, over-long searches ----------------------

INVISIBLE = {
    "right-to-left override": "Funny cat \u202egnp.exe",
    "zero-width space": "Fun\u200bny cat",
    "left-to-right isolate": "Funny \u2066cat",
    "byte order mark": "\ufeffFunny cat",
    "bell": "Funny\x07 cat",
}


@pytest.mark.parametrize("title", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_titles_with_direction_overrides_or_hidden_characters_are_refused(site: Path, title: str) -> None:
    ann = _user()
    with pytest.raises(InvalidInput, match="invisible control or formatting characters"):
        share_video(ann.id, "http://127.0.0.1:9/v", title=title)
    assert feed_page().total == 0  # nothing half-written
    card = share_video(ann.id, "http://127.0.0.1:9/v", title="Funny cat")
    with pytest.raises(InvalidInput, match="invisible"):
        update_video(ann.id, card.id, title, "", [])
    assert get_video(card.id).card.title == "Funny cat"


def test_a_sites_own_title_loses_its_invisible_characters(site: Path, media_server: MediaServer) -> None:
    spoofed = "Funny cat \u202egnp.exe\u200b"
    page = f'<!doctype html><html><head><title>{spoofed}</title></head><body><video src="/clip.mp4"></video></body>'
    media_server.add("/spoof.html", Route(body=page.encode(), content_type="text/html; charset=utf-8"))
    card = share_video(_user().id, media_server.url("spoof.html"), title="")
    assert card.title == "Funny cat gnp.exe"


def test_comments_refuse_direction_overrides_but_keep_joiners_and_line_breaks(site: Path) -> None:
    ann = _user()
    with pytest.raises(InvalidInput, match="text-direction overrides"):
        share_video(ann.id, "http://127.0.0.1:9/v", "see \u202etxt.exe", title="t")
    kept = "Persian needs the joiner: \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645\nline two\tand a tab"
    card = share_video(ann.id, "http://127.0.0.1:9/v", kept, title="t")
    assert get_video(card.id).comment == kept


def test_a_25001_character_search_is_cut_and_still_answers(site: Path) -> None:
    """Issue 8: this raised `OperationalError: LIKE or GLOB pattern too complex` from SQLite (for "é" * 25,001)."""
    _video(_user(), "Piano sonata", "")
    for long_query in ("%" * 25_001, "é" * 25_001, "x" * 25_001):
        assert feed_page(query=long_query).total == 0
    assert feed_page(query="piano " + "x" * 25_000).total == 0  # both words count, the second cut to 194
    assert feed_page(query="piano" + " " * 25_000 + "nonsense").total == 1  # the words past the cut are left out


@pytest.mark.sqlite_only  # PostgreSQL has no limit on a LIKE pattern's length to run into
def test_a_search_the_database_cannot_run_gets_one_sentence(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.videos.feed.MAX_SEARCH_CHARS", 1_000_000)  # as if there were no cap
    _video(_user(), "Piano sonata", "")  # SQLite checks a pattern's length only when it meets a row
    with pytest.raises(SearchFailed, match="This search could not be run; try fewer or shorter words"):
        feed_page(query="é" * 25_001)  # 50,002 bytes: over SQLite's 50,000-byte limit on LIKE patterns


# --- issue 13: details filled in later, frames of video files, author pages -----------------------


def _details_job(video_id: int) -> int:
    """The id of the one video_details job a share queued for `video_id`."""
    with session_scope() as session:
        jobs = [job for job in session.scalars(select(Job).where(Job.kind == "video_details"))]
    [job] = [job for job in jobs if json.loads(job.params)["video_id"] == video_id]
    return job.id


def test_a_video_file_gets_a_frame_as_thumbnail_and_its_length(site: Path, media_server: MediaServer) -> None:
    ann = _user()
    card = share_video(ann.id, media_server.url("clip.mp4"))
    assert (card.thumbnail_url, card.duration_s) == (None, None)  # the site says neither
    assert cached_download(card.id) is None
    assert run_now(_details_job(card.id)) == "done"
    filled = get_video(card.id).card
    assert filled.duration_s == 9  # the clip is 9.18 s long
    assert filled.thumbnail_url is not None and filled.thumbnail_url.startswith(media_server.url("clip.mp4") + "#t=")
    frame = cached_thumbnail(filled.thumbnail_url)
    assert frame is not None and frame.is_relative_to(site / "thumbnails")
    with Image.open(frame) as image:
        assert image.format == "JPEG" and image.size == (640, 360)
        assert np.asarray(image.convert("L")).std() > 20  # a picture, not a black frame
    ready = cached_download(card.id)  # the file the frame came from is the one a download saves
    assert ready is not None and ready.size == CLIP.stat().st_size
    assert ready.path.read_bytes() == CLIP.read_bytes()


def test_details_missing_while_a_site_is_down_are_filled_in_once_it_is_back(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A direct file on a server that is down: saved with a typed title, its job fails, then a retry fills it in."""
    port = free_port()  # nothing listens there yet: connections are refused, as from a server that is down
    url = f"http://127.0.0.1:{port}/{CLIP.name}"
    ann = _user()
    with pytest.raises(ProbeFailed, match="type a title"):
        share_video(ann.id, url)
    card = share_video(ann.id, url, title="Hamilton, saved while offline")
    job_id = _details_job(card.id)
    assert "asking the video's site" in (details_notice(card.id) or "")
    assert run_now(job_id) == "failed"
    assert "could not be fetched" in (details_notice(card.id) or "")
    assert retry_due(force=True) == 0  # not yet: retried at most every RETRY_AFTER_S
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(CLIP.parent))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr("core.videos.details.RETRY_AFTER_S", 0.0)
        assert retry_due(force=True) == 1
        assert run_now(job_id) == "done"
    finally:
        server.shutdown()
        server.server_close()
    detail = get_video(card.id)
    assert detail.card.title == "Hamilton, saved while offline"  # what the person typed stays
    assert (detail.player.kind, detail.player.url) == ("file", url)
    assert detail.card.duration_s == 9 and detail.card.thumbnail_url is not None
    assert details_notice(card.id) is None


def test_a_youtube_link_shared_offline_queues_its_details(site: Path, loopback_only: FakeDns) -> None:
    card = share_video(_user().id, f"https://youtu.be/{YOUTUBE_ID}")
    assert card.title == f"YouTube video {YOUTUBE_ID}"
    job_id = _details_job(card.id)
    assert run_now(job_id) == "failed"  # still offline: the job waits for a retry, holding no thread
    assert "could not be fetched" in (details_notice(card.id) or "")
    with session_scope() as session:
        assert session.get_one(Job, job_id).error == UNREACHABLE


def test_an_authors_videos(site: Path) -> None:
    ann, bob = _user("Ann"), _user("Bob")
    _video(ann, "Ann's first", minutes_ago=2)
    _video(bob, "Bob's", minutes_ago=1)
    _video(ann, "Ann's second")
    assert [c.title for c in feed_page(author_id=ann.id).items] == ["Ann's second", "Ann's first"]
    assert author(ann.id) == Author(ann.id, "Ann", 2)
    with pytest.raises(AuthorNotFound, match="does not exist"):
        author(9999)


def test_a_damaged_cached_thumbnail_gives_way_to_the_placeholder(site: Path, loopback_only: FakeDns) -> None:
    url = "https://images.example/cover.jpg"
    path = thumbnail_path(url)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xd8 not really a jpeg")
    assert cached_thumbnail(url) is None  # the card shows the placeholder, never a broken image
    assert not path.exists()  # and the next miss fetches it again
