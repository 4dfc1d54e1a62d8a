"""Sharing, the feed, the video page and downloads through Streamlit's AppTest, against the local media server."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest
from streamlit.watcher.folder_black_list import FolderBlackList

from core.accounts.users import UserInfo, register
from core.config import get_settings
from core.jobs.runner import run_now
from core.storage.database import session_scope
from core.storage.studio_models import Job
from core.videos.sharing import share_video
from pages.ui.components import md
from pages.ui.layout import LAYOUT_CSS
from tests.support.app_driver import button, fill, go, open_app, share, texts, widget
from tests.support.app_server import ROOT, free_port
from tests.support.media_server import CLIP_TITLE, FakeDns, MediaServer, Route

HOSTILE_COMMENT = "<script>alert('owned')</script>\n**not bold** [click](javascript:alert(1)) ![x](http://evil/x.png)"


@pytest.fixture(autouse=True)
def _jobs_run_when_a_test_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """Details jobs queued by shares stay queued until a test runs them (`run_now`), so traffic counts hold."""
    monkeypatch.setenv("WEBTUBE_JOB_THREADS", "0")
    get_settings.cache_clear()


def _user(name: str) -> UserInfo:
    return register(name, f"{name.lower()}@example.com", "a long enough password", "a long enough password")


def _card_titles(at: AppTest) -> list[str]:
    """Titles of the video cards on the page, in order (their links to `?v=`)."""
    return [link.value.strip("*") for link in at.get("page_link") if link.proto.query_string.startswith("v=")]


def _markdown_everywhere(at: AppTest) -> str:
    kinds = ("markdown", "caption", "header", "subheader", "title", "success", "error", "warning", "info", "page_link")
    return "\n".join(str(element.value) for kind in kinds for element in at.get(kind))


def test_share_see_it_first_filter_open_similar_and_download(site: Path, media_server: MediaServer) -> None:
    bob = _user("Bob")
    share_video(bob.id, "https://videos.example/a", "Hamilton cast recording", ["music"], title="Hamilton songs")
    share_video(bob.id, "https://videos.example/b", "", ["gaming"], title="Speedrun")
    ann = _user("Ann")
    at = open_app(ann.id)

    share(at, media_server.url("watch.html"), "The opening number, live.", ["music", "education"])
    assert not at.exception
    assert texts(at, "success") == [f"Shared “{CLIP_TITLE}”."]
    assert texts(at, "header") == [CLIP_TITLE]
    assert at.get("video")[0].proto.url == media_server.url("clip.mp4")
    assert texts(at, "text") == ["The opening number, live."]
    category_links = [(link.value, link.proto.query_string) for link in at.get("page_link")]
    category_links = [link for link in category_links if link[1].startswith("category=")][:2]
    assert category_links == [("Education", "category=education"), ("Music", "category=music")]
    assert "Similar videos" in texts(at, "subheader")
    assert _card_titles(at) == ["Hamilton songs", "Speedrun"]  # shares a category and a word, then the rest
    video_id = at.query_params["v"]

    go(at, "pages/feed.py")
    assert _card_titles(at) == [CLIP_TITLE, "Speedrun", "Hamilton songs"]
    assert texts(at, "caption")[0] == "3 videos"
    widget(at, "selectbox", "Category").select("music").run()
    assert _card_titles(at) == [CLIP_TITLE, "Hamilton songs"]
    assert at.query_params["category"] == "music"
    assert texts(at, "caption")[0] == "2 videos in Music"

    go(at, "pages/feed.py", category="education")  # the Education link on the video page
    assert _card_titles(at) == [CLIP_TITLE]
    widget(at, "text_input", "Search").input("cast").run()
    assert _card_titles(at) == []
    assert texts(at, "info") == ["No videos match. Try other words or another category."]

    go(at, "pages/watch.py", v=video_id)
    button(at, "Download").click()
    at.run()
    assert not at.exception and texts(at, "error") == []
    assert [bar.value for bar in at.get("progress")] == [100]
    saved = _save_links(at)
    assert [b.label for b in saved] == [f"Save {md(CLIP_TITLE + '.mp4')} (0.6 MB)"]
    assert saved[0].url.startswith("/_webtube/files/")  # a signed link that streams the file from disk
    at.run()  # the file is in the server's cache now: one link, its size shown before the click
    assert [b.label for b in _save_links(at, "Download")] == [f"Download {md(CLIP_TITLE + '.mp4')} (0.6 MB)"]
    assert [b.label for b in at.get("button") if b.label == "Download"] == []


def _save_links(at: AppTest, verb: str = "Save") -> list:
    """The "Save" (or "Download") link buttons on the page (their protos: label and url)."""
    return [b.proto for b in at.get("link_button") if b.proto.label.startswith(verb + " ")]


def test_a_second_download_reuses_the_cached_file(site: Path, media_server: MediaServer) -> None:
    ann, bob = _user("Ann"), _user("Bob")
    first = share_video(ann.id, media_server.url("clip.mp4"))
    at = open_app(ann.id, "pages/watch.py", v=str(first.id))
    button(at, "Download").click()
    at.run()
    fetched = len(media_server.hits("clip.mp4"))
    at = open_app(bob.id, "pages/watch.py", v=str(first.id))  # someone else, another session
    assert len(_save_links(at, "Download")) == 1  # one step: no fetch, no second click
    assert len(media_server.hits("clip.mp4")) == fetched


def test_visitors_can_watch_but_must_sign_in_to_download(site: Path, media_server: MediaServer) -> None:
    card = share_video(_user("Ann").id, media_server.url("clip.mp4"))
    at = open_app(None, "pages/watch.py", v=str(card.id))
    assert at.get("video")[0].proto.url == media_server.url("clip.mp4")
    assert [b.label for b in at.get("button")] == []
    assert "Sign in to download this video" in [link.value for link in at.get("page_link")]


def test_download_failures_are_explained_on_the_page(site: Path, media_server: MediaServer) -> None:
    ann = _user("Ann")
    card = share_video(ann.id, media_server.url("notfound"), title="A lost video")
    at = open_app(ann.id, "pages/watch.py", v=str(card.id))
    button(at, "Download").click()
    at.run()
    assert len(at.error) == 1 and "HTTP 404" in at.error[0].value
    assert _save_links(at) == []


def test_comments_with_html_and_markdown_are_shown_as_text(site: Path, media_server: MediaServer) -> None:
    at = share(open_app(_user("Ann").id), media_server.url("clip.mp4"), HOSTILE_COMMENT, ["comedy"])
    assert texts(at, "text") == [HOSTILE_COMMENT]
    assert "<script>" not in _markdown_everywhere(at)
    assert [element.proto.body for element in at.get("html")] == [LAYOUT_CSS.strip()]  # only our constant CSS


def test_markdown_in_titles_is_escaped(site: Path) -> None:
    ann = _user("Ann")
    card = share_video(ann.id, "http://127.0.0.1:9/v", title="**Bold** [link](http://evil) <b>x</b>")
    at = open_app(ann.id, "pages/watch.py", v=str(card.id))
    assert texts(at, "header") == [md("**Bold** [link](http://evil) <b>x</b>")]
    go(at, "pages/feed.py")
    assert [link.value for link in at.get("page_link") if link.proto.query_string == f"v={card.id}"] == [
        "**" + md("**Bold** [link](http://evil) <b>x</b>") + "**"
    ]


@pytest.mark.parametrize(
    "url, message",
    [
        (
            "javascript:alert(document.cookie)",
            "Only web links (http:// or https://) can be shared, not javascript: links.",
        ),
        ("file:///etc/passwd", "Only web links (http:// or https://) can be shared, not file: links."),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a private or local network address"),
    ],
)
def test_dangerous_links_are_refused_on_the_page(
    site: Path, monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.setenv("WEBTUBE_ALLOW_PRIVATE_URLS", "false")
    get_settings.cache_clear()
    at = share(open_app(_user("Ann").id), url, "c", ["music"], title="typed title")
    assert len(at.error) == 1 and at.error[0].value.startswith(md(message))  # shown literally
    assert texts(at, "title") == ["Share a video"]
    go(at, "pages/feed.py")
    assert _card_titles(at) == []


def test_a_10000_character_comment_gets_a_clear_message_and_keeps_the_form(
    site: Path, media_server: MediaServer
) -> None:
    at = share(open_app(_user("Ann").id), media_server.url("clip.mp4"), "x" * 10_000, ["music"])
    assert texts(at, "error") == [md("Comments can be at most 5,000 characters; this one has 10,000.")]
    assert widget(at, "text_area", "Comment").value == "x" * 10_000  # nothing typed is lost
    assert widget(at, "multiselect", "Categories").value == ["music"]


def test_a_failed_probe_says_why_and_a_typed_title_saves_the_link(site: Path, media_server: MediaServer) -> None:
    at = share(open_app(_user("Ann").id), media_server.url("notfound"), "worth keeping", ["news"])
    assert len(at.warning) == 1
    assert "HTTP 404" in at.warning[0].value and "type a title" in at.warning[0].value
    widget(at, "text_input", "Title (optional)").input("Saved by hand")
    button(at, "Share").click()
    at.run()
    assert texts(at, "header") == ["Saved by hand"]
    assert [b.value for b in at.get("link_button")] == ["Open the original"]


def test_youtube_links_play_inline_even_offline(site: Path, loopback_only: FakeDns) -> None:
    at = share(open_app(_user("Ann").id), "https://youtu.be/dQw4w9WgXcQ?t=42", "", ["music"])
    player = at.get("video")[0].proto
    assert (player.url, player.start_time) == ("https://www.youtube.com/embed/dQw4w9WgXcQ", 42)
    assert texts(at, "header") == [md("YouTube video dQw4w9WgXcQ")]


def test_the_same_link_twice_is_refused_for_the_same_person(site: Path, media_server: MediaServer) -> None:
    at = open_app(_user("Ann").id)
    share(at, media_server.url("clip.mp4"))
    share(at, media_server.url("clip.mp4"))
    assert texts(at, "error") == [md("You already shared this video as “clip”.")]


def test_the_already_shared_message_shows_a_stored_title_literally(site: Path) -> None:
    """Issue 8: a title holding a Markdown link and a tracking image came back as a live link and image."""
    ann = _user("Ann")
    title = "Cute cats [click me](http://evil.example/phish) ![](http://evil.example/track.png)"
    share_video(ann.id, "http://127.0.0.1:9/cats", title=title)
    at = share(open_app(ann.id), "http://127.0.0.1:9/cats", title="again")
    assert texts(at, "error") == [md(f"You already shared this video as “{title}”.")]
    assert re.search(r"(?<!\\)[\[\]()!]", at.error[0].value) is None  # every bracket escaped: no link, no image


def _feed_at_page(at: AppTest, page: str) -> AppTest:
    """The feed opened at `?page=...` (`go` cannot take a parameter called page)."""
    at.switch_page("pages/feed.py")
    at.query_params.clear()
    at.query_params["page"] = page
    return at.run()


def test_pages_of_the_feed(site: Path) -> None:
    ann = _user("Ann")
    for i in range(15):
        share_video(ann.id, f"http://127.0.0.1:9/{i}", title=f"Clip {i:02d}")
    at = open_app(ann.id)
    assert _card_titles(at)[:2] == ["Clip 14", "Clip 13"] and len(_card_titles(at)) == 12
    at.get("pagination")[0].select(2).run()
    assert _card_titles(at) == ["Clip 02", "Clip 01", "Clip 00"]
    assert at.query_params["page"] == "2"  # in the URL: Back, reload and shared links keep it
    reloaded = _feed_at_page(open_app(ann.id), "2")  # a fresh session opening `?page=2`
    assert _card_titles(reloaded) == ["Clip 02", "Clip 01", "Clip 00"]
    assert reloaded.get("pagination")[0].value == 2
    widget(reloaded, "text_input", "Search").input("Clip").run()  # a new search starts at page 1
    assert _card_titles(reloaded)[0] == "Clip 14" and "page" not in reloaded.query_params
    too_far = _feed_at_page(open_app(None), "99")
    assert not too_far.exception and _card_titles(too_far) == ["Clip 02", "Clip 01", "Clip 00"]


def test_an_unknown_video_or_category_is_explained(site: Path) -> None:
    at = open_app(None, "pages/watch.py", v="12345")
    assert texts(at, "error") == ["This video does not exist (any more)."]
    go(at, "pages/watch.py", v="not-a-number")
    assert texts(at, "error") == ["This link does not point to a video."]
    go(at, "pages/feed.py", category="polka")
    assert texts(at, "warning") == ["That category does not exist; showing all videos."]


def test_a_25001_character_search_link_is_cut_with_a_note(site: Path) -> None:
    """Issue 8: this link showed an unhandled `OperationalError: LIKE or GLOB pattern too complex`."""
    ann = _user("Ann")
    share_video(ann.id, "http://127.0.0.1:9/piano", title="Piano sonata")
    at = open_app(ann.id, "pages/feed.py", q="piano " + "é" * 25_001)
    assert not at.exception
    assert texts(at, "info") == [
        "Searches use the first 200 characters; the rest of this one was left out.",
        "No videos match. Try other words or another category.",  # the cut query still ran: no title has 194 é
    ]
    assert widget(at, "text_input", "Search").value == ("piano " + "é" * 25_001)[:200]


# --- issue 13 ------------------------------------------------------------------------------------

NO_VIDEO_PAGE = b"<html><head><title>Shop</title></head><body><p>Buy things.</p></body></html>"


def _form(at: AppTest) -> tuple:
    return tuple(
        widget(at, kind, label).value
        for kind, label in (
            ("text_input", "Video link"),
            ("text_area", "Comment"),
            ("multiselect", "Categories"),
            ("text_input", "Title (optional)"),
        )
    )


def test_a_refused_share_keeps_what_was_typed_and_a_share_empties_the_form(
    site: Path, media_server: MediaServer
) -> None:
    media_server.add("shop.html", Route(body=NO_VIDEO_PAGE, content_type="text/html"))
    at = share(open_app(_user("Ann").id), media_server.url("shop.html"), "  my words ", ["music"], title="A title")
    assert texts(at, "error") == [md("WebTube found no video at this link; it may not be a video page. "
                                     "Only links to a video page or a video file can be shared.")]
    assert _form(at) == (media_server.url("shop.html"), "  my words ", ["music"], "A title")  # exactly as typed
    fill(at, {"Video link": media_server.url("clip.mp4"), "Title (optional)": ""})
    button(at, "Share").click()
    at.run()
    assert texts(at, "header") == ["clip"]
    go(at, "pages/share.py")
    assert _form(at) == ("", "", [], "")  # the next share starts empty


def test_a_share_while_the_site_is_down_says_so_and_bylines_link_to_the_author(site: Path) -> None:
    port = free_port()  # nothing listens: the site is down
    ann = _user("Ann")
    at = share(open_app(ann.id), f"http://127.0.0.1:{port}/talk.mp4", title="A talk")
    assert texts(at, "header") == ["A talk"]
    assert "asking the video's site for its details" in " ".join(texts(at, "info"))
    with session_scope() as session:
        [job_id] = session.scalars(select(Job.id).where(Job.kind == "video_details"))
    assert run_now(job_id) == "failed"
    go(at, "pages/watch.py", v=at.query_params["v"])
    assert any("could not be fetched: its site could not be reached" in info for info in texts(at, "info"))
    [author] = [link for link in at.get("page_link") if link.value == "Ann"]
    assert author.proto.page == "author"
    assert author.proto.query_string == f"id={ann.id}"

    share_video(_user("Bob").id, "http://127.0.0.1:9/bob", title="Bob's video")
    go(at, "pages/feed.py")
    assert [link.proto.query_string for link in at.get("page_link") if link.value in ("Ann", "Bob")] == [
        f"id={ann.id + 1}",
        f"id={ann.id}",
    ]  # every card's byline links to its author
    go(at, "pages/author.py", id=str(ann.id))
    assert texts(at, "title") == ["Ann"]
    assert _card_titles(at) == ["A talk"] and texts(at, "caption")[0] == "1 video shared by Ann"
    go(at, "pages/author.py", id="9999")
    assert texts(at, "error") == ["This person does not exist (any more)."]


def test_the_first_visit_to_an_empty_site_says_what_webtube_is(site: Path) -> None:
    visitor = open_app(None)
    assert texts(visitor, "subheader") == ["Welcome to WebTube"]
    assert "shared video shelf" in texts(visitor, "markdown")[0]
    links = [link.value for link in visitor.get("page_link")]
    assert "Register to share the first video" in links and "Sign in" in links
    member = open_app(_user("Ann").id)
    assert "Share your first video" in [link.value for link in member.get("page_link")]


def test_streamlit_watches_only_the_source() -> None:
    """Issue 13: the default watcher recursed into .venv, db/ and weights/ (a download printed a 656 KB line)."""
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert settings["fileWatcherType"] == "poll"  # files the app imports, not folders recursively
    blacklist = FolderBlackList(settings["folderWatchBlacklist"])
    for path in (".venv/lib/python3.11/site-packages/torch/__init__.py", "db/downloads/x.py", "weights/m.py"):
        assert blacklist.is_blacklisted(str(ROOT / path)), path
    for path in ("app.py", "core/videos/sharing.py", "pages/feed.py"):
        assert not blacklist.is_blacklisted(str(ROOT / path)), path
