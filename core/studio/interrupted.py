"""Whether any studio job waits to be carried on, answered without loading the face engine.

Why apart from jobs.py: importing jobs brings in the engine and PyTorch (seconds of CPU), and every
fresh server asks this at start, where the answer is almost always no.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from core.storage.database import session_scope
from core.storage.studio_models import Job


def unfinished_jobs_exist() -> bool:
    """True when a job is still queued or was running when its server stopped."""
    with session_scope() as session:
        return bool(session.scalar(select(exists().where(Job.status.in_(("queued", "running"))))))
