"""Background imports: Job rows with their items, worker threads in the process, cancel, and resume.

The unit of work is the JobItem (one file): the importer records an item's outcome in the same
transaction as its photo and faces, claiming it from "pending" first, so each item is done at most
once and a crash before a commit leaves it pending. A job is held by one worker (`host:pid:token`)
that refreshes `heartbeat_at` every few seconds; `resume_interrupted()` (called at start-up, and
safe to call again) puts back in the queue every running job whose holder is a dead process on this
host or whose heartbeat went stale, and a new runner finishes only its pending items: nothing lost,
nothing doubled. Within a job, WEBTUBE_IMPORT_WORKERS threads analyse files at once (the models run
outside the GIL). Cancelling stops dispatching new items; the ones in flight finish.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import socket
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.config import get_settings
from core.storage.database import session_scope
from core.storage.models import User, utcnow
from core.storage.studio_models import Job, JobItem
from core.studio.errors import BadInput, NotFound
from core.studio.importer import ItemAlreadyDone, import_item
from core.studio.intake import Candidate, allowed_folder, gather, staging_dir, staging_root
from core.studio.library import clean_album_name, create_album
from core.studio.records import ImportSummary, JobInfo, JobItemInfo

HEARTBEAT_S = 5.0
STALE_S = 60.0  # a running job whose holder has been silent this long is taken over
_log = logging.getLogger(__name__)
_HOST = socket.gethostname()


def _identity() -> str:
    return f"{_HOST}:{os.getpid()}:{secrets.token_hex(3)}"


def _params(job: Job) -> dict:
    return json.loads(job.params or "{}")


def _job_info(job: Job) -> JobInfo:
    run = _params(job).get("run", {})
    rate = eta = None
    if job.started_at is not None and run:
        end = job.finished_at or utcnow()
        since = datetime.fromisoformat(run["since"])
        elapsed = (end - since).total_seconds()
        done_now = job.done - run.get("done", 0)
        if elapsed > 0 and done_now > 0:
            rate = done_now / elapsed
            eta = (job.total - job.done) / rate if job.status in ("running", "queued") else 0.0
    return JobInfo(id=job.id, kind=job.kind, status=job.status, total=job.total, done=job.done,
                   faces_found=job.faces_found, failures=job.failures, photos_per_s=rate, eta_s=eta,
                   created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at,
                   error=job.error, album_id=_params(job).get("album_id"))


def _item_info(item: JobItem) -> JobItemInfo:
    return JobItemInfo(seq=item.seq, original_name=item.original_name, origin=item.origin, status=item.status,
                       message=item.message, photo_id=item.photo_id)


def _own_job(session: Session, owner_id: int, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or job.owner_id != owner_id:
        raise NotFound("There is no such import in your library.")
    return job


def _create_job(owner_id: int, candidates: list[Candidate], album_id: int, cleanup: list[Path],
                status: str, worker: str | None) -> int:
    """The job and all its items in one transaction; files known to fail are recorded as done failures."""
    failed = sum(1 for c in candidates if c.error)
    now = utcnow()
    with session_scope() as session:
        job = Job(owner_id=owner_id, kind="import", status=status, total=len(candidates), done=failed,
                  failures=failed, faces_found=0, created_at=now, worker=worker,
                  heartbeat_at=now if worker else None, started_at=now if worker else None,
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


class JobRunner:
    """Runs queued import jobs in background threads of this process, one job at a time."""

    def __init__(self) -> None:
        self.identity = _identity()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Make sure the runner thread is running; it stops by itself once no job is queued."""
        with self._lock:
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="studio-jobs", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            self._wake.clear()
            job_id = None
            try:
                job_id = self._claim_next()
                if job_id is not None:
                    self.run_job(job_id)
            except Exception:
                _log.exception("studio job runner")
            if job_id is None:
                with self._lock:
                    if not self._wake.is_set():
                        self._thread = None  # idle: a later start_import or resume starts it again
                        return

    def _claim_next(self) -> int | None:
        with session_scope() as session:
            candidates = session.scalars(
                select(Job.id).where(Job.kind == "import", Job.status == "queued").order_by(Job.created_at, Job.id)
            ).all()
        for job_id in candidates:
            if claim(job_id, self.identity):
                return job_id
        return None

    def run_job(self, job_id: int) -> None:
        """Do the job's pending items (it must be claimed by this runner); then mark it done or cancelled."""
        run_claimed(job_id, self.identity)


def claim(job_id: int, worker: str) -> bool:
    """Take a queued job for `worker`; False when another worker took it first."""
    now = utcnow()
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None:
            return False
        params = _params(job)
        params["run"] = {"since": now.isoformat(), "done": job.done}  # this run's start, for photos per second
        taken = session.execute(
            update(Job).where(Job.id == job_id, Job.status == "queued").values(
                status="running", worker=worker, heartbeat_at=now, started_at=func.coalesce(Job.started_at, now),
                params=json.dumps(params))
        ).rowcount
        return taken == 1


def _beat(job_id: int, worker: str, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_S):
        try:
            with session_scope() as session:
                session.execute(update(Job).where(Job.id == job_id, Job.worker == worker)
                                .values(heartbeat_at=utcnow()))
        except Exception:
            _log.exception("studio job heartbeat")


def _keep_going(job_id: int, worker: str) -> bool:
    with session_scope() as session:
        job = session.get(Job, job_id)
        return job is not None and job.worker == worker and job.status == "running" and not job.cancel_requested


def _one(owner_id: int, album_id: int, job_id: int, seq: int, item: dict) -> None:
    try:
        import_item(owner_id, album_id, job_id, seq, item)
    except ItemAlreadyDone:
        _log.info("studio: job %s item %s was recorded by another worker", job_id, seq)
    except Exception as exc:  # one bad file is one line in the report, never the end of the import
        _log.exception("studio: job %s item %s", job_id, seq)
        from core.studio.importer import record_failure

        with contextlib.suppress(ItemAlreadyDone):
            record_failure(job_id, seq, f"The photo could not be imported ({type(exc).__name__}).")


def run_claimed(job_id: int, worker: str) -> None:
    """The worker loop for one claimed job: pending items through a small thread pool, a heartbeat beside it."""
    with session_scope() as session:
        job = session.get_one(Job, job_id)
        owner_id, album_id = job.owner_id, _params(job).get("album_id")
        pending = [(i.seq, {"source": i.source, "original_name": i.original_name, "origin": i.origin})
                   for i in session.scalars(select(JobItem).where(JobItem.job_id == job_id,
                                                                  JobItem.status == "pending").order_by(JobItem.seq))]
    stop = threading.Event()
    beat = threading.Thread(target=_beat, args=(job_id, worker, stop), daemon=True, name=f"studio-beat-{job_id}")
    beat.start()
    workers = get_settings().import_workers
    try:
        with ThreadPoolExecutor(workers, thread_name_prefix=f"studio-import-{job_id}") as pool:
            inflight: set[Future] = set()
            for seq, item in pending:
                if not _keep_going(job_id, worker):
                    break
                while len(inflight) >= workers:
                    _, inflight = wait(inflight, return_when=FIRST_COMPLETED)
                inflight.add(pool.submit(_one, owner_id, album_id, job_id, seq, item))
            wait(inflight)
        _finish(job_id, worker, None)
    except Exception as exc:
        _log.exception("studio: job %s failed", job_id)
        _finish(job_id, worker, f"The import stopped: {type(exc).__name__}.")
    finally:
        stop.set()


def _finish(job_id: int, worker: str, error: str | None) -> None:
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None or job.worker != worker or job.status != "running":
            return  # taken over, or already finished elsewhere
        left = session.scalar(select(func.count()).where(JobItem.job_id == job_id, JobItem.status == "pending"))
        if error:
            job.status, job.error = "failed", error
        elif left and job.cancel_requested:
            job.status = "cancelled"
        elif left:
            return  # stopped without finishing (taken over): leave it for whoever holds it
        else:
            job.status = "done"
        job.finished_at = utcnow()
        cleanup = _params(job).get("cleanup", [])
    for folder in cleanup:
        shutil.rmtree(folder, ignore_errors=True)


_runner: JobRunner | None = None
_runner_lock = threading.Lock()


def runner() -> JobRunner:
    """This process's runner, started on first use."""
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = JobRunner()
    _runner.start()
    return _runner


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
    job_id = _create_job(owner_id, candidates, album_id, [*cleanup, staging], "queued", None)
    runner()
    return job_id


def run_import_now(owner_id: int, sources: list[Path], album_name: str, source: str = "folder") -> ImportSummary:
    """An import done in the calling thread (the command line): a real job, so a killed run resumes too."""
    started = time.monotonic()
    if not sources:
        raise BadInput("There is nothing to import: give at least one photo, zip or folder.")
    candidates, album_id, staging = _prepare(owner_id, sources, album_name, source, None)
    worker = _identity()
    job_id = _create_job(owner_id, candidates, album_id, [staging], "running", worker)
    run_claimed(job_id, worker)
    with session_scope() as session:
        items = session.scalars(select(JobItem).where(JobItem.job_id == job_id).order_by(JobItem.seq)).all()
        job = session.get_one(Job, job_id)
        count = {status: sum(1 for i in items if i.status == status)
                 for status in ("processed", "no_faces", "failed", "duplicate")}
        return ImportSummary(
            photos=count["processed"] + count["no_faces"], faces=job.faces_found, no_face_photos=count["no_faces"],
            failures=count["failed"], duplicates=count["duplicate"], seconds=round(time.monotonic() - started, 2),
            job_id=job_id, failed=[_item_info(i) for i in items if i.status == "failed"])


def stage_uploads(owner_id: int, files: list[tuple[str, bytes]]) -> list[Path]:
    """Write uploaded files (name, bytes) under the owner's staging folder; each keeps its own name."""
    if not files:
        raise BadInput("There is nothing to import: choose some photos or a zip.")
    folder = staging_dir(owner_id)
    staged = []
    for number, (name, data) in enumerate(files):
        safe = Path(name.replace("\\", "/")).name.strip() or f"upload-{number}"
        target = folder / f"{number:05d}" / safe[:200]
        target.parent.mkdir()
        target.write_bytes(data)
        staged.append(target)
    return staged


def job_info(owner_id: int, job_id: int) -> JobInfo:
    with session_scope() as session:
        return _job_info(_own_job(session, owner_id, job_id))


def recent_jobs(owner_id: int, limit: int = 20) -> list[JobInfo]:
    with session_scope() as session:
        jobs = session.scalars(select(Job).where(Job.owner_id == owner_id)
                               .order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)).all()
        return [_job_info(job) for job in jobs]


def job_items(owner_id: int, job_id: int, status: str | None = None) -> list[JobItemInfo]:
    with session_scope() as session:
        _own_job(session, owner_id, job_id)
        query = select(JobItem).where(JobItem.job_id == job_id)
        if status is not None:
            query = query.where(JobItem.status == status)
        return [_item_info(item) for item in session.scalars(query.order_by(JobItem.seq))]


def cancel_job(owner_id: int, job_id: int) -> None:
    """Stop an import: a queued one at once, a running one after the files in flight; finished ones stay as they are."""
    with session_scope() as session:
        job = _own_job(session, owner_id, job_id)
        if job.status == "queued":
            job.status, job.finished_at = "cancelled", utcnow()
        elif job.status == "running":
            job.cancel_requested = True


def _holder_gone(worker: str | None, heartbeat: datetime | None, now: datetime) -> bool:
    if not worker:
        return True
    host, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    if host == _HOST and pid.isdigit() and int(pid) != os.getpid():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
    return heartbeat is None or now - heartbeat > timedelta(seconds=STALE_S)


def resume_interrupted() -> int:
    """Queue again every running job whose worker died (dead process here, or stale heartbeat); returns how many."""
    now = utcnow()
    with session_scope() as session:
        running = session.execute(select(Job.id, Job.worker, Job.heartbeat_at).where(
            Job.kind == "import", Job.status == "running")).all()
    resumed = 0
    for job_id, worker, heartbeat in running:
        if worker is not None and worker.rpartition(":")[0] == f"{_HOST}:{os.getpid()}":
            continue  # held by this very process
        if _holder_gone(worker, heartbeat, now):
            with session_scope() as session:
                resumed += session.execute(update(Job).where(Job.id == job_id, Job.status == "running",
                                                             Job.worker == worker)
                                           .values(status="queued", worker=None)).rowcount
    if resumed:
        runner()
    return resumed
