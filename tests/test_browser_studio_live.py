"""Studio › Live in headless Chromium with a fake webcam: a clip of three faces side by side (Barack Obama and
Joe Biden named in the member's library, Kit Harington not), made from the test photos at 480x360 to keep
the two cores for the engine. Their names appear in the "In view now" list, Kit is Unknown; freezing the
frame and adding Kit as a new person makes the next frames name him, with no restart.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from core.accounts.users import register
from tests.support.app_server import ROOT, AppServer, launch_chromium, run_app_server
from tests.support.face_app import settings_for
from tests.support.live_scenes import BIDEN, KIT, KNOWN, OBAMA, name_people, open_live, scene, scene_y4m
from tests.support.webrtc_driver import start_camera

pytestmark = [pytest.mark.browser, pytest.mark.camera]
ARTIFACTS = ROOT / "artifacts" / "studio_live"  # screenshots of the journey (and of a failure)
PASSWORD = "a long enough password"
RECOGNISED_MS = 90_000  # generous: the engine shares two cores with Chromium and the video codecs


def test_named_people_are_recognised_live_and_a_newcomer_is_added_from_a_frozen_frame(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with settings_for(data_dir):
        ann = register("Ann", "ann@example.com", PASSWORD, PASSWORD)
        name_people(ann.id, KNOWN, tmp_path / "photos")
        camera = scene_y4m([(scene((OBAMA, BIDEN, KIT), size=(480, 360)), 2.0)], tmp_path / "camera.y4m")
    args = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}"]
    with run_app_server(data_dir) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright, args)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        try:
            _journey(page, server)
        except AssertionError as exc:
            _shot(page, "failed")
            raise AssertionError(f"{exc}\n--- server log ---\n{server.log()[-4000:]}") from exc
        browser.close()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _journey(page: Page, server: AppServer) -> None:
    """Sign in, START the camera, see the names, freeze, add Kit, see him named."""
    open_live(page, server.url, "ann@example.com", PASSWORD)
    start_camera(page)
    in_view = page.locator(".st-key-live-in-view")
    for name in ("Barack Obama", "Joe Biden", "Unknown"):
        expect(in_view.get_by_text(name)).to_be_visible(timeout=RECOGNISED_MS)
    _shot(page, "recognised")
    expect(page.get_by_text("stranger pairs")).to_be_visible()  # the threshold's measured risk, in words

    page.get_by_role("button", name="Freeze this frame").click()
    expect(page.get_by_role("heading", name="Frozen frame")).to_be_visible()
    chosen = page.get_by_test_id("stRadio").locator("label", has=page.locator("input:checked"))
    expect(chosen).to_contain_text("Unknown")  # the unknown face is offered first
    page.get_by_label("Name", exact=True).fill("Kit Harington")
    page.get_by_role("button", name="Add as a new person").click()
    expect(page.get_by_text("Added Kit Harington: the next frames recognise them.")).to_be_visible()
    expect(page.get_by_role("heading", name="Frozen frame")).to_have_count(0)  # the frozen frame is gone from memory
    expect(in_view.get_by_text("Kit Harington")).to_be_visible(timeout=RECOGNISED_MS)
    for name in ("Barack Obama", "Joe Biden"):
        expect(in_view.get_by_text(name)).to_be_visible()
    expect(in_view.get_by_text("Unknown")).to_have_count(0)
    _shot(page, "newcomer-named")
