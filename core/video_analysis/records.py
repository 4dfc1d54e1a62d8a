"""The records the pages get: plain frozen dataclasses, paths absolute, times in seconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class TimeRange:
    start_s: float
    end_s: float


@dataclass(frozen=True)
class FoundPerson:
    """Someone seen in an analysed video: `name` is the studio person's current name, else the label."""

    id: int
    seq: int
    label: str
    name: str
    person_id: int | None
    known: bool
    similarity_pct: float | None
    thumbnail: Path
    ranges: tuple[TimeRange, ...]
    seconds: float
    first_seen_s: float
    sightings: int


@dataclass(frozen=True)
class AnalysisInfo:
    id: int
    job_id: int | None
    video_id: int | None
    video_title: str | None
    source_name: str
    duration_s: float
    fps: float
    frame_count: int
    sample_fps: float
    sampled_frames: int
    width: int
    height: int
    embedder: str
    annotated: Path | None
    message: str | None
    timings: dict[str, float]
    created_at: datetime
    people: tuple[FoundPerson, ...]


@dataclass(frozen=True)
class AnalysisSummary:
    id: int
    job_id: int | None
    video_id: int | None
    video_title: str | None
    source_name: str
    duration_s: float
    created_at: datetime
    people_count: int
    names: tuple[str, ...]


@dataclass(frozen=True)
class PersonAppearance:
    """One analysed video in which a studio person appears ("Videos with this person")."""

    analysis_id: int
    job_id: int | None
    video_id: int | None
    video_title: str | None
    source_name: str
    created_at: datetime
    ranges: tuple[TimeRange, ...]
    seconds: float
    thumbnail: Path
