"""Queued jobs out to the broker: the database says which jobs wait, and each is sent once per spell in the queue.

Why sent from the database's state and not only from `enqueue`: every way a job gets (back) in the queue (queued,
an import started, retried, resumed after its holder died, handed back by a stopping worker) ends in a call to
`core.jobs.runner.wake_runner`, and a send that failed (the broker away) must still happen later. So a wake
without a job id sends every queued job this process has not sent in its current spell (`attempts` grows with
each claim, so it tells the spells apart); a failed send is not recorded, and the next wake makes it. A job
sent twice is harmless: a worker's claim is one conditional update, so the second delivery finds it taken.
A worker idle for WEBTUBE_BROKER_REDELIVER_S sends again the jobs still queued after that long, which only a
lost message explains (a broker that kept no copy, a stream trimmed at its cap).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import select

from core.config import get_settings
from core.jobs import kinds
from core.jobs.broker_link import get_link
from core.monitoring.logs import log_event
from core.storage.database import session_scope
from core.storage.models import utcnow
from core.storage.studio_models import Job

_sent: dict[int, tuple[int, float]] = {}  # job id -> (its attempts when sent, time.monotonic() then)
_sent_for = ""  # the database those job ids belong to (tests switch databases within one process)
_lock = threading.Lock()


def _check_database() -> None:
    global _sent_for
    database = get_settings().database_url
    if database != _sent_for:
        _sent.clear()
        _sent_for = database


def _queued(job_id: int | None = None) -> list[tuple[int, int, datetime]]:
    """Queued jobs (or just `job_id` if it is queued): id, attempts, created_at, oldest first."""
    query = select(Job.id, Job.attempts, Job.created_at).where(Job.status == "queued", Job.kind.in_(list(kinds.KINDS)))
    if job_id is not None:
        query = query.where(Job.id == job_id)
    with session_scope() as session:
        return [tuple(row) for row in session.execute(query.order_by(Job.created_at, Job.id))]


def _send(job_id: int, attempts: int) -> bool:
    try:
        get_link().publish(job_id)
    except Exception as exc:
        log_event("job_broker_unreachable", level="warning", job_id=job_id, error=f"{type(exc).__name__}: {exc}")
        return False
    _sent[job_id] = (attempts, time.monotonic())
    return True


def send_queued(job_id: int | None = None) -> int:
    """Send `job_id` (just queued or retried), or else every queued job not yet sent in its spell; returns how many."""
    with _lock:
        _check_database()
        if job_id is not None:
            return sum(_send(id_, attempts) for id_, attempts, _ in _queued(job_id))
        queued = _queued()
        waiting = {id_ for id_, _, _ in queued}
        for stale in [id_ for id_ in _sent if id_ not in waiting]:
            del _sent[stale]
        sent = 0
        for id_, attempts, _ in queued:
            if _sent.get(id_, (None,))[0] != attempts:
                if not _send(id_, attempts):
                    break  # the broker is away: the rest waits for the next wake too
                sent += 1
        return sent


def send_again(older_than_s: float) -> int:
    """Send again the jobs queued for over `older_than_s` and not sent from here in that time; returns how many."""
    with _lock:
        _check_database()
        before, now = utcnow() - timedelta(seconds=older_than_s), time.monotonic()
        sent = 0
        for id_, attempts, created in _queued():
            last = _sent.get(id_)
            if created < before and (last is None or now - last[1] >= older_than_s):
                if not _send(id_, attempts):
                    break
                sent += 1
        if sent:
            log_event("jobs_sent_again", count=sent)
        return sent
