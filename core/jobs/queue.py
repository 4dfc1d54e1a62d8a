"""The jobs table as a queue: enqueue, claim (queued -> running, by one worker only), finish, and the person's
view of their jobs (list, result, cancel, retry, delete); a job whose holder died goes back in the queue."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.jobs import kinds
from core.jobs.holders import held_here, holder_gone
from core.jobs.records import FINISHED, JobInfo
from core.monitoring import metrics
from core.monitoring.logs import log_event
from core.storage.database import session_scope
from core.storage.models import utcnow
from core.storage.studio_models import Job
from core.studio.errors import BadInput, NotFound

_log = logging.getLogger(__name__)
SEALED = "token"  # a parameter holding a sealed secret (a cloud import's token): never shown, dropped at the end


def params_of(job: Job) -> dict:
    return json.loads(job.params or "{}")


def info(job: Job) -> JobInfo:
    """The job as the person sees it, with this run's speed and the time left."""
    params = params_of(job)
    run = params.get("run", {})
    rate = eta = None
    if job.started_at is not None and run:
        end = job.finished_at or utcnow()
        elapsed = (end - datetime.fromisoformat(run["since"])).total_seconds()
        done_now = job.done - run.get("done", 0)
        if elapsed > 0 and done_now > 0:
            rate = done_now / elapsed
            eta = max(job.total - job.done, 0) / rate if job.status in ("running", "queued") else 0.0
    return JobInfo(id=job.id, kind=job.kind, status=job.status, total=job.total, done=job.done,
                   faces_found=job.faces_found, failures=job.failures, items_per_s=rate, eta_s=eta,
                   created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at,
                   error=job.error, stage=job.stage, attempts=job.attempts or 0,
                   params={k: v for k, v in params.items() if k not in ("run", "cleanup", SEALED)})


def own_job(session, owner_id: int, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or job.owner_id != owner_id:
        raise NotFound("There is no such job in your history.")
    return job


def enqueue(owner_id: int, kind: str, params: dict, total: int = 0, wake: bool = True) -> int:
    """Queue a job and wake this process's runner; returns the job id."""
    if kind not in kinds.KINDS:
        raise BadInput(f"There is no job kind called {kind!r}.")
    with session_scope() as session:
        job = Job(owner_id=owner_id, kind=kind, status="queued", total=total, done=0, failures=0, faces_found=0,
                  params=json.dumps(params), created_at=utcnow())
        session.add(job)
        session.flush()
        job_id = job.id
    metrics.job_event(kind, "queued")
    if wake:
        from core.jobs.runner import wake_runner

        wake_runner(job_id)
    return job_id


def _take(session: Session, job: Job, worker: str) -> bool:
    """queued -> running for `worker`, by one conditional UPDATE: False when another worker changed it first."""
    now = utcnow()
    params = params_of(job)
    params["run"] = {"since": now.isoformat(), "done": job.done}  # this run's start, for the speed
    return session.execute(
        update(Job).where(Job.id == job.id, Job.status == "queued").values(
            status="running", worker=worker, heartbeat_at=now, started_at=func.coalesce(Job.started_at, now),
            params=json.dumps(params), attempts=Job.attempts + 1, error=None)
    ).rowcount == 1


def claim(job_id: int, worker: str) -> bool:
    """Take a queued job for `worker`; False when another worker took it first."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        return job is not None and _take(session, job, worker)


def claim_next(worker: str) -> int | None:
    """The oldest queued job, claimed for `worker`, or None when the queue is empty.

    PostgreSQL locks the oldest queued row that no other claimer holds (`FOR UPDATE SKIP LOCKED`) and takes
    it in the same transaction, so racing workers take different jobs at once instead of queueing on one
    row. SQLite has no row locks: a few of the oldest are tried in turn, each with `_take`'s conditional update.
    """
    queued = (select(Job).where(Job.status == "queued", Job.kind.in_(list(kinds.KINDS)))
              .order_by(Job.created_at, Job.id))
    with session_scope() as session:
        if session.get_bind().dialect.name == "postgresql":
            job = session.scalars(queued.limit(1).with_for_update(skip_locked=True)).first()
            return job.id if job is not None and _take(session, job, worker) else None
        candidates = session.scalars(queued.with_only_columns(Job.id).limit(20)).all()
    for job_id in candidates:
        if claim(job_id, worker):
            return job_id
    return None


def finish(job_id: int, worker: str, result: dict | None, error: str | None) -> str | None:
    """End a held job: failed with `error`, cancelled if asked, else done with `result`; None if not held."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None or job.worker != worker or job.status != "running":
            return None  # taken over, or ended elsewhere
        if error:
            job.status, job.error = "failed", error
        elif job.cancel_requested:
            job.status = "cancelled"
        else:
            job.status, job.result = "done", json.dumps(result) if result is not None else None
        job.finished_at = utcnow()
        status, kind, took = job.status, job.kind, (job.finished_at - job.started_at).total_seconds()
    metrics.job_event(kind, status)
    log_event(f"job_{status}", level="error" if status == "failed" else "info", job_id=job_id, kind=kind,
              seconds=round(took, 2), error=error)
    return status


def job_info(owner_id: int, job_id: int) -> JobInfo:
    with session_scope() as session:
        return info(own_job(session, owner_id, job_id))


def recent_jobs(owner_id: int, kind: str | None = None, limit: int = 50) -> list[JobInfo]:
    """The person's jobs, newest first."""
    query = select(Job).where(Job.owner_id == owner_id)
    if kind is not None:
        query = query.where(Job.kind == kind)
    with session_scope() as session:
        return [info(job) for job in session.scalars(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit))]


def job_result(owner_id: int, job_id: int) -> dict | None:
    """What a finished job made (its handler's dict), or None before it is done."""
    with session_scope() as session:
        job = own_job(session, owner_id, job_id)
        return json.loads(job.result) if job.status == "done" and job.result else None


def cancel_job(owner_id: int, job_id: int) -> None:
    """A queued job stops at once; a running one at its next check (the items in flight finish)."""
    with session_scope() as session:
        job = own_job(session, owner_id, job_id)
        if job.status == "queued":
            job.status, job.finished_at = "cancelled", utcnow()
            params = params_of(job)
            if params.pop(SEALED, None) is not None:  # it never ran: nothing else would drop the secret
                job.params = json.dumps(params)
        elif job.status == "running":
            job.cancel_requested = True


def retry_job(owner_id: int, job_id: int) -> None:
    """Queue a failed or cancelled job again: it carries on where it stopped (work already recorded stays)."""
    with session_scope() as session:
        job = own_job(session, owner_id, job_id)
        if job.status not in ("failed", "cancelled"):
            raise BadInput("Only a failed or cancelled job can be tried again.")
        job.status, job.error, job.cancel_requested, job.finished_at, job.worker = "queued", None, False, None, None
        kind = job.kind
    metrics.job_event(kind, "queued")
    from core.jobs.runner import wake_runner

    wake_runner(job_id)


def delete_job(owner_id: int, job_id: int) -> None:
    """Remove a finished job from the history with what it left on disk; a queued or running one is refused."""
    with session_scope() as session:
        job = own_job(session, owner_id, job_id)
        if job.status not in FINISHED:
            raise BadInput("Cancel the job first; a queued or running job cannot be deleted.")
        kind, params = job.kind, params_of(job)
    remove = kinds.deleter(kind)
    if remove is not None:
        remove(owner_id, job_id, params)
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is not None:
            session.delete(job)


def resume_interrupted() -> int:
    """Queue again every running job whose worker died (dead process here, or stale heartbeat); returns how many."""
    now = utcnow()
    with session_scope() as session:
        running = session.execute(select(Job.id, Job.worker, Job.heartbeat_at).where(Job.status == "running")).all()
    resumed = 0
    for job_id, worker, heartbeat in running:
        if held_here(worker) or not holder_gone(worker, heartbeat, now):
            continue
        with session_scope() as session:
            resumed += session.execute(update(Job).where(Job.id == job_id, Job.status == "running",
                                                         Job.worker == worker)
                                       .values(status="queued", worker=None)).rowcount
    if resumed:
        log_event("jobs_resumed", count=resumed)
        from core.jobs.runner import wake_runner

        wake_runner()
    return resumed


def queue_depth() -> dict[str, int]:
    """Queued jobs per kind (for monitoring)."""
    with session_scope() as session:
        rows = session.execute(select(Job.kind, func.count()).where(Job.status == "queued").group_by(Job.kind)).all()
    return {kind: count for kind, count in rows}
