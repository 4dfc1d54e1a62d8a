"""The face studio's tables: albums, photos, faces, people, and the background jobs that fill them.

Why here, beside models.py: one schema, one metadata, one set of migrations; the studio's tables
are many, so they get their own module. Every row carries its owner: a library belongs to the
account that imported it, and every query filters by owner.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.storage.models import Base, UtcDateTime, utcnow

album_photos = Table(
    "studio_album_photos",
    Base.metadata,
    Column("album_id", ForeignKey("studio_albums.id", ondelete="CASCADE"), primary_key=True),
    Column("photo_id", ForeignKey("studio_photos.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Album(Base):
    """A named set of photos; a photo may sit in several albums of its owner's library."""

    __tablename__ = "studio_albums"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_studio_albums_owner_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(20))  # "upload", "folder" or "cloud"
    source_ref: Mapped[str | None] = mapped_column(String(2048))  # the folder or link it came from
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    photos: Mapped[list[Photo]] = relationship(secondary=album_photos, back_populates="albums")


class Photo(Base):
    """One picture, stored once per library (same SHA-256, same photo) under the data directory."""

    __tablename__ = "studio_photos"
    __table_args__ = (
        UniqueConstraint("owner_id", "sha256", name="uq_studio_photos_owner_sha256"),
        Index("ix_studio_photos_owner_source", "owner_id", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(255))
    origin: Mapped[str] = mapped_column(String(2048))  # the path or link it came from
    source_id: Mapped[str | None] = mapped_column(String(300))  # its id at a cloud provider: re-imports skip it
    stored_path: Mapped[str | None] = mapped_column(String(300))  # relative to the data directory
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # from EXIF, when it says
    status: Mapped[str] = mapped_column(String(20))  # "processed", "no_faces" or "failed"
    reason: Mapped[str | None] = mapped_column(Text)  # why no faces, or why it failed
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    albums: Mapped[list[Album]] = relationship(secondary=album_photos, back_populates="photos")
    faces: Mapped[list[Face]] = relationship(back_populates="photo", cascade="all, delete-orphan", passive_deletes=True)


class Person(Base):
    """Someone in an owner's photos, named by the owner."""

    __tablename__ = "studio_people"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_studio_people_owner_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    notes: Mapped[str] = mapped_column(Text, default="")
    cover_face_id: Mapped[int | None] = mapped_column(Integer)  # a face of this person; cleared with the face
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Face(Base):
    """One face found in a photo: where, how sure, how good, its embedding, and who it is (if known)."""

    __tablename__ = "studio_faces"
    __table_args__ = (
        Index("ix_studio_faces_owner_embedder", "owner_id", "embedder"),
        Index("ix_studio_faces_owner_cluster", "owner_id", "cluster_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("studio_photos.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))  # copied from the photo
    x1: Mapped[float] = mapped_column(Float)
    y1: Mapped[float] = mapped_column(Float)
    x2: Mapped[float] = mapped_column(Float)
    y2: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    landmarks: Mapped[str] = mapped_column(Text)  # JSON: five [x, y] points, image pixels
    quality_ok: Mapped[bool] = mapped_column(Boolean)
    quality_reasons: Mapped[str] = mapped_column(Text, default="")  # "; "-joined reasons when not ok
    embedder: Mapped[str] = mapped_column(String(40))
    dim: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)  # float32 values, little-endian, `dim` of them
    person_id: Mapped[int | None] = mapped_column(ForeignKey("studio_people.id", ondelete="SET NULL"), index=True)
    named_by: Mapped[str | None] = mapped_column(String(20))  # "hand", "suggestion" (confirmed) or "clustering"
    suggested_person_id: Mapped[int | None] = mapped_column(ForeignKey("studio_people.id", ondelete="SET NULL"))
    cluster_id: Mapped[int | None] = mapped_column(Integer)  # the latest clustering's group, None = unclustered
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    photo: Mapped[Photo] = relationship(back_populates="faces")


class FaceRejection(Base):
    """"Not this person": remembered so the face is never suggested for that person again."""

    __tablename__ = "studio_face_rejections"

    face_id: Mapped[int] = mapped_column(ForeignKey("studio_faces.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("studio_people.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Job(Base):
    """A background job of any kind (import, re-embed, video analysis) with its progress and result, kept as history."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_created", "status", "created_at"),
        Index("ix_jobs_kind_status", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # "import", "reembed", "video_analysis"
    status: Mapped[str] = mapped_column(String(20))  # "queued", "running", "done", "cancelled", "failed"
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON: what the job was asked to do
    total: Mapped[int] = mapped_column(Integer, default=0)  # items to do
    done: Mapped[int] = mapped_column(Integer, default=0)  # items finished, whatever their outcome
    faces_found: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)  # why the whole job failed, if it did
    worker: Mapped[str | None] = mapped_column(String(120))  # who holds it while running (host:pid)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # a stale heartbeat means resumable
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    result: Mapped[str | None] = mapped_column(Text)  # JSON: what a finished job made
    stage: Mapped[str | None] = mapped_column(String(200))  # what it is doing now, in words
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # runs started, retries included

    items: Mapped[list[JobItem]] = relationship(
        back_populates="job", cascade="all, delete-orphan", passive_deletes=True, order_by="JobItem.seq"
    )


class JobItem(Base):
    """One unit of a job (a file to import): done at most once, so a resumed job neither loses nor doubles."""

    __tablename__ = "job_items"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(2048))  # a staged file under the data directory, or a path
    original_name: Mapped[str] = mapped_column(String(255))
    origin: Mapped[str] = mapped_column(String(2048))  # where the person's file came from (path, zip member)
    source_id: Mapped[str | None] = mapped_column(String(300))  # a cloud item's id at its provider, for the photo
    # pending, processed, no_faces, failed or duplicate
    status: Mapped[str] = mapped_column(String(20), default="pending")
    message: Mapped[str | None] = mapped_column(Text)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("studio_photos.id", ondelete="SET NULL"))

    job: Mapped[Job] = relationship(back_populates="items")


class IndexState(Base):
    """Per owner and face model: a generation, face count and id sum, kept by triggers (migration 0004) in the
    same transaction as each face change, so the search index can tell whether it is in step (core/studio/index)."""

    __tablename__ = "studio_index_state"

    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    embedder: Mapped[str] = mapped_column(String(40), primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger)
    face_count: Mapped[int] = mapped_column(BigInteger)
    id_sum: Mapped[int] = mapped_column(BigInteger)
