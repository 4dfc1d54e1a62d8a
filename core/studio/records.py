"""Frozen records the studio hands out: plain data, safe to keep after the database session has closed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class AlbumInfo:
    id: int
    name: str
    source: str  # "upload", "folder" or "cloud"
    source_ref: str | None
    photo_count: int
    face_count: int
    created_at: datetime


@dataclass(frozen=True)
class PhotoInfo:
    id: int
    original_name: str
    origin: str  # the path, zip member or link it came from
    width: int | None
    height: int | None
    taken_at: datetime | None
    status: str  # "processed", "no_faces" or "failed"
    reason: str | None
    face_count: int
    album_ids: tuple[int, ...]


@dataclass(frozen=True)
class FaceInfo:
    id: int
    photo_id: int
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in the stored photo's pixels (upright)
    score: float
    quality_ok: bool
    quality_reasons: tuple[str, ...]
    embedder: str
    person_id: int | None
    person_name: str | None
    cluster_id: int | None
    named_by: str | None  # "hand", "suggestion" or "clustering"
    suggested_person_id: int | None
    suggested_person_name: str | None


@dataclass(frozen=True)
class PhotoPage:
    items: list[PhotoInfo]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class PhotoDetail:
    photo: PhotoInfo
    faces: list[FaceInfo]


@dataclass(frozen=True)
class JobInfo:
    id: int
    kind: str
    status: str  # "queued", "running", "done", "cancelled" or "failed"
    total: int
    done: int
    faces_found: int
    failures: int
    photos_per_s: float | None
    eta_s: float | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    album_id: int | None


@dataclass(frozen=True)
class JobItemInfo:
    seq: int
    original_name: str
    origin: str
    status: str  # "pending", "processed", "no_faces", "failed" or "duplicate"
    message: str | None
    photo_id: int | None


@dataclass(frozen=True)
class ImportSummary:
    photos: int  # new photos stored (processed or without faces)
    faces: int
    no_face_photos: int
    failures: int
    duplicates: int
    seconds: float
    job_id: int
    failed: list[JobItemInfo] = field(default_factory=list)
