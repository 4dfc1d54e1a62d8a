"""Video face analysis in headless Chromium against the real server, with screenshots in artifacts/videos/.

Ann, signed in, uploads a clip made with ffmpeg from the test photos (Obama, Biden, Obama again), follows the
job's progress, sees the two people with their thumbnails and the timeline, plays the annotated video,
downloads the JSON export, and finds the analysis in her job history. One page load; the rest is clicks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from core.accounts import sessions
from core.accounts.users import UserInfo, register
from core.video_analysis.records import TimeRange
from core.videos.file_links import ROUTE
from pages.ui.session_cookie import COOKIE_NAME
from pages.ui.video_timeline import spans
from tests.support.app_server import ROOT, AppServer, launch_chromium, run_app_server, wait_for_run
from tests.test_app_studio_videos import CLIP_TRUTH, assert_when, face_clip

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "artifacts" / "videos"
PASSWORD = "a long enough password"
WAIT_MS = 30_000
FIRST_LOAD_MS = 90_000  # a fresh server's first page on a busy 2-core machine
ANALYSIS_MS = 300_000  # the server loads the face engine for the first job: minutes on a crowded 2-core machine
SERVER_ENV = {"WEBTUBE_VIDEO_SAMPLE_FPS": "2"}  # 10 frames of the 5 s clip: the page's default rate


@pytest.fixture
def page(site: Path) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 1400, "height": 1600}, accept_downloads=True)
        context.set_default_timeout(WAIT_MS)
        yield context.new_page()
        browser.close()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    wait_for_run(page)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _signed_in(page: Page, server: AppServer, user: UserInfo) -> None:
    """Arrive signed in: a real session, its token in the cookie the sign-in page would set (the sign-in form
    itself is tested in test_browser_sessions.py; here it would cost a page that loads the camera panel)."""
    token, _ = sessions.create(user.id, "password")
    page.context.add_cookies([{"name": COOKIE_NAME, "value": token, "url": server.url}])
    page.goto(server.url + "/")
    expect(page.get_by_text("Signed in as")).to_be_visible(timeout=FIRST_LOAD_MS)


def _nav(page: Page, name: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()


def _plays(page: Page) -> dict:
    """Start the annotated video (muted, as autoplay rules ask) and report what the element knows."""
    video = page.locator("[data-testid='stVideo']")
    video.scroll_into_view_if_needed()
    video.evaluate("element => { element.muted = true; return element.play(); }")
    page.wait_for_function(
        "() => { const v = document.querySelector('[data-testid=\"stVideo\"]');"
        " return v.readyState >= 2 && v.duration > 0 && v.currentTime > 0; }"
    )
    return video.evaluate(
        "v => ({readyState: v.readyState, duration: v.duration, width: v.videoWidth, height: v.videoHeight,"
        " error: v.error && v.error.code, src: v.currentSrc})"
    )


def test_upload_follow_see_play_export_and_find_it_in_the_history(page: Page, site: Path, tmp_path: Path) -> None:
    ann = register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    clip = face_clip(tmp_path / "obama-biden.mp4")
    with run_app_server(site, env=SERVER_ENV) as server:
        _signed_in(page, server, ann)
        _nav(page, "Videos")
        expect(page.get_by_text("No video analysed yet")).to_be_visible()

        # upload the clip and follow the job while it runs in the background
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(clip))
        expect(page.get_by_role("button", name=f"Remove {clip.name}")).to_be_visible()
        page.get_by_role("button", name="Analyse the upload").click()
        expect(page.get_by_test_id("stProgress")).to_be_visible()
        _shot(page, "1-progress")

        # the results open by themselves when the job ends
        expect(page.get_by_role("heading", name=clip.name)).to_be_visible(timeout=ANALYSIS_MS)
        people = page.locator("[class*='st-key-video-person-']")
        expect(people).to_have_count(2)
        for label in ("Unknown person 1", "Unknown person 2"):
            expect(people.get_by_text(label, exact=True)).to_be_visible()
        page.wait_for_function(
            "() => [...document.querySelectorAll(\"[class*='st-key-video-person-'] img\")]"
            ".filter(image => image.complete && image.naturalWidth > 0).length === 2"
        )
        chart = page.get_by_test_id("stVegaLiteChart")
        expect(chart.locator("canvas, svg").first).to_be_visible()
        state = _plays(page)
        assert state["readyState"] >= 2 and state["duration"] > 4 and state["error"] is None, state
        assert (state["width"], state["height"]) == (320, 240), state
        assert urlsplit(state["src"]).path.startswith(ROUTE + "/"), state  # streamed from disk, not from memory
        _shot(page, "2-results")

        # the JSON export downloads and parses
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Download the JSON").click()
        exported = json.loads(Path(download_info.value.path()).read_text())
        obama, biden = exported["people"]  # in the order they first appear
        assert (obama["label"], biden["label"]) == ("Unknown person 1", "Unknown person 2"), exported["people"]
        for found, who in ((obama, "obama"), (biden, "biden")):
            ranges = [(span["start_s"], span["end_s"]) for span in found["ranges"]]
            assert_when(ranges, CLIP_TRUTH[who], exported["sample_fps"])
            shown = spans(TimeRange(start, end) for start, end in ranges)
            expect(people.filter(has_text=found["label"])).to_contain_text(shown)
        assert exported["source"] == clip.name and exported["sampled_frames"] >= 8 and exported["frames"]
        assert any(face["box"] for frame in exported["frames"] for face in frame["faces"])

        # the analysis is in the list here and in the job history, which opens it again
        expect(page.locator("[class*='st-key-video-analysis-']").get_by_text(clip.name)).to_be_visible()
        _nav(page, "History")
        line = page.get_by_test_id("stMarkdownContainer").filter(has_text="Video face analysis")
        expect(line).to_contain_text("Done")
        _shot(page, "3-history")
        page.locator("[class*='st-key-job-open-'] button").click()  # the History page's Open of this job
        expect(page.get_by_role("heading", name=clip.name)).to_be_visible()
        expect(page.locator("[class*='st-key-video-person-']")).to_have_count(2)
