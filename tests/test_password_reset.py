"""Forgot password: a one-time, expiring link sent by email to a real SMTP server (aiosmtpd on loopback) and
followed; the link sets a new password, ends every session and cannot be used twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from core.accounts import resets, sessions
from core.accounts.resets import ResetLinkInvalid, ResetUnavailable, email_reset_link, reset_password
from core.accounts.users import InvalidCredentials, InvalidEmail, WeakPassword, register, sign_in
from core.config import get_settings
from core.storage.database import session_scope
from core.storage.models import PasswordReset, utcnow
from tests.support.app_driver import open_app, submit, texts
from tests.support.smtp_inbox import Inbox, link_in, smtp_inbox

pytestmark = pytest.mark.both_databases

PASSWORD = "a long enough password"
NEW = "quite another phrase entirely"
SITE = "https://tube.example.org"


@pytest.fixture
def inbox(site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    with smtp_inbox() as server:
        for name, value in {**server.env, "WEBTUBE_PUBLIC_URL": SITE + "/"}.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        yield server


def _token(link: str) -> str:
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{SITE}/reset_password"
    [token] = parse_qs(parts.query)["token"]
    return token


def test_the_emailed_link_resets_the_password_once_and_ends_every_session(inbox: Inbox) -> None:
    ann = register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    open_sessions = [sessions.create(ann.id, "password")[0] for _ in range(2)]
    email_reset_link(" ANN@example.com ")
    [message] = inbox.wait(1)
    assert (message["To"], message["From"]) == ("ann@example.com", "webtube@example.org")
    assert message["Subject"] == "Reset your WebTube password"
    token = _token(link_in(message))
    with session_scope() as session:  # the database holds the hash, never the token
        assert token not in session.scalars(select(PasswordReset.token_hash)).all()

    with pytest.raises(WeakPassword):
        reset_password(token, "password", "password")
    assert resets.account_for(token).email == "ann@example.com"  # a refused password leaves the link working
    assert reset_password(token, NEW, NEW).id == ann.id
    assert all(sessions.resolve(t) is None for t in open_sessions)
    with pytest.raises(InvalidCredentials):
        sign_in("ann@example.com", PASSWORD)
    assert sign_in("ann@example.com", NEW).id == ann.id
    with pytest.raises(ResetLinkInvalid, match="does not work any more"):
        reset_password(token, "yet another new phrase", "yet another new phrase")


def test_unknown_emails_get_no_email_and_the_same_silence(inbox: Inbox) -> None:
    register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    email_reset_link("nobody@example.com")  # no error: the page says the same for both
    email_reset_link("ann@example.com")
    email_reset_link("ann@example.com")  # within a minute of the last: not sent again
    assert [m["To"] for m in inbox.wait(1)] == ["ann@example.com"]
    assert len(inbox.messages) == 1
    with pytest.raises(InvalidEmail):
        email_reset_link("not an email")


def test_a_newer_link_replaces_the_older_and_links_expire(site: Path) -> None:
    ann = register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    old = resets.create_token(ann.id)
    new = resets.create_token(ann.id)
    with pytest.raises(ResetLinkInvalid):
        resets.account_for(old)
    with session_scope() as session:
        session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(ResetLinkInvalid):
        reset_password(new, NEW, NEW)
    with pytest.raises(ResetLinkInvalid):
        resets.account_for(None)


def test_a_link_opened_in_four_tabs_at_once_sets_the_password_once(site: Path) -> None:
    """On PostgreSQL all four used to find the link live and set their password (SQLite's write lock queued them)."""
    ann = register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    token = resets.create_token(ann.id)
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def use(index: int) -> None:
        start.wait(timeout=30)
        try:
            outcomes.append(reset_password(token, f"{NEW} {index}", f"{NEW} {index}").email)
        except ResetLinkInvalid:
            outcomes.append("refused")

    tabs = [threading.Thread(target=use, args=(i,)) for i in range(4)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join(timeout=60)
    assert sorted(outcomes) == ["ann@example.com"] + ["refused"] * 3


def test_without_a_mail_server_or_public_address_no_email_is_offered(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    assert not resets.email_configured()
    with pytest.raises(ResetUnavailable, match="Ask an admin"):
        email_reset_link("ann@example.com")
    monkeypatch.setenv("WEBTUBE_SMTP_HOST", "127.0.0.1")
    get_settings.cache_clear()
    assert not resets.email_configured()  # links are never built from a request's own address


def test_a_mail_server_that_is_down_says_so_and_leaves_no_link(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.app_server import free_port

    register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    for name, value in {"WEBTUBE_SMTP_HOST": "127.0.0.1", "WEBTUBE_SMTP_PORT": str(free_port()),
                        "WEBTUBE_PUBLIC_URL": SITE}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    with pytest.raises(ResetUnavailable, match="could not be sent"):
        email_reset_link("ann@example.com")
    with session_scope() as session:
        assert session.scalars(select(PasswordReset)).all() == []


def test_the_reset_page_without_email_points_to_an_admin_and_a_link_sets_the_password(site: Path) -> None:
    ann = register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    at = open_app(page="pages/reset_password.py")
    assert texts(at, "info")[0].startswith("This site does not send emails. Ask one of its admins for a reset link")
    token = resets.create_token(ann.id)
    at = open_app(page="pages/reset_password.py", token=token)
    submit(at, "Set the new password", {"New password": NEW, "New password again": NEW + "x"})
    assert texts(at, "error") == ["The two passwords do not match."]
    submit(at, "Set the new password", {"New password": NEW, "New password again": NEW})
    assert texts(at, "success") == [
        "Your password is changed and every sign-in of your account has ended. Sign in with the new password."
    ]
    assert sign_in("ann@example.com", NEW).id == ann.id
