"""Many processes opening one brand-new database at once: one upgrades it, the others wait, all register.

Real processes (multiprocessing, spawn: each imports the app afresh, like separate servers) on a real
SQLite file. Before the cross-process lock, 32 of 60 registrations failed with `table ... already
exists`, and two were told their email was taken because a category-seeding clash looked like one.
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session

from core.accounts import users
from core.accounts.users import EmailTaken, list_users, register
from core.storage.database import session_scope
from core.storage.models import Category, User
from core.videos.categories import CATEGORIES

PROCESSES = 20
PASSWORD = "a long enough password"


def _register_at_once(data_dir: str, index: int, barrier: Barrier, results: multiprocessing.Queue) -> None:
    """One fresh process: wait for the others, then register (which opens, upgrades and seeds the database)."""
    os.environ.update({"WEBTUBE_DATA_DIR": data_dir, "WEBTUBE_BCRYPT_ROUNDS": "4"})
    os.environ.pop("DATABASE_URL", None)
    barrier.wait(timeout=60)
    try:
        register(f"Person {index}", f"person{index}@example.com", PASSWORD, PASSWORD)
        results.put((index, "ok"))
    except Exception as exc:  # reported to the test, which names the failure
        results.put((index, f"{type(exc).__name__}: {exc}"))


def _race(data_dir: Path) -> dict[int, str]:
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(PROCESSES)
    results = spawn.Queue()
    workers = [
        spawn.Process(target=_register_at_once, args=(str(data_dir), i, barrier, results)) for i in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    outcomes = dict(results.get(timeout=180) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
        if worker.is_alive():
            worker.kill()
    return outcomes


def test_twenty_processes_register_on_a_brand_new_database(site: Path) -> None:
    assert not (site / "webtube.sqlite3").exists()
    outcomes = _race(site)
    assert outcomes == {i: "ok" for i in range(PROCESSES)}
    users = list_users()
    assert sorted(u.email for u in users) == sorted(f"person{i}@example.com" for i in range(PROCESSES))
    assert sum(u.is_admin for u in users) == 1  # still exactly one first account
    with session_scope() as session:
        assert session.scalar(select(func.count(Category.id))) == len(CATEGORIES)  # seeded once


def test_only_a_real_duplicate_email_is_reported_as_taken(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A twin that raced past the check is 'this email exists'; any other unique clash during registration
    is the site's error and must not be reported as one."""
    register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    real_check = users._email_exists
    checks = iter([False])  # the first check misses, as when a twin registration commits right after it
    monkeypatch.setattr(
        users, "_email_exists", lambda session, address: next(checks, None) or real_check(session, address)
    )
    with pytest.raises(EmailTaken, match="already exists"):
        register("Ann twin", "ANN@example.com", PASSWORD, PASSWORD)  # the unique constraint, mapped
    monkeypatch.undo()

    def clash_on_category(user: User) -> None:
        session = object_session(user)
        assert session is not None
        session.add(Category(slug="music", name="Music"))  # the seeding clash of issue 8
        session.flush()

    monkeypatch.setattr(users, "user_info", clash_on_category)
    with pytest.raises(IntegrityError, match="categories") as other:
        register("Bob", "bob@example.com", PASSWORD, PASSWORD)
    assert not isinstance(other.value, EmailTaken)
    monkeypatch.undo()
    assert [u.email for u in list_users()] == ["ann@example.com"]  # nothing half-written
