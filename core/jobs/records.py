"""What the job system hands out: a job's state and progress as plain data, for pages and the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class JobInfo:
    id: int
    kind: str  # "import", "reembed", "video_analysis"
    status: str  # "queued", "running", "done", "cancelled" or "failed"
    total: int
    done: int
    faces_found: int
    failures: int
    items_per_s: float | None  # this run's speed (photos, faces or frames a second)
    eta_s: float | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    stage: str | None
    attempts: int
    params: dict = field(default_factory=dict)

    @property
    def album_id(self) -> int | None:
        return self.params.get("album_id")

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def duration_s(self) -> float | None:
        """Wall time from the first start to the end (or to now while it runs)."""
        if self.started_at is None:
            return None
        end = self.finished_at or datetime.now(self.started_at.tzinfo)
        return max((end - self.started_at).total_seconds(), 0.0)


FINISHED = ("done", "cancelled", "failed")
