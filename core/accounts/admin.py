"""What the admin screen does: find accounts and act on them, remove videos with a reason, clear face data.

Every function takes the acting account and checks, against the database, that it is an admin now: a
page's own check could be stale or skipped (a page file run directly). The site always keeps one
admin: the last one cannot demote or delete themselves. The screen itself also asks the admin to
type their password once per session (core.accounts.credentials.confirm_session).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session

from core.accounts import notices, resets
from core.accounts.api_keys import revoke_all_keys
from core.accounts.deletion import AccountContents, delete_account
from core.accounts.sessions import revoke_all_for_user
from core.accounts.users import AccountError, UnknownUser, lock_seconds_left
from core.config import get_settings
from core.storage.database import session_scope
from core.storage.models import AuthSession, FaceSample, LoginFailure, User, Video, utcnow

MAX_REASON = 500
LISTED = 50  # accounts or videos shown per search


class NotAdmin(AccountError):
    def __init__(self) -> None:
        super().__init__("Only admins can do this.")


class LastAdmin(AccountError):
    def __init__(self) -> None:
        super().__init__("You are the only admin: make someone else an admin first, so the site keeps one.")


class ReasonRequired(AccountError):
    pass


@dataclass(frozen=True)
class AccountRow:
    """One account as the admin screen lists it."""

    id: int
    email: str
    display_name: str
    is_admin: bool
    created_at: datetime
    locked_s: int  # seconds the sign-in lock still runs; 0 = not locked
    failures: int  # failed sign-ins on record
    sessions: int  # live sign-ins
    videos: int
    face_samples: int  # of the configured face model


@dataclass(frozen=True)
class VideoRow:
    id: int
    title: str
    owner_id: int
    owner_name: str
    owner_email: str
    created_at: datetime


def _require_admin(session: Session, actor_id: int) -> User:
    actor = session.get(User, actor_id)
    if actor is None or not actor.is_admin:
        raise NotAdmin()
    return actor


def require_admin(actor_id: int) -> None:
    """Raise NotAdmin unless `actor_id` is an admin now."""
    with session_scope() as session:
        _require_admin(session, actor_id)


def _target(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UnknownUser("This account no longer exists.")
    return user


def _only_admin(session: Session, user: User) -> bool:
    return user.is_admin and session.scalar(select(func.count(User.id)).where(User.is_admin)) == 1


def _has(column: Any, words: str) -> ColumnElement[bool]:
    """Case-insensitive "contains", with % and _ in the words taken literally."""
    return func.lower(column).contains(words, autoescape=True)


def _count_by_user(session: Session, column: Any, user_column: Any, ids: list[int], *where: Any) -> dict[int, int]:
    """Rows per account among `ids`, in one grouped query."""
    statement = select(user_column, func.count(column)).where(user_column.in_(ids), *where).group_by(user_column)
    rows = session.execute(statement)
    return {int(uid): int(n) for uid, n in rows.all()}


def search_accounts(actor_id: int, query: str = "") -> list[AccountRow]:
    """Accounts whose email or name contains `query` (all when empty), oldest first, at most LISTED."""
    words = query.strip().lower()
    with session_scope() as session:
        _require_admin(session, actor_id)
        statement = select(User).where(User.email != "library@localhost")  # the studio's default library owner
        if words:
            statement = statement.where(or_(*(_has(column, words) for column in (User.email, User.display_name))))
        users = list(session.scalars(statement.order_by(User.id).limit(LISTED)))
        ids = [u.id for u in users]
        live = _count_by_user(session, AuthSession.id, AuthSession.user_id, ids, AuthSession.expires_at > utcnow())
        videos = _count_by_user(session, Video.id, Video.owner_id, ids)
        samples = _count_by_user(session, FaceSample.id, FaceSample.user_id, ids,
                                 FaceSample.embedder == get_settings().embedder)
        failures = dict(session.execute(
            select(LoginFailure.email, func.count(LoginFailure.id))
            .where(LoginFailure.email.in_([u.email for u in users])).group_by(LoginFailure.email)
        ).all())
        rows = [(u.id, u.email, u.display_name, u.is_admin, u.created_at) for u in users]
    return [
        AccountRow(uid, email, name, admin, created, lock_seconds_left(email), failures.get(email, 0),
                   live.get(uid, 0), videos.get(uid, 0), samples.get(uid, 0))
        for uid, email, name, admin, created in rows
    ]


def unlock_account(actor_id: int, user_id: int) -> int:
    """Forget the account's failed sign-ins, lifting a lock; returns how many were cleared."""
    with session_scope() as session:
        _require_admin(session, actor_id)
        email = _target(session, user_id).email
        return session.execute(delete(LoginFailure).where(LoginFailure.email == email)).rowcount


def set_admin(actor_id: int, user_id: int, is_admin: bool) -> None:
    """Promote or demote; the last admin cannot be demoted."""
    with session_scope() as session:
        _require_admin(session, actor_id)
        user = _target(session, user_id)
        if not is_admin and _only_admin(session, user):
            raise LastAdmin()
        user.is_admin = is_admin


def sign_out_everywhere(actor_id: int, user_id: int) -> int:
    """End every session of the account (its browsers are signed out on their next action) and stop its API keys,
    so a taken-over account keeps no way in; returns how many sessions ended."""
    require_admin(actor_id)
    revoke_all_keys(user_id)
    return revoke_all_for_user(user_id)


def remove_account(actor_id: int, user_id: int) -> AccountContents:
    """Delete an account and everything of it, as "Delete my account" does; the last admin cannot be deleted."""
    with session_scope() as session:
        _require_admin(session, actor_id)
        if _only_admin(session, _target(session, user_id)):
            raise LastAdmin()
    return delete_account(user_id)


def issue_reset_link(actor_id: int, user_id: int) -> str:
    """A one-time reset token for the account, for the admin to hand over when the site sends no email."""
    require_admin(actor_id)
    return resets.create_token(user_id)


def search_videos(actor_id: int, query: str = "") -> list[VideoRow]:
    """Videos whose title, author name or author email contains `query`, newest first, at most LISTED."""
    words = query.strip().lower()
    with session_scope() as session:
        _require_admin(session, actor_id)
        statement = select(Video.id, Video.title, User.id, User.display_name, User.email, Video.created_at).join(
            User, Video.owner_id == User.id
        )
        if words:
            columns = (Video.title, User.display_name, User.email)
            statement = statement.where(or_(*(_has(column, words) for column in columns)))
        rows = session.execute(statement.order_by(Video.created_at.desc(), Video.id.desc()).limit(LISTED)).all()
    return [VideoRow(*row) for row in rows]


def remove_video(actor_id: int, video_id: int, reason: str) -> str:
    """Delete someone's video and leave its author a notice with the reason; returns the video's title."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ReasonRequired("Say why the video is removed: its author will read it.")
    if len(reason) > MAX_REASON:
        raise ReasonRequired(f"Keep the reason under {MAX_REASON} characters.")
    with session_scope() as session:
        _require_admin(session, actor_id)
        video = session.get(Video, video_id)
        if video is None:
            raise AccountError("This video is already gone.")
        title, owner_id = video.title, video.owner_id
        session.delete(video)
        notices.add_in(session, owner_id, f"An admin removed your video “{title}”. Reason: {reason}")
    return title


def face_samples(actor_id: int, user_id: int) -> int:
    """How many face samples (of the configured model) the account has enrolled."""
    with session_scope() as session:
        _require_admin(session, actor_id)
        _target(session, user_id)
        return int(session.scalar(select(func.count(FaceSample.id)).where(
            FaceSample.user_id == user_id, FaceSample.embedder == get_settings().embedder)) or 0)


def clear_face_data(actor_id: int, user_id: int) -> int:
    """Delete the account's face samples and snapshots (a face enrolled by the wrong account); returns how many."""
    require_admin(actor_id)
    from core.face_signin.enrolment import delete_face_data  # brings in the face engine's modules: only when asked

    return delete_face_data(user_id)
