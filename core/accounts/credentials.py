"""Proving it is you again: the password change, and the password a face-only session must type for sensitive actions.

A face match is a convenience beside the password, not a stronger factor (docs/face-signin.md), so a
session opened by face alone may not change the password or the email, or do admin actions, until
the account's password is typed again: `require_password_session` is the one check those actions
call. The admin screen asks more: the password typed once per session, whatever way it was opened
(`confirm_session`, remembered in the session's row). Every password typed here counts towards the same
lockout as the sign-in form, so a stolen face session cannot be used to guess the password without limit.
"""

from __future__ import annotations

from sqlalchemy import select

from core.accounts import sessions
from core.accounts.sessions import SessionInfo, token_hash
from core.accounts.users import (
    AccountError,
    InvalidCredentials,
    UnknownUser,
    hash_password,
    sign_in,
    validate_password,
)
from core.storage.database import session_scope
from core.storage.models import AuthSession, User, utcnow


class WrongPassword(AccountError):
    def __init__(self) -> None:
        super().__init__("That is not your current password.")


class PasswordRequired(AccountError):
    def __init__(self) -> None:
        super().__init__("You signed in with your face: type your password to do this.")


class SessionEnded(AccountError):
    def __init__(self) -> None:
        super().__init__("Your sign-in has ended (signed out elsewhere or expired). Please sign in again.")


class SamePassword(AccountError):
    def __init__(self) -> None:
        super().__init__("The new password is the same as the current one.")


def _account(user_id: int) -> User:
    with session_scope() as db:
        user = db.get(User, user_id)
        if user is None:
            raise UnknownUser("This account no longer exists.")
        return user


def confirm_password(user_id: int, password: str) -> None:
    """Check the account's password exactly as the sign-in form does (`users.sign_in`): under the same lockout,
    each attempt counted before the slow check, so parallel guesses cannot slip past the limit."""
    try:
        sign_in(_account(user_id).email, password or "")
    except InvalidCredentials as exc:
        raise WrongPassword() from exc


def require_password_session(token: str | None, password: str | None = None) -> SessionInfo:
    """The live session behind `token`, if it may do sensitive things: opened by password, or by face
    with the account's `password` typed again just now. Admin actions and email changes call this first."""
    session = sessions.resolve(token)
    if session is None:
        raise SessionEnded()
    if session.method == "face":
        if not password:
            raise PasswordRequired()
        confirm_password(session.user_id, password)
    return session


def change_password(user_id: int, current: str, new: str, repeated: str, keep_session_token: str | None) -> int:
    """Replace the password and sign the account out everywhere else; returns how many other sessions ended.

    The current password is always asked for, which is also the re-authentication a face-only session
    needs. The new hash and the revocations are one transaction: both happen or neither does.
    """
    session = sessions.resolve(keep_session_token)
    if session is None or session.user_id != user_id:
        raise SessionEnded()
    confirm_password(user_id, current)
    user = _account(user_id)
    validate_password(new, repeated, (user.email, user.display_name))
    if new == current:
        raise SamePassword()
    password_hash = hash_password(new)
    with session_scope() as db:
        db.get_one(User, user_id).password_hash = password_hash
        return sessions.revoke_others_in(db, user_id, keep_session_token)


def confirm_session(token: str | None, password: str) -> SessionInfo:
    """Type the password again in this session (the admin screen asks once per session, whatever way it was
    opened): counted under the sign-in lockout like every password typed here; on success the session remembers."""
    session = sessions.resolve(token)
    if session is None:
        raise SessionEnded()
    confirm_password(session.user_id, password)
    with session_scope() as db:
        row = db.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash(token or "")))
        if row is None:
            raise SessionEnded()
        row.confirmed_at = utcnow()
    return session


def session_confirmed(token: str | None) -> bool:
    """Whether this live session's password was typed again since it opened."""
    if not token:
        return False
    with session_scope() as db:
        confirmed = db.scalar(
            select(AuthSession.confirmed_at).where(
                AuthSession.token_hash == token_hash(token), AuthSession.expires_at > utcnow()
            )
        )
    return confirmed is not None
