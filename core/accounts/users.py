"""Accounts: registration, email-and-password sign-in with a lockout, and admin rights.

Passwords are NFC-normalised, hashed with SHA-256 and then bcrypt: the pre-hash lifts bcrypt's
72-byte limit so long passphrases work whole, and base64 keeps NUL bytes out of bcrypt.
`WEBTUBE_BCRYPT_ROUNDS` (Settings.bcrypt_rounds, default 12) lowers the cost for tests and benchmarks only.
"""

from __future__ import annotations

import base64
import hashlib
import math
import os
import unicodedata
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, insert, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.accounts.password_policy import PasswordRefused, check_strength
from core.config import get_settings
from core.monitoring.signins import signin_outcome
from core.storage.database import serialised_scope, session_scope
from core.storage.models import LoginFailure, User, utcnow

MAX_NAME = 60


class AccountError(ValueError):
    """Base of every account error; the message is written for the person at the keyboard."""


class InvalidEmail(AccountError):
    pass


class InvalidName(AccountError):
    pass


class WeakPassword(AccountError):
    pass


class PasswordMismatch(AccountError):
    pass


class EmailTaken(AccountError):
    pass


class InvalidCredentials(AccountError):
    """Wrong email or wrong password: deliberately one message for both."""

    def __init__(self) -> None:
        super().__init__("Wrong email or password.")


class AccountLocked(AccountError):
    """Too many failures for this email; `seconds_left` says for how long."""

    def __init__(self, seconds_left: int) -> None:
        self.seconds_left = seconds_left
        super().__init__(f"Too many failed sign-ins for this email. Try again in {format_wait(seconds_left)}.")


class UnknownUser(AccountError):
    pass


@dataclass(frozen=True)
class UserInfo:
    """What pages may know about an account (never the password hash)."""

    id: int
    email: str
    display_name: str
    is_admin: bool
    avatar_path: str | None
    created_at: datetime


def user_info(user: User) -> UserInfo:
    return UserInfo(user.id, user.email, user.display_name, user.is_admin, user.avatar_path, user.created_at)


def format_wait(seconds: int) -> str:
    """'14 min 5 s' style, rounded up to whole seconds, for lockout messages."""
    minutes, secs = divmod(max(int(seconds), 1), 60)
    if minutes and secs:
        return f"{minutes} min {secs} s"
    return f"{minutes} min" if minutes else f"{secs} s"


def normalize_email(email: str) -> str:
    """Check syntax (no DNS) and return the one spelling stored: trimmed, IDNA-normalised, lower case."""
    try:
        checked = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"That email address is not valid: {exc}") from exc
    return checked.normalized.lower()


def clean_name(name: str) -> str:
    """Trimmed display name with inner whitespace collapsed; 1 to 60 printable characters."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise InvalidName("Please enter a display name.")
    if len(cleaned) > MAX_NAME:
        raise InvalidName(f"Display names can be at most {MAX_NAME} characters.")
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise InvalidName("The display name contains invisible control characters.")
    return cleaned


def _bcrypt_input(password: str) -> bytes:
    digest = hashlib.sha256(unicodedata.normalize("NFC", password).encode("utf-8")).digest()
    return base64.b64encode(digest)


def bcrypt_rounds() -> int:
    """bcrypt's cost: 12, or WEBTUBE_BCRYPT_ROUNDS (4 to 16) where tests and benchmarks need it cheaper."""
    return get_settings().bcrypt_rounds


def hash_password(password: str) -> str:
    return bcrypt.hashpw(_bcrypt_input(password), bcrypt.gensalt(bcrypt_rounds())).decode("ascii")


def check_password(password: str, password_hash: str) -> bool:
    return bcrypt.checkpw(_bcrypt_input(password), password_hash.encode("ascii"))


_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    """A real hash to check against when the email is unknown, so timing does not reveal which emails exist."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(os.urandom(16).hex())
    return _DUMMY_HASH


def validate_password(password: str, repeated: str, context: tuple[str, ...] = ()) -> None:
    """The policy of core.accounts.password_policy, then the two typings must agree."""
    try:
        check_strength(password, context)
    except PasswordRefused as exc:
        raise WeakPassword(str(exc)) from exc
    if password != repeated:
        raise PasswordMismatch("The two passwords do not match.")


def _email_exists(session: Session, address: str) -> bool:
    return session.scalar(select(User.id).where(User.email == address)) is not None


def register(display_name: str, email: str, password: str, repeated: str) -> UserInfo:
    """Create an account; the first account on a fresh database becomes the admin (decided in the same INSERT).

    Registrations run one at a time (`serialised_scope`): on PostgreSQL two INSERTs at once would each count
    no account yet (neither sees the other's uncommitted row) and both become admins; SQLite's writes queue anyway.
    """
    name = clean_name(display_name)
    address = normalize_email(email)
    validate_password(password, repeated, (address, name))
    password_hash = hash_password(password)
    taken = EmailTaken("An account with this email already exists. Sign in instead.")
    try:
        with serialised_scope("register") as session:
            if _email_exists(session, address):
                raise taken
            # the studio's default library (core.studio.owners) is an account nobody signs in to: not a first user
            first = select(func.count(User.id) == 0).where(User.email != "library@localhost").scalar_subquery()
            user_id = session.scalar(
                insert(User)
                .values(
                    email=address,
                    password_hash=password_hash,
                    display_name=name,
                    is_admin=first,
                    created_at=utcnow(),
                )
                .returning(User.id)
            )
            return user_info(session.get_one(User, user_id))
    except IntegrityError as exc:
        with session_scope() as session:
            if _email_exists(session, address):  # a twin registration that raced past the check
                raise taken from exc
        raise  # any other clash is not the person's email, so it must not be reported as one


def _lock_left(session: Session, address: str, now: datetime, excluding: int | None = None) -> int:
    """Seconds the lock on `address` still runs (0: none), counting every recorded attempt but `excluding`."""
    settings = get_settings()
    window = timedelta(minutes=settings.login_window_min)
    recent = session.scalars(
        select(LoginFailure.attempted_at)
        .where(LoginFailure.email == address, LoginFailure.attempted_at > now - 2 * window)
        .where(LoginFailure.id != excluding if excluding is not None else true())
        .order_by(LoginFailure.attempted_at.desc())
        .limit(settings.login_max_failures)
    ).all()
    # Locked when the last N failures fell within one window; the lock runs one window from the last of them.
    if len(recent) < settings.login_max_failures or recent[0] - recent[-1] > window:
        return 0
    return max(math.ceil((recent[0] + window - now).total_seconds()), 0)


WARN_AT_ATTEMPTS = 2  # "2 attempts left" is said from this many on, before the lock


def attempts_warning(left: int) -> str:
    """The sentence before the lock, e.g. '2 attempts left before this email is locked for 15 min.'"""
    lock = format_wait(get_settings().login_window_min * 60)
    return f"{left} attempt{'' if left == 1 else 's'} left before this email is locked for {lock}."


def attempts_left(email: str) -> int | None:
    """Failed sign-ins `email` may still have before it is locked, for the "2 attempts left" warning; None when
    the text is not an email. Unknown and known emails count alike, so the figure says nothing about who exists."""
    try:
        address = normalize_email(email)
    except InvalidEmail:
        return None
    settings = get_settings()
    with session_scope() as session:
        now = utcnow()
        if _lock_left(session, address, now):
            return 0
        recent = session.scalar(
            select(func.count(LoginFailure.id)).where(
                LoginFailure.email == address,
                LoginFailure.attempted_at > now - timedelta(minutes=settings.login_window_min),
            )
        )
    return max(settings.login_max_failures - int(recent or 0), 0)


def lock_seconds_left(email: str) -> int:
    """Seconds until the (normalised) `email` may sign in again; 0 when it is not locked."""
    with session_scope() as session:
        return _lock_left(session, email, utcnow())


def _record_failure(session: Session, address: str, now: datetime) -> int:
    """Count one attempt as failed and drop old ones; returns the attempt's row id."""
    window = timedelta(minutes=get_settings().login_window_min)
    stale = LoginFailure.attempted_at <= now - 2 * window
    session.execute(delete(LoginFailure).where(LoginFailure.email == address, stale))
    attempt = LoginFailure(email=address, attempted_at=now)
    session.add(attempt)
    session.flush()
    return attempt.id


def _lockout_scope(address: str) -> AbstractContextManager[Session]:
    """One transaction at a time per email, across threads, processes and servers: SQLite's write lock, or on
    PostgreSQL an advisory lock on the email (a row lock on the account would leave unknown emails unguarded)."""
    return serialised_scope(f"sign-in:{address}")


def _account(session: Session, address: str) -> User | None:
    return session.scalar(select(User).where(User.email == address))


def record_failure(email: str) -> int:
    """A failed sign-in by another route (the face) for a normalised `email`, under the same lockout;
    returns the lock's seconds left."""
    with _lockout_scope(email) as session:
        now = utcnow()
        _record_failure(session, email, now)
        return _lock_left(session, email, now)


def _admit(address: str) -> tuple[int, User | None]:
    """Let one attempt through to the slow password check, counted as a failure in advance.

    The lock check and the count are one serialised transaction, so parallel attempts line up:
    with a limit of 5, the sixth finds five counted and is refused before any password is checked.
    """
    with _lockout_scope(address) as session:
        user = _account(session, address)
        now = utcnow()
        left = _lock_left(session, address, now)
        if left:
            raise AccountLocked(left)
        return _record_failure(session, address, now), user


def _accept(address: str, attempt: int) -> UserInfo | None:
    """The password was right: sign in unless other attempts locked the email meanwhile (or the account went)."""
    with _lockout_scope(address) as session:
        user = _account(session, address)
        if user is None or _lock_left(session, address, utcnow(), excluding=attempt):
            return None
        # This success forgives the attempts counted before it; ones let through after it still count.
        session.execute(delete(LoginFailure).where(LoginFailure.email == address, LoginFailure.id <= attempt))
        return user_info(user)


def sign_in(email: str, password: str) -> UserInfo:
    """Check the password; unknown emails and wrong passwords fail alike and count towards the lockout.

    Each attempt is counted before its password is checked and the lock is checked again before a
    right password is accepted, so a burst of parallel attempts checks at most the limit's worth.
    """
    try:
        address = normalize_email(email)
    except InvalidEmail as exc:
        signin_outcome("password", "unknown_account")
        raise InvalidCredentials() from exc
    try:
        attempt, user = _admit(address)
    except AccountLocked:
        signin_outcome("password", "locked")
        raise
    right = check_password(password, user.password_hash if user else _dummy_hash())
    if right:
        signed_in = _accept(address, attempt) if user else None
        if signed_in is not None:
            signin_outcome("password", "ok", signed_in.id)
            return signed_in
    left = lock_seconds_left(address)
    # a right password refused means locked meanwhile, or the account went away
    outcome = "locked" if right and left else "wrong_password" if user and not right else "unknown_account"
    signin_outcome("password", outcome, user.id if user else None)
    if left:
        raise AccountLocked(left)
    raise InvalidCredentials()


def get_user(user_id: int | None) -> UserInfo | None:
    """The account behind a session, or None when it was deleted meanwhile."""
    if user_id is None:
        return None
    with session_scope() as session:
        user = session.get(User, user_id)
        return user_info(user) if user else None


def list_users() -> list[UserInfo]:
    with session_scope() as session:
        return [user_info(u) for u in session.scalars(select(User).order_by(User.id))]


def set_admin(email: str, is_admin: bool) -> UserInfo:
    """Promote or demote an account by email: the command line, the operator's way in (the admin screen goes through
    core.accounts.admin, which also keeps at least one admin)."""
    address = normalize_email(email)
    with session_scope() as session:
        user = session.scalar(select(User).where(User.email == address))
        if user is None:
            raise UnknownUser(f"No account with the email {address}.")
        user.is_admin = is_admin
        return user_info(user)


def unlock(email: str) -> int:
    """Forget the failed sign-ins of `email`; returns how many were cleared."""
    address = normalize_email(email)
    with session_scope() as session:
        return session.execute(delete(LoginFailure).where(LoginFailure.email == address)).rowcount
