"""Liveness in headless Chromium: photos of an enrolled person held to the camera never sign in.

A still photo, a slideshow of his photos in different poses, and a photo alternating with its
mirror image: each attempt fails and is counted against the account, like a wrong password.
Its own module because liveness is a server setting (on here, off in test_browser_face.py);
one server for the three cameras, so the failures add up on one account.
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
from tests.support.face_app import enrolled_app, open_sign_in, settings_for
from tests.support.fake_camera import slideshow_y4m, still_y4m, webcam_frame
from tests.support.frame_sequences import mirrored
from tests.support.webrtc_driver import start_camera

pytestmark = [pytest.mark.browser, pytest.mark.camera]
DECISION_MS = 90_000  # generous: the engine shares two cores with Chromium and the video codecs
FAILED = re.compile(
    r"The head (turn was not seen in time|moves were not continuous: .*)\. Try again, or sign in with your password\."
)


@pytest.fixture(scope="module")
def liveness_app(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> Iterator[AppServer]:
    """The app with liveness on and 4 seconds a move; Ann (Obama) has an enrolled face."""
    data_dir = tmp_path_factory.mktemp("liveness-app")
    env = {"WEBTUBE_LIVENESS": "true", "WEBTUBE_LIVENESS_TIMEOUT_S": "4", "WEBTUBE_LOGIN_MAX_FAILURES": "10"}
    with enrolled_app(data_dir, faces_dir, {"Ann": "people/obama/obama_1.jpg"}, env=env) as server:
        yield server


def _failures(data_dir: Path) -> int:
    with settings_for(data_dir), session_scope() as session:
        count = session.scalar(select(func.count()).where(LoginFailure.email == "ann@example.com"))
    return int(count or 0)


def _refused(server: AppServer, camera: Path) -> str:
    """Sign in with `camera` as the webcam: recognised, then refused at the head moves; returns the refusal."""
    before = _failures(server.data_dir)
    args = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, [*args, f"--use-file-for-fake-video-capture={camera}"])
        page = browser.new_page()
        open_sign_in(page, server)
        start_camera(page)
        failed = page.get_by_text(FAILED)  # only a recognised face gets a head-move challenge to fail
        expect(failed).to_be_visible(timeout=DECISION_MS)
        message = failed.inner_text()
        expect(page.get_by_text("Not signed in")).to_be_visible()
        browser.close()
    assert _failures(server.data_dir) == before + 1  # counted against Ann's email, like a wrong password
    return message


def test_a_still_photo_fails_the_head_moves(liveness_app: AppServer, tmp_path: Path, faces_dir: Path) -> None:
    camera = still_y4m(faces_dir / "people/obama/obama_2.jpg", tmp_path / "photo.y4m")
    assert "not seen in time" in _refused(liveness_app, camera)


def test_a_slideshow_of_poses_fails(liveness_app: AppServer, tmp_path: Path, faces_dir: Path) -> None:
    poses = [("obama_2", 2.0), ("obama_4", 1.5), ("obama_1", 3.0), ("obama_4", 2.5)]  # each under a move's 4 s
    pictures = [(webcam_frame(faces_dir / f"people/obama/{name}.jpg"), seconds) for name, seconds in poses]
    assert "not continuous" in _refused(liveness_app, slideshow_y4m(pictures, tmp_path / "slides.y4m"))


def test_a_photo_alternating_with_its_mirror_image_fails(
    liveness_app: AppServer, tmp_path: Path, faces_dir: Path
) -> None:
    picture = webcam_frame(faces_dir / "people/obama/obama_2.jpg")
    camera = slideshow_y4m([(picture, 1.5), (mirrored(picture), 1.5)] * 2, tmp_path / "mirror.y4m")
    assert "not continuous" in _refused(liveness_app, camera)
