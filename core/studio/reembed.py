"""Re-embedding a library for the face model now configured, as a background job ("reembed").

Why: distances from different models mean nothing to each other, and the studio compares only the
current model's vectors. After WEBTUBE_EMBEDDER changes, the faces already found keep their boxes,
landmarks, names and verdicts; only their vectors are recomputed from the kept photo, on the same
boxes, and written in place with the new model's name (the index-state triggers then tell every
index to catch up). Idempotent by construction: a run only takes faces still of another model, so a
resumed or repeated job neither loses nor doubles. A face whose photo file is gone cannot be redone;
the result counts it, and it stays out of search until its photo is imported again.
"""

from __future__ import annotations

import json
import logging

import numpy as np
from sqlalchemy import func, select, update

from core.config import get_settings
from core.jobs.context import JobContext, JobFailed
from core.jobs.queue import enqueue
from core.storage.database import session_scope
from core.storage.studio_models import Face, Job, Photo

BATCH_PHOTOS = 8
_log = logging.getLogger(__name__)


def _stale(owner_id: int | None, embedder: str):
    query = select(Face.owner_id, func.count()).where(Face.embedder != embedder)
    if owner_id is not None:
        query = query.where(Face.owner_id == owner_id)
    return query.group_by(Face.owner_id)


def stale_faces(owner_id: int, embedder: str | None = None) -> int:
    """How many of the owner's faces carry another model's vector than `embedder` (default: the configured one)."""
    embedder = embedder or get_settings().embedder
    with session_scope() as session:
        row = session.execute(_stale(owner_id, embedder)).first()
    return int(row[1]) if row else 0


def _already_tried(session, owner_id: int, embedder: str, stale: int) -> bool:
    """A job for this model is waiting or running, or the last one ended leaving exactly these faces (no file)."""
    jobs = session.scalars(select(Job).where(Job.owner_id == owner_id, Job.kind == "reembed")
                           .order_by(Job.id.desc()).limit(5)).all()
    for job in jobs:
        if json.loads(job.params or "{}").get("embedder") != embedder:
            continue
        if job.status in ("queued", "running"):
            return True
        result = json.loads(job.result or "{}")
        return job.status == "done" and result.get("unreadable") == stale
    return False


def queue_reembedding(owner_id: int | None = None, wake: bool = True) -> list[int]:
    """Queue one re-embedding job per library holding faces of another model; returns the new job ids.

    Cheap (no model is loaded): the app calls it at start-up, and `python -m core studio reembed` on demand.
    """
    embedder = get_settings().embedder
    queued = []
    with session_scope() as session:
        owners = session.execute(_stale(owner_id, embedder)).all()
        wanted = [(owner, count) for owner, count in owners if not _already_tried(session, owner, embedder, count)]
    for owner, count in wanted:
        queued.append(enqueue(owner, "reembed", {"embedder": embedder}, total=count, wake=wake))
    return queued


def _photo_batch(owner_id: int, embedder: str, after: int) -> list[tuple[int, str | None]]:
    with session_scope() as session:
        return session.execute(
            select(Photo.id, Photo.stored_path).where(
                Photo.owner_id == owner_id, Photo.id > after,
                Photo.id.in_(select(Face.photo_id).where(Face.owner_id == owner_id, Face.embedder != embedder)))
            .order_by(Photo.id).limit(BATCH_PHOTOS)).all()


def _reembed_photo(owner_id: int, photo_id: int, stored_path: str, embedder: str) -> int:
    """New vectors for the photo's faces of other models, written in one transaction; returns how many."""
    from core.faces.engine import get_engine
    from core.faces.image_files import read_bytes
    from core.faces.types import Detection
    from core.studio import index
    from core.studio.importer import decode_for_faces

    data = read_bytes(get_settings().data_dir / stored_path, get_settings().max_upload_mb * 2**20)
    rgb, (sx, sy) = decode_for_faces(data)
    with session_scope() as session:
        faces = session.scalars(select(Face).where(Face.photo_id == photo_id, Face.embedder != embedder)
                                .order_by(Face.id)).all()
        detections = [Detection(box=(f.x1 / sx, f.y1 / sy, f.x2 / sx, f.y2 / sy), score=f.score,
                                landmarks=np.asarray(json.loads(f.landmarks), dtype=np.float32) / [sx, sy])
                      for f in faces]
        ids = [f.id for f in faces]
    if not ids:
        return 0
    vectors = get_engine().embed_detections(rgb, detections).astype("<f4")
    with session_scope() as session:
        for face_id, vector in zip(ids, vectors, strict=True):
            session.execute(update(Face).where(Face.id == face_id, Face.embedder != embedder).values(
                embedder=embedder, dim=int(vector.shape[0]), embedding=vector.tobytes()))
    try:
        index.add_faces(owner_id, embedder, ids, vectors)
    except Exception:  # the index is derived: it notices it is behind and rebuilds from the database
        _log.exception("studio: re-embedded faces %s were not added to the index", ids)
    return len(ids)


def run_reembed(ctx: JobContext) -> dict:
    """The "reembed" job kind: every face of the owner's library gets the configured model's vector."""
    from core.faces.engine import get_engine
    from core.faces.errors import ImageError

    embedder = get_engine().settings.embedder
    if ctx.params.get("embedder") != embedder:
        raise JobFailed(f"The face model changed again (now {embedder}); a new re-embedding job takes over.")
    done = unreadable = 0
    after = 0
    while ctx.keep_going():
        batch = _photo_batch(ctx.owner_id, embedder, after)
        if not batch:
            break
        for photo_id, stored_path in batch:
            after = photo_id
            try:
                if not stored_path:
                    raise ImageError("no stored file")
                done += _reembed_photo(ctx.owner_id, photo_id, stored_path, embedder)
            except (ImageError, OSError) as exc:
                unreadable += stale_faces_of_photo(photo_id, embedder)
                _log.info("studio: photo %s cannot be re-embedded: %s", photo_id, exc)
            ctx.progress(done + unreadable, stage=f"Re-embedding faces for {embedder}")
    ctx.progress(done + unreadable, force=True)
    return {"embedder": embedder, "reembedded": done, "unreadable": unreadable}


def stale_faces_of_photo(photo_id: int, embedder: str) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).where(Face.photo_id == photo_id, Face.embedder != embedder)))


def cli_reembed(args) -> dict:
    """`python -m core studio reembed [--owner EMAIL]`: queue and run the library's re-embedding here, now."""
    from core.jobs.queue import job_info, job_result
    from core.jobs.runner import run_now
    from core.studio.owners import resolve_owner

    owner_id = resolve_owner(args.owner)
    jobs = queue_reembedding(owner_id, wake=False)  # run here, not by a runner thread that dies with the command
    for job_id in jobs:
        run_now(job_id)
    ran = [{"job_id": job_id, "status": job_info(owner_id, job_id).status, **(job_result(owner_id, job_id) or {})}
           for job_id in jobs]
    return {"embedder": get_settings().embedder, "jobs": ran, "stale_faces": stale_faces(owner_id)}
