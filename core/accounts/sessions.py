"""Sign-in sessions that outlive one browser tab: a random token in a cookie, only its hash in the database.

A token is `secrets.token_urlsafe(32)` (256 bits), so it cannot be guessed; the `sessions` table keeps
its SHA-256, so someone who reads the database cannot sign in with what they find there. A plain hash
(not bcrypt) is enough because the token is random, not a password, and it keeps the lookup one
indexed query per page run. Expiry slides: every use pushes it `WEBTUBE_SESSION_DAYS` ahead (written
at most once a minute, so reruns stay reads). Signing out deletes the row, so every tab holding the
same cookie is signed out on its next run.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.storage.database import session_scope
from core.storage.models import AuthSession, utcnow

Method = Literal["password", "face"]
METHODS: tuple[Method, ...] = ("password", "face")
TOUCH_EVERY = timedelta(minutes=1)  # last use and expiry are rewritten at most this often


@dataclass(frozen=True)
class SessionInfo:
    """What the app may know about a session (never its token)."""

    id: int
    user_id: int
    method: Method
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime


def _info(row: AuthSession) -> SessionInfo:
    method = cast(Method, row.method)
    return SessionInfo(row.id, row.user_id, method, row.created_at, row.last_used_at, row.expires_at)


def token_hash(token: str) -> str:
    """The hex SHA-256 the database keeps in place of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _lifetime() -> timedelta:
    return timedelta(days=get_settings().session_days)


def create(user_id: int, method: Method, now: datetime | None = None) -> tuple[str, SessionInfo]:
    """Open a session for `user_id`; returns the token (for the cookie, never stored) and the session."""
    if method not in METHODS:
        raise ValueError(f"unknown sign-in method {method!r}")
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with session_scope() as db:
        db.execute(delete(AuthSession).where(AuthSession.expires_at <= now))  # expired rows go as new ones come
        row = AuthSession(
            token_hash=token_hash(token),
            user_id=user_id,
            method=method,
            created_at=now,
            last_used_at=now,
            expires_at=now + _lifetime(),
        )
        db.add(row)
        db.flush()
        return token, _info(row)


def _live_row(db: Session, token: str | None, now: datetime) -> AuthSession | None:
    if not token:
        return None
    return db.scalar(
        select(AuthSession).where(AuthSession.token_hash == token_hash(token), AuthSession.expires_at > now)
    )


def resolve(token: str | None, now: datetime | None = None) -> SessionInfo | None:
    """The live session behind `token`, or None when it is unknown, revoked or expired."""
    with session_scope() as db:
        row = _live_row(db, token, now or utcnow())
        return _info(row) if row else None


def touch(token: str | None, now: datetime | None = None) -> SessionInfo | None:
    """Like `resolve`, and slides the expiry forward: a session in use does not run out."""
    now = now or utcnow()
    with session_scope() as db:
        row = _live_row(db, token, now)
        if row is None:
            return None
        if now - row.last_used_at >= TOUCH_EVERY:
            row.last_used_at = now
            row.expires_at = now + _lifetime()
        return _info(row)


def revoke(token: str | None) -> bool:
    """Sign this session out everywhere it is open; False when it was already gone."""
    if not token:
        return False
    with session_scope() as db:
        return bool(db.execute(delete(AuthSession).where(AuthSession.token_hash == token_hash(token))).rowcount)


def revoke_others_in(db: Session, user_id: int, keep_token: str | None) -> int:
    """Inside the caller's transaction: end every session of `user_id` but the one holding `keep_token`."""
    statement = delete(AuthSession).where(AuthSession.user_id == user_id)
    if keep_token:
        statement = statement.where(AuthSession.token_hash != token_hash(keep_token))
    return db.execute(statement).rowcount


def revoke_others(user_id: int, keep_token: str | None) -> int:
    """End the account's other sessions (after a password change); returns how many ended."""
    with session_scope() as db:
        return revoke_others_in(db, user_id, keep_token)


def revoke_all_for_user(user_id: int) -> int:
    """End every session of the account, as deleting it must (the foreign key cascades too)."""
    return revoke_others(user_id, None)
