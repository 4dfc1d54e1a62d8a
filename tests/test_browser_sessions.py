"""Sessions in headless Chromium against the real server: a sign-in survives a reload and a new tab, and
signing out in one tab signs the other out on its next action. Also the cookie's attributes, and that
the database holds only the token's hash."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from tests.support.app_server import AppServer, launch_chromium, run_app_server

pytestmark = pytest.mark.browser
PASSWORD = "a long enough password"
COOKIE = "webtube_session"
DAY_S = 86_400
WAIT_MS = 30_000  # a cold first run on a busy 2-core machine takes longer than expect's 5 s


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with run_app_server(tmp_path_factory.mktemp("sessions")) as server:
        yield server


@pytest.fixture
def context(app_server: AppServer) -> Iterator[BrowserContext]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(30_000)
        yield context
        browser.close()


def _session_cookie(context: BrowserContext, present: bool = True, timeout_s: float = 15) -> dict[str, Any] | None:
    """The session cookie once it is there (or None once it is gone): the page writes it after the run."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = next((c for c in context.cookies() if c["name"] == COOKIE), None)
        if (found is not None) == present or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _signed_in(page: Page) -> None:
    expect(page.get_by_test_id("stSidebar").get_by_text("Signed in as")).to_be_visible(timeout=WAIT_MS)


def _register(page: Page, server: AppServer, email: str) -> None:
    page.goto(server.url + "/")  # through app.py, as people arrive (a fresh server's first page-URL run skips it)
    expect(page.get_by_test_id("stSidebar").get_by_text("Not signed in")).to_be_visible(timeout=WAIT_MS)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Register").click()
    fields = {"Display name": "Ann", "Email": email, "Password": PASSWORD, "Password again": PASSWORD}
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("Welcome to WebTube, Ann!")).to_be_visible(timeout=WAIT_MS)


def _stored_hashes(server: AppServer) -> list[str]:
    with sqlite3.connect(f"file:{server.data_dir / 'webtube.sqlite3'}?mode=ro", uri=True) as db:
        return [row[0] for row in db.execute("SELECT token_hash FROM sessions")]


def test_reload_and_a_new_tab_stay_signed_in_and_sign_out_reaches_the_other_tab(
    context: BrowserContext, app_server: AppServer
) -> None:
    page = context.new_page()
    _register(page, app_server, "ann@example.com")
    cookie = _session_cookie(context)
    assert cookie is not None, "no session cookie was set"

    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # plain http on 127.0.0.1
    assert cookie["httpOnly"] is False  # written by the page's script: see pages/ui/session_cookie.py
    assert cookie["path"] == "/"
    assert abs(cookie["expires"] - (time.time() + 30 * DAY_S)) < DAY_S  # WEBTUBE_SESSION_DAYS
    token = cookie["value"]
    assert len(token) >= 43  # 32 random bytes, base64url
    assert hashlib.sha256(token.encode()).hexdigest() in _stored_hashes(app_server)
    for stored in app_server.data_dir.glob("webtube.sqlite3*"):
        assert token.encode() not in stored.read_bytes(), f"the token itself is in {stored.name}"

    page.reload()
    _signed_in(page)
    expect(page.get_by_role("heading", name="WebTube", exact=True)).to_be_visible(timeout=WAIT_MS)

    second = context.new_page()
    second.goto(app_server.url + "/profile")
    expect(second.get_by_role("heading", name="My profile")).to_be_visible(timeout=60_000)  # it loads the face engine
    _signed_in(second)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible(timeout=WAIT_MS)
    assert _session_cookie(context, present=False) is None, "signing out left the cookie behind"
    assert _stored_hashes(app_server) == []

    second.get_by_test_id("stSidebarNav").get_by_role("link", name="Home").click()  # its next action
    expect(second.get_by_test_id("stSidebar").get_by_text("Not signed in")).to_be_visible(timeout=WAIT_MS)
    expect(second.get_by_text("Signed in as")).to_have_count(0)
    second.reload()
    expect(second.get_by_test_id("stSidebar").get_by_text("Not signed in")).to_be_visible(timeout=WAIT_MS)
    assert "Traceback" not in app_server.log()


def test_a_stolen_cookie_is_worthless_after_sign_out(context: BrowserContext, app_server: AppServer) -> None:
    """The attack: someone copied the cookie; once its owner signs out, replaying it in another browser fails."""
    page = context.new_page()
    _register(page, app_server, "bea@example.com")
    cookie = _session_cookie(context)
    assert cookie is not None
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible(timeout=WAIT_MS)

    thief = context.browser.new_context()
    thief.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path")}])
    stolen = thief.new_page()
    stolen.goto(app_server.url + "/profile")
    expect(stolen.get_by_role("heading", name="Sign in", exact=True)).to_be_visible(timeout=WAIT_MS)
    expect(stolen.get_by_text("Signed in as")).to_have_count(0)
    assert _session_cookie(thief, present=False) is None, "the dead cookie was not dropped"
    thief.close()


def test_behind_a_tls_proxy_the_cookie_is_secure(context: BrowserContext, app_server: AppServer) -> None:
    """A proxy that ends TLS says so with X-Forwarded-Proto; the cookie must then never travel over plain http."""
    proxied = context.browser.new_context(extra_http_headers={"X-Forwarded-Proto": "https"})
    page = proxied.new_page()
    _register(page, app_server, "cem@example.com")
    cookie = _session_cookie(proxied)
    assert cookie is not None
    assert (cookie["secure"], cookie["sameSite"]) == (True, "Lax")
    page.reload()  # Chromium counts 127.0.0.1 as a secure origin, so the cookie comes back
    _signed_in(page)
    proxied.close()
