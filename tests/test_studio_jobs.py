"""Background imports: progress, cancel, and resume after the worker is killed, with exact totals.

The restart is real: `python -m core studio import` runs in a child process, is killed with SIGKILL in the
middle of the job, and a runner in this process resumes it (nothing lost, nothing doubled)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from core.accounts.users import register
from core.config import PROJECT_ROOT
from core.jobs import queue
from core.storage.database import session_scope
from core.storage.models import utcnow
from core.storage.studio_models import Face, Job, JobItem
from core.studio import jobs, library
from core.studio.importer import ItemAlreadyDone, analyse_file, read_item, record_item
from core.studio.intake import gather, staging_dir
from tests.support.job_checks import assert_no_doubles, wait_for_job
from tests.support.studio_photos import GROUPS, PEOPLE, variants, zip_of

EMAIL, PASSWORD = "ada@example.com", "correct horse battery"


@pytest.fixture
def owner(site: Path) -> int:
    return register("Ada", EMAIL, PASSWORD, PASSWORD).id




def test_a_background_import_reports_progress_and_finishes(owner: int, site: Path, tmp_path: Path) -> None:
    archive = zip_of(tmp_path / "more.zip", {p.name: p.read_bytes() for p in PEOPLE[3:6]})
    uploads = [(p.name, p.read_bytes()) for p in PEOPLE[:3]] + [("more.zip", archive.read_bytes()),
                                                              ("notes.txt", b"hello")]
    staged = jobs.stage_uploads(owner, uploads)

    job_id = jobs.start_import(owner, staged, "Uploads")
    info = wait_for_job(owner, job_id, lambda i: i.status in ("done", "failed", "cancelled"))

    assert (info.status, info.total, info.done, info.failures) == ("done", 7, 7, 1)
    assert info.faces_found >= 6 and info.items_per_s and info.items_per_s > 0 and info.eta_s == 0
    items = jobs.job_items(owner, job_id)
    assert [i.status for i in items].count("processed") == 6
    assert {i.origin for i in items if "!" in i.origin} == {f"more.zip!{p.name}" for p in PEOPLE[3:6]}
    assert jobs.job_items(owner, job_id, status="failed")[0].original_name == "notes.txt"
    assert queue.recent_jobs(owner)[0].id == job_id and info.album_id == library.list_albums(owner)[0].id
    assert not any(path.exists() for path in staged)  # staged uploads leave once the job is done
    assert not any((site / "studio" / str(owner) / "staging").iterdir())


def test_cancel_stops_the_import_and_it_is_not_resumed(owner: int, tmp_path: Path) -> None:
    photos = variants(GROUPS[0], 16, tmp_path / "many")
    staged = jobs.stage_uploads(owner, [(p.name, p.read_bytes()) for p in photos])

    job_id = jobs.start_import(owner, staged, "Many")
    wait_for_job(owner, job_id, lambda i: i.done >= 1)
    queue.cancel_job(owner, job_id)
    info = wait_for_job(owner, job_id, lambda i: i.status != "running")

    assert info.status == "cancelled" and 1 <= info.done < info.total == 16
    pending = jobs.job_items(owner, job_id, status="pending")
    assert len(pending) == info.total - info.done
    assert library.list_photos(owner).total == info.done
    assert queue.resume_interrupted() == 0 and queue.job_info(owner, job_id).status == "cancelled"
    assert_no_doubles(owner)


def test_a_killed_import_resumes_in_a_new_runner_without_losing_or_doubling(
    owner: int, data_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "album"
    photos = variants(GROUPS[1], 10, folder) + variants(PEOPLE[0], 4, folder)
    (folder / "zz_notes.txt").write_text("not a photo")
    env = {**os.environ, "WEBTUBE_DATA_DIR": str(data_dir), "WEBTUBE_IMPORT_WORKERS": "1",
           "WEBTUBE_BCRYPT_ROUNDS": "4"}
    child = subprocess.Popen([sys.executable, "-m", "core", "studio", "import", str(folder), "--album", "Album",
                              "--owner", EMAIL], cwd=PROJECT_ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with session_scope() as session:
                done = session.scalar(select(Job.done).where(Job.owner_id == owner))
            if done is not None and done >= 3:
                break
            time.sleep(0.1)
        child.send_signal(signal.SIGKILL)  # mid-job: no chance to tidy up
    finally:
        child.wait(30)
    with session_scope() as session:
        job = session.scalars(select(Job).where(Job.owner_id == owner)).one()
    assert job.status == "running" and 3 <= job.done < job.total == len(photos) + 1

    assert queue.resume_interrupted() == 1
    assert queue.resume_interrupted() == 0  # idempotent: already queued or taken
    info = wait_for_job(owner, job.id, lambda i: i.status == "done")

    assert (info.done, info.total, info.failures) == (len(photos) + 1, len(photos) + 1, 1)
    with session_scope() as session:
        assert session.scalar(select(func.count(JobItem.seq)).where(JobItem.job_id == job.id,
                                                                   JobItem.status == "pending")) == 0
        faces = session.scalar(select(func.count(Face.id)).where(Face.owner_id == owner))
        photo_ids = session.scalars(select(JobItem.photo_id).where(JobItem.job_id == job.id,
                                                                   JobItem.photo_id.is_not(None))).all()
    assert library.list_photos(owner, status="processed").total == len(photos)
    assert library.list_photos(owner).total == len(photos) + 1 == len(set(photo_ids))  # the text file: failed
    assert faces == info.faces_found >= 10 * 2 + 4
    assert_no_doubles(owner)


def test_a_job_with_a_stale_heartbeat_is_taken_over_and_a_live_one_is_not(owner: int, tmp_path: Path) -> None:
    candidates = gather(PEOPLE[:2], staging_dir(owner))
    album = library.create_album(owner, "Taken over")
    live = jobs.create_import_job(owner, candidates, album.id, [], "running", "otherhost:4242:aa")
    stale = jobs.create_import_job(owner, candidates[:1], album.id, [], "running", "otherhost:4243:bb")
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == stale).values(heartbeat_at=utcnow() - timedelta(minutes=5)))

    assert queue.resume_interrupted() == 1
    assert wait_for_job(owner, stale, lambda i: i.status == "done").done == 1
    assert queue.job_info(owner, live).status == "running"  # its holder may still be working on it


def test_an_item_is_recorded_at_most_once(owner: int) -> None:
    candidates = gather([PEOPLE[0]], staging_dir(owner))
    album = library.create_album(owner, "Once")
    job_id = jobs.create_import_job(owner, candidates, album.id, [], "running", "here:1:cc")
    item = {"source": str(PEOPLE[0]), "original_name": PEOPLE[0].name, "origin": str(PEOPLE[0])}

    found = analyse_file(read_item(item))
    first = record_item(owner, album.id, job_id, 0, item, found)
    with pytest.raises(ItemAlreadyDone):
        record_item(owner, album.id, job_id, 0, item, found)  # a second worker racing for the same item

    assert first.status == "processed"
    detail = library.photo_detail(owner, first.photo_id)
    assert library.list_photos(owner).total == 1 and len(detail.faces) == len(first.face_ids)
    with session_scope() as session:
        assert session.get_one(Job, job_id).done == 1
