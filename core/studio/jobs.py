"""The "import" job kind: Job rows with one JobItem per file, run by the one job system (core/jobs).

The unit of work is the JobItem (one file): the importer records an item's outcome in the same
transaction as its photo and faces, claiming it from "pending" first, so each item is done at most
once and a crash before a commit leaves it pending. When a holder dies the job system queues the job
again and the new run does only the pending items: nothing lost, nothing doubled. Within a job,
WEBTUBE_IMPORT_WORKERS threads decode and detect the next files while the faces of several photos are
embedded in one forward pass (core/studio/import_batches.py). Cancelling stops the recording: the
photos in preparation finish, the items not recorded stay pending.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select

from core.config import get_settings
from core.jobs.context import JobContext, JobFailed
from core.jobs.holders import new_identity
from core.jobs.queue import own_job
from core.jobs.runner import run_claimed, wake_runner
from core.storage.database import session_scope
from core.storage.models import User, utcnow
from core.storage.studio_models import Job, JobItem
from core.studio.errors import BadInput
from core.studio.import_batches import import_batched
from core.studio.importer import read_item
from core.studio.intake import Candidate, allowed_folder, gather, staging_dir, staging_root
from core.studio.library import clean_album_name, create_album
from core.studio.records import ImportSummary, JobItemInfo

_STAGE_CHUNK = 1 << 20  # an upload is copied into staging a megabyte at a time
_log = logging.getLogger(__name__)


def _item_info(item: JobItem) -> JobItemInfo:
    return JobItemInfo(seq=item.seq, original_name=item.original_name, origin=item.origin, status=item.status,
                       message=item.message, photo_id=item.photo_id)


def create_import_job(owner_id: int, candidates: list[Candidate], album_id: int, cleanup: list[Path],
                status: str, worker: str | None) -> int:
    """The job and all its items in one transaction; files known to fail are recorded as done failures."""
    failed = sum(1 for c in candidates if c.error)
    now = utcnow()
    with session_scope() as session:
        job = Job(owner_id=owner_id, kind="import", status=status, total=len(candidates), done=failed,
                  failures=failed, faces_found=0, created_at=now, worker=worker,
                  heartbeat_at=now if worker else None, started_at=now if worker else None, attempts=1 if worker else 0,
                  params=json.dumps({"album_id": album_id, "cleanup": [str(p) for p in cleanup],
                                     "run": {"since": now.isoformat(), "done": failed} if worker else {}}))
        session.add(job)
        session.flush()
        session.add_all([
            JobItem(job_id=job.id, seq=seq, source=str(c.source or ""), original_name=c.original_name[:255],
                    origin=c.origin[:2048], status="failed" if c.error else "pending", message=c.error)
            for seq, c in enumerate(candidates)
        ])
        return job.id


def _prepare(owner_id: int, sources: list[Path], album_name: str, source: str,
             origins: list[str] | None) -> tuple[list[Candidate], int, Path]:
    """Check and unpack the input, then make (or find) the album; on any error nothing unpacked is left."""
    clean_album_name(album_name)  # a bad name is refused before anything is unpacked
    staging = staging_dir(owner_id)
    try:
        candidates = gather(sources, staging, origins)
        ref = None if source == "upload" else os.pathsep.join(str(p) for p in sources)[:2048]
        album = create_album(owner_id, album_name, source, ref)
    except Exception:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return candidates, album.id, staging


def run_import(ctx: JobContext) -> dict:
    """The "import" job kind: the pending items through the face batches; staged files go once it ends."""
    return import_pending(ctx)


def import_pending(ctx: JobContext, read: Callable[[dict], bytes] = read_item) -> dict:
    """A job's pending items through the face batches, each item's bytes from `read` (its staged file by default,
    a download for a cloud import); the job's staged files go once it ends; returns the job's summary."""
    album_id = ctx.params.get("album_id")
    with session_scope() as session:
        pending = [(i.seq, {"source": i.source, "original_name": i.original_name, "origin": i.origin,
                            "source_id": i.source_id})
                   for i in session.scalars(select(JobItem).where(JobItem.job_id == ctx.id,
                                                                  JobItem.status == "pending").order_by(JobItem.seq))]
    import_batched(ctx.owner_id, album_id, ctx.id, pending, get_settings().import_workers, ctx.keep_going, read)
    with session_scope() as session:
        job = session.get_one(Job, ctx.id)
        left = session.scalar(select(func.count()).where(JobItem.job_id == ctx.id, JobItem.status == "pending"))
        held = ctx.still_mine(session)
        summary = {"album_id": album_id, "photos": job.done, "faces": job.faces_found, "failures": job.failures}
    if held and (not left or job.cancel_requested):
        delete_import_files(ctx.owner_id, ctx.id, ctx.params)
    elif held and left:
        raise JobFailed(f"The import stopped with {left} photos left to do; try it again.")
    return summary


def delete_import_files(owner_id: int, job_id: int, params: dict) -> None:
    """The import's staged uploads and unpacked zips (the library keeps its own copies)."""
    for folder in params.get("cleanup", []):
        shutil.rmtree(folder, ignore_errors=True)


def _check_sources(owner_id: int, sources: list[Path], source: str) -> None:
    if source == "upload":
        root = staging_root(owner_id).resolve()
        if not all(Path(p).resolve().is_relative_to(root) for p in sources):
            raise BadInput("Uploads must be staged first (jobs.stage_uploads).")
    elif source == "folder":
        with session_scope() as session:
            user = session.get(User, owner_id)
            if user is None or not user.is_admin:
                raise BadInput("Only admins may import folders on the server.")
        for path in sources:
            allowed_folder(path)
    else:
        raise BadInput("An import's source is an upload or a server folder.")


def start_import(owner_id: int, sources: list[Path], album_name: str, source: str = "upload") -> int:
    """Queue an import (staged uploads, or for admins a folder under an allowed root) and return its job id."""
    if not sources:
        raise BadInput("There is nothing to import: choose some photos or a zip.")
    sources = [Path(p) for p in sources]
    _check_sources(owner_id, sources, source)
    root = staging_root(owner_id).resolve()
    cleanup = sorted({root / p.resolve().relative_to(root).parts[0] for p in sources}) if source == "upload" else []
    origins = [p.name for p in sources] if source == "upload" else None
    try:
        candidates, album_id, staging = _prepare(owner_id, sources, album_name, source, origins)
    except Exception:
        for folder in cleanup:  # refused uploads leave nothing behind either
            shutil.rmtree(folder, ignore_errors=True)
        raise
    job_id = create_import_job(owner_id, candidates, album_id, [*cleanup, staging], "queued", None)
    wake_runner()
    return job_id


def run_import_now(owner_id: int, sources: list[Path], album_name: str, source: str = "folder") -> ImportSummary:
    """An import done in the calling thread (the command line): a real job, so a killed run resumes too."""
    started = time.monotonic()
    if not sources:
        raise BadInput("There is nothing to import: give at least one photo, zip or folder.")
    candidates, album_id, staging = _prepare(owner_id, sources, album_name, source, None)
    worker = new_identity()
    job_id = create_import_job(owner_id, candidates, album_id, [staging], "running", worker)
    run_claimed(job_id, worker)
    return import_summary(job_id, time.monotonic() - started)


def import_summary(job_id: int, seconds: float) -> ImportSummary:
    """What an import job came to, counted from its items (the command line prints it)."""
    with session_scope() as session:
        items = session.scalars(select(JobItem).where(JobItem.job_id == job_id).order_by(JobItem.seq)).all()
        job = session.get_one(Job, job_id)
        count = {status: sum(1 for i in items if i.status == status)
                 for status in ("processed", "no_faces", "failed", "duplicate")}
        return ImportSummary(
            photos=count["processed"] + count["no_faces"], faces=job.faces_found, no_face_photos=count["no_faces"],
            failures=count["failed"], duplicates=count["duplicate"], seconds=round(seconds, 2),
            job_id=job_id, failed=[_item_info(i) for i in items if i.status == "failed"])


def stage_uploads(owner_id: int, files: list[tuple[str, bytes | BinaryIO]]) -> list[Path]:
    """Write uploaded files (name, bytes or an open file, copied in chunks) under the owner's staging folder;
    each keeps its own name. A failed write removes what was staged."""
    if not files:
        raise BadInput("There is nothing to import: choose some photos or a zip.")
    folder = staging_dir(owner_id)
    staged = []
    try:
        for number, (name, data) in enumerate(files):
            safe = Path(name.replace("\\", "/")).name.strip() or f"upload-{number}"
            target = folder / f"{number:05d}" / safe[:200]
            target.parent.mkdir()
            if isinstance(data, bytes):
                target.write_bytes(data)
            else:
                with target.open("wb") as out:
                    shutil.copyfileobj(data, out, _STAGE_CHUNK)
            staged.append(target)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return staged


def job_items(owner_id: int, job_id: int, status: str | None = None) -> list[JobItemInfo]:
    with session_scope() as session:
        own_job(session, owner_id, job_id)
        query = select(JobItem).where(JobItem.job_id == job_id)
        if status is not None:
            query = query.where(JobItem.status == status)
        return [_item_info(item) for item in session.scalars(query.order_by(JobItem.seq))]
