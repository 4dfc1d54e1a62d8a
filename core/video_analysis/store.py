"""Writing an analysis: its rows and its files together, replacing whatever an earlier attempt of the job left.

One transaction deletes the job's previous analysis (if a crashed attempt got that far), inserts the new
rows, checks the caller still holds the job (`still_mine`, the job system's guard against a worker that was
presumed dead), and swaps the staged folder in; if anything fails the folder swap is undone with the
rollback, so rows and files never disagree and a rerun never doubles anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.storage.database import session_scope
from core.storage.video_models import VideoAnalysis, VideoPerson
from core.video_analysis import files
from core.video_analysis.pipeline import Outcome


class NotHeld(Exception):
    """The job was taken over (or cancelled) before its results could be written: nothing was written."""


def _rows(outcome: Outcome, analysis: VideoAnalysis, key: str) -> list[VideoPerson]:
    rows = []
    for person in outcome.people:
        ranges = outcome.ranges[person.seq]
        centroid = person.centroid()
        rows.append(VideoPerson(
            analysis=analysis, seq=person.seq, label=person.label, person_id=person.person_id,
            similarity_pct=person.similarity_pct,
            thumbnail_path=f"{files.ROOT}/{analysis.owner_id}/{key}/people/{person.seq}.jpg",
            ranges=json.dumps(ranges), seconds=round(sum(end - start for start, end in ranges), 2),
            first_seen_s=round(person.first_seen(), 2), sightings=len(person.samples),
            embedder=outcome.embedder, dim=int(centroid.shape[0]), centroid=centroid.astype("<f4").tobytes(),
        ))
    return rows


def save(owner_id: int, key: str, staging: Path, outcome: Outcome, *, job_id: int | None, video_id: int | None,
         source_name: str, still_mine: Callable[[Session], bool] | None = None) -> int:
    """Store `outcome` (its files staged in `staging`) as `key`'s analysis; returns the analysis id.

    Raises NotHeld when `still_mine` says the job is no longer this worker's: then nothing changed."""
    video = outcome.video
    final = old = None
    try:
        with session_scope() as session:
            if job_id is not None:
                session.execute(delete(VideoAnalysis).where(VideoAnalysis.job_id == job_id))
            analysis = VideoAnalysis(
                job_id=job_id, owner_id=owner_id, video_id=video_id, source_name=source_name[:255],
                files_dir=f"{files.ROOT}/{owner_id}/{key}",
                annotated_path=f"{files.ROOT}/{owner_id}/{key}/annotated.mp4",
                duration_s=round(video.duration_s or 0.0, 3), fps=round(video.fps, 3), frame_count=video.frame_count,
                sample_fps=outcome.sample_fps, sampled_frames=outcome.sampled, width=video.width, height=video.height,
                embedder=outcome.embedder, message=outcome.message, timings=json.dumps(outcome.timings),
            )
            session.add(analysis)
            session.add_all(_rows(outcome, analysis, key))
            session.flush()
            if still_mine is not None and not still_mine(session):
                raise NotHeld()
            final, old = files.publish(staging, key)
            analysis_id = analysis.id
    except BaseException:
        if final is not None:
            files.unpublish(final, old)
        raise
    files.remove(old)
    return analysis_id
