"""The feed at a million videos: counts kept by triggers, an author's videos in date order, trigram search indexes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Why (bench/bench_feed_postgres.py, EXPLAIN ANALYZE at 1,000,000 videos on PostgreSQL):
- every feed page counted its videos to number the pages: a scan of a million index entries per view (and an
  author page two scans of their videos). The counts now live in `video_counts` (all videos, each category, each
  author), changed by triggers in the same transaction as every video or category link written or deleted,
  whichever code does it (a share, an edit, an account deletion's cascade), so they are never out of step.
  PostgreSQL's triggers are per statement (a bulk load or a cascade of thousands of rows is one update) and take
  the all-videos row first, so two writers meet the rows in one order and never deadlock; SQLite's are per row
  (it has one writer). An author's row goes when their last video does.
- an author page read all of a person's videos to sort them: (owner_id, created_at, id) hands them out in
  page order, and serves the foreign key's lookups, so the owner_id index it replaces is not needed.
- similar videos grouped every video of the video's categories: (category_id, video_id) hands out each
  category's newest videos first (core/videos/similar.py reads only those), and serves the foreign key too.
- word search (`%word%` in title or comment) read every row: on PostgreSQL a pg_trgm GIN index on lower(title)
  and on lower(comment) finds the candidates (pg_trgm is a trusted extension: the database's owner may add it).
  SQLite has no such index and keeps its scan, fast enough at its sizes.

On SQLite, a later revision that re-creates `videos` or `video_categories` in batch mode drops their triggers:
it must create them again (tests/test_videos.py checks the counts after every kind of write).
Frozen: plain SQLAlchemy types and literal SQL only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# What `video_counts` counts: kind "all" (ref 0), "category" (ref: its id) or "author" (ref: the owner's id).
_SQLITE_ADD = """INSERT INTO video_counts (kind, ref, videos) VALUES ('{kind}', {ref}, {sign}1)
ON CONFLICT (kind, ref) DO UPDATE SET videos = video_counts.videos {sign} 1"""
_SQLITE_FORGET = "DELETE FROM video_counts WHERE kind = 'author' AND ref = OLD.owner_id AND videos = 0"

_SQLITE = {  # name: (event, statements)
    "videos_count_insert": ("INSERT ON videos", [
        _SQLITE_ADD.format(kind="all", ref=0, sign="+"),
        _SQLITE_ADD.format(kind="author", ref="NEW.owner_id", sign="+"),
    ]),
    "videos_count_delete": ("DELETE ON videos", [
        _SQLITE_ADD.format(kind="all", ref=0, sign="-"),
        _SQLITE_ADD.format(kind="author", ref="OLD.owner_id", sign="-"),
        _SQLITE_FORGET,
    ]),
    "video_categories_count_insert": ("INSERT ON video_categories", [
        _SQLITE_ADD.format(kind="category", ref="NEW.category_id", sign="+"),
    ]),
    "video_categories_count_delete": ("DELETE ON video_categories", [
        _SQLITE_ADD.format(kind="category", ref="OLD.category_id", sign="-"),
    ]),
}

# One function per table; `changed` is the statement's transition table (its new rows or its old ones). Every
# function takes the "all" row first, so concurrent writers queue on it and meet the other rows in one order.
_PG_ADD = """INSERT INTO video_counts (kind, ref, videos)
    SELECT '{kind}', {ref}, CASE TG_OP WHEN 'INSERT' THEN count(*) ELSE -count(*) END FROM changed {group}
    ON CONFLICT (kind, ref) DO UPDATE SET videos = video_counts.videos + EXCLUDED.videos"""
_PG_LOCK_ALL = "PERFORM 1 FROM video_counts WHERE kind = 'all' AND ref = 0 FOR UPDATE"

_PG_FUNCTIONS = {
    "videos_count": ";\n  ".join((
        _PG_ADD.format(kind="all", ref=0, group="HAVING count(*) > 0"),
        _PG_ADD.format(kind="author", ref="owner_id", group="GROUP BY owner_id ORDER BY owner_id"),
        "DELETE FROM video_counts WHERE TG_OP = 'DELETE' AND kind = 'author' AND videos = 0 "
        "AND ref IN (SELECT owner_id FROM changed)",
    )),
    "video_categories_count": ";\n  ".join((
        _PG_LOCK_ALL,
        _PG_ADD.format(kind="category", ref="category_id", group="GROUP BY category_id ORDER BY category_id"),
    )),
}
_PG_TRIGGERS = {  # name: (function, event, transition table)
    "videos_count_insert": ("videos_count", "INSERT ON videos", "NEW"),
    "videos_count_delete": ("videos_count", "DELETE ON videos", "OLD"),
    "video_categories_count_insert": ("video_categories_count", "INSERT ON video_categories", "NEW"),
    "video_categories_count_delete": ("video_categories_count", "DELETE ON video_categories", "OLD"),
}
_PG_TRIGRAM_INDEXES = {"ix_videos_title_trgm": "title", "ix_videos_comment_trgm": "comment"}


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "video_counts",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("ref", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("videos", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "ref", name=op.f("pk_video_counts")),
    )
    # Videos shared before this revision are counted once, so the triggers start from the truth.
    for kind, ref, source in (
        ("all", "0", "videos"),
        ("category", "category_id", "video_categories GROUP BY category_id"),
        ("author", "owner_id", "videos GROUP BY owner_id"),
    ):
        op.execute(f"INSERT INTO video_counts (kind, ref, videos) SELECT '{kind}', {ref}, COUNT(*) FROM {source}")
    op.create_index("ix_videos_owner_id_created_at", "videos", ["owner_id", "created_at", "id"])
    op.drop_index("ix_videos_owner_id", table_name="videos")
    op.create_index("ix_video_categories_category_id_video_id", "video_categories", ["category_id", "video_id"])
    op.drop_index("ix_video_categories_category_id", table_name="video_categories")
    if not _postgresql():
        for name, (event, statements) in _SQLITE.items():
            body = "".join(f"{statement};\n" for statement in statements)
            op.execute(f"CREATE TRIGGER {name} AFTER {event} FOR EACH ROW BEGIN\n{body}END")
        return
    for name, body in _PG_FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger AS $$\nBEGIN\n  {body};\n  RETURN NULL;\nEND $$ "
                   "LANGUAGE plpgsql")
    for name, (function, event, table) in _PG_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} AFTER {event} REFERENCING {table} TABLE AS changed "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in _PG_TRIGRAM_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON videos USING gin (lower({column}) gin_trgm_ops)")


def downgrade() -> None:
    if _postgresql():
        for name in _PG_TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        for name, (_function, event, _table) in _PG_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {event.split(' ON ')[1]}")
        for name in _PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in _SQLITE:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.create_index("ix_video_categories_category_id", "video_categories", ["category_id"])
    op.drop_index("ix_video_categories_category_id_video_id", table_name="video_categories")
    op.create_index("ix_videos_owner_id", "videos", ["owner_id"])
    op.drop_index("ix_videos_owner_id_created_at", table_name="videos")
    op.drop_table("video_counts")
