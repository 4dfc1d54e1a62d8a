"""Reading analyses for the pages and the command line, strictly within one owner's; deleting one; and
"Add to my people" for someone the analysis could not name.

A found person's name is read through their studio person each time, so a rename shows everywhere and a
deleted studio person (the foreign key is SET NULL) reads as the "Unknown person N" label again.
"""

from __future__ import annotations

import json

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.storage.database import purge_deleted, session_scope
from core.storage.models import Video
from core.storage.studio_models import Person
from core.storage.video_models import VideoAnalysis, VideoPerson
from core.studio.errors import BadInput, NotFound, owned
from core.video_analysis import files
from core.video_analysis.records import AnalysisInfo, AnalysisSummary, FoundPerson, PersonAppearance, TimeRange
from core.videos.file_links import make_link

MISSING = "There is no such video analysis."


def _ranges(stored: str) -> tuple[TimeRange, ...]:
    return tuple(TimeRange(start, end) for start, end in json.loads(stored))


def _names(session: Session, rows: list[VideoPerson]) -> dict[int, str]:
    ids = {row.person_id for row in rows if row.person_id is not None}
    return dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(ids))).all()) if ids else {}


def _person(row: VideoPerson, names: dict[int, str]) -> FoundPerson:
    name = names.get(row.person_id) if row.person_id is not None else None
    return FoundPerson(
        id=row.id, seq=row.seq, label=row.label, name=name or row.label, person_id=row.person_id if name else None,
        known=name is not None, similarity_pct=row.similarity_pct if name else None,
        thumbnail=files.absolute(row.thumbnail_path), ranges=_ranges(row.ranges), seconds=row.seconds,
        first_seen_s=row.first_seen_s, sightings=row.sightings,
    )


def _title(session: Session, video_id: int | None) -> str | None:
    return session.scalar(select(Video.title).where(Video.id == video_id)) if video_id is not None else None


def _info(session: Session, analysis: VideoAnalysis) -> AnalysisInfo:
    names = _names(session, analysis.people)
    return AnalysisInfo(
        id=analysis.id, job_id=analysis.job_id, video_id=analysis.video_id,
        video_title=_title(session, analysis.video_id),
        source_name=analysis.source_name, duration_s=analysis.duration_s, fps=analysis.fps,
        frame_count=analysis.frame_count, sample_fps=analysis.sample_fps, sampled_frames=analysis.sampled_frames,
        width=analysis.width, height=analysis.height, embedder=analysis.embedder,
        annotated=files.absolute(analysis.annotated_path) if analysis.annotated_path else None,
        message=analysis.message, timings=json.loads(analysis.timings), created_at=analysis.created_at,
        people=tuple(_person(row, names) for row in analysis.people),
    )


def _summary(session: Session, analysis: VideoAnalysis) -> AnalysisSummary:
    info = _info(session, analysis)
    return AnalysisSummary(info.id, info.job_id, info.video_id, info.video_title, info.source_name, info.duration_s,
                           info.created_at, len(info.people), tuple(p.name for p in info.people))


def get_analysis(owner_id: int, analysis_id: int) -> AnalysisInfo:
    with session_scope() as session:
        return _info(session, owned(session, VideoAnalysis, owner_id, analysis_id, MISSING))


def analysis_for_job(owner_id: int, job_id: int) -> AnalysisInfo:
    """The analysis a job made; NotFound until the job has finished it."""
    with session_scope() as session:
        analysis = session.scalar(select(VideoAnalysis).where(VideoAnalysis.job_id == job_id,
                                                              VideoAnalysis.owner_id == owner_id))
        if analysis is None:
            raise NotFound(MISSING)
        return _info(session, analysis)


def _newest(query: Select) -> Select:
    return query.order_by(VideoAnalysis.created_at.desc(), VideoAnalysis.id.desc())


def recent_analyses(owner_id: int, limit: int = 50) -> list[AnalysisSummary]:
    with session_scope() as session:
        rows = session.scalars(_newest(select(VideoAnalysis).where(VideoAnalysis.owner_id == owner_id)).limit(limit))
        return [_summary(session, row) for row in rows]


def analyses_of_video(owner_id: int, video_id: int) -> list[AnalysisSummary]:
    """The owner's analyses of one shared video, newest first ("People in this video")."""
    with session_scope() as session:
        rows = session.scalars(_newest(select(VideoAnalysis).where(VideoAnalysis.owner_id == owner_id,
                                                                   VideoAnalysis.video_id == video_id)))
        return [_summary(session, row) for row in rows]


def videos_with_person(owner_id: int, person_id: int) -> list[PersonAppearance]:
    """Every analysis of the owner's in which the studio person appears, newest first."""
    with session_scope() as session:
        owned(session, Person, owner_id, person_id, "There is no such person in your library.")
        rows = session.execute(_newest(
            select(VideoPerson, VideoAnalysis).join(VideoAnalysis, VideoPerson.analysis_id == VideoAnalysis.id)
            .where(VideoAnalysis.owner_id == owner_id, VideoPerson.person_id == person_id))).all()
        return [PersonAppearance(analysis.id, analysis.job_id, analysis.video_id, _title(session, analysis.video_id),
                                 analysis.source_name, analysis.created_at, _ranges(found.ranges), found.seconds,
                                 files.absolute(found.thumbnail_path)) for found, analysis in rows]


def annotated_link(owner_id: int, analysis_id: int, base_url_path: str = "") -> str:
    """A signed, expiring URL path that streams the annotated video from disk (never through the server's
    memory, as `st.video(path)` would)."""
    info = get_analysis(owner_id, analysis_id)
    if info.annotated is None or not info.annotated.is_file():
        raise NotFound("This analysis has no annotated video.")
    name = f"video-analysis-{info.id}.mp4"
    return make_link(info.annotated, name, "video/mp4", base_url_path)


def analysis_json(owner_id: int, analysis_id: int) -> dict:
    """The JSON export: the analysis, its people and the boxes of every sampled frame."""
    info = get_analysis(owner_id, analysis_id)
    with session_scope() as session:
        folder = session.scalars(select(VideoAnalysis.files_dir).where(VideoAnalysis.id == analysis_id)).one()
    frames_file = files.absolute(folder) / "frames.json"
    frames = json.loads(frames_file.read_text()) if frames_file.is_file() else []
    by_seq = {p.seq: p.id for p in info.people}
    for frame in frames:
        for face in frame["faces"]:
            face["person"] = by_seq.get(face["person"])
    return {
        "analysis_id": info.id, "job_id": info.job_id, "video_id": info.video_id, "video_title": info.video_title,
        "source": info.source_name, "duration_s": info.duration_s, "fps": info.fps, "frame_count": info.frame_count,
        "sample_fps": info.sample_fps, "sampled_frames": info.sampled_frames, "width": info.width,
        "height": info.height, "embedder": info.embedder, "message": info.message,
        "annotated_video": files.relative(info.annotated) if info.annotated else None, "timings_s": info.timings,
        "people": [{"id": p.id, "seq": p.seq, "label": p.label, "name": p.name, "person_id": p.person_id,
                    "known": p.known, "similarity_pct": p.similarity_pct, "thumbnail": files.relative(p.thumbnail),
                    "first_seen_s": p.first_seen_s, "seconds": p.seconds, "sightings": p.sightings,
                    "ranges": [{"start_s": r.start_s, "end_s": r.end_s} for r in p.ranges]} for p in info.people],
        "frames": frames,
    }


def delete_analysis(owner_id: int, analysis_id: int) -> None:
    """Delete the analysis, its people rows and its files (thumbnails, boxes, annotated copy)."""
    with session_scope() as session:
        analysis = owned(session, VideoAnalysis, owner_id, analysis_id, MISSING)
        folder = files.absolute(analysis.files_dir)
        session.delete(analysis)
    files.remove(folder)
    purge_deleted()


def add_to_people(owner_id: int, found_id: int, name: str) -> int:
    """Make an unknown of an analysis a studio person called `name`, from their thumbnail; returns the person id.

    The thumbnail (a face crop with a margin, from the frame where the face was best) is imported into the
    owner's library as a photo, as "Add to my people" asks, so the person has a real face to be matched by."""
    from core.studio.recognise_add import add_face  # the studio's one way to add a face from an image

    with session_scope() as session:
        found = session.get(VideoPerson, found_id)
        if found is None or found.analysis.owner_id != owner_id:
            raise NotFound("There is no such person in this analysis.")
        if found.person_id is not None and session.get(Person, found.person_id) is not None:
            raise BadInput("This person is already one of your people.")
        thumbnail = files.absolute(found.thumbnail_path)
        label, seq = found.label, found.seq
    boxes = thumbnail.parent / "boxes.json"
    if not thumbnail.is_file() or not boxes.is_file():
        raise NotFound("The picture of this person is gone; analyse the video again.")
    box = tuple(json.loads(boxes.read_text())[str(seq)])
    person = add_face(owner_id, thumbnail.read_bytes(), box=box, name=name, original_name=f"{label}.jpg")
    with session_scope() as session:
        row = session.get(VideoPerson, found_id)
        if row is not None:
            row.person_id, row.similarity_pct = person.id, None
    return person.id
