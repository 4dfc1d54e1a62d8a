"""What the jobs table holds right now, counted by kind and status.

Read at scrape time by the metrics collector and every few seconds by the sampler, so queue depth
and jobs by status cover every process that shares the database (app threads and workers alike).
"""

from __future__ import annotations

from sqlalchemy import func, select

from core.storage.database import session_scope
from core.storage.studio_models import Job

STATUSES = ("queued", "running", "done", "failed", "cancelled")


def job_counts() -> dict[tuple[str, str], int]:
    """{(kind, status): jobs}; one grouped query over the (kind, status) index."""
    with session_scope() as session:
        rows = session.execute(select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status)).all()
    return {(kind, status): count for kind, status, count in rows}


def by_status(counts: dict[tuple[str, str], int]) -> dict[str, int]:
    """Jobs per status over every kind; each known status present, at 0 when there is none."""
    totals = dict.fromkeys(STATUSES, 0)
    for (_kind, status), count in counts.items():
        totals[status] = totals.get(status, 0) + count
    return totals


def queued_by_kind(counts: dict[tuple[str, str], int]) -> dict[str, int]:
    """Queue depth per kind (every kind the table knows, 0 when none of it waits)."""
    depth = dict.fromkeys(sorted({kind for kind, _status in counts}), 0)
    for (kind, status), count in counts.items():
        if status == "queued":
            depth[kind] += count
    return depth
