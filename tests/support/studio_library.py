"""A studio library of the real test photos, imported once per test module through the real importer.

Importing runs the face engine on every photo (slow on two cores), so one module imports once into a
template data directory and every test gets its own copy of it (database and stored photos): tests
change the library freely without seeing each other's changes. On PostgreSQL (a both_databases module)
the template's database is a database of the test server, copied with `CREATE DATABASE ... TEMPLATE`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.accounts.users import register
from core.config import get_settings
from core.storage.database import close_engine
from core.studio.importer import import_paths
from core.studio.owners import resolve_owner
from tests.support.databases import PostgresDatabases
from tests.support.paths import FACES_DIR

PASSWORD = "correct horse battery staple 42"
HELD_OUT = "obama_4.jpg"  # kept out of the first import: it arrives later, as a new photo of a named person


@dataclass(frozen=True)
class Library:
    data_dir: Path
    owner_id: int  # the default library (owner of the imported photos)
    stranger_id: int  # another account with an empty library


def _point_at(monkeypatch: pytest.MonkeyPatch, data_dir: Path, database_url: str | None) -> None:
    monkeypatch.setenv("WEBTUBE_DATA_DIR", str(data_dir))
    if database_url:
        monkeypatch.setenv("DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("WEBTUBE_BCRYPT_ROUNDS", "4")
    get_settings.cache_clear()


def build_template(root: Path, database_url: str | None = None) -> Path:
    """people/ (but HELD_OUT) and groups/ imported into the default library; a second account beside it.
    The database is `database_url`'s, or SQLite's file in the data directory."""
    photos = root / "photos"
    shutil.copytree(FACES_DIR / "people", photos / "people", ignore=shutil.ignore_patterns(HELD_OUT))
    shutil.copytree(FACES_DIR / "groups", photos / "groups")
    data = root / "data"
    with pytest.MonkeyPatch.context() as monkeypatch:
        _point_at(monkeypatch, data, database_url)
        owner_id = resolve_owner(None)
        register("Stranger", "stranger@example.com", PASSWORD, PASSWORD)
        summary = import_paths(owner_id, [photos / "people"], "People", "folder")
        assert summary.failures == 0 and summary.photos == 15, summary
        import_paths(owner_id, [photos / "groups"], "Groups", "folder")
    get_settings.cache_clear()
    return data


@dataclass(frozen=True)
class Template:
    data_dir: Path
    database_url: str | None  # a PostgreSQL database to copy; None: the SQLite file inside data_dir


@pytest.fixture(scope="module")
def library_template(tmp_path_factory: pytest.TempPathFactory, database: str,
                     request: pytest.FixtureRequest) -> Iterator[Template]:
    if database != "postgresql":
        yield Template(build_template(tmp_path_factory.mktemp("studio-template")), None)
        return
    postgres: PostgresDatabases = request.getfixturevalue("postgres")
    url = postgres.create()
    data = build_template(tmp_path_factory.mktemp("studio-template"), url)
    close_engine(url)  # copied per test: nobody may stay connected
    yield Template(data, url)
    postgres.drop(url)


@pytest.fixture
def library(library_template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            request: pytest.FixtureRequest) -> Iterator[Library]:
    """This test's own copy of the imported library."""
    data = tmp_path / "data"
    shutil.copytree(library_template.data_dir, data, ignore=shutil.ignore_patterns("*.lock"))
    url = None
    if library_template.database_url:
        url = request.getfixturevalue("postgres").create(like=library_template.database_url)
    _point_at(monkeypatch, data, url)
    yield Library(data, resolve_owner(None), resolve_owner("stranger@example.com"))
    get_settings.cache_clear()
    if url is not None:
        request.getfixturevalue("postgres").drop(url)
