"""Accounts in headless Chromium against the real server: the admin screen, "2 attempts left", the password change,
a reset by email through a real SMTP server (aiosmtpd on loopback), enrolment messages that stay visible on the
camera page, and deleting one's account. One server for the module; screenshots go to artifacts/screens/.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from core.accounts.users import register, sign_in
from core.config import get_settings
from tests.support import app_server as app_server_module
from tests.support.app_server import AppServer, free_port, launch_chromium, run_app_server, wait_for_run
from tests.support.paths import FACES_DIR
from tests.support.smtp_inbox import Inbox, link_in, smtp_inbox

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
SCREENS = ROOT / "artifacts" / "screens"
PASSWORD = "a long enough password"
NEW_PASSWORD = "another quite different phrase"
RESET_PASSWORD = "a third phrase nobody guesses"
WAIT_MS = 60_000  # a busy 2-core machine; the first face enrolment also loads the face models


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_inbox() as server:
        yield server


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory, inbox: Inbox) -> Iterator[AppServer]:
    data_dir = tmp_path_factory.mktemp("accounts")
    port = free_port()
    env = {**inbox.env, "WEBTUBE_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"WEBTUBE_DATA_DIR": str(data_dir), "WEBTUBE_BCRYPT_ROUNDS": "4", **env}.items():
            patch.setenv(name, value)
        patch.delenv("DATABASE_URL", raising=False)
        get_settings.cache_clear()
        register("Boss", "boss@example.com", PASSWORD, PASSWORD)  # the first account: the admin
        register("Ann", "ann@example.com", PASSWORD, PASSWORD)
        register("Bob", "bob@example.com", PASSWORD, PASSWORD)
        for _ in range(5):  # Ann is locked out
            with pytest.raises(Exception, match=r"Wrong email or password|Too many"):
                sign_in("ann@example.com", "a wrong guess here")
        patch.setattr(app_server_module, "free_port", lambda: port)
        with run_app_server(data_dir, env=env) as server:
            yield server
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SCREENS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    context.set_default_timeout(WAIT_MS)
    yield context.new_page()
    context.close()


def _rows(server: AppServer, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(f"file:{server.data_dir / 'webtube.sqlite3'}?mode=ro", uri=True) as db:
        return db.execute(sql, args).fetchall()


def _sign_in(page: Page, server: AppServer, email: str, password: str) -> None:
    page.goto(server.url + "/sign_in")
    wait_for_run(page)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _open_profile(page: Page, server: AppServer) -> None:
    """My profile, once the sign-in's cookie is in place (a new page load reads it)."""
    expect(page.get_by_test_id("stSidebar").get_by_text("Signed in as")).to_be_visible()
    # The page writes the cookie after its run (half a second was not always enough on a busy machine).
    page.wait_for_function("document.cookie.includes('webtube_session=')")
    page.goto(server.url + "/profile")
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()
    wait_for_run(page)


def _search(page: Page, words: str, name: str) -> None:
    """Search the accounts; `name`'s panel is then the only one, open."""
    field = page.get_by_label("Search accounts by email or name")
    field.fill(words)
    field.press("Enter")
    expect(page.get_by_test_id("stExpander").filter(has_text=f"{name} ·")).to_have_count(1)
    expect(page.get_by_test_id("stExpander")).to_have_count(1)
    wait_for_run(page)


def test_two_attempts_left_then_the_admin_unlocks_promotes_and_deletes(page: Page, app_server: AppServer) -> None:
    for _ in range(3):
        _sign_in(page, app_server, "boss@example.com", "not the password")
        expect(page.get_by_text("Wrong email or password.")).to_be_visible()
    expect(page.get_by_text("2 attempts left before this email is locked for 15 min.")).to_be_visible()
    page.wait_for_timeout(3000)  # the face panel's camera widget reruns the page: the messages stay
    expect(page.get_by_text("2 attempts left before this email is locked")).to_be_visible()
    page.screenshot(path=str(SCREENS / "sign_in_attempts_left.png"), full_page=True)

    _sign_in(page, app_server, "boss@example.com", PASSWORD)
    expect(page.get_by_text("Welcome back, Boss.")).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Admin").click()
    expect(page.get_by_text("Type your password to open the admin screen.")).to_be_visible()
    page.screenshot(path=str(SCREENS / "admin_confirm.png"), full_page=True)
    page.get_by_label("Your password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Open the admin screen").click()
    expect(page.get_by_label("Search accounts by email or name")).to_be_visible()
    expect(page.get_by_role("button", name="Open the admin screen")).to_have_count(0)  # the run has finished
    expect(page.get_by_test_id("stExpander")).to_have_count(3)

    expect(page.get_by_test_id("stExpander").filter(has_text="locked")).to_have_count(1)
    page.screenshot(path=str(SCREENS / "admin_accounts.png"), full_page=True)
    _search(page, "ann", "Ann")  # one account found: its panel opens
    expect(page.get_by_text("locked for")).to_be_visible()
    page.screenshot(path=str(SCREENS / "admin_account_open.png"), full_page=True)
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_text("ann@example.com can sign in again.")).to_be_visible()
    assert _rows(app_server, "SELECT COUNT(*) FROM login_failures WHERE email = ?", "ann@example.com") == [(0,)]
    page.get_by_role("button", name="Promote to admin").click()
    expect(page.get_by_text("ann@example.com is now an admin.")).to_be_visible()
    assert _rows(app_server, "SELECT is_admin FROM users WHERE email = ?", "ann@example.com") == [(1,)]
    page.get_by_role("button", name="Demote").click()
    expect(page.get_by_text("ann@example.com is no longer an admin.")).to_be_visible()

    _search(page, "bob", "Bob")
    page.get_by_role("button", name="Delete account").click()
    expect(page.get_by_text("It cannot be undone.")).to_be_visible()
    wait_for_run(page)
    page.get_by_role("button", name="Yes, delete account").click()
    expect(page.get_by_text("The account bob@example.com is deleted.")).to_be_visible()
    assert _rows(app_server, "SELECT COUNT(*) FROM users WHERE email = ?", "bob@example.com") == [(0,)]
    assert "Traceback" not in app_server.log()


def test_change_the_password_and_the_message_stays(page: Page, app_server: AppServer) -> None:
    _sign_in(page, app_server, "ann@example.com", PASSWORD)
    expect(page.get_by_text("Welcome back, Ann.")).to_be_visible()
    _open_profile(page, app_server)
    page.get_by_label("Current password", exact=True).fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()
    page.wait_for_timeout(3000)
    expect(page.get_by_text("Your password is changed.")).to_be_visible()


def test_forgot_password_by_email_then_enrol_and_delete_the_account(page: Page, app_server: AppServer,
                                                                       inbox: Inbox) -> None:
    page.goto(app_server.url + "/sign_in")
    expect(page.get_by_role("link", name="Forgot your password?")).to_have_attribute("href", "reset_password")
    page.goto(app_server.url + "/reset_password")
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    wait_for_run(page)
    page.get_by_label("Email", exact=True).fill("ann@example.com")
    page.get_by_role("button", name="Send me a reset link").click()
    expect(page.get_by_text("If an account has this email, a reset link is on its way")).to_be_visible()
    page.screenshot(path=str(SCREENS / "reset_request.png"), full_page=True)
    [message] = inbox.wait(1)
    assert message["To"] == "ann@example.com"
    link = link_in(message)
    assert urlsplit(link).netloc == urlsplit(app_server.url).netloc

    page.goto(link)
    expect(page.get_by_text("Choose a new password for")).to_be_visible()
    wait_for_run(page)
    page.screenshot(path=str(SCREENS / "reset_new_password.png"), full_page=True)
    page.get_by_label("New password", exact=True).fill(RESET_PASSWORD)
    page.get_by_label("New password again", exact=True).fill(RESET_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_text("Your password is changed and every sign-in of your account has ended.")).to_be_visible()
    assert _rows(app_server, "SELECT COUNT(*) FROM password_resets") == [(0,)]
    page.goto(link)  # used once: it does not work again
    expect(page.get_by_text("This reset link does not work any more")).to_be_visible()

    _sign_in(page, app_server, "ann@example.com", RESET_PASSWORD)
    expect(page.get_by_text("Welcome back, Ann.")).to_be_visible()
    _open_profile(page, app_server)
    page.get_by_role("tab", name="Upload photos").click()
    wait_for_run(page)
    # The tab's uploader appears after the tab's run: take it by its label, never the avatar's beside it.
    photos = page.get_by_test_id("stFileUploader").filter(has_text="Photos with only your face in them")
    photos.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(FACES_DIR / "people/obama/obama_2.jpg"))
    expect(photos.get_by_test_id("stFileChip").filter(has_text="obama_2.jpg")).to_be_visible()
    expect(page.get_by_test_id("stFileChipIconSpinner")).to_have_count(0)  # uploaded before the press
    page.get_by_role("button", name="Enrol these photos").click()
    saved = page.get_by_text("1 face sample saved from your photos.")
    expect(saved).to_be_visible(timeout=120_000)
    page.wait_for_timeout(4000)  # the camera widget's reruns come and go: the message and the tab stay
    expect(saved).to_be_visible()
    expect(page.get_by_role("tab", name="Upload photos")).to_have_attribute("aria-selected", "true")
    page.screenshot(path=str(SCREENS / "profile_enrolled.png"), full_page=True)

    wait_for_run(page)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Deleting your account deletes, for good and at once")).to_be_visible()
    page.get_by_label("Type your email to confirm").fill("ann@example.com")
    page.screenshot(path=str(SCREENS / "delete_account.png"), full_page=True)
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.get_by_text("and everything of it are deleted.")).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_text("Not signed in")).to_be_visible()
    assert _rows(app_server, "SELECT COUNT(*) FROM users WHERE email = ?", "ann@example.com") == [(0,)]
    assert _rows(app_server, "SELECT COUNT(*) FROM face_samples") == [(0,)]
    assert not list((app_server.data_dir / "faces").glob("*/*"))
    assert "Traceback" not in app_server.log()
