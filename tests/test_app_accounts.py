"""The account pages through Streamlit's AppTest: register, sign out, sign in, the lockout, the gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.accounts.profiles import rename
from core.accounts.users import register as create_account
from pages.ui.components import md
from tests.support.app_driver import button, go, open_app, register, sign_in, texts

PASSWORD = "a long enough password"


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
    at.session_state["user_id"] = 999  # an account deleted meanwhile
    at.run()
    assert texts(at.sidebar, "caption") == ["Not signed in"]
