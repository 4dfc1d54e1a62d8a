"""Notices: a message for one account that waits until they have read it.

Why a table and not a flash: the person it is for is usually not online when it is written (an admin
removing their video), so it must outlive sessions; it goes when they dismiss it or with the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.storage.database import session_scope
from core.storage.models import Notice, utcnow


@dataclass(frozen=True)
class NoticeInfo:
    id: int
    text: str
    created_at: datetime


def add_in(session: Session, user_id: int, text: str) -> None:
    """Leave `text` for `user_id`, inside the caller's transaction (so it exists exactly when the change does)."""
    session.add(Notice(user_id=user_id, text=text, created_at=utcnow()))


def notices_of(user_id: int) -> list[NoticeInfo]:
    """The account's unread notices, oldest first."""
    with session_scope() as session:
        rows = session.scalars(select(Notice).where(Notice.user_id == user_id).order_by(Notice.id))
        return [NoticeInfo(row.id, row.text, row.created_at) for row in rows]


def dismiss(user_id: int, notice_id: int) -> None:
    """The person has read it; only their own notices can be dismissed."""
    with session_scope() as session:
        session.execute(delete(Notice).where(Notice.id == notice_id, Notice.user_id == user_id))
