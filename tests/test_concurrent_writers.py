"""Fifty writers at once, on the real SQLite file and a real PostgreSQL: every write lands exactly once, and
the ones that clash with another (the same person's name in one library) get one clear sentence each.

Real threads released together by a barrier, each through the public services with its own sessions, as
fifty browser sessions of one server would write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.accounts import sessions
from core.accounts.users import UserInfo, register
from core.storage.database import session_scope
from core.storage.models import AuthSession, User
from core.storage.studio_models import Album, Person
from core.studio.errors import BadInput
from core.studio.library import create_album
from core.studio.people import create_person

pytestmark = pytest.mark.both_databases
WRITERS = 50
PASSWORD = "a long enough password"


def _together(work: Callable[[int], object]) -> list[object]:
    """`work(i)` for i in 0..WRITERS-1, all released at once; each result or the exception it raised."""
    results: list[object] = [None] * WRITERS
    start = threading.Barrier(WRITERS)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # the outcome under test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer never finished"
    return results


def _count(model: type, *where: object) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_fifty_people_register_and_sign_in_at_once(site: Path) -> None:
    def join(i: int) -> UserInfo:
        user = register(f"Writer {i}", f"writer{i}@example.com", PASSWORD, PASSWORD)
        sessions.create(user.id, "password")
        return user

    results = _together(join)
    errors = [result for result in results if isinstance(result, Exception)]
    assert not errors, errors[:3]
    assert len({result.id for result in results}) == WRITERS
    assert _count(User) == WRITERS and _count(AuthSession) == WRITERS
    assert _count(User, User.is_admin.is_(True)) == 1  # the site's first account only


def test_fifty_writers_in_one_library_one_name_is_taken_once(site: Path) -> None:
    owner = register("Ann", "ann@example.com", PASSWORD, PASSWORD)

    def write(i: int) -> object:
        if i % 2:
            return create_person(owner.id, "Barack Obama")  # 25 writers want the same name
        return create_album(owner.id, f"Album {i}") if i % 4 == 0 else create_person(owner.id, f"Person {i}")

    results = _together(write)
    clashes = [result for result in results if isinstance(result, Exception)]
    assert len(clashes) == WRITERS // 2 - 1, clashes[:3]
    assert all(isinstance(clash, BadInput) for clash in clashes), clashes[:3]
    assert {str(clash) for clash in clashes} == {"You already have a person called Barack Obama."}
    albums, people = len(range(0, WRITERS, 4)), len([i for i in range(0, WRITERS, 2) if i % 4])
    assert _count(Album, Album.owner_id == owner.id) == albums
    assert _count(Person, Person.owner_id == owner.id) == people + 1
    assert _count(Person, Person.name == "Barack Obama") == 1
