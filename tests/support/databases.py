"""The databases a test runs on: SQLite (a file in the test's folder) or a real PostgreSQL 15.

A test module opts in to both with `pytestmark = pytest.mark.both_databases` (tests/conftest.py turns
that into a `database` parameter: ids end in `[sqlite]` / `[postgresql]`). PostgreSQL is one server per
test process (an xdist worker), started the first time a test asks for it. Its template database is
migrated and seeded once; each test gets `CREATE DATABASE ... TEMPLATE` of it and drops it afterwards
(copy and first open 0.3 s on the loaded 2-core machine, against 0.7-1.1 s for an empty database migrated
from nothing).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from core.config import get_settings
from core.storage.database import close_engine, get_engine
from tests.support.postgres_server import postgres_server

DATABASES = ("sqlite", "postgresql")


class PostgresDatabases:
    """Fresh databases on one server: migrated copies of the template, or empty ones (to test the upgrade)."""

    def __init__(self, template_url: str) -> None:
        self._url = make_url(template_url)
        self._template = self._url.database
        self._admin: Engine = create_engine(self._url.set(database="postgres"), isolation_level="AUTOCOMMIT",
                                            poolclass=NullPool)
        self._names = itertools.count(1)
        with pytest.MonkeyPatch.context() as env:  # the app's own upgrade and seeding, as at a first start
            env.setenv("DATABASE_URL", template_url)
            get_settings.cache_clear()
            get_engine()
        get_settings.cache_clear()
        close_engine(template_url)  # a template must have no connections while it is copied

    def create(self, like: str | None = None, migrated: bool = True) -> str:
        """A new database: a copy of `like` (a database of this server that nobody is connected to), else of
        the migrated template, or (not `migrated`) one with no tables at all."""
        name = f"test_{next(self._names)}"
        template = make_url(like).database if like else self._template if migrated else "template0"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return self._url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        """Close this process's connections to `url` and drop it (FORCE: a stray runner thread cannot block it)."""
        close_engine(url)
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))

    def close(self) -> None:
        self._admin.dispose()


@contextmanager
def postgres_databases() -> Iterator[PostgresDatabases]:
    """A PostgreSQL server for this process and its template database, gone (folder and all) afterwards."""
    with postgres_server() as template_url:
        databases = PostgresDatabases(template_url)
        try:
            yield databases
        finally:
            databases.close()
