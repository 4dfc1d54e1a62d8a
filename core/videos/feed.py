"""The home feed: everyone's videos, newest first, filtered by category and searched in title and comment.

Numbered pages use LIMIT/OFFSET over the (created_at, id) index; a count, one page of rows with
their owners, and their categories in one more query stay well under 100 ms at 10,000 videos.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select

from core.storage.database import session_scope
from core.storage.models import Category, Video, video_categories
from core.videos.records import CategoryInfo, VideoCard, card, category_info, with_cards

PAGE_SIZE = 12
MAX_SEARCH_WORDS = 8


@dataclass(frozen=True)
class FeedPage:
    items: list[VideoCard]
    page: int  # 1-based, clamped to the pages there are
    num_pages: int
    total: int
    category: CategoryInfo | None  # the filter in force; None when absent or unknown


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search(query: str) -> list[ColumnElement[bool]]:
    """Every word must appear in the title or the comment, case-insensitively, as typed (no wildcards)."""
    return [
        or_(Video.title.ilike(_like(word), escape="\\"), Video.comment.ilike(_like(word), escape="\\"))
        for word in query.split()[:MAX_SEARCH_WORDS]
    ]


def feed_page(page: int = 1, category: str | None = None, query: str = "", page_size: int = PAGE_SIZE) -> FeedPage:
    """One page of the feed; `category` is a slug, `query` free text."""
    with session_scope() as session:
        chosen = session.scalar(select(Category).where(Category.slug == category)) if category else None
        conditions = _search(query or "")
        if chosen is not None:
            in_category = select(video_categories.c.video_id).where(video_categories.c.category_id == chosen.id)
            conditions.append(Video.id.in_(in_category))
        total = session.scalar(select(func.count(Video.id)).where(*conditions)) or 0
        num_pages = max(1, math.ceil(total / page_size))
        page = min(max(1, page), num_pages)
        rows = session.scalars(
            with_cards(select(Video).where(*conditions))
            .order_by(Video.created_at.desc(), Video.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        return FeedPage(
            items=[card(v) for v in rows.unique()],
            page=page,
            num_pages=num_pages,
            total=total,
            category=category_info(chosen) if chosen else None,
        )
