"""The video counts the feed numbers its pages by (migration 0009's triggers): exact after every kind of write."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import func, select, text

from core.accounts.deletion import delete_account
from core.accounts.users import register
from core.storage.database import create_engine_for, session_scope
from core.storage.migrations import HERE, upgrade_to_head
from core.storage.models import Category, Video, VideoCount, utcnow, video_categories
from core.videos.feed import author, feed_page
from core.videos.sharing import delete_video, update_video

pytestmark = pytest.mark.both_databases


def _share(owner_id: int, title: str, categories: tuple[str, ...]) -> int:
    with session_scope() as session:
        chosen = list(session.scalars(select(Category).where(Category.slug.in_(categories))))
        url = f"https://videos.example/{title}"
        video = Video(owner_id=owner_id, original_url=url, canonical_url=url, site="videos.example", title=title,
                      comment="", created_at=utcnow(), categories=chosen)
        session.add(video)
        session.flush()
        return video.id


def _kept_and_true() -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    """The kept counts (zeros left out) and the counts of the rows themselves, by (kind, ref)."""
    with session_scope() as session:
        kept = {(kind, ref): n for kind, ref, n in session.execute(select(VideoCount.kind, VideoCount.ref,
                                                                          VideoCount.videos)) if n}
        true: dict[tuple[str, int], int] = {}
        for kind, column in (("category", video_categories.c.category_id), ("author", Video.owner_id)):
            true |= {(kind, ref): n for ref, n in session.execute(select(column, func.count()).group_by(column))}
        if videos := session.scalar(select(func.count()).select_from(Video)):
            true["all", 0] = videos
    return kept, true


def _music_id() -> int:
    with session_scope() as session:
        return session.scalar(select(Category.id).where(Category.slug == "music")) or 0


def test_the_counts_follow_shares_edits_deletions_and_account_deletions(site: Path) -> None:
    ann, bob = (register(n, f"{n}@example.com", "a long enough password", "a long enough password")
                for n in ("ann", "bob"))
    first = _share(ann.id, "one", ("music", "education"))
    _share(ann.id, "two", ("music",))
    _share(bob.id, "three", ("music", "gaming"))
    _share(bob.id, "four", ())
    kept, true = _kept_and_true()
    assert kept == true and true["all", 0] == 4 and true["author", bob.id] == 2
    assert (feed_page().total, feed_page(category="music").total, feed_page(category="gaming").total) == (4, 3, 1)
    assert (author(bob.id).videos, feed_page(author_id=bob.id).total) == (2, 2)
    update_video(ann.id, first, "one", "", ["gaming", "cooking"])  # a category dropped, one kept, one added
    assert (feed_page(category="music").total, feed_page(category="gaming").total) == (2, 2)
    delete_video(ann.id, first)
    assert _kept_and_true()[0] == _kept_and_true()[1]
    delete_account(bob.id)  # the database's cascade deletes his videos and their categories
    kept, true = _kept_and_true()
    assert kept == true and set(true) == {("all", 0), ("author", ann.id), ("category", _music_id())}
    assert (feed_page().total, feed_page(category="gaming").total, author(ann.id).videos) == (1, 0, 1)


def test_upgrading_a_site_counts_the_videos_it_already_has(blank_database: str) -> None:
    engine = create_engine_for(blank_database)
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(HERE))
        config.attributes["connection"] = connection
        command.upgrade(config, "0008")  # the site before the counts existed
        connection.execute(text("INSERT INTO categories (slug, name) VALUES ('music', 'Music')"))
        connection.execute(text("INSERT INTO users (email, password_hash, display_name, is_admin, created_at) "
                                "VALUES ('ann@example.com', 'x', 'Ann', false, '2026-12-01')"))
        for n in (1, 2, 3):
            connection.execute(text(
                "INSERT INTO videos (owner_id, original_url, canonical_url, site, title, comment, created_at) "
                f"SELECT id, 'u{n}', 'u{n}', 's', 't', '', '2026-12-01' FROM users"))
        connection.execute(text("INSERT INTO video_categories (video_id, category_id) SELECT videos.id, categories.id "
                                "FROM videos, categories WHERE videos.original_url IN ('u1', 'u2')"))
        owner = connection.execute(text("SELECT id FROM users")).scalar_one()
        upgrade_to_head(connection)
    engine.dispose()
    assert (feed_page().total, feed_page(category="music").total, author(owner).videos) == (3, 2, 3)
