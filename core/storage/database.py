"""Database access: one engine per database URL, migrated and seeded on first use, and short transactions.

Any SQLAlchemy URL works (`DATABASE_URL`); the SQLite default is tuned for a web app: WAL so
readers never wait for the writer, foreign keys enforced, a busy timeout instead of errors, and
deleted content overwritten.

Many processes may open a brand-new database at once (several servers, the command line), so the
schema upgrade and the category seeding run under a cross-process lock: a lock file beside the
SQLite file (the `filelock` package: maintained, and it cleans up after a crashed holder because the
OS drops the lock), or a PostgreSQL advisory lock held by the upgrading transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from filelock import FileLock
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.config import get_settings
from core.storage.migrations import upgrade_to_head
from core.videos.categories import ensure_categories

_engines: dict[str, Engine] = {}
_lock = threading.Lock()
_UPGRADE_LOCK_KEY = 0x77656274  # "webt": the PostgreSQL advisory lock taken while upgrading


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted rows (face embeddings) are zeroed, not left in free pages
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


def _sqlite_file(engine: Engine) -> Path | None:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    return Path(database).expanduser() if database and database != ":memory:" else None


def _other_processes_wait(engine: Engine) -> AbstractContextManager[object]:
    """SQLite: a lock file beside the database file, so two processes never upgrade a fresh file at once."""
    path = _sqlite_file(engine)
    return FileLock(f"{path}.upgrade.lock", timeout=120) if path else nullcontext()


def _upgrade_and_seed(engine: Engine) -> None:
    """Bring the schema to head and seed the categories, one process at a time, in one transaction."""
    with _other_processes_wait(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # released when this transaction ends
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK_KEY})
        upgrade_to_head(connection)
        with Session(bind=connection) as session:
            ensure_categories(session)
            session.flush()


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
            _upgrade_and_seed(engine)
            _engines[url] = engine
    return engine


def close_engine(url: str) -> None:
    """Close the pooled connections to `url` and forget its engine, so the database can be dropped or copied
    (the tests drop each PostgreSQL database they make); a later `get_engine()` opens and checks it again."""
    with _lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


@contextmanager
def session_scope() -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any exception, so nothing half-written stays."""
    with Session(get_engine(), expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def serialised_scope(*keys: str) -> Iterator[Session]:
    """Like `session_scope`, but check-then-write blocks about the same thing run one at a time, across
    threads and processes (the sign-in lockout: count the failures, then add one).

    SQLite: `BEGIN IMMEDIATE` holds the database's write lock from the first statement, whatever the keys.
    PostgreSQL: a transaction-level advisory lock on each of `keys` (e.g. "sign-in:ann@example.com"), taken
    in sorted order so two blocks never deadlock; it works where no row exists yet to lock with
    `SELECT ... FOR UPDATE` (an unknown email's failures). Without keys, callers lock the rows they depend on.
    """
    with get_engine().connect() as connection, connection.begin():  # committed here, rolled back on any exception
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # pysqlite would otherwise begin lazily, unlocked
        elif connection.dialect.name == "postgresql":
            for key in sorted(set(keys)):  # released when the transaction ends
                connection.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})
        with Session(bind=connection, expire_on_commit=False) as session:  # joins; never ends the transaction
            yield session
            session.flush()


def purge_deleted() -> None:
    """After deleting sensitive rows (face embeddings): fold SQLite's write-ahead log into the database file
    and empty it, so the old rows stay neither in the `-wal` file nor, with `secure_delete`, in free pages.
    Nothing to do on other databases."""
    with get_engine().connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
