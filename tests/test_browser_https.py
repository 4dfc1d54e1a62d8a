"""The hosted stack end to end on loopback: Caddy (TLS, headers) in front of the app, coturn relaying the webcam.

Chromium opens the app as https://webtube.test (a name that is not localhost, mapped to 127.0.0.1), so
the camera is allowed only because the page is served over HTTPS; ICE is relay-only, so the face
sign-in's media can only have gone through coturn, whose log shows the relayed bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from core.hosting.stack import HostedStack, StackOptions
from tests.support.app_server import TEST_ENV, free_port, launch_chromium
from tests.support.face_app import open_sign_in, settings_for
from tests.support.fake_camera import still_y4m
from tests.support.webrtc_driver import start_camera

pytestmark = [pytest.mark.browser, pytest.mark.camera]
SITE = "webtube.test"
DECISION_MS = 90_000


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> Iterator[HostedStack]:
    from core.accounts.users import register
    from core.face_signin.enrolment import enrol_photo

    data_dir = tmp_path_factory.mktemp("hosted")
    with settings_for(data_dir):
        ann = register("Ann", "ann@example.com", "a long enough password", "a long enough password")
        enrol_photo(ann.id, (faces_dir / "people/obama/obama_1.jpg").read_bytes(), keep_image=False)
        options = StackOptions(
            site=SITE, https_port=free_port(), app_ports=(free_port(),), turn_port=free_port(),
            allow_loopback_peers=True, relay_log_every_request=True, state_dir=data_dir / "hosting",
            app_env={**TEST_ENV, "WEBTUBE_DATA_DIR": str(data_dir), "WEBTUBE_LIVENESS": "false",
                     "WEBTUBE_ICE_TRANSPORT_POLICY": "relay"},
        )
        with HostedStack(options) as running:
            yield running


def _chromium(playwright, camera: Path):
    return launch_chromium(playwright, [
        f"--host-resolver-rules=MAP {SITE} 127.0.0.1", "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera}"])


class _Site:
    def __init__(self, url: str) -> None:
        self.url = url


def test_face_sign_in_over_https_goes_through_the_relay(stack: HostedStack, tmp_path: Path, faces_dir: Path) -> None:
    camera = still_y4m(faces_dir / "people/obama/obama_2.jpg", tmp_path / "camera.y4m")
    refused: list[str] = []
    with sync_playwright() as playwright:
        browser = _chromium(playwright, camera)
        context = browser.new_context(ignore_https_errors=True)  # Caddy's own CA is not in Chromium's store
        page = context.new_page()
        page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in
                message.text else None)
        response = page.goto(f"{stack.url}/")
        headers = response.headers
        assert headers["strict-transport-security"].startswith("max-age=31536000")
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"]
        assert "frame-ancestors 'self'" in headers["content-security-policy"] and "server" not in headers
        open_sign_in(page, _Site(stack.url))
        assert page.evaluate("window.isSecureContext") is True
        start_camera(page)
        expect(page.get_by_text("Welcome back, Ann.")).to_be_visible(timeout=DECISION_MS)
        browser.close()
    assert refused == []
    relayed = stack.log_path("coturn-relay").read_text(errors="replace")
    assert re.search(r"user <\d+:[0-9a-f]+>.*ALLOCATE processed, success", relayed), relayed[-3000:]
    peers = [int(sent) for sent in re.findall(r"usage: .*?sb=(\d+)", relayed)]
    assert re.search(r"CREATE_PERMISSION processed, success|CHANNEL_BIND processed, success", relayed)
    assert not peers or max(peers) > 0


def test_over_plain_http_the_sign_in_page_says_why_the_camera_is_off(stack: HostedStack, tmp_path: Path,
                                                                      faces_dir: Path) -> None:
    camera = still_y4m(faces_dir / "people/obama/obama_2.jpg", tmp_path / "camera.y4m")
    plain = f"http://{SITE}:{stack.options.app_ports[0]}"  # the app server itself, on the same name, no TLS
    with sync_playwright() as playwright:
        browser = _chromium(playwright, camera)
        page = browser.new_page()
        open_sign_in(page, _Site(plain))
        assert page.evaluate("window.isSecureContext") is False
        expect(page.get_by_text(re.compile(r"^Browsers only let a page use the camera over HTTPS, and this page was "
                                           rf"opened over plain HTTP at {SITE}: open https://{SITE}"))).to_be_visible()
        expect(page.locator('iframe[title="streamlit_webrtc.component.webrtc_streamer"]')).to_have_count(0)
        page.get_by_label("Email", exact=True).fill("ann@example.com")
        page.get_by_label("Password", exact=True).fill("a long enough password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Signed in as")).to_be_visible()  # the password form works as ever
        browser.close()
