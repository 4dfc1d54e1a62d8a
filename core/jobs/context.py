"""What a job's handler is given: its parameters, and the ways to report progress and to hear a cancel."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.monitoring import metrics
from core.storage.database import session_scope
from core.storage.models import utcnow
from core.storage.studio_models import Job

PROGRESS_EVERY_S = 1.0  # progress is written at most this often: a frame loop must not become a write loop


class JobFailed(Exception):
    """Raised by a handler with one sentence for the person; the job ends "failed" with it."""


@dataclass
class JobContext:
    id: int
    owner_id: int
    kind: str
    params: dict
    worker: str
    done_before: int = 0  # items an earlier run of this job finished (not counted again in the metrics)
    _last_write: float = field(default=0.0, repr=False)
    _counted: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        self._counted = self.done_before

    def keep_going(self) -> bool:
        """False once the job was cancelled or taken over by another worker: the handler should return soon."""
        with session_scope() as session:
            return self.still_mine(session, cancelled_too=True)

    def still_mine(self, session: Session, cancelled_too: bool = False) -> bool:
        """Inside the caller's transaction: does this worker still hold the running job? Check before committing
        results, so a worker that was presumed dead never overwrites the one that took over."""
        job = session.get(Job, self.id)
        held = job is not None and job.worker == self.worker and job.status == "running"
        return held and not (cancelled_too and job.cancel_requested)

    def progress(self, done: int, total: int | None = None, stage: str | None = None,
                 faces_found: int | None = None, force: bool = False) -> None:
        """Record how far the job is (throttled); also the heartbeat's proof of life."""
        if done > self._counted:
            metrics.items_processed(self.kind, done - self._counted)
            self._counted = done
        now = time.monotonic()
        if not force and now - self._last_write < PROGRESS_EVERY_S:
            return
        self._last_write = now
        values: dict = {"done": done, "heartbeat_at": utcnow()}
        if total is not None:
            values["total"] = total
        if stage is not None:
            values["stage"] = stage[:200]
        if faces_found is not None:
            values["faces_found"] = faces_found
        with session_scope() as session:
            session.execute(update(Job).where(Job.id == self.id, Job.worker == self.worker).values(**values))
