"""The one job system: claims, two worker processes on one database, a worker stopped mid-job, retry, delete.

The worker processes are real (`python -m core worker` on the test's database: SQLite, then PostgreSQL,
where the next job is picked with `FOR UPDATE SKIP LOCKED`) and run real import jobs with the face models;
one test kind stands in only where the runner's own error path is the thing under test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.accounts.users import register
from core.config import PROJECT_ROOT, get_settings
from core.jobs import kinds, queue
from core.jobs.context import JobFailed
from core.jobs.kinds import JobKind
from core.jobs.runner import run_now
from core.storage.database import session_scope
from core.storage.studio_models import Face, Job
from core.studio import jobs
from core.studio.errors import BadInput
from tests.support.job_checks import assert_no_doubles, wait_for_job
from tests.support.studio_photos import PEOPLE, variants

EMAIL, PASSWORD = "ada@example.com", "correct horse battery"

pytestmark = pytest.mark.both_databases


@pytest.fixture
def owner(site: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("WEBTUBE_JOB_THREADS", "0")  # nothing runs in this process unless a test says so
    get_settings.cache_clear()
    return register("Ada", EMAIL, PASSWORD, PASSWORD).id


def _queued_import(owner_id: int, photos: list[Path], album: str) -> int:
    staged = jobs.stage_uploads(owner_id, [(p.name, p.read_bytes()) for p in photos])
    return jobs.start_import(owner_id, staged, album)


def _worker(data_dir: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "WEBTUBE_DATA_DIR": str(data_dir), "WEBTUBE_IMPORT_WORKERS": "1"}
    return subprocess.Popen([sys.executable, "-m", "core", "worker", *args], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)




def test_a_queued_job_is_claimed_by_exactly_one_of_many_racing_workers(owner: int) -> None:
    job_id = _queued_import(owner, PEOPLE[:1], "Race")
    barrier = threading.Barrier(8)
    wins: list[bool] = []

    def race(n: int) -> None:
        barrier.wait()
        wins.append(queue.claim(job_id, f"racer:{n}:x"))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 7 + [True]
    assert queue.job_info(owner, job_id).attempts == 1


def test_racing_workers_asking_for_the_next_job_each_take_a_different_one(owner: int) -> None:
    job_ids = [_queued_import(owner, PEOPLE[:1], f"Queue {n}") for n in range(6)]
    barrier = threading.Barrier(8)
    taken: list[int | None] = []

    def race(n: int) -> None:
        barrier.wait()
        taken.append(queue.claim_next(f"racer:{n}:x"))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken, key=lambda t: t or 0) == [None, None, *job_ids]  # six jobs for eight: two find none
    assert {(i.status, i.attempts) for i in (queue.job_info(owner, j) for j in job_ids)} == {("running", 1)}


def test_two_worker_processes_share_the_queue_and_never_take_the_same_job(owner: int, data_dir: Path,
                                                                         tmp_path: Path) -> None:
    job_ids = [_queued_import(owner, variants(PEOPLE[n], 2, tmp_path / f"a{n}"), f"Album {n}") for n in range(4)]
    workers = [_worker(data_dir, "--once"), _worker(data_dir, "--once")]
    for worker in workers:
        assert worker.wait(240) == 0, worker.stderr.read()[-2000:]

    infos = [queue.job_info(owner, job_id) for job_id in job_ids]
    assert [(i.status, i.done, i.total, i.attempts) for i in infos] == [("done", 2, 2, 1)] * 4
    with session_scope() as session:
        holders = set(session.scalars(select(Job.worker).where(Job.id.in_(job_ids))))
    assert len({h.rpartition(":")[0] for h in holders}) in (1, 2) and all(h.count(":") == 2 for h in holders)
    assert sum(i.faces_found for i in infos) == _faces(owner) > 0
    assert_no_doubles(owner)


def _faces(owner_id: int) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count(Face.id)).where(Face.owner_id == owner_id))


@pytest.mark.sqlite_only  # CI time: its database work (conditional updates) runs on PostgreSQL in the tests above
def test_a_worker_stopped_mid_job_hands_it_back_and_it_finishes_once(owner: int, data_dir: Path,
                                                                     tmp_path: Path) -> None:
    photos = variants(PEOPLE[0], 12, tmp_path / "many")
    job_id = _queued_import(owner, photos, "Many")
    worker = _worker(data_dir)
    try:
        wait_for_job(owner, job_id, lambda i: i.status == "running" and i.done >= 2)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0
    finally:
        worker.kill()
    stopped = queue.job_info(owner, job_id)
    assert stopped.status == "queued" and 2 <= stopped.done < 12  # handed back, not left "running"

    assert run_now(job_id) == "done"
    info = queue.job_info(owner, job_id)
    assert (info.done, info.attempts) == (12, 2) and info.faces_found == _faces(owner) == 12
    assert queue.job_result(owner, job_id) == {"album_id": info.album_id, "photos": 12, "faces": 12, "failures": 0}
    assert_no_doubles(owner)


def _fails_with_a_sentence(ctx) -> None:
    raise JobFailed("The clip has no video track.")


def _breaks(ctx) -> None:
    raise KeyError("a bug")


def test_a_failed_job_says_why_can_be_retried_and_deleted(owner: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(kinds.KINDS, "probe", JobKind("Probe", f"{__name__}:_fails_with_a_sentence"))
    monkeypatch.setitem(kinds.KINDS, "bug", JobKind("Bug", f"{__name__}:_breaks"))
    sentence, bug = queue.enqueue(owner, "probe", {}), queue.enqueue(owner, "bug", {})

    assert run_now(sentence) == "failed" and run_now(bug) == "failed"
    assert queue.job_info(owner, sentence).error == "The clip has no video track."
    assert queue.job_info(owner, bug).error == "The job stopped: KeyError."
    assert run_now(sentence) is None  # a finished job is not claimed again

    queue.retry_job(owner, sentence)
    assert queue.job_info(owner, sentence).status == "queued"
    with pytest.raises(BadInput, match=r"^Cancel the job first"):
        queue.delete_job(owner, sentence)
    assert run_now(sentence) == "failed" and queue.job_info(owner, sentence).attempts == 2
    with pytest.raises(BadInput, match=r"^Only a failed or cancelled job"):
        queue.retry_job(owner, queue.enqueue(owner, "probe", {}))

    queue.delete_job(owner, sentence)
    assert sentence not in [i.id for i in queue.recent_jobs(owner)] and queue.recent_jobs(owner)
    with pytest.raises(BadInput, match=r"^There is no job kind"):
        queue.enqueue(owner, "nonsense", {})


def test_deleting_a_cancelled_import_removes_its_staged_files(owner: int, site: Path) -> None:
    job_id = _queued_import(owner, PEOPLE[:2], "Gone")
    staged = list((site / "studio" / str(owner) / "staging").rglob("*.*"))
    assert staged
    queue.cancel_job(owner, job_id)
    assert queue.job_info(owner, job_id).status == "cancelled"
    queue.delete_job(owner, job_id)
    assert not any(path.exists() for path in staged) and queue.recent_jobs(owner) == []
