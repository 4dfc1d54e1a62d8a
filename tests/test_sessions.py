"""Sessions and re-authentication in core: tokens stored as hashes, sliding expiry, revocation, the password
change that signs out the other sessions, and the password a face-only session must type again."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.accounts import sessions
from core.accounts.credentials import (
    PasswordRequired,
    SamePassword,
    SessionEnded,
    WrongPassword,
    change_password,
    require_password_session,
)
from core.accounts.users import AccountLocked, InvalidCredentials, WeakPassword, register, sign_in
from core.config import get_settings
from core.storage.database import get_engine, session_scope
from core.storage.models import AuthSession, User, utcnow
from pages.ui.session_cookie import served_over_https

pytestmark = pytest.mark.both_databases

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a different staple phrase"


@pytest.fixture
def ann(site: Path) -> int:
    return register("Ann", "ann@example.com", PASSWORD, PASSWORD).id


def _count() -> int:
    with session_scope() as db:
        return db.scalar(select(func.count()).select_from(AuthSession)) or 0


def test_a_token_is_256_random_bits_and_only_its_hash_is_stored(ann: int, data_dir: Path) -> None:
    token, session = sessions.create(ann, "password")
    other, _ = sessions.create(ann, "password")
    assert token != other
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert (session.user_id, session.method) == (ann, "password")
    with session_scope() as db:
        row = db.get_one(AuthSession, session.id)
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    get_engine().dispose()  # checkpoint the WAL so the file on disk holds everything
    for stored in data_dir.glob("webtube.sqlite3*"):
        assert token.encode() not in stored.read_bytes()
    assert sessions.resolve(token) == session


@pytest.mark.parametrize("token", [None, "", "not a token", "x" * 43])
def test_an_unknown_token_opens_nothing(ann: int, token: str | None) -> None:
    sessions.create(ann, "password")
    assert sessions.resolve(token) is None
    assert sessions.touch(token) is None


def test_a_stored_hash_is_not_a_token(ann: int) -> None:
    """Someone who reads the database and replays the hash as a cookie gets nowhere."""
    token, _ = sessions.create(ann, "password")
    assert sessions.resolve(sessions.token_hash(token)) is None


def test_expiry_slides_with_use_and_an_idle_session_runs_out(ann: int) -> None:
    start = utcnow()
    token, session = sessions.create(ann, "password", now=start)
    assert session.expires_at == start + timedelta(days=30)
    used = sessions.touch(token, now=start + timedelta(days=29))
    assert used is not None and used.expires_at == start + timedelta(days=59)
    assert used.last_used_at == start + timedelta(days=29)
    assert sessions.resolve(token, now=start + timedelta(days=58)) is not None  # kept alive by its use
    assert sessions.resolve(token, now=start + timedelta(days=59)) is None  # 30 idle days: gone
    assert sessions.touch(token, now=start + timedelta(days=60)) is None  # and using it cannot revive it


def test_reruns_within_a_minute_do_not_write(ann: int) -> None:
    start = utcnow()
    token, session = sessions.create(ann, "password", now=start)
    again = sessions.touch(token, now=start + timedelta(seconds=30))
    assert again == session


def test_the_lifetime_is_a_setting(ann: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBTUBE_SESSION_DAYS", "2")
    get_settings.cache_clear()
    start = utcnow()
    token, session = sessions.create(ann, "face", now=start)
    assert session.expires_at == start + timedelta(days=2)
    assert sessions.resolve(token, now=start + timedelta(days=2, seconds=1)) is None


def test_expired_sessions_are_purged_when_new_ones_open(ann: int) -> None:
    sessions.create(ann, "password", now=utcnow() - timedelta(days=31))
    sessions.create(ann, "password")
    assert _count() == 1


def test_an_unknown_method_is_refused(ann: int) -> None:
    with pytest.raises(ValueError, match="unknown sign-in method"):
        sessions.create(ann, "magic")  # type: ignore[arg-type]
    assert _count() == 0


def test_revoking_signs_the_session_out_for_every_holder_of_the_cookie(ann: int) -> None:
    token, _ = sessions.create(ann, "password")
    other, _ = sessions.create(ann, "password")
    assert sessions.revoke(token) is True
    assert sessions.resolve(token) is None
    assert sessions.revoke(token) is False
    assert sessions.revoke(None) is False
    assert sessions.resolve(other) is not None  # another browser is untouched


def test_revoke_others_keeps_only_the_given_session(ann: int) -> None:
    bob = register("Bob", "bob@example.com", PASSWORD, PASSWORD).id
    keep, _ = sessions.create(ann, "password")
    ended = [sessions.create(ann, m)[0] for m in ("password", "face")]
    bobs, _ = sessions.create(bob, "password")
    assert sessions.revoke_others(ann, keep) == 2
    assert sessions.resolve(keep) is not None
    assert all(sessions.resolve(t) is None for t in ended)
    assert sessions.resolve(bobs) is not None


def test_revoke_all_for_user_is_what_deleting_an_account_calls(ann: int) -> None:
    tokens = [sessions.create(ann, "password")[0] for _ in range(3)]
    assert sessions.revoke_all_for_user(ann) == 3
    assert all(sessions.resolve(t) is None for t in tokens)


def test_deleting_an_account_removes_its_sessions(ann: int) -> None:
    token, _ = sessions.create(ann, "password")
    with session_scope() as db:
        db.delete(db.get_one(User, ann))
    assert sessions.resolve(token) is None
    assert _count() == 0


def test_changing_the_password_ends_the_other_sessions(ann: int) -> None:
    mine, _ = sessions.create(ann, "password")
    others = [sessions.create(ann, m)[0] for m in ("password", "face")]
    assert change_password(ann, PASSWORD, NEW_PASSWORD, NEW_PASSWORD, mine) == 2
    assert sessions.resolve(mine) is not None
    assert all(sessions.resolve(t) is None for t in others)
    assert sign_in("ann@example.com", NEW_PASSWORD).id == ann
    with pytest.raises(InvalidCredentials):
        sign_in("ann@example.com", PASSWORD)


@pytest.mark.parametrize(
    "current, new, repeated, error",
    [
        ("wrong password", NEW_PASSWORD, NEW_PASSWORD, WrongPassword),
        (PASSWORD, "short", "short", WeakPassword),
        (PASSWORD, "ann@example.com", "ann@example.com", WeakPassword),
        (PASSWORD, PASSWORD, PASSWORD, SamePassword),
    ],
)
def test_a_refused_password_change_changes_nothing(
    ann: int, current: str, new: str, repeated: str, error: type[Exception]
) -> None:
    mine, _ = sessions.create(ann, "password")
    other, _ = sessions.create(ann, "password")
    with pytest.raises(error):
        change_password(ann, current, new, repeated, mine)
    assert sessions.resolve(other) is not None
    assert sign_in("ann@example.com", PASSWORD).id == ann


def test_a_signed_out_session_cannot_change_the_password(ann: int) -> None:
    """The attack: a tab left open after signing out (or someone else's session) tries it anyway."""
    ended, _ = sessions.create(ann, "password")
    other, _ = sessions.create(ann, "password")
    sessions.revoke(ended)
    bob = register("Bob", "bob@example.com", PASSWORD, PASSWORD).id
    bobs, _ = sessions.create(bob, "password")
    for token in (ended, bobs, None):
        with pytest.raises(SessionEnded):
            change_password(ann, PASSWORD, NEW_PASSWORD, NEW_PASSWORD, token)
    assert sessions.resolve(other) is not None
    assert sign_in("ann@example.com", PASSWORD).id == ann


def test_a_password_session_may_do_sensitive_actions(ann: int) -> None:
    token, session = sessions.create(ann, "password")
    assert require_password_session(token) == session


def test_a_face_session_must_type_the_password_again(ann: int) -> None:
    token, session = sessions.create(ann, "face")
    with pytest.raises(PasswordRequired, match="You signed in with your face"):
        require_password_session(token)
    with pytest.raises(PasswordRequired):
        require_password_session(token, "")
    with pytest.raises(WrongPassword):
        require_password_session(token, "not the password")
    assert require_password_session(token, PASSWORD) == session


def test_a_face_session_cannot_guess_the_password_past_the_lockout(ann: int) -> None:
    token, _ = sessions.create(ann, "face")
    for _ in range(4):
        with pytest.raises(WrongPassword):
            require_password_session(token, "a guess")
    with pytest.raises(AccountLocked):
        require_password_session(token, "a guess")
    with pytest.raises(AccountLocked):  # the right password too, until the lock runs out
        require_password_session(token, PASSWORD)
    with pytest.raises(AccountLocked):  # and the sign-in form shares the lock
        sign_in("ann@example.com", PASSWORD)


def test_an_ended_session_may_do_nothing_sensitive(ann: int) -> None:
    token, _ = sessions.create(ann, "password")
    sessions.revoke(token)
    with pytest.raises(SessionEnded):
        require_password_session(token, PASSWORD)


@pytest.mark.parametrize(
    "url, headers, secure",
    [
        ("http://127.0.0.1:8501/", {}, False),
        ("https://tube.example.org/", {}, True),
        ("http://127.0.0.1:8501/", {"X-Forwarded-Proto": "https"}, True),
        ("http://127.0.0.1:8501/", {"X-Forwarded-Proto": "HTTPS, http"}, True),
        ("http://127.0.0.1:8501/", {"X-Forwarded-Proto": "http"}, False),
        (None, {}, False),
    ],
)
def test_the_cookie_is_secure_exactly_when_served_over_https(
    url: str | None, headers: dict[str, str], secure: bool
) -> None:
    assert served_over_https(url, headers) is secure
