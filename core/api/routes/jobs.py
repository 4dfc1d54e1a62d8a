"""/api/v1/jobs: the state, progress and result of imports and video analyses, and cancelling them."""

from __future__ import annotations

from fastapi import APIRouter

from core.api.auth import Reader, Writer
from core.api.problems import Problem
from core.api.records import as_json
from core.jobs import queue
from core.jobs.records import JobInfo

router = APIRouter(prefix="/jobs", tags=["jobs"])


def _status(job: JobInfo) -> dict:
    """What a client polls: the state, how far along and how fast, never the job's internal parameters."""
    return {"id": job.id, "kind": job.kind, "status": job.status, "stage": job.stage, "total": job.total,
            "done": job.done, "progress": round(job.done / job.total, 4) if job.total else None,
            "faces_found": job.faces_found, "failures": job.failures, "items_per_s": job.items_per_s,
            "eta_s": job.eta_s, "error": job.error, "album_id": job.album_id,
            **as_json({"created_at": job.created_at, "started_at": job.started_at, "finished_at": job.finished_at})}


def unfinished(job: JobInfo) -> None:
    """409 while the job is queued or running: its result does not exist yet."""
    if not job.finished:
        raise Problem(409, f"The job is still {job.status} ({job.done} of {job.total} done); ask again when it "
                           "is done.", {"Retry-After": "2"})


@router.get("", summary="My recent jobs, newest first")
def recent(key: Reader, kind: str | None = None, limit: int = 50) -> list[dict]:
    return [_status(job) for job in queue.recent_jobs(key.user_id, kind, max(1, min(limit, 200)))]


@router.get("/{job_id}", summary="A job's state and progress")
def status(key: Reader, job_id: int) -> dict:
    return _status(queue.job_info(key.user_id, job_id))


@router.post("/{job_id}/cancel", summary="Cancel a queued or running job (what it finished stays)")
def cancel(key: Writer, job_id: int) -> dict:
    queue.cancel_job(key.user_id, job_id)
    return _status(queue.job_info(key.user_id, job_id))


@router.get("/{job_id}/result", summary="A finished job's result")
def result(key: Reader, job_id: int) -> dict:
    job = queue.job_info(key.user_id, job_id)
    unfinished(job)
    return {"status": job.status, "error": job.error, "result": queue.job_result(key.user_id, job_id)}
