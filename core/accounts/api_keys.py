"""API keys of an account: made, listed by prefix, revoked, and resolved on every request.

A key is a random token shown once when it is made; the database keeps only its SHA-256 (as for
sessions), so a leaked database opens nothing. Scopes: "read" (look, search, recognise) or
"read write" (also change the library and start jobs). `last_used_at` is written at most once a
minute per key, so a burst of requests does not turn into a burst of writes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from core.accounts.sessions import token_hash
from core.accounts.users import AccountError, UnknownUser
from core.storage.database import session_scope
from core.storage.models import ApiKey, User, utcnow

TOKEN_PREFIX = "wt_"
PREFIX_LENGTH = 10  # "wt_" and 7 characters: enough to tell a person's keys apart, useless for guessing
SCOPES = ("read", "write")


class KeyRefused(AccountError):
    """A key cannot be made or changed as asked (no name, an unknown scope, too many keys, not this account's)."""
MAX_KEYS = 20
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiKeyInfo:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class KeyHolder:
    """Who a request acts as: the key's owner, with the key's scopes."""

    user_id: int
    key_id: int
    scopes: frozenset[str]


def _info(row: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(row.id, row.name, row.prefix, tuple(row.scopes.split()), row.created_at, row.last_used_at,
                      row.revoked_at)


def clean_scopes(scopes: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """"read", "write" or both; write implies read, so a writing program can also look at what it wrote."""
    wanted = set(scopes.replace(",", " ").split() if isinstance(scopes, str) else scopes)
    unknown = wanted - set(SCOPES)
    if unknown or not wanted:
        raise KeyRefused("A key's scope is read, or read and write.")
    return ("read", "write") if "write" in wanted else ("read",)


def create_key(user_id: int, name: str,
               scopes: str | tuple[str, ...] | list[str] = ("read",)) -> tuple[str, ApiKeyInfo]:
    """A new key for `user_id`: returns the token (shown once, never stored) and what the list shows of it."""
    label = " ".join(name.split())[:80]
    if not label:
        raise KeyRefused("Give the key a name, such as the program that will use it.")
    chosen = clean_scopes(scopes)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with session_scope() as session:
        if session.get(User, user_id) is None:
            raise UnknownUser("There is no such account.")
        active = session.scalars(select(ApiKey.id).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None)))
        if len(active.all()) >= MAX_KEYS:
            raise KeyRefused(f"An account may hold {MAX_KEYS} keys at most; revoke one you no longer use.")
        row = ApiKey(token_hash=token_hash(token), prefix=token[:PREFIX_LENGTH], user_id=user_id, name=label,
                     scopes=" ".join(chosen))
        session.add(row)
        session.flush()
        return token, _info(row)


def list_keys(user_id: int) -> list[ApiKeyInfo]:
    """The account's keys, newest first, revoked ones included (the list says when they stopped)."""
    with session_scope() as session:
        rows = session.scalars(select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.id.desc()))
        return [_info(row) for row in rows]


def revoke_key(user_id: int, key_id: int) -> ApiKeyInfo:
    """Stop a key at once: the next request with it is refused. Another account's key reads as missing."""
    with session_scope() as session:
        row = session.get(ApiKey, key_id)
        if row is None or row.user_id != user_id:
            raise KeyRefused("There is no such key on your account.")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        return _info(row)


def revoke_all_keys(user_id: int) -> int:
    """Stop every key of the account (an admin's "sign out everywhere"); returns how many were active."""
    with session_scope() as session:
        now = utcnow()
        return session.execute(update(ApiKey).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
                               .values(revoked_at=now)).rowcount


def holder_of(token: str | None) -> KeyHolder | None:
    """The account and scopes a presented token stands for, or None for an unknown or revoked one."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = token_hash(token)
    with session_scope() as session:
        row = session.scalars(select(ApiKey).where(ApiKey.token_hash == digest, ApiKey.revoked_at.is_(None))).first()
        if row is None:
            return None
        holder = KeyHolder(row.user_id, row.id, frozenset(row.scopes.split()))
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at >= _TOUCH_EVERY:
            session.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
        return holder
