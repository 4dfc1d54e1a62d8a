"""Video face analysis: one row per analysed video and one per person found in it.

Why beside the studio's tables: the people found link to the owner's studio people, and an analysis of a
shared video links to the site's videos; one metadata keeps one set of migrations (0006). Frames are not
stored, only what the result needs: time ranges, a track centroid embedding and a thumbnail file per person.
The boxes of every sampled frame (for the JSON export) and the annotated video are files in the analysis's
folder under the data directory (`files_dir`), written before the rows that name them.
"""

from __future__ import annotations

import shutil
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.config import get_settings
from core.storage.models import Base, User, UtcDateTime, utcnow

_GONE_OWNERS = "video_analysis_gone_owners"


class VideoAnalysis(Base):
    """One analysed video of one owner; keyed by its job (a rerun of the job replaces it, never doubles it)."""

    __tablename__ = "video_analyses"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    video_id: Mapped[int | None] = mapped_column(ForeignKey("videos.id", ondelete="SET NULL"), index=True)
    source_name: Mapped[str] = mapped_column(String(255))  # the uploaded file's name or the video's title
    files_dir: Mapped[str] = mapped_column(String(300))  # relative to the data directory
    annotated_path: Mapped[str | None] = mapped_column(String(300))  # relative to the data directory
    duration_s: Mapped[float] = mapped_column(Float)
    fps: Mapped[float] = mapped_column(Float)  # the video's own frame rate
    frame_count: Mapped[int] = mapped_column(Integer)
    sample_fps: Mapped[float] = mapped_column(Float)  # frames analysed per second of video
    sampled_frames: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    embedder: Mapped[str] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)  # e.g. "No faces were found in this video."
    timings: Mapped[str] = mapped_column(Text, default="{}")  # JSON: seconds per stage
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    people: Mapped[list[VideoPerson]] = relationship(
        back_populates="analysis", cascade="all, delete-orphan", passive_deletes=True, order_by="VideoPerson.seq"
    )


class VideoPerson(Base):
    """Someone seen in an analysed video: a studio person (while they exist) or an unknown with a numbered label."""

    __tablename__ = "video_analysis_people"
    __table_args__ = (UniqueConstraint("analysis_id", "seq", name="uq_video_analysis_people_analysis_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("video_analyses.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2 ... in order of first appearance; names the thumbnail file
    label: Mapped[str] = mapped_column(String(120))  # "Unknown person 2": shown whenever person_id is None
    # The name shown is the studio person's current one; deleting the person sets this NULL: unknown again.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("studio_people.id", ondelete="SET NULL"), index=True)
    similarity_pct: Mapped[float | None] = mapped_column(Float)  # to the matched studio person (search scale)
    thumbnail_path: Mapped[str] = mapped_column(String(300))  # relative to the data directory
    ranges: Mapped[str] = mapped_column(Text)  # JSON: [[start_s, end_s], ...]
    seconds: Mapped[float] = mapped_column(Float)
    first_seen_s: Mapped[float] = mapped_column(Float)
    sightings: Mapped[int] = mapped_column(Integer)  # sampled frames showing them
    embedder: Mapped[str] = mapped_column(String(40))
    dim: Mapped[int] = mapped_column(Integer)
    centroid: Mapped[bytes] = mapped_column(LargeBinary)  # float32 values, little-endian, `dim` of them

    analysis: Mapped[VideoAnalysis] = relationship(back_populates="people")


# Deleting an account (the ORM delete of its User; the rows go by ON DELETE CASCADE) also deletes its analyses'
# files: the folders are noted when the row is deleted and removed once that transaction has committed.
@event.listens_for(User, "after_delete")
def _note_owner_files(_mapper: object, _connection: object, user: User) -> None:
    session = Session.object_session(user)
    if session is not None:
        session.info.setdefault(_GONE_OWNERS, set()).add(user.id)


@event.listens_for(Session, "after_commit")
def _remove_owner_files(session: Session) -> None:
    for owner_id in session.info.pop(_GONE_OWNERS, ()):
        shutil.rmtree(get_settings().data_dir / "video_analysis" / str(owner_id), ignore_errors=True)


@event.listens_for(Session, "after_rollback")
def _keep_owner_files(session: Session) -> None:
    session.info.pop(_GONE_OWNERS, None)
