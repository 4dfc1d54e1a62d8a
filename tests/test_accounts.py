"""Accounts in core: registration rules, bcrypt storage, sign-in, the lockout and the users command line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import bcrypt
import pytest
from sqlalchemy import select

from core.__main__ import main as cli
from core.accounts import users as accounts
from core.accounts.users import (
    AccountLocked,
    EmailTaken,
    InvalidCredentials,
    InvalidEmail,
    InvalidName,
    PasswordMismatch,
    WeakPassword,
    register,
    sign_in,
)
from core.storage.database import session_scope
from core.storage.models import LoginFailure, User

pytestmark = pytest.mark.both_databases

PASSWORD = "correct horse battery"


def test_register_stores_a_normalised_email_and_a_bcrypt_hash(site: Path) -> None:
    user = register("  Ada   Lovelace ", "  Ada.Lovelace@Example.COM ", PASSWORD, PASSWORD)
    assert (user.email, user.display_name) == ("ada.lovelace@example.com", "Ada Lovelace")
    with session_scope() as session:
        stored = session.scalar(select(User).where(User.id == user.id))
        assert stored is not None
        assert stored.password_hash.startswith("$2b$04$")  # bcrypt, at the test cost
        assert PASSWORD not in stored.password_hash


def test_first_account_is_admin_and_later_ones_are_not(site: Path) -> None:
    assert register("First", "first@example.com", PASSWORD, PASSWORD).is_admin
    assert not register("Second", "second@example.com", PASSWORD, PASSWORD).is_admin


@pytest.mark.parametrize("email", ["", "plainaddress", "a@b", "ann@@example.com", "ann@exa mple.com", "@example.com"])
def test_invalid_emails_are_refused(site: Path, email: str) -> None:
    with pytest.raises(InvalidEmail, match="not valid"):
        register("Ann", email, PASSWORD, PASSWORD)


def test_password_rules(site: Path) -> None:
    with pytest.raises(WeakPassword, match="at least 8 characters"):
        register("Ann", "ann@example.com", "short", "short")
    with pytest.raises(PasswordMismatch, match="do not match"):
        register("Ann", "ann@example.com", PASSWORD, PASSWORD + "!")
    with pytest.raises(InvalidName, match="display name"):
        register("   ", "ann@example.com", PASSWORD, PASSWORD)
    assert accounts.list_users() == []  # nothing half-written


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        (" " * 8, "only spaces"),
        ("\x00" * 8, "control or invisible"),
        ("pass\u200bword-long", "control or invisible"),
        ("password", "common password"),
        ("12345678", "common password"),
        ("ann@example.com", "your email"),
        ("Ann Example", "your email, your name"),
        ("qwertyuiop", "stronger password"),
    ],
)
def test_guessable_passwords_are_refused_nist_style(site: Path, password: str, reason: str) -> None:
    """The attack: these were all accepted. Now each is refused with its reason, and no account is made."""
    with pytest.raises(WeakPassword, match=reason):
        register("Ann Example", "ann@example.com", password, password)
    assert accounts.list_users() == []


def test_a_long_passphrase_of_plain_words_is_welcome(site: Path) -> None:
    phrase = "purple tractor sings loudly at dawn " * 20  # 700 characters, no digits or symbols
    assert register("Ann", "ann@example.com", phrase, phrase).email == "ann@example.com"
    assert sign_in("ann@example.com", phrase).email == "ann@example.com"


def test_a_taken_email_is_refused_whatever_its_case(site: Path) -> None:
    register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    with pytest.raises(EmailTaken, match="already exists"):
        register("Other Ann", " ANN@example.com", PASSWORD, PASSWORD)


def test_passwords_longer_than_bcrypts_72_bytes_count_whole(site: Path) -> None:
    long_password = "é" * 50 + "tail-A"  # 106 bytes in UTF-8
    register("Ann", "ann@example.com", long_password, long_password)
    assert sign_in("ann@example.com", long_password).email == "ann@example.com"
    with pytest.raises(InvalidCredentials):
        sign_in("ann@example.com", "é" * 50 + "tail-B")  # same first 72 bytes, different password


def test_wrong_password_and_unknown_email_get_the_same_message(site: Path) -> None:
    register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    with pytest.raises(InvalidCredentials) as wrong_password:
        sign_in("ann@example.com", "not the password")
    with pytest.raises(InvalidCredentials) as unknown_email:
        sign_in("nobody@example.com", PASSWORD)
    assert str(wrong_password.value) == str(unknown_email.value) == "Wrong email or password."
    assert sign_in(" Ann@Example.com ", PASSWORD).display_name == "Ann"


def test_five_failures_lock_the_email_for_the_window(site: Path) -> None:
    register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            sign_in("ann@example.com", "wrong password")
    with pytest.raises(AccountLocked) as fifth:
        sign_in("ann@example.com", "wrong password")
    assert 14 * 60 < fifth.value.seconds_left <= 15 * 60
    assert "Try again in 15 min" in str(fifth.value)
    with pytest.raises(AccountLocked):
        sign_in("ann@example.com", PASSWORD)  # even the right password waits
    register("Bob", "bob@example.com", PASSWORD, PASSWORD)
    assert sign_in("bob@example.com", PASSWORD).email == "bob@example.com"  # the lock is per email


def _age_failures(email: str, minutes: float) -> None:
    """Move the recorded failures of `email` back in time, as if the clock had run on."""
    with session_scope() as session:
        for failure in session.scalars(select(LoginFailure).where(LoginFailure.email == email)):
            failure.attempted_at -= timedelta(minutes=minutes)


def test_the_lock_ends_after_the_window_and_says_how_long_is_left(site: Path) -> None:
    register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    for _ in range(5):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            sign_in("ann@example.com", "wrong password")
    _age_failures("ann@example.com", 10)
    with pytest.raises(AccountLocked) as still:
        sign_in("ann@example.com", PASSWORD)
    assert 4 * 60 < still.value.seconds_left <= 5 * 60
    assert "Try again in 5 min" in str(still.value) or "Try again in 4 min" in str(still.value)
    _age_failures("ann@example.com", 5.1)
    assert sign_in("ann@example.com", PASSWORD).email == "ann@example.com"


def test_failures_spread_over_more_than_the_window_do_not_lock(site: Path) -> None:
    register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            sign_in("ann@example.com", "wrong password")
    _age_failures("ann@example.com", 16)
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            sign_in("ann@example.com", "wrong password")
    assert sign_in("ann@example.com", PASSWORD).email == "ann@example.com"


def test_a_successful_sign_in_clears_the_failures(site: Path) -> None:
    register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            sign_in("ann@example.com", "wrong password")
    sign_in("ann@example.com", PASSWORD)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            sign_in("ann@example.com", "wrong password")  # counting starts again: still no lock


def test_unknown_emails_are_locked_too_so_locks_reveal_nothing(site: Path) -> None:
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            sign_in("ghost@example.com", PASSWORD)
    with pytest.raises(AccountLocked):
        sign_in("ghost@example.com", PASSWORD)


def test_the_dummy_hash_for_unknown_emails_is_real_bcrypt(site: Path) -> None:
    """Unknown emails cost a bcrypt check like known ones, so timing does not reveal accounts."""
    with pytest.raises(InvalidCredentials):
        sign_in("ghost@example.com", PASSWORD)
    assert accounts._dummy_hash().startswith("$2b$")
    assert not bcrypt.checkpw(accounts._bcrypt_input(PASSWORD), accounts._dummy_hash().encode())


def test_format_wait() -> None:
    assert accounts.format_wait(900) == "15 min"
    assert accounts.format_wait(61) == "1 min 1 s"
    assert accounts.format_wait(0) == "1 s"


def test_users_command_line(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    register("Bob", "bob@example.com", PASSWORD, PASSWORD)
    assert cli(["users", "promote", "BOB@example.com"]) == 0
    assert "bob@example.com is now an admin" in capsys.readouterr().out
    assert [u.is_admin for u in accounts.list_users()] == [True, True]
    assert cli(["users", "demote", "ann@example.com"]) == 0
    assert "ann@example.com is no longer an admin" in capsys.readouterr().out
    assert [u.is_admin for u in accounts.list_users()] == [False, True]
    assert cli(["users", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split("\t")[1:4] == ["ann@example.com", "Ann", "-"]
    assert listing[1].split("\t")[1:4] == ["bob@example.com", "Bob", "admin"]
    assert cli(["users", "promote", "nobody@example.com"]) == 1
    assert "No account with the email nobody@example.com" in capsys.readouterr().err


def test_unlock_from_the_command_line(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    for _ in range(5):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            sign_in("ann@example.com", "wrong password")
    assert cli(["users", "unlock", "ann@example.com"]) == 0
    assert "Cleared 5 failed sign-in(s)" in capsys.readouterr().out
    assert sign_in("ann@example.com", PASSWORD).email == "ann@example.com"
