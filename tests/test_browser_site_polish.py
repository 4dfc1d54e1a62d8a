"""Issue 13 in headless Chromium: nothing fetched from third parties, the feed's page in the URL, a phone layout.

One server for the module, on a site seeded with 15 videos (two feed pages) by one author, written
straight to its database. Screenshots of the phone feed go to artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from core.accounts.users import register
from core.config import get_settings
from core.storage.database import session_scope
from core.storage.models import Video, utcnow
from tests.support.app_server import ROOT, AppServer, launch_chromium, run_app_server

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "artifacts"
PASSWORD = "a long enough password"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _seed(data_dir: Path) -> int:
    """Ann and 15 videos, newest "Clip 00"; returns Ann's id. Written in this process before the server starts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WEBTUBE_DATA_DIR", str(data_dir))
        patch.setenv("WEBTUBE_BCRYPT_ROUNDS", "4")
        patch.delenv("DATABASE_URL", raising=False)
        get_settings.cache_clear()
        try:
            ann = register("Ann", "ann@example.com", PASSWORD, PASSWORD)
            with session_scope() as session:
                for i in range(15):
                    url = f"https://videos.example/{i}"
                    session.add(Video(owner_id=ann.id, original_url=url, canonical_url=url, site="videos.example",
                                      title=f"Clip {i:02d}", comment="", created_at=utcnow() - timedelta(minutes=i)))
        finally:
            get_settings.cache_clear()
    return ann.id


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, int]]:
    data_dir = tmp_path_factory.mktemp("polish")
    ann_id = _seed(data_dir)
    with run_app_server(data_dir) as server:
        yield server, ann_id


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def _page(browser: Browser, width: int, height: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(30_000)
    return context.new_page()


def _cards(page: Page):
    return page.locator("a[href*='watch?v=']")


def test_drawing_the_sites_pages_calls_no_third_party(seeded: tuple[AppServer, int], browser: Browser) -> None:
    """Issue 13: the page icon came from fonts.gstatic.com. Every request of every main page stays on this machine."""
    server, ann_id = seeded
    page = _page(browser, 1400, 1000)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    for path, shown in (
        ("/", "15 videos"),
        ("/?page=2", "Clip 14"),
        ("/watch?v=1", "Similar videos"),
        (f"/author?id={ann_id}", "15 videos shared by Ann"),
        ("/register", "Password again"),
        ("/sign_in", "Password"),
    ):
        page.goto(server.url + path)
        expect(page.get_by_text(shown, exact=True).first).to_be_visible()
        page.wait_for_load_state("networkidle")
    page.get_by_label("Email", exact=True).fill("ann@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Welcome back, Ann.")).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Share a video").click()
    expect(page.get_by_label("Video link")).to_be_visible()
    page.wait_for_load_state("networkidle")
    icon = page.evaluate("() => document.querySelector('link[rel~=\"icon\"]')?.href")
    assert icon and urlsplit(icon).hostname in LOCAL_HOSTS, icon
    outside = sorted({url for url in requests if urlsplit(url).hostname not in LOCAL_HOSTS | {None, ""}})
    assert outside == [], outside
    assert len(requests) > 50  # the pages really loaded (scripts, styles, media) while being watched


def test_the_feeds_page_survives_reload_and_back(seeded: tuple[AppServer, int], browser: Browser) -> None:
    server, _ = seeded
    page = _page(browser, 1400, 1000)
    page.goto(server.url + "/")
    expect(_cards(page).first).to_have_text("Clip 00")
    page.get_by_role("button", name="Page 2").click()
    expect(_cards(page).first).to_have_text("Clip 12")
    page.wait_for_url("**/?page=2")
    page.reload()
    expect(_cards(page)).to_have_text(["Clip 12", "Clip 13", "Clip 14"])
    page.get_by_role("link", name="Clip 13").click()
    expect(page.get_by_role("heading", name="Clip 13")).to_be_visible()
    page.go_back()
    page.wait_for_url("**/?page=2")
    expect(_cards(page)).to_have_text(["Clip 12", "Clip 13", "Clip 14"])


def test_a_phone_sees_cards_two_across_and_a_menu(seeded: tuple[AppServer, int], browser: Browser) -> None:
    """Issue 13: at 390 px the feed was one long column of large cards and the menu was hidden."""
    server, _ = seeded
    page = _page(browser, 390, 844)
    page.goto(server.url + "/")
    expect(_cards(page).first).to_have_text("Clip 00")
    page.wait_for_load_state("networkidle")
    boxes = page.eval_on_selector_all(
        "div[class*='st-key-video_card_']", "cards => cards.map(card => card.getBoundingClientRect().toJSON())"
    )
    on_first_screen = [box for box in boxes if box["top"] < 844]
    assert len(on_first_screen) >= 4, boxes[:6]
    assert boxes[0]["top"] == boxes[1]["top"] and boxes[1]["left"] > boxes[0]["right"]  # two across
    assert boxes[0]["width"] < 390 / 2
    bar = page.locator(".st-key-phone_bar")
    for name in ("Home", "Sign in", "Register"):
        expect(bar.get_by_role("link", name=name)).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "phone_feed.png"))
    bar.get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    wide = _page(browser, 1400, 1000)
    wide.goto(server.url + "/")
    expect(_cards(wide).first).to_have_text("Clip 00")
    expect(wide.locator(".st-key-phone_bar")).to_be_hidden()  # wide screens have the sidebar
