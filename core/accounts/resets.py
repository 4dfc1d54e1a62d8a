"""Forgotten passwords: a one-time, expiring reset link, sent by email or handed over by an admin.

The link carries a random token (`secrets.token_urlsafe(32)`) and the database keeps only its SHA-256,
as for sessions, so reading the database gives no working link. A link works once, for
`WEBTUBE_RESET_LINK_MINUTES`; a newer link replaces the older ones. Using it sets the new password
(the password policy applies), ends every session of the account, forgives its failed sign-ins and
burns every reset link of the account, in one serialised transaction, so two tabs cannot both use it.

Email goes through the standard library's `smtplib` to `WEBTUBE_SMTP_HOST`, only when `WEBTUBE_PUBLIC_URL`
says where the site lives: links are never built from the address a request came in on, which anyone
can set (a reset email pointing at someone else's site). Asking for a link says the same thing
whether or not the email has an account, so the form does not tell who is registered.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.accounts.sessions import token_hash
from core.accounts.users import (
    AccountError,
    UnknownUser,
    UserInfo,
    hash_password,
    normalize_email,
    user_info,
    validate_password,
)
from core.config import get_settings
from core.storage.database import serialised_scope, session_scope
from core.storage.models import AuthSession, LoginFailure, PasswordReset, User, utcnow

RESET_PATH = "reset_password"  # the reset page's address: <site>/reset_password?token=...
RESEND_AFTER = timedelta(minutes=1)  # a second email to the same account within this is not sent
_log = logging.getLogger(__name__)


class ResetLinkInvalid(AccountError):
    def __init__(self) -> None:
        super().__init__(
            "This reset link does not work any more: it was used already, it expired, or a newer one replaced it. "
            "Ask for a new one."
        )


class ResetUnavailable(AccountError):
    """No email can be sent (not configured, or the mail server failed): an admin can give a link instead."""


def email_configured() -> bool:
    """Whether "Forgot password" can send emails: a mail server and the site's public address are set."""
    settings = get_settings()
    return bool(settings.smtp_host and settings.public_url)


def reset_url(base_url: str, token: str) -> str:
    """The link a person opens: `base_url` is the site's address without a trailing slash."""
    return f"{base_url.rstrip('/')}/{RESET_PATH}?token={token}"


def create_token(user_id: int) -> str:
    """A fresh one-time token for `user_id` (older links of the account stop working); returns the token."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with session_scope() as session:
        if session.get(User, user_id) is None:
            raise UnknownUser("This account no longer exists.")
        session.execute(delete(PasswordReset).where(PasswordReset.user_id == user_id))
        session.execute(delete(PasswordReset).where(PasswordReset.expires_at <= now))
        expires = now + timedelta(minutes=get_settings().reset_link_minutes)
        session.add(PasswordReset(token_hash=token_hash(token), user_id=user_id, created_at=now, expires_at=expires))
    return token


def _message(to: str, url: str) -> EmailMessage:
    settings = get_settings()
    message = EmailMessage()
    message["Subject"] = "Reset your WebTube password"
    message["From"] = settings.smtp_from or settings.smtp_user or f"webtube@{settings.smtp_host}"
    message["To"] = to
    message.set_content(
        f"Someone, probably you, asked to reset the password of the WebTube account {to}.\n\n"
        f"Open this link within {settings.reset_link_minutes} minutes to choose a new password:\n\n{url}\n\n"
        "The link works once. If you did not ask for it, ignore this email: your password stays as it is.\n"
    )
    return message


def _send(message: EmailMessage) -> None:
    settings = get_settings()
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_user, password)
        smtp.send_message(message)


def _recently_sent(user_id: int) -> bool:
    with session_scope() as session:
        newest = session.scalar(
            select(PasswordReset.created_at).where(PasswordReset.user_id == user_id).order_by(PasswordReset.id.desc())
        )
    return newest is not None and utcnow() - newest < RESEND_AFTER


def email_reset_link(email: str) -> None:
    """Send a reset link to `email` if it has an account; silent when it has none (the page says the same either
    way). Raises ResetUnavailable when email is not configured or the mail server fails."""
    if not email_configured():
        raise ResetUnavailable("This site cannot send emails. Ask an admin for a reset link.")
    address = normalize_email(email)  # InvalidEmail: a typo is worth saying
    with session_scope() as session:
        user_id = session.scalar(select(User.id).where(User.email == address))
    if user_id is None or _recently_sent(user_id):
        return
    token = create_token(user_id)
    try:
        _send(_message(address, reset_url(get_settings().public_url, token)))
    except (smtplib.SMTPException, OSError) as exc:
        _log.warning("reset email to account %s not sent: %s", user_id, exc)
        with session_scope() as session:
            session.execute(delete(PasswordReset).where(PasswordReset.token_hash == token_hash(token)))
        raise ResetUnavailable("The email could not be sent just now. Try again later, or ask an admin.") from exc


def _live(session: Session, token: str | None) -> PasswordReset | None:
    if not token:
        return None
    return session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == token_hash(token), PasswordReset.expires_at > utcnow())
    )


def account_for(token: str | None) -> UserInfo:
    """The account a live reset link is for (the page greets them); ResetLinkInvalid otherwise."""
    with session_scope() as session:
        row = _live(session, token)
        if row is None:
            raise ResetLinkInvalid()
        return user_info(session.get_one(User, row.user_id))


def reset_password(token: str | None, new: str, repeated: str) -> UserInfo:
    """Set the new password through a live link, end every session, forgive failed sign-ins, burn the links.

    The password is checked before the link is used, so a refused password leaves the link working."""
    user = account_for(token)
    validate_password(new, repeated, (user.email, user.display_name))
    password_hash = hash_password(new)
    with serialised_scope(f"password-reset:{user.id}") as session:  # one use of the link, even from two tabs at once
        row = _live(session, token)
        if row is None:  # used or replaced meanwhile (another tab)
            raise ResetLinkInvalid()
        account = session.get_one(User, row.user_id)
        account.password_hash = password_hash
        session.execute(delete(PasswordReset).where(PasswordReset.user_id == account.id))
        session.execute(delete(AuthSession).where(AuthSession.user_id == account.id))
        session.execute(delete(LoginFailure).where(LoginFailure.email == account.email))
        return user_info(account)
