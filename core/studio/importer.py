"""Importing one file into a library, and a whole import run synchronously (the command line).

Per file: read it bounded, SHA-256 it (the same bytes twice in one library are one photo: a
duplicate only joins the album), decode it through the safe loader with the face caps, read the
EXIF date and the upright size from the header, find every face (box, score, five landmarks,
quality verdict, embedding), store the file under `studio/<owner>/<sha[:2]>/<sha>.<ext>`, then
write the photo, its faces and the job item's outcome in ONE transaction that first claims the
item (pending -> done): a file is recorded at most once, even when a resumed job and a stale
worker race, and a crash before the commit leaves the item pending to be done again. A bad file
is one failure line (the item's message) and never stops the import. Boxes and landmarks are
kept in the stored photo's upright pixels, also when a large JPEG was decoded reduced.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.config import get_settings
from core.faces.engine import get_engine
from core.faces.errors import ImageError
from core.faces.image_files import read_bytes
from core.faces.images import load_image
from core.faces.quality import MIN_SCORE
from core.faces.types import Face as EngineFace
from core.monitoring.metrics import faces_found, photos_processed
from core.storage.database import serialised_scope
from core.storage.models import utcnow
from core.storage.studio_models import Face, Job, JobItem, Photo, album_photos
from core.studio.records import ImportSummary

_log = logging.getLogger(__name__)
_EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "BMP": "bmp", "TIFF": "tif", "GIF": "gif"}
_EXIF_IFD, _DATE_ORIGINAL, _DATE_DIGITIZED, _DATE_TIME, _OFFSET_ORIGINAL, _ORIENTATION = (
    0x8769, 36867, 36868, 306, 36881, 0x0112)
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class Outcome:
    """What one item came to: its status, the failure or no-face reason, the photo, the new faces."""

    status: str  # "processed", "no_faces", "failed" or "duplicate"
    message: str | None = None
    photo_id: int | None = None
    face_ids: list[int] = field(default_factory=list)


@dataclass
class Analysed:
    sha256: str
    data: bytes
    ext: str | None = None
    width: int | None = None
    height: int | None = None
    taken_at: datetime | None = None
    faces: list[EngineFace] = field(default_factory=list)
    scale: tuple[float, float] = (1.0, 1.0)  # decoded pixels -> stored photo's upright pixels
    error: str | None = None  # the safe loader's sentence when the file is not a readable image
    reason: str | None = None  # why no faces


class ItemAlreadyDone(Exception):
    """Another worker recorded this item first; this one's work is rolled back."""


def _taken_at(exif: Image.Exif) -> datetime | None:
    """The EXIF date taken (DateTimeOriginal, else digitised, else DateTime), with its offset; UTC when none."""
    details = exif.get_ifd(_EXIF_IFD)
    raw = details.get(_DATE_ORIGINAL) or details.get(_DATE_DIGITIZED) or exif.get(_DATE_TIME)
    try:
        stamp = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = _OFFSET.match(str(details.get(_OFFSET_ORIGINAL) or ""))
    zone = UTC
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        zone = timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
    return stamp.replace(tzinfo=zone).astimezone(UTC)


def _header(found: Analysed) -> None:
    """Format, upright size and date taken, from the header (the decode itself went through `load_image`)."""
    with Image.open(io.BytesIO(found.data)) as img:
        exif = img.getexif()
        width, height = img.size
        if exif.get(_ORIENTATION) in (5, 6, 7, 8):  # turned a quarter: the upright photo is the other way round
            width, height = height, width
        found.ext, found.width, found.height = _EXTENSIONS.get(img.format or "", "img"), width, height
        found.taken_at = _taken_at(exif)


def _decode(found: Analysed) -> np.ndarray:
    """The pixels faces are found in (safe loader, maybe reduced), with size, date and the scale to the stored
    photo's upright pixels filled in from the header."""
    rgb = load_image(found.data)
    _header(found)
    found.scale = (found.width / rgb.shape[1], found.height / rgb.shape[0])
    return rgb


def decode_for_faces(data: bytes) -> tuple[np.ndarray, tuple[float, float]]:
    """A kept photo decoded exactly as at import, and the scale from those pixels to its stored boxes."""
    found = Analysed(sha256="", data=data)
    try:
        rgb = _decode(found)
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError("The image is damaged and cannot be read.") from exc
    return rgb, found.scale


def read_item(item: dict) -> bytes:
    """A job item's file, read bounded; raises ImageError, whose sentence is the item's failure message."""
    data = read_bytes(item["source"], get_settings().max_upload_mb * 2**20)
    if not data:
        raise ImageError("The file is empty.")
    return data


def decode_file(data: bytes) -> tuple[Analysed, np.ndarray | None]:
    """A file's record (hash, size, date) and the pixels to find faces in; no pixels when it cannot be read,
    the record's `error` then says why."""
    found = Analysed(sha256=hashlib.sha256(data).hexdigest(), data=data)
    try:
        return found, _decode(found)
    except ImageError as exc:
        found.error = str(exc)
    except (OSError, ValueError, SyntaxError) as exc:  # a header Pillow read once and not twice
        _log.info("studio header refused: %r", exc)
        found.error = "The image is damaged and cannot be read."
    return found, None


def keep_faces(found: Analysed, faces: list[EngineFace]) -> Analysed:
    """Keep the confident faces of the analysed photo (embedded), or say why there are none."""
    found.faces = [face for face in faces if face.detection.score >= MIN_SCORE]
    if not found.faces:
        found.reason = ("Only unclear face-like shapes were found (detector score under "
                        f"{MIN_SCORE:.2f})." if faces else "No face was found in the photo.")
    return found


def analyse_file(data: bytes) -> Analysed:
    """Decode and analyse one file's bytes (no database): faces, size, date; or the reason it cannot be read."""
    found, rgb = decode_file(data)
    return found if rgb is None else keep_faces(found, get_engine().analyse(rgb))


def _store(owner_id: int, found: Analysed) -> str:
    """Write the photo's bytes once, atomically, under its content address; returns the data-dir-relative path."""
    from core.studio.library import stored_relative

    relative = stored_relative(owner_id, found.sha256, found.ext or "img")
    target = get_settings().data_dir / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.{id(found)}.part")
        partial.write_bytes(found.data)
        os.replace(partial, target)
    return relative


def _face_row(owner_id: int, photo_id: int, embedder: str, face: EngineFace, scale: tuple[float, float]) -> Face:
    sx, sy = scale
    x1, y1, x2, y2 = face.detection.box
    vector = np.asarray(face.embedding, dtype="<f4")
    return Face(
        photo_id=photo_id, owner_id=owner_id, x1=float(x1 * sx), y1=float(y1 * sy), x2=float(x2 * sx),
        y2=float(y2 * sy), score=float(face.detection.score),
        landmarks=json.dumps([[round(float(x * sx), 2), round(float(y * sy), 2)] for x, y in face.detection.landmarks]),
        quality_ok=bool(face.quality.ok), quality_reasons="; ".join(face.quality.reasons), embedder=embedder,
        dim=int(vector.shape[0]), embedding=vector.tobytes(), created_at=utcnow(),
    )


def _claim(session: Session, job_id: int, seq: int, outcome: Outcome, faces: int) -> None:
    """Mark the item done and count it in the job, in the caller's transaction; refuses an item already done."""
    claimed = session.execute(
        update(JobItem).where(JobItem.job_id == job_id, JobItem.seq == seq, JobItem.status == "pending")
        .values(status=outcome.status, message=outcome.message, photo_id=outcome.photo_id)
    ).rowcount
    if claimed != 1:
        raise ItemAlreadyDone(f"job {job_id} item {seq}")
    session.execute(
        update(Job).where(Job.id == job_id).values(
            done=Job.done + 1, faces_found=Job.faces_found + faces,
            failures=Job.failures + (1 if outcome.status == "failed" else 0), heartbeat_at=utcnow())
    )


def record_failure(job_id: int, seq: int, message: str) -> None:
    """An item that failed before any photo existed (unreadable file, unsafe zip member): one report line."""
    with serialised_scope() as session:
        _claim(session, job_id, seq, Outcome("failed", message), 0)


def link_photo(session: Session, album_id: int | None, photo_id: int) -> None:
    """Put the photo in the album (once), in the caller's transaction."""
    if album_id is None:
        return
    linked = session.scalar(select(album_photos.c.photo_id).where(
        album_photos.c.album_id == album_id, album_photos.c.photo_id == photo_id))
    if linked is None:
        session.execute(album_photos.insert().values(album_id=album_id, photo_id=photo_id))


def _existing(session: Session, owner_id: int, sha256: str) -> Photo | None:
    return session.scalar(select(Photo).where(Photo.owner_id == owner_id, Photo.sha256 == sha256))


def _write(owner_id: int, album_id: int | None, job_id: int, seq: int, item: dict,
           found: Analysed) -> Outcome:
    embedder = get_engine().settings.embedder
    stored = _store(owner_id, found) if found.error is None else None
    with serialised_scope() as session:
        photo = _existing(session, owner_id, found.sha256)
        if photo is not None and photo.status != "failed":
            link_photo(session, album_id, photo.id)
            photo.source_id = photo.source_id or item.get("source_id")  # a later re-import skips it by id
            outcome = Outcome("duplicate", f"The same photo is already in the library ({photo.original_name}).",
                              photo.id)
            _claim(session, job_id, seq, outcome, 0)
            return outcome
        if photo is None:
            photo = Photo(owner_id=owner_id, sha256=found.sha256, created_at=utcnow())
            session.add(photo)
        photo.original_name, photo.origin = item["original_name"][:255], item["origin"][:2048]
        photo.source_id = item.get("source_id")
        photo.stored_path, photo.width, photo.height, photo.taken_at = stored, found.width, found.height, found.taken_at
        photo.status = "failed" if found.error else ("processed" if found.faces else "no_faces")
        photo.reason = found.error or found.reason
        session.flush()
        link_photo(session, album_id, photo.id)
        rows = [_face_row(owner_id, photo.id, embedder, face, found.scale) for face in found.faces]
        session.add_all(rows)
        session.flush()
        outcome = Outcome(photo.status, photo.reason, photo.id, [row.id for row in rows])
        _claim(session, job_id, seq, outcome, len(rows))
        return outcome


def record_item(owner_id: int, album_id: int | None, job_id: int, seq: int, item: dict,
                found: Analysed) -> Outcome:
    """Record an analysed item (claiming it, in one transaction with its photo and faces), then index its faces.

    Raises ItemAlreadyDone when another worker recorded the item first (nothing of this run is kept).
    """
    try:
        outcome = _write(owner_id, album_id, job_id, seq, item, found)
    except IntegrityError:  # the same bytes were recorded by a parallel worker a moment ago: a duplicate now
        outcome = _write(owner_id, album_id, job_id, seq, item, found)
    photos_processed()  # recorded (committed) just now: what the System page's speed counts
    faces_found(len(outcome.face_ids))
    if outcome.face_ids:
        _index_new_faces(owner_id, outcome.face_ids, found)
    return outcome


def _index_new_faces(owner_id: int, face_ids: list[int], found: Analysed) -> None:
    """Tell the derived index, then ask for suggestions; a failure here is logged (the database stays the truth,
    `python -m core studio reindex` rebuilds the index) and never fails the committed photo."""
    from core.studio import index, people

    vectors = np.stack([np.asarray(face.embedding, dtype=np.float32) for face in found.faces])
    try:
        index.add_faces(owner_id, get_engine().settings.embedder, face_ids, vectors)
    except Exception:
        _log.exception("studio: faces %s were not added to the index; run `python -m core studio reindex`", face_ids)
    try:
        people.suggest_for_new_faces(owner_id, face_ids)
    except Exception:
        _log.exception("studio: no suggestions for faces %s", face_ids)


def import_paths(owner_id: int, paths: list[Path], album_name: str, source: str = "folder") -> ImportSummary:
    """Import photos, zips and folders now, in this thread, through the same job code as the background worker."""
    from core.studio import jobs

    return jobs.run_import_now(owner_id, [Path(p) for p in paths], album_name, source)
