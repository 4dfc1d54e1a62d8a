"""Running jobs: claimed one at a time by each runner thread, with a heartbeat beside the handler.

In the app process (the default, no extra service) `WEBTUBE_JOB_THREADS` threads wake when a job is
queued here and stop when the queue is empty; `python -m core worker` runs the same loop in its own
process, polling the database, so heavy work can leave the web server. Claims are conditional
updates, so two runners, in one process or in two, never hold the same job. With WEBTUBE_BROKER_URL set the
app runs no job itself: a wake sends the job's id to the broker (core/jobs/broker_relay.py) and
`python -m core worker` processes take it from there (core/jobs/broker_worker.py).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import update

from core.config import get_settings
from core.jobs import kinds, queue
from core.jobs.context import JobContext, JobFailed
from core.jobs.holders import HEARTBEAT_S, new_identity
from core.monitoring import metrics
from core.monitoring.logs import log_event
from core.storage.database import session_scope
from core.storage.models import utcnow
from core.storage.studio_models import Job

_log = logging.getLogger(__name__)


def _beat(job_id: int, worker: str, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_S):
        try:
            with session_scope() as session:
                session.execute(update(Job).where(Job.id == job_id, Job.worker == worker)
                                .values(heartbeat_at=utcnow()))
        except Exception:
            _log.exception("job heartbeat")


def context_for(job_id: int, worker: str) -> JobContext:
    with session_scope() as session:
        job = session.get_one(Job, job_id)
        return JobContext(id=job.id, owner_id=job.owner_id, kind=job.kind, params=queue.params_of(job), worker=worker,
                          done_before=job.done)


def run_claimed(job_id: int, worker: str) -> str | None:
    """Run one job this worker holds to its end; returns the status it ended in (None if it was taken over)."""
    ctx = context_for(job_id, worker)
    stop = threading.Event()
    threading.Thread(target=_beat, args=(job_id, worker, stop), daemon=True, name=f"job-beat-{job_id}").start()
    metrics.job_event(ctx.kind, "started")
    log_event("job_started", job_id=job_id, kind=ctx.kind, owner_id=ctx.owner_id, worker=worker)
    result, error = None, None
    try:
        result = kinds.handler(ctx.kind)(ctx)
    except JobFailed as exc:
        error = str(exc)
    except Exception as exc:  # one job's bug is that job's failure, never the runner's end
        _log.exception("job %s (%s) failed", job_id, ctx.kind)
        error = f"The job stopped: {type(exc).__name__}."
    finally:
        stop.set()
    return queue.finish(job_id, worker, result, error)


class JobRunner:
    """Runner threads in this process: woken by `wake()`, each idles out once the queue is empty."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._wake = threading.Event()
        self._running = 0
        self._lock = threading.Lock()

    def wake(self) -> None:
        with self._lock:
            self._wake.set()
            while self._running < self.threads:
                self._running += 1
                threading.Thread(target=self._loop, name=f"jobs-{self._running}", daemon=True).start()

    def _loop(self) -> None:
        worker = new_identity()
        while True:
            self._wake.clear()
            job_id = None
            try:
                job_id = queue.claim_next(worker)
                if job_id is not None:
                    run_claimed(job_id, worker)
            except Exception:
                _log.exception("job runner")
            if job_id is None:
                with self._lock:
                    if not self._wake.is_set():
                        self._running -= 1  # idle: the next enqueue wakes a thread again
                        return


_runner: JobRunner | None = None
_runner_lock = threading.Lock()


def wake_runner(job_id: int | None = None) -> None:
    """Let this process's runner threads look at the queue (none when WEBTUBE_JOB_THREADS is 0). With
    WEBTUBE_BROKER_URL set, send the job (`job_id`, or every queued one not sent yet) to the broker instead."""
    global _runner
    settings = get_settings()
    if settings.broker_url:
        from core.jobs.broker_relay import send_queued

        send_queued(job_id)
        return
    threads = settings.job_threads
    if threads == 0:
        return  # jobs are left to `python -m core worker` processes
    with _runner_lock:
        if _runner is None or _runner.threads != threads:
            _runner = JobRunner(threads)
    _runner.wake()


def run_now(job_id: int) -> str | None:
    """Claim and run one queued job in the calling thread (the command line, tests); returns its end status."""
    worker = new_identity()
    if not queue.claim(job_id, worker):
        return None
    return run_claimed(job_id, worker)
