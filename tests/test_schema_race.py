"""Many processes opening one brand-new database at once: one upgrades it, the others wait, all register.

Real processes (each a fresh `python` that imports the app, like separate servers) on a real SQLite
file and on a real, empty PostgreSQL database (where the lock is an advisory lock); they wait for one
start signal so they really open the database together. Before the cross-process lock, 32 of 60
registrations failed with `table ... already exists`, and two were told their email was taken because
a category-seeding clash looked like one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session

from core.accounts import users
from core.accounts.users import EmailTaken, list_users, register
from core.storage.database import create_engine_for, session_scope
from core.storage.models import Category, User
from core.videos.categories import CATEGORIES

PROCESSES = 20
PASSWORD = "a long enough password"

pytestmark = pytest.mark.both_databases


# One process: wait for the start file, then register (which opens, upgrades and seeds the database).
_CHILD = """
import json, os, sys, time
from pathlib import Path
index, go = int(sys.argv[1]), Path(sys.argv[2])
from core.accounts.users import register
deadline = time.monotonic() + 120
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.01)
try:
    register(f"Person {index}", f"person{index}@example.com", sys.argv[3], sys.argv[3])
    print(json.dumps([index, "ok"]))
except Exception as exc:
    print(json.dumps([index, f"{type(exc).__name__}: {exc}"]))
"""


def _race(data_dir: Path, database_url: str) -> dict[int, str]:
    environment = os.environ | {"WEBTUBE_DATA_DIR": str(data_dir), "DATABASE_URL": database_url,
                                "WEBTUBE_BCRYPT_ROUNDS": "4"}
    go = data_dir / "go"
    root = Path(__file__).resolve().parents[1]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(i), str(go), PASSWORD],
            cwd=root, env=environment, stdout=subprocess.PIPE, text=True,
        )
        for i in range(PROCESSES)
    ]
    time.sleep(1.0)  # let them import; each polls for the signal
    go.touch()
    outcomes: dict[int, str] = {}
    for worker in workers:
        try:
            out, _ = worker.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            worker.kill()
            out, _ = worker.communicate()
        for line in out.splitlines():
            if line.startswith("["):
                index, outcome = json.loads(line)
                outcomes[index] = outcome
    return outcomes


def test_twenty_processes_register_on_a_brand_new_database(site: Path, blank_database: str) -> None:
    bare = create_engine_for(blank_database)
    assert inspect(bare).get_table_names() == []
    bare.dispose()
    outcomes = _race(site, blank_database)
    assert outcomes == {i: "ok" for i in range(PROCESSES)}
    users = list_users()
    assert sorted(u.email for u in users) == sorted(f"person{i}@example.com" for i in range(PROCESSES))
    assert sum(u.is_admin for u in users) == 1  # still exactly one first account
    with session_scope() as session:
        assert session.scalar(select(func.count(Category.id))) == len(CATEGORIES)  # seeded once


def test_registrations_at_the_same_moment_make_exactly_one_first_admin(site: Path) -> None:
    """On PostgreSQL, twelve INSERTs at once each counted no account yet and up to eight became admins;
    registrations now queue (an advisory lock there), as SQLite's writes always did."""
    start = threading.Barrier(12)

    def join(index: int) -> None:
        start.wait(timeout=30)
        register(f"Person {index}", f"person{index}@example.com", PASSWORD, PASSWORD)

    threads = [threading.Thread(target=join, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    users = list_users()
    assert len(users) == 12 and sum(u.is_admin for u in users) == 1


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
