"""Two app servers behind the proxy on one PostgreSQL: sticky by cookie, and nothing lost when one stops.

Chromium signs in through Caddy, which pins the browser to one Streamlit process with its
`webtube_route` cookie (an HMAC of the upstream's address). That process is stopped: the proxy sends
the browser to the other one, and the person is still signed in (the session is in the database, its
token in the cookie). An avatar uploaded through the proxy lands; a face enrolled by a third process
signs in through the proxy; signing out through one process signs the same session out on the other.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from core.hosting.stack import HostedStack, StackOptions
from tests.support.app_server import TEST_ENV, free_port, launch_chromium
from tests.support.face_app import settings_for
from tests.support.fake_camera import still_y4m
from tests.support.postgres_server import postgres_server
from tests.support.webrtc_driver import start_camera

pytestmark = [pytest.mark.browser, pytest.mark.camera]
SITE = "webtube.test"
EMAIL, PASSWORD = "ann@example.com", "a long enough password"


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HostedStack, Path, int]]:
    from core.accounts.users import register

    root = tmp_path_factory.mktemp("two-servers")
    with postgres_server() as database_url, pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", database_url)
        with settings_for(root / "data"):
            env.setenv("DATABASE_URL", database_url)  # settings_for clears it; this process writes to PostgreSQL too
            from core.config import get_settings

            get_settings.cache_clear()
            ann = register("Ann", EMAIL, PASSWORD, PASSWORD)
            options = StackOptions(
                site=SITE, https_port=free_port(), app_ports=(free_port(), free_port()), turn_port=0,
                state_dir=root / "hosting",
                app_env={**TEST_ENV, "WEBTUBE_DATA_DIR": str(root / "data"), "DATABASE_URL": database_url,
                         "WEBTUBE_LIVENESS": "false"},
            )
            with HostedStack(options) as stack:
                yield stack, root / "data", ann.id


def _route_for(port: int) -> str:
    """Caddy's cookie value for an upstream: the HMAC-SHA256 of its address (no secret configured)."""
    return hmac.new(b"", f"127.0.0.1:{port}".encode(), hashlib.sha256).hexdigest()


def _served_by(page: Page, stack: HostedStack) -> int:
    """The running app server the proxy pins this browser to, read from Caddy's routing cookie."""
    route = _cookie(page, "webtube_route")
    running = [int(name.split("-")[1]) for name in stack.processes if name.startswith("app-")]
    for port in running:
        if route == _route_for(port):
            return port
    raise AssertionError(f"the routing cookie {route} names no running app server")


def _sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/")
    expect(page.get_by_test_id("stSidebar").get_by_text("Not signed in")).to_be_visible()
    page.goto(f"{url}/sign_in")
    page.get_by_label("Email", exact=True).fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()
    _cookie(page, "webtube_session")  # written by the page after its run: only then does a reload keep it


def _cookie(page: Page, name: str, timeout_s: float = 20) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [c["value"] for c in page.context.cookies() if c["name"] == name]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no {name} cookie after {timeout_s} s")


def test_a_person_stays_signed_in_when_their_server_stops(two_servers: tuple[HostedStack, Path, int], tmp_path: Path,
                                                         faces_dir: Path) -> None:
    stack, data_dir, ann_id = two_servers
    camera = still_y4m(faces_dir / "people/obama/obama_2.jpg", tmp_path / "camera.y4m")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, [
            f"--host-resolver-rules=MAP {SITE} 127.0.0.1", "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera}"])
        first = browser.new_context(ignore_https_errors=True).new_page()
        _sign_in(first, stack.url)
        pinned = _served_by(first, stack)
        other = next(port for port in stack.options.app_ports if port != pinned)

        # The same session in a browser pinned to the other process: signing out there signs out here.
        twin = browser.new_context(ignore_https_errors=True)
        twin.add_cookies([{"name": name, "value": value, "domain": SITE, "path": "/", "secure": True}
                          for name, value in (("webtube_session", _cookie(first, "webtube_session")),
                                              ("webtube_route", _route_for(other)))])
        twin_page = twin.new_page()
        twin_page.goto(f"{stack.url}/")
        expect(twin_page.get_by_text("Signed in as")).to_be_visible()
        assert _served_by(twin_page, stack) == other
        twin_page.get_by_role("button", name="Sign out").click()
        expect(twin_page.get_by_text("Not signed in")).to_be_visible()
        first.reload()
        expect(first.get_by_text("Not signed in")).to_be_visible()
        _sign_in(first, stack.url)
        assert _served_by(first, stack) == pinned

        first.goto(f"{stack.url}/profile")
        expect(first.get_by_role("heading", name="My profile")).to_be_visible()
        first.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(
            str(faces_dir / "people/biden/biden_1.jpg"))
        expect(first.get_by_test_id("stFileChip").filter(has_text="biden_1.jpg")).to_be_visible()
        expect(first.get_by_test_id("stFileChipIconSpinner")).to_have_count(0)  # uploaded before the press
        first.get_by_role("button", name="Save picture").click()
        expect(first.get_by_text("Your picture is saved.")).to_be_visible()
        assert list((data_dir / "avatars").glob("*"))  # uploaded through the proxy to the pinned process

        stack.stop_app(pinned)
        first.goto(f"{stack.url}/profile")
        expect(first.get_by_text("Signed in as")).to_be_visible()  # the other process, the same session
        assert _served_by(first, stack) == other

        # A face enrolled by another process (this test's) signs in through the proxy at once.
        from core.face_signin.enrolment import enrol_photo

        enrol_photo(ann_id, (faces_dir / "people/obama/obama_1.jpg").read_bytes(), keep_image=False)
        second = browser.new_context(ignore_https_errors=True).new_page()
        second.goto(f"{stack.url}/")
        expect(second.get_by_text("Not signed in")).to_be_visible()
        second.goto(f"{stack.url}/sign_in")
        start_camera(second)
        expect(second.get_by_text("Welcome back, Ann.")).to_be_visible(timeout=90_000)
        browser.close()
