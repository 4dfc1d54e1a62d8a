"""The whole video-site journey in headless Chromium against the real server, with screenshots as artefacts.

Register, sign out, sign in (a wrong password first), share two videos from the local media
server, see the newest first in the feed, filter by category, open it, see similar videos and
download the file. Screenshots of the feed and the video page go to artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

from tests.support.app_server import ROOT, AppServer, launch_chromium, run_app_server, wait_for_run
from tests.support.media_server import CLIP, CLIP_TITLE, MediaServer, Route

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "artifacts"
PASSWORD = "a long enough password"
HOSTILE_COMMENT = "<script>window.owned = 1</script> **not bold** <b>not html</b>"


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with run_app_server(tmp_path_factory.mktemp("site")) as server:
        yield server


@pytest.fixture
def page(app_server: AppServer) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        context.set_default_timeout(30_000)
        yield context.new_page()
        browser.close()


def _poster() -> bytes:
    """A real frame of the clip as the page's og:image, so the feed shows a thumbnail."""
    capture = cv2.VideoCapture(str(CLIP))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 45)
    ok, frame = capture.read()
    capture.release()
    assert ok, "could not read a frame of the test clip"
    return cv2.imencode(".jpg", frame)[1].tobytes()


def _fill_form(page: Page, fields: dict[str, str]) -> None:
    wait_for_run(page)
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)


def _choose(page: Page, label: str, option: str) -> None:
    """Type-to-search in a select box and pick `option`, as a person would."""
    box = page.get_by_role("combobox", name=label)
    box.click()
    box.fill(option[:4])
    page.get_by_role("option", name=option).click()


def _choose_many(page: Page, label: str, options: list[str]) -> None:
    """The same for a multiselect, which stays open: Escape closes it (and would undo a select box)."""
    for option in options:
        _choose(page, label, option)
    page.get_by_role("combobox", name=label).press("Escape")


def _nav(page: Page, name: str) -> None:
    """Follow a link of the sidebar's navigation."""
    wait_for_run(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()


def _cards(page: Page) -> Locator:
    """The links to video pages (card titles), in page order."""
    return page.locator("a[href*='watch?v=']")


def test_the_video_site_journey(page: Page, app_server: AppServer, media_server: MediaServer, tmp_path: Path) -> None:
    media_server.add("poster.jpg", Route(body=_poster(), content_type="image/jpeg"))
    page.goto(app_server.url + "/")
    expect(page.get_by_text("No videos yet. Be the first to share one!")).to_be_visible()

    _nav(page, "Register")
    _fill_form(
        page, {"Display name": "Ann", "Email": "ann@example.com", "Password": PASSWORD, "Password again": PASSWORD}
    )
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("Welcome to WebTube, Ann!")).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_text("Signed in as")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    _nav(page, "Sign in")
    _fill_form(page, {"Email": "ann@example.com", "Password": "not the password"})
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong email or password.")).to_be_visible()
    _fill_form(page, {"Password": PASSWORD})
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Welcome back, Ann.")).to_be_visible()

    for url, comment, categories, title in (
        (media_server.url("clip.mp4"), "The bare clip of the Hamilton number.", ["Music"], "clip"),
        (media_server.url("watch.html"), HOSTILE_COMMENT, ["Music", "Education"], CLIP_TITLE),
    ):
        _nav(page, "Share a video")
        _fill_form(page, {"Video link": url, "Comment": comment})
        _choose_many(page, "Categories", categories)
        page.get_by_role("button", name="Share").click()
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_text(HOSTILE_COMMENT)).to_be_visible()  # shown as typed, nothing rendered
    assert page.evaluate("() => window.owned === undefined")
    assert page.locator("video").get_attribute("src") == media_server.url("clip.mp4")

    _nav(page, "Home")
    expect(page.get_by_text("2 videos", exact=True)).to_be_visible()
    expect(_cards(page)).to_have_text([CLIP_TITLE, "clip"])
    expect(page.locator("[data-testid='stImage'] img[src*='/media/']").first).to_be_visible()  # the server's copy
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "feed.png"), full_page=True)

    _choose(page, "Category", "Education")
    expect(page.get_by_text("1 video in Education")).to_be_visible()
    expect(_cards(page)).to_have_text([CLIP_TITLE])
    assert re.search(r"[?&]category=education\b", page.url)

    page.get_by_role("link", name=CLIP_TITLE).click()
    expect(page.get_by_role("heading", name="Similar videos")).to_be_visible()
    expect(_cards(page)).to_have_text(["clip"])
    expect(page.get_by_role("link", name="Education")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "video.png"), full_page=True)

    # One step when the server already holds the file (its details job may have fetched it), two otherwise.
    save = page.get_by_role("link", name=re.compile(rf"^(Save|Download) {re.escape(CLIP_TITLE)}\.mp4 \(0\.6 MB\)$"))
    fetch = page.get_by_role("button", name="Download", exact=True)
    expect(save.or_(fetch)).to_be_visible()
    if not save.is_visible():
        fetch.click()
    with page.expect_download() as download_info:
        save.click()
    download = download_info.value
    assert download.suggested_filename == f"{CLIP_TITLE}.mp4"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes() == CLIP.read_bytes()
    assert "Traceback" not in app_server.log()
