"""The sign-in gate on a fresh server, in headless Chromium: each page's URL as the process's very first request.

Why: with a `pages/` folder, Streamlit runs the named page file directly (without app.py) until
the first `st.navigation` call of the process. Every case starts its own server, so every URL
spelling really is a first request. No member content or action may appear. One page of each kind is
checked here; every page file is checked the same way through AppTest in tests/test_page_gate.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from core.accounts.users import register
from tests.support.app_server import launch_chromium, run_app_server

pytestmark = pytest.mark.browser
# Every case is a server start (about 15 s on two cores), so the browser checks one page of each kind (a member
# page of the site, a studio page with the camera, the admin page; a public page with the camera; the profile
# through its other spellings): the AppTest twin (tests/test_page_gate.py) runs every page file as a first
# request, and checks that none is missed.
MEMBER_PAGES = ("share", "studio_live", "admin")
PUBLIC_PAGES = ("sign_in",)
MEMBER_MARKERS = (
    "Video link",
    "My videos",
    "Delete my face data",
    "Sign out",
    "Remove picture",
    "Signed in as",
    "Import photos",
    "Studio",
)


# The other spellings (upper case, a trailing slash, ?embed=true) on one member page, and Home embedded.
SPELLED_OUT = "profile"
CASES = [(page, f"/{page}") for page in MEMBER_PAGES + PUBLIC_PAGES]
CASES += [(SPELLED_OUT, url) for url in (f"/{SPELLED_OUT.upper()}", f"/{SPELLED_OUT}/", f"/{SPELLED_OUT}?embed=true")]
CASES += [("", "/?embed=true")]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.mark.parametrize(("page_name", "url"), CASES, ids=[url for _, url in CASES])
def test_first_request_of_a_fresh_server_shows_no_member_content(
    browser: Browser, site: Path, page_name: str, url: str
) -> None:
    register("Ann", "ann@example.com", "a long enough password", "a long enough password")
    with run_app_server(site) as server:
        page = browser.new_page()
        try:
            page.goto(server.url + url)
            page.wait_for_selector("[data-testid='stMainBlockContainer'] h1, [data-testid='stAlert']", timeout=60_000)
            page.wait_for_timeout(1500)  # let the run finish drawing
            text = page.inner_text("body")
        finally:
            page.close()
    leaked = [marker for marker in MEMBER_MARKERS if marker in text]
    assert not leaked, f"{url}: member content shown to a visitor: {leaked}\n{text[:800]}"
    if page_name in (*MEMBER_PAGES, SPELLED_OUT) and url != f"/{page_name.upper()}":  # an unknown spelling: Home
        assert "Please sign in" in text, f"{url}: no sign-in prompt:\n{text[:800]}"
