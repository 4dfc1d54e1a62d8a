"""The plain records pages get about videos (cards, details, players), built from loaded ORM rows.

Pages never hold ORM objects: every service returns these frozen records, so nothing lazy-loads
after its session has closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select
from sqlalchemy.orm import joinedload, selectinload

from core.storage.models import Category, Video
from core.videos.urls import parse_youtube


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class Player:
    """How the video page plays a video: YouTube and plain files inline, anything else as a link out."""

    kind: Literal["youtube", "file", "link"]
    url: str
    start_s: int = 0


@dataclass(frozen=True)
class VideoCard:
    """What a feed card shows."""

    id: int
    title: str
    thumbnail_url: str | None
    site: str
    duration_s: int | None
    author_id: int
    author_name: str
    created_at: datetime
    categories: tuple[CategoryInfo, ...]


@dataclass(frozen=True)
class VideoDetail:
    """What the video page and the owner's editor show."""

    card: VideoCard
    comment: str
    original_url: str
    canonical_url: str
    uploader: str | None
    player: Player
    size_bytes: int | None = None  # as the site reported it, before anything is fetched


def category_info(category: Category) -> CategoryInfo:
    return CategoryInfo(category.id, category.slug, category.name)


def card(video: Video) -> VideoCard:
    """A card from a video loaded with its owner and categories."""
    return VideoCard(
        id=video.id,
        title=video.title,
        thumbnail_url=video.thumbnail_url,
        site=video.site,
        duration_s=video.duration_s,
        author_id=video.owner_id,
        author_name=video.owner.display_name,
        created_at=video.created_at,
        categories=tuple(category_info(c) for c in video.categories),
    )


def player_for(video: Video) -> Player:
    ref = parse_youtube(video.original_url) or parse_youtube(video.canonical_url)
    if ref is not None:
        return Player("youtube", ref.watch_url, ref.start_seconds or 0)
    if video.media_url:
        return Player("file", video.media_url)
    return Player("link", video.canonical_url)


def detail(video: Video) -> VideoDetail:
    return VideoDetail(
        card(video), video.comment, video.original_url, video.canonical_url, video.uploader, player_for(video),
        video.size_bytes,
    )


def with_cards(query: Select[Any]) -> Select[Any]:
    """Eager-load what a card needs: owners joined, categories in one extra query, whatever the page size."""
    return query.options(joinedload(Video.owner), selectinload(Video.categories))
