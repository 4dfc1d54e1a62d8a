"""The account pages through Streamlit's AppTest: register, sign out, sign in, the lockout, the gate, sessions and
the password change."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from core.accounts.profiles import rename
from core.accounts.users import register as create_account
from core.accounts.users import sign_in as sign_in_with_password
from core.storage.database import session_scope
from core.storage.models import AuthSession, User
from pages.ui.components import md
from pages.ui.session import TOKEN_KEY
from tests.support.app_driver import APP, button, go, open_app, register, sign_in, submit, texts

PASSWORD = "a long enough password"
NEW_PASSWORD = "another quite different phrase"


def test_register_sign_out_and_sign_in_again(site: Path) -> None:
    at = open_app()
    assert texts(at.sidebar, "caption") == ["Not signed in"]
    register(at, "Ann Example", "Ann@Example.com", PASSWORD)
    assert not at.exception
    assert texts(at, "title") == ["WebTube"]  # back on the feed
    assert texts(at, "success") == ["Welcome to WebTube, Ann Example! As the first account, you are the site's admin."]
    assert texts(at.sidebar, "markdown") == ["Signed in as **Ann Example**"]
    assert texts(at.sidebar, "caption") == [md("ann@example.com") + " · admin"]

    button(at.sidebar, "Sign out").click()
    at.run()
    assert texts(at, "success") == ["You are signed out."]
    assert texts(at.sidebar, "caption") == ["Not signed in"]
    assert "user_id" not in at.session_state

    sign_in(at, "ann@example.com", PASSWORD)
    assert texts(at, "success") == ["Welcome back, Ann Example."]
    assert texts(at.sidebar, "markdown") == ["Signed in as **Ann Example**"]


@pytest.mark.parametrize(
    "name, email, password, repeated, message",
    [
        ("Ann", "not-an-email", PASSWORD, PASSWORD, "That email address is not valid"),
        ("Ann", "ann@example.com", "short", "short", "at least 8 characters"),
        ("Ann", "ann@example.com", PASSWORD, PASSWORD + "x", "The two passwords do not match."),
        ("", "ann@example.com", PASSWORD, PASSWORD, "Please enter a display name."),
    ],
)
def test_registration_mistakes_are_explained(
    site: Path, name: str, email: str, password: str, repeated: str, message: str
) -> None:
    at = register(open_app(), name, email, password, repeated)
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value
    assert texts(at, "title") == ["Create your account"]
    assert "user_id" not in at.session_state


def test_a_taken_email_gets_a_clear_message(site: Path) -> None:
    create_account("Ann", "ann@example.com", PASSWORD, PASSWORD)
    at = register(open_app(), "Another Ann", " ANN@example.com ", PASSWORD)
    assert texts(at, "error") == ["An account with this email already exists. Sign in instead."]


def test_five_wrong_passwords_lock_the_email_and_say_for_how_long(site: Path) -> None:
    create_account("Ann", "ann@example.com", PASSWORD, PASSWORD)
    at = open_app()
    for _ in range(4):
        sign_in(at, "ann@example.com", "wrong password")
        assert texts(at, "error") == ["Wrong email or password."]
    sign_in(at, "nobody@example.com", PASSWORD)
    assert texts(at, "error") == ["Wrong email or password."]  # same words for an unknown email
    sign_in(at, "ann@example.com", "wrong password")
    assert texts(at, "error") == ["Too many failed sign-ins for this email. Try again in 15 min."]
    sign_in(at, "ann@example.com", PASSWORD)
    assert texts(at, "error") == ["Too many failed sign-ins for this email. Try again in 15 min."]
    assert "user_id" not in at.session_state


@pytest.mark.parametrize("page, title", [("pages/share.py", "Share a video"), ("pages/profile.py", "My profile")])
def test_pages_that_need_an_account_send_visitors_to_sign_in_and_back(site: Path, page: str, title: str) -> None:
    create_account("Ann", "ann@example.com", PASSWORD, PASSWORD)
    at = go(open_app(), page)
    assert texts(at, "title") == ["Sign in"]
    assert texts(at, "info")[0] == f"Please sign in to open “{title}”."
    sign_in(at, "ann@example.com", PASSWORD)
    assert texts(at, "title") == [title]


def test_the_sidebar_follows_a_renamed_or_deleted_account(site: Path) -> None:
    user = create_account("Ann", "ann@example.com", PASSWORD, PASSWORD)
    at = open_app(user.id)
    rename(user.id, "Ann Renamed")
    at.run()
    assert texts(at.sidebar, "markdown") == ["Signed in as **Ann Renamed**"]
    with session_scope() as db:  # the account is deleted meanwhile
        db.delete(db.get_one(User, user.id))
    at.run()
    assert texts(at.sidebar, "caption") == ["Not signed in"]
    assert "user_id" not in at.session_state


def _tab_with_the_same_cookie(at: AppTest) -> AppTest:
    """A second tab of the same browser: a new Streamlit session holding the same session token."""
    other = AppTest.from_file(str(APP), default_timeout=60)
    other.session_state[TOKEN_KEY] = at.session_state[TOKEN_KEY]
    return other.run()


def test_signing_out_in_one_tab_signs_the_other_out_on_its_next_action(site: Path) -> None:
    at = register(open_app(), "Ann", "ann@example.com", PASSWORD)
    second = _tab_with_the_same_cookie(at)
    assert texts(second.sidebar, "markdown") == ["Signed in as **Ann**"]
    button(at.sidebar, "Sign out").click()
    at.run()
    go(second, "pages/share.py")  # the other tab's next action
    assert texts(second, "title") == ["Sign in"]
    assert texts(second.sidebar, "caption") == ["Not signed in"]
    with session_scope() as db:
        assert db.scalar(select(func.count()).select_from(AuthSession)) == 0


def _change_password(at: AppTest, current: str, new: str, repeated: str | None = None) -> AppTest:
    again = new if repeated is None else repeated
    fields = {"Current password": current, "New password": new, "New password again": again}
    return submit(at, "Change password", fields)


def test_changing_the_password_signs_out_the_other_sessions_and_keeps_this_one(site: Path) -> None:
    ann = create_account("Ann", "ann@example.com", PASSWORD, PASSWORD)
    at = open_app(ann.id, "pages/profile.py")
    elsewhere = open_app(ann.id)  # another browser, signed in on its own
    assert texts(elsewhere.sidebar, "markdown") == ["Signed in as **Ann**"]

    _change_password(at, PASSWORD, NEW_PASSWORD)
    assert not at.exception
    assert texts(at, "success") == ["Your password is changed. 1 other sign-in ended."]
    assert texts(at.sidebar, "markdown") == ["Signed in as **Ann**"]
    elsewhere.run()
    assert texts(elsewhere.sidebar, "caption") == ["Not signed in"]

    fresh = sign_in(open_app(), "ann@example.com", PASSWORD)
    assert texts(fresh, "error") == ["Wrong email or password."]
    sign_in(fresh, "ann@example.com", NEW_PASSWORD)
    assert texts(fresh, "success") == ["Welcome back, Ann."]


@pytest.mark.parametrize("method", ["password", "face"])
@pytest.mark.parametrize(
    "current, new, repeated, message",
    [
        ("not my password", NEW_PASSWORD, NEW_PASSWORD, "That is not your current password."),
        (PASSWORD, "short", "short", "at least 8 characters"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "The two passwords do not match."),
        (PASSWORD, PASSWORD, PASSWORD, "The new password is the same as the current one."),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    site: Path, method: str, current: str, new: str, repeated: str, message: str
) -> None:
    ann = create_account("Ann", "ann@example.com", PASSWORD, PASSWORD)
    at = open_app(ann.id, "pages/profile.py", method=method)
    elsewhere = open_app(ann.id)
    _change_password(at, current, new, repeated)
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value
    elsewhere.run()
    assert texts(elsewhere.sidebar, "markdown") == ["Signed in as **Ann**"]  # nobody was signed out
    assert sign_in_with_password("ann@example.com", PASSWORD).id == ann.id


def test_a_face_session_cannot_guess_the_password_without_limit(site: Path) -> None:
    ann = create_account("Ann", "ann@example.com", PASSWORD, PASSWORD)
    at = open_app(ann.id, "pages/profile.py", method="face")
    for _ in range(4):
        _change_password(at, "a guess at the password", NEW_PASSWORD)
        assert texts(at, "error") == ["That is not your current password."]
    _change_password(at, "a guess at the password", NEW_PASSWORD)
    assert texts(at, "error") == ["Too many failed sign-ins for this email. Try again in 15 min."]
    _change_password(at, PASSWORD, NEW_PASSWORD)  # even the right one is refused while locked
    assert texts(at, "error") == ["Too many failed sign-ins for this email. Try again in 15 min."]
