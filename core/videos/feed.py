"""The home feed: everyone's videos, newest first, filtered by category and searched in title and comment.

Numbered pages use LIMIT/OFFSET over the (created_at, id) index (an author's: (owner_id, created_at, id)),
skipping index entries only: the page's ids are chosen first, then only those rows are read with their owners,
and their categories in one more query. The number of pages of the whole feed or a category comes from the
counts the database keeps (core/videos/counts.py); a search or an author page counts its matches. At
1,000,000 videos on PostgreSQL see bench/bench_feed_postgres.py and docs/scaling.md.

Searches use the first `MAX_SEARCH_CHARS` characters and `MAX_SEARCH_WORDS` words of the query,
cut silently (the search box itself stops at that length, and the page says so for longer links),
so no query reaches the database's limits on LIKE patterns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core.storage.database import session_scope
from core.storage.models import Category, User, Video, video_categories
from core.videos.counts import video_count
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


def _contains(column: ColumnElement[str], word: str) -> ColumnElement[bool]:
    """lower(column) LIKE lower('%word%'): what SQLAlchemy writes for ILIKE on SQLite, and on PostgreSQL the
    form its trigram indexes on lower(title) and lower(comment) serve (migration 0009)."""
    return func.lower(column).like(func.lower(_like(word)), escape="\\")


def _search(query: str) -> list[ColumnElement[bool]]:
    """Every word must appear in the title or the comment, case-insensitively, as typed (no wildcards)."""
    return [
        or_(_contains(Video.title, word), _contains(Video.comment, word))
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
        return Author(user.id, user.display_name, video_count(session, "author", author_id))


def _total(session: Session, search: list[ColumnElement[bool]], chosen: Category | None, author_id: int | None) -> int:
    """The kept count when one applies (everything, a category, an author), else the search's matches counted."""
    if not search and chosen is None and author_id is None:
        return video_count(session)
    if not search and author_id is None and chosen is not None:
        return video_count(session, "category", chosen.id)
    if not search and chosen is None and author_id is not None:
        return video_count(session, "author", author_id)
    conditions = [*search, *_in_category(chosen)]
    if author_id is not None:
        conditions.append(Video.owner_id == author_id)
    return session.scalar(select(func.count(Video.id)).where(*conditions)) or 0


def _in_category(chosen: Category | None) -> list[ColumnElement[bool]]:
    if chosen is None:
        return []
    return [Video.id.in_(select(video_categories.c.video_id).where(video_categories.c.category_id == chosen.id))]


def _feed_page(page: int, category: str | None, query: str, page_size: int, author_id: int | None) -> FeedPage:
    with session_scope() as session:
        chosen = session.scalar(select(Category).where(Category.slug == category)) if category else None
        conditions = _search(query or "")
        total = _total(session, conditions, chosen, author_id)
        if author_id is not None:
            conditions.append(Video.owner_id == author_id)
        num_pages = max(1, math.ceil(total / page_size))
        page = min(max(1, page), num_pages)
        newest_first = (Video.created_at.desc(), Video.id.desc())
        page_ids = (
            select(Video.id)
            .where(*conditions, *_in_category(chosen))
            .order_by(*newest_first)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        rows = session.scalars(with_cards(select(Video).where(Video.id.in_(page_ids))).order_by(*newest_first))
        return FeedPage(
            items=[card(v) for v in rows.unique()],
            page=page,
            num_pages=num_pages,
            total=total,
            category=category_info(chosen) if chosen else None,
        )
