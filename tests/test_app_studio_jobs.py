"""Studio › History through AppTest: every kind of job listed with status and duration; retry a failed one,
cancel a queued one, delete a finished one, open an import's album; another account sees none of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.accounts.users import UserInfo, register
from core.config import get_settings
from core.jobs import queue
from core.jobs.runner import run_now
from core.studio.importer import import_paths
from tests.support.app_driver import open_app, texts
from tests.support.paths import FACES_DIR

PASSWORD = "a long enough password"


@pytest.fixture
def ann(site: Path, monkeypatch: pytest.MonkeyPatch) -> UserInfo:
    monkeypatch.setenv("WEBTUBE_JOB_THREADS", "0")  # jobs run only where the test runs them
    get_settings.cache_clear()
    return register("Ann", "ann@example.com", PASSWORD, PASSWORD)


def _markdown(at) -> list[str]:
    return [line.replace("\\", "") for line in texts(at, "markdown")]  # md() escapes markdown characters


def test_history_lists_every_job_and_acts_on_them(ann: UserInfo) -> None:
    done = import_paths(ann.id, [FACES_DIR / "people" / "biden"], "Biden").job_id
    failed = queue.enqueue(ann.id, "reembed", {"embedder": "not-the-current-model"}, wake=False)
    assert run_now(failed) == "failed"
    waiting = queue.enqueue(ann.id, "reembed", {"embedder": get_settings().embedder}, wake=False)

    at = open_app(ann.id, "pages/studio_jobs.py")
    rows = [line for line in _markdown(at) if line.startswith(":material/")]
    assert len(rows) == 3
    assert any("Photo import" in r and "Done" in r for r in rows)
    assert sum("Re-embedding for a new face model" in r for r in rows) == 2
    assert any(e.startswith("The face model changed again") for e in texts(at, "error"))
    assert any(c.startswith(f"Job {done} ·") and "took" in c for c in texts(at, "caption"))

    next(b for b in at.button if b.key == f"job-retry-{failed}").click().run()
    assert queue.job_info(ann.id, failed).status == "queued"
    next(b for b in at.button if b.key == f"job-cancel-{waiting}").click().run()
    assert queue.job_info(ann.id, waiting).status == "cancelled"
    next(b for b in at.button if b.key == f"job-delete-{waiting}").click().run()
    assert waiting not in [j.id for j in queue.recent_jobs(ann.id)]
    assert any(f"Job {waiting} is deleted" in m for m in _markdown(at) + texts(at, "success") + texts(at, "info"))

    next(b for b in at.button if b.key == f"job-open-{done}").click().run()
    assert at.session_state["lib-album"] == queue.job_info(ann.id, done).album_id


def test_another_account_sees_no_one_elses_jobs(ann: UserInfo) -> None:
    queue.enqueue(ann.id, "reembed", {"embedder": get_settings().embedder}, wake=False)
    bob = register("Bob", "bob@example.com", PASSWORD, PASSWORD)
    at = open_app(bob.id, "pages/studio_jobs.py")
    assert texts(at, "info") == ["No jobs yet: imports, video analyses and re-embedding show here."]
    assert not [b for b in at.button if b.key and b.key.startswith("job-")]
