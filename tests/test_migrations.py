"""The Alembic revisions on SQLite and PostgreSQL: from an empty database to head, and from the previous
release (the revision before head, holding a site's and a studio's rows) to head, as a start of the new
release does it: every row kept and readable through the services, the schema exactly the models'.

The rows are written with plain SQL into the old schema (reflected), never through today's models, which
may already know columns the old schema lacks; they fill only columns that every revision since the
studio's (0003) has had, so the test keeps working when the next revision lands.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, func, inspect, select

from core.accounts.users import hash_password, list_users, sign_in
from core.storage.database import create_engine_for, get_engine, session_scope
from core.storage.migrations import alembic_config, upgrade_to
from core.storage.models import Base, Category
from core.storage.studio_models import Face, IndexState, Job
from core.videos.categories import CATEGORIES
from core.videos.feed import feed_page

pytestmark = pytest.mark.both_databases

PASSWORD = "an old release's password"
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
PREVIOUS = ScriptDirectory.from_config(alembic_config()).get_revision(HEAD).down_revision


def _assert_at_head_exactly_the_models() -> None:
    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert context.get_current_revision() == HEAD
        assert compare_metadata(context, Base.metadata) == []
    with session_scope() as session:
        assert session.scalar(select(func.count(Category.id))) == len(CATEGORIES)


def test_an_empty_database_is_upgraded_to_head_at_first_use(blank_database: str) -> None:
    bare = create_engine_for(blank_database)
    assert inspect(bare).get_table_names() == []
    bare.dispose()
    _assert_at_head_exactly_the_models()


def _previous_release_rows(connection: Connection) -> int:
    """A member with a shared video in a category, a session, a failed sign-in; a photo with a face, a done job.
    Returns the face's id. Ids come from the database, so its sequences stay right for rows added later."""
    tables = MetaData()
    tables.reflect(connection)
    t = tables.tables
    now = datetime(2026, 12, 1, 12, 0)  # naive UTC, as the schema stores it

    def add(table: str, **row: object) -> int:
        return connection.execute(t[table].insert().returning(t[table].c.id), row).scalar_one()

    ann = add("users", email="ann@example.com", display_name="Ann", password_hash=hash_password(PASSWORD),
              is_admin=True, created_at=now)
    music = add("categories", slug="music", name="Music")
    video = add("videos", owner_id=ann, original_url="https://example.com/v/1", canonical_url="https://example.com/v/1",
                site="example.com", title="Kept through the upgrade", comment="", created_at=now)
    connection.execute(t["video_categories"].insert(), {"video_id": video, "category_id": music})
    add("sessions", token_hash="0" * 64, user_id=ann, method="password", created_at=now, last_used_at=now,
        expires_at=now + timedelta(days=30))
    add("login_failures", email="bob@example.com", attempted_at=now)
    photo = add("studio_photos", owner_id=ann, sha256="a" * 64, original_name="ann.jpg", origin="ann.jpg",
                status="processed", created_at=now)
    add("jobs", owner_id=ann, kind="import", status="done", params="{}", total=1, done=1, faces_found=1, failures=0,
        cancel_requested=False, created_at=now)
    return add("studio_faces", photo_id=photo, owner_id=ann, x1=1.0, y1=2.0, x2=30.0, y2=40.0, score=0.99,
               landmarks="[]", quality_ok=True, quality_reasons="", embedder="dlib", dim=128,
               embedding=np.ones(128, dtype="<f4").tobytes(), created_at=now)


def test_the_previous_release_with_data_is_upgraded_to_head_and_keeps_every_row(blank_database: str) -> None:
    old = create_engine_for(blank_database)
    with old.begin() as connection:
        upgrade_to(connection, PREVIOUS)
        face_id = _previous_release_rows(connection)
    with old.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == PREVIOUS
    old.dispose()

    _assert_at_head_exactly_the_models()  # the new release's first start did the upgrade
    assert [(u.email, u.is_admin) for u in list_users()] == [("ann@example.com", True)]
    assert sign_in("ann@example.com", PASSWORD).display_name == "Ann"
    [card] = feed_page().items
    assert (card.title, [c.slug for c in card.categories]) == ("Kept through the upgrade", ["music"])
    with session_scope() as session:
        assert session.execute(select(Job.status, Job.done)).one() == ("done", 1)
        face = session.get_one(Face, face_id)
        assert np.frombuffer(face.embedding, dtype="<f4").tolist() == [1.0] * 128
        state = session.get_one(IndexState, (face.owner_id, "dlib"))
        assert (state.face_count, state.id_sum) == (1, face_id)
        session.delete(face)  # the index-state triggers still follow the faces after the upgrade
    with session_scope() as session:
        assert session.execute(select(IndexState.face_count, IndexState.id_sum)).one() == (0, 0)
