"""How many videos there are in all, in one category or by one author: a row of `video_counts`, not a count.

Counting a million rows on every feed view was the feed's biggest cost on PostgreSQL; the database's own triggers
(migration 0009) keep these counts in the transaction of every write, so they are exact on every database.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.storage.models import VideoCount


def video_count(session: Session, kind: Literal["all", "category", "author"] = "all", ref: int = 0) -> int:
    """Videos in all (the default), in category `ref` or by author `ref`; 0 where none has been counted."""
    found = session.scalar(select(VideoCount.videos).where(VideoCount.kind == kind, VideoCount.ref == ref))
    return found or 0
