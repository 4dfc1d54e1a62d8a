"""Database access: one engine per database URL, migrated and seeded on first use, and short transactions.

Any SQLAlchemy URL works (`DATABASE_URL`); the SQLite default is tuned for a web app: WAL so
readers never wait for the writer, foreign keys enforced, and a busy timeout instead of errors.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.categories import ensure_categories
from core.config import get_settings
from core.migrations import upgrade_to_head

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine_for(url: str) -> Engine:
    """A bare engine for `url` (no migrations): SQLite gets its folder, WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def get_engine() -> Engine:
    """The engine for the configured database, upgraded to the newest schema and seeded once per process."""
    url = get_settings().database_url
    engine = _engines.get(url)
    if engine is not None:
        return engine
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create_engine_for(url)
            with engine.begin() as connection:
                upgrade_to_head(connection)
            with Session(engine) as session, session.begin():
                ensure_categories(session)
            _engines[url] = engine
    return engine


@contextmanager
def session_scope() -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any exception, so nothing half-written stays."""
    with Session(get_engine(), expire_on_commit=False) as session, session.begin():
        yield session
