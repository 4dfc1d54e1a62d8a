"""Liveness in headless Chromium: a still photo of an enrolled person, held to the camera, fails the head turn.

Its own module because liveness is a server setting (on here, off in test_browser_face.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select

from core.storage.database import session_scope
from core.storage.models import LoginFailure
from tests.support.app_server import AppServer, launch_chromium
from tests.support.face_app import enrolled_app, settings_for
from tests.support.fake_camera import still_y4m
from tests.support.webrtc_driver import start_camera

pytestmark = pytest.mark.browser
DECISION_MS = 90_000  # generous: the engine shares two cores with Chromium and the video codecs


@pytest.fixture(scope="module")
def liveness_app(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> Iterator[AppServer]:
    """The app with liveness on and a 4-second head turn; Ann (Obama) has an enrolled face."""
    data_dir = tmp_path_factory.mktemp("liveness-app")
    env = {"WEBTUBE_LIVENESS": "true", "WEBTUBE_LIVENESS_TIMEOUT_S": "4"}
    with enrolled_app(data_dir, faces_dir, {"Ann": "people/obama/obama_1.jpg"}, env=env) as server:
        yield server


def _failures(data_dir: Path) -> int:
    with settings_for(data_dir), session_scope() as session:
        count = session.scalar(select(func.count()).where(LoginFailure.email == "ann@example.com"))
    return int(count or 0)


def test_a_still_photo_fails_the_head_turn(liveness_app: AppServer, tmp_path: Path, faces_dir: Path) -> None:
    camera = still_y4m(faces_dir / "people/obama/obama_2.jpg", tmp_path / "photo.y4m")
    args = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, [*args, f"--use-file-for-fake-video-capture={camera}"])
        page = browser.new_page()
        page.goto(f"{liveness_app.url}/sign_in")
        start_camera(page)
        challenge = page.get_by_text(re.compile(r"Recognised, now turn your head to your (left|right)"))
        expect(challenge).to_be_visible(timeout=DECISION_MS)
        failed = page.get_by_text("The head turn was not seen in time. Try again, or sign in with your password.")
        expect(failed).to_be_visible(timeout=DECISION_MS)
        expect(page.get_by_text("Not signed in")).to_be_visible()
        browser.close()
    assert _failures(liveness_app.data_dir) == 1  # counted against Ann's email, like a wrong password
