"""Face sign-in in headless Chromium with a fake webcam (a .y4m looped from tests/data/faces), liveness off.

One app server for the module; each test launches Chromium with its own fake camera.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support.app_server import AppServer, launch_chromium
from tests.support.face_app import enrolled_app, open_sign_in
from tests.support.fake_camera import still_y4m
from tests.support.webrtc_driver import start_camera

pytestmark = [pytest.mark.browser, pytest.mark.camera]
DECISION_MS = 90_000  # generous: the engine shares two cores with Chromium and the video codecs


@pytest.fixture(scope="module")
def face_app(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> Iterator[AppServer]:
    """The app with liveness off; Ann (Obama) and Bob (Biden) have enrolled faces."""
    people = {"Ann": "people/obama/obama_1.jpg", "Bob": "people/biden/biden_1.jpg"}
    data_dir = tmp_path_factory.mktemp("face-app")
    with enrolled_app(data_dir, faces_dir, people, env={"WEBTUBE_LIVENESS": "false"}) as server:
        yield server


def _camera(tmp_path: Path, faces_dir: Path, photo: str) -> str:
    return f"--use-file-for-fake-video-capture={still_y4m(faces_dir / photo, tmp_path / 'camera.y4m')}"


def _browser_args(camera: str) -> list[str]:
    return ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", camera]


def test_an_enrolled_person_signs_in_with_their_face(face_app: AppServer, tmp_path: Path, faces_dir: Path) -> None:
    camera = _camera(tmp_path, faces_dir, "people/obama/obama_2.jpg")  # another photo than the enrolled one
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, _browser_args(camera))
        page = browser.new_page()
        open_sign_in(page, face_app)
        start_camera(page)
        expect(page.get_by_text("Welcome back, Ann.")).to_be_visible(timeout=DECISION_MS)
        expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Signed in as Ann")
        browser.close()


def test_a_different_person_is_not_signed_in(face_app: AppServer, tmp_path: Path, faces_dir: Path) -> None:
    camera = _camera(tmp_path, faces_dir, "people/kit_harington/kit_harington_1.jpg")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, _browser_args(camera))
        page = browser.new_page()
        open_sign_in(page, face_app)
        start_camera(page)
        not_recognised = page.get_by_text("Not recognised. Sign in with your password, or try again.")
        expect(not_recognised).to_be_visible(timeout=DECISION_MS)
        expect(page.get_by_text("Not signed in")).to_be_visible()
        expect(page.get_by_text(re.compile("Welcome back"))).to_have_count(0)
        expect(page.get_by_label("Email")).to_be_visible()  # the password form stays available
        browser.close()
