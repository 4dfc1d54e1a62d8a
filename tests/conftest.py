"""Shared fixtures: the real photos in tests/data/faces and an isolated data directory (and database) per test.

A module marked `pytest.mark.both_databases` runs each of its tests on SQLite and on a real PostgreSQL
(`[sqlite]` / `[postgresql]` in the test ids; tests/support/databases.py); a test in it marked
`pytest.mark.sqlite_only` checks something only SQLite has (its pragmas, its file) and runs once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.config import get_settings
from tests.support.app_driver import ServerPagesManager
from tests.support.databases import DATABASES, PostgresDatabases, postgres_databases
from tests.support.paths import FACES_DIR

pytest_plugins = ["tests.support.media_server"]

# Browser checks wait for what a person would wait for; Playwright's 5 s default is too short for a
# Streamlit run on a busy 2-core machine (the first page of a fresh server takes several seconds).
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """The project's real test photos (tests/data/faces); read in place, never copied."""
    assert FACES_DIR.is_dir(), f"test photos missing at {FACES_DIR}"
    return FACES_DIR


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_databases: every test of the module runs on SQLite and PostgreSQL")
    config.addinivalue_line("markers", "sqlite_only: a test of SQLite's own behaviour, in a both_databases module")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`database` is a parameter of every test of a both_databases module that uses the data directory.

    Module scope: a module's tests run on SQLite, then on PostgreSQL, so a module-scoped fixture built on
    the database (an imported studio library) is built once per database, not once per test."""
    if "database" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_databases"):
        chosen = DATABASES[:1] if metafunc.definition.get_closest_marker("sqlite_only") else DATABASES
        metafunc.parametrize("database", chosen, indirect=True, scope="module")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases]:
    """This test process's PostgreSQL server, started on first use, with its migrated template database."""
    with postgres_databases() as databases:
        yield databases


@pytest.fixture(scope="module")
def database(request: pytest.FixtureRequest) -> str:
    """Which database the test runs on: "sqlite" unless its module runs on both."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: str,
             request: pytest.FixtureRequest) -> Iterator[Path]:
    """A fresh WEBTUBE_DATA_DIR for one test, with a fresh database in it (SQLite) or beside it (PostgreSQL,
    migrated like a site that has started once); weights stay shared."""
    monkeypatch.setenv("WEBTUBE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("WEBTUBE_ALLOW_PRIVATE_URLS", "true")
    url = None
    if database == "postgresql":
        postgres: PostgresDatabases = request.getfixturevalue("postgres")
        url = postgres.create()
        monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
    if url is not None:
        postgres.drop(url)


@pytest.fixture
def blank_database(data_dir: Path, database: str, request: pytest.FixtureRequest,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The test's database (URL) before any server has opened it: no tables at all (SQLite: no file yet)."""
    url = None
    if database == "postgresql":
        postgres: PostgresDatabases = request.getfixturevalue("postgres")
        url = postgres.create(migrated=False)
        monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield get_settings().database_url
    get_settings.cache_clear()
    if url is not None:
        postgres.drop(url)


@pytest.fixture
def site(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh video site in `data_dir`, with cheap bcrypt (4 rounds) so account tests stay fast.

    streamlit-webrtc looks its session up in a live Runtime, which AppTest does not have; pages
    that hold a camera panel (profile, sign-in) render under AppTest with that lookup answered empty.
    """
    monkeypatch.setenv("WEBTUBE_BCRYPT_ROUNDS", "4")
    get_settings.cache_clear()
    monkeypatch.setattr("streamlit_webrtc.component.get_this_session_info", lambda: None)
    monkeypatch.setattr("streamlit.testing.v1.app_test.PagesManager", ServerPagesManager)
    return data_dir
