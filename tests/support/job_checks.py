"""Checks the job tests share: waiting for a job's state, and that a library holds nothing twice."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select

from core.jobs import queue
from core.jobs.records import JobInfo
from core.storage.database import session_scope
from core.storage.studio_models import Face, Photo


def wait_for_job(owner_id: int, job_id: int, until: Callable[[JobInfo], bool], seconds: float = 180) -> JobInfo:
    """The job's info once `until` holds for it; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if until(info := queue.job_info(owner_id, job_id)):
            return info
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} never got there: {queue.job_info(owner_id, job_id)}")


def assert_no_doubles(owner_id: int) -> None:
    """Each photo once, each face once: no two faces of one photo share a box."""
    with session_scope() as session:
        boxes = session.execute(select(Face.photo_id, Face.x1, Face.y1).where(Face.owner_id == owner_id)).all()
        shas = session.scalars(select(Photo.sha256).where(Photo.owner_id == owner_id)).all()
    assert len(boxes) == len(set(boxes)) and len(shas) == len(set(shas))
