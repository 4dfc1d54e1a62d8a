"""The home feed: everyone's videos, newest first, filtered by category and searched in title and comment.

Numbered pages use LIMIT/OFFSET over the (created_at, id) index; a count, one page of rows with
their owners, and their categories in one more query stay well under 100 ms at 10,000 videos.

Searches use the first `MAX_SEARCH_CHARS` characters and `MAX_SEARCH_WORDS` words of the query,
cut silently (the search box itself stops at that length, and the page says so for longer links),
so no query reaches the database's limits on LIKE patterns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import OperationalError

from core.storage.database import session_scope
from core.storage.models import Category, User, Video, video_categories
from core.videos.records import CategoryInfo, VideoCard, card, category_info, with_cards

PAGE_SIZE = 12
MAX_SEARCH_WORDS = 8
MAX_SEARCH_CHARS = 200


class SearchFailed(ValueError):
    """The database could not run this search; the message is for the person searching."""


class AuthorNotFound(ValueError):
    """No account with this id (deleted, or a mistyped link); the message is for the visitor."""


@dataclass(frozen=True)
class Author:
    id: int
    name: str
    videos: int


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
        for word in query[:MAX_SEARCH_CHARS].split()[:MAX_SEARCH_WORDS]
    ]


def feed_page(
    page: int = 1,
    category: str | None = None,
    query: str = "",
    page_size: int = PAGE_SIZE,
    author_id: int | None = None,
) -> FeedPage:
    """One page of the feed; `category` is a slug, `query` free text (see the module's note on its length),
    `author_id` keeps one person's videos (their author page)."""
    try:
        return _feed_page(page, category, query, page_size, author_id)
    except OperationalError as exc:  # e.g. SQLite's "LIKE or GLOB pattern too complex"
        raise SearchFailed("This search could not be run; try fewer or shorter words.") from exc


def author(author_id: int) -> Author:
    """Who an author page is about, and how many videos they shared."""
    with session_scope() as session:
        user = session.get(User, author_id)
        if user is None:
            raise AuthorNotFound("This person does not exist (any more).")
        count = session.scalar(select(func.count(Video.id)).where(Video.owner_id == author_id)) or 0
        return Author(user.id, user.display_name, count)


def _feed_page(page: int, category: str | None, query: str, page_size: int, author_id: int | None) -> FeedPage:
    with session_scope() as session:
        chosen = session.scalar(select(Category).where(Category.slug == category)) if category else None
        conditions = _search(query or "")
        if author_id is not None:
            conditions.append(Video.owner_id == author_id)
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
