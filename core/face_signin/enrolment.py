"""Face enrolment for face sign-in: samples in, `FaceSample` rows out; listing; deleting it all.

Only faces that pass the engine's quality verdict are enrolled, because a blurred or turned face
gives an embedding far from the person's own. The embedding is stored, never the frame; a small
crop of the face is kept only when the person opts in, under `<data_dir>/faces/<user id>/`.

No one enrols someone else's face: a sample closer to another account's face than to the
account's own samples (or, for an account with none yet, within the verify threshold of another
account at all) is refused, and so is the whole batch with it. When the real owner is the one
refused (someone enrolled their face first), the refusal says the way out: an admin clears the
other account's samples (`python -m core users clear-face EMAIL`); the server log names that account.

Deleting face data also empties SQLite's write-ahead log (`purge_deleted`), so the embeddings do
not stay readable in the `-wal` file until the next checkpoint.

Every sample is stored once per installed face model (`core.faces.all_embedders`), each row
labelled with its model, so switching WEBTUBE_EMBEDDER keeps enrolled people able to sign in;
only the configured model's rows are ever compared.

There is no separate face index yet: sign-in reads the gallery from the database at the start of
each attempt, so deleting the rows is deleting the index entries.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.accounts.users import UnknownUser, normalize_email
from core.config import get_settings
from core.faces.all_embedders import embeddings_by_model
from core.faces.engine import FaceEngine, get_engine
from core.faces.errors import FaceError, ImageTooLarge, PoorQualityFace
from core.faces.images import load_image
from core.faces.matching import distances
from core.faces.quality_words import refusal
from core.faces.types import Face
from core.storage.database import purge_deleted, session_scope
from core.storage.models import FaceSample, User, utcnow

MAX_SAMPLES = 20
PHOTO_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})  # what the profile's uploader offers, so errors agree
FACE_DIR = "faces"
SNAPSHOT_SIDE = 160

# Check-then-insert must not interleave with another enrolment in this process.
_write_lock = threading.Lock()
_log = logging.getLogger(__name__)


class EnrolmentRefused(FaceError):
    """The sample cannot be enrolled for this account; the message says why."""


@dataclass(frozen=True)
class Candidate:
    """A good face ready to enrol: its vector from every installed model and a small crop for the opt-in snapshot."""

    embeddings: dict[str, np.ndarray]  # model name -> vector, the model that judged the face first
    snapshot: np.ndarray  # RGB, SNAPSHOT_SIDE square


@dataclass(frozen=True)
class SampleInfo:
    id: int
    created_at: datetime
    image: Path | None  # the kept snapshot, if the person opted in and it is still there


@dataclass(frozen=True)
class Enrolment:
    """What is enrolled for one account, newest first."""

    samples: tuple[SampleInfo, ...]

    @property
    def count(self) -> int:
        return len(self.samples)

    @property
    def last_at(self) -> datetime | None:
        return self.samples[0].created_at if self.samples else None


@dataclass(frozen=True)
class Gallery:
    """Every enrolled embedding of the current embedder, with the account each belongs to."""

    embeddings: np.ndarray  # (M, dim) float32
    accounts: tuple[int, ...]


def face_crop(rgb: np.ndarray, box: tuple[float, float, float, float], side: int = SNAPSHOT_SIDE) -> np.ndarray:
    """A square crop around the face with some margin, resized to `side`: the snapshot kept on opt-in."""
    height, width = rgb.shape[:2]
    x1, y1, x2, y2 = box
    half = 0.8 * max(x2 - x1, y2 - y1)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left, top = int(max(cx - half, 0)), int(max(cy - half, 0))
    right, bottom = int(min(cx + half, width)), int(min(cy + half, height))
    crop = Image.fromarray(np.ascontiguousarray(rgb[top:bottom, left:right]))
    return np.asarray(crop.resize((side, side), Image.Resampling.LANCZOS))


def candidate(rgb: np.ndarray, face: Face, engine: FaceEngine | None = None) -> Candidate:
    """The engine's face as an enrolment candidate, embedded by every installed model; refused unless it
    passed the quality verdict."""
    if not face.quality.ok or face.embedding is None:
        raise PoorQualityFace(refusal(face.quality))
    vectors = embeddings_by_model(engine or get_engine(), rgb, face)
    return Candidate(vectors, face_crop(rgb, face.detection.box))


def _vector(sample: FaceSample) -> np.ndarray:
    return np.frombuffer(sample.embedding, dtype="<f4")


def _current_samples(session: Session, embedder: str, dim: int) -> list[FaceSample]:
    return list(session.scalars(select(FaceSample).where(FaceSample.embedder == embedder, FaceSample.dim == dim)))


def rows_per_model(session: Session, user_id: int) -> dict[tuple[str, int], int]:
    """How many sample rows the account holds for each model (name, dim)."""
    rows = session.execute(
        select(FaceSample.embedder, FaceSample.dim, func.count())
        .where(FaceSample.user_id == user_id)
        .group_by(FaceSample.embedder, FaceSample.dim)
    ).all()
    return {(name, dim): count for name, dim, count in rows}


def _listed_model(session: Session, user_id: int) -> tuple[str, int] | None:
    """The model whose rows stand for the account's enrolled faces, one row a face.

    Each face gets one row per model installed when it was enrolled, so the model with the most rows
    has a row for every face; on a tie the configured model's rows are listed.
    """
    counts = rows_per_model(session, user_id)
    if not counts:
        return None
    embedder = get_engine().embedder
    return max(counts, key=lambda model: (counts[model], model == (embedder.name, embedder.dim)))


def _gallery_of(samples: Sequence[FaceSample], dim: int) -> Gallery:
    if not samples:
        return Gallery(np.zeros((0, dim), np.float32), ())
    return Gallery(np.stack([_vector(s) for s in samples]), tuple(s.user_id for s in samples))


def gallery() -> Gallery:
    """All enrolled faces for 1:N sign-in; samples of another embedder are not comparable and left out."""
    embedder = get_engine().embedder
    with session_scope() as session:
        return _gallery_of(_current_samples(session, embedder.name, embedder.dim), embedder.dim)


def _check_owner(user_id: int, vector: np.ndarray, own: list[np.ndarray], others: Gallery, threshold: float) -> None:
    """Refuse a face that belongs to another account more than to this one; the log says which account."""
    if not others.accounts:
        return
    from_others = distances(vector, others.embeddings)
    nearest_other = float(np.min(from_others))
    nearest_own = float(np.min(distances(vector, np.stack(own)))) if own else float("inf")
    if nearest_other <= threshold and nearest_other < nearest_own:
        holder = others.accounts[int(np.argmin(from_others))]
        _log.warning("face enrolment for account %d refused: the face matches account %d", user_id, holder)
        raise EnrolmentRefused(
            "This face matches another account's enrolled face, so it cannot be added to yours. "
            "Nothing was saved. If it is your face, an admin can clear the other account's face samples: "
            "ask one, then enrol again."
        )


def _save_snapshot(user_id: int, snapshot: np.ndarray) -> str:
    relative = f"{FACE_DIR}/{user_id}/{secrets.token_hex(8)}.jpg"
    target = get_settings().data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    Image.fromarray(snapshot).save(out, format="JPEG", quality=88)
    partial = target.with_suffix(".part")
    partial.write_bytes(out.getvalue())
    os.replace(partial, target)
    return relative


def enrol(user_id: int, candidates: Sequence[Candidate], keep_images: bool) -> Enrolment:
    """Store every candidate for `user_id` (one row per model that embedded it), or none of them (with the
    reason) if one is refused; the ownership check compares the configured model's vectors only."""
    if not candidates:
        raise EnrolmentRefused("No face to enrol.")
    engine = get_engine()
    embedder = engine.embedder
    written: list[str] = []
    try:
        with _write_lock, session_scope() as session:
            samples = _current_samples(session, embedder.name, embedder.dim)
            own = [_vector(s) for s in samples if s.user_id == user_id]
            if len(own) + len(candidates) > MAX_SAMPLES:
                raise EnrolmentRefused(
                    f"An account holds at most {MAX_SAMPLES} face samples; delete your face data to start over."
                )
            others = _gallery_of([s for s in samples if s.user_id != user_id], embedder.dim)
            now = utcnow()
            for item in candidates:
                if embedder.name not in item.embeddings:
                    raise EnrolmentRefused(
                        f"These samples were taken before the site switched to the {embedder.name} face model; "
                        "take them again. Nothing was saved."
                    )
                vector = np.asarray(item.embeddings[embedder.name], dtype="<f4")
                _check_owner(user_id, vector, own, others, engine.verify_threshold)
                own.append(vector)
                image_path = _save_snapshot(user_id, item.snapshot) if keep_images else None
                if image_path:
                    written.append(image_path)
                session.add_all(
                    FaceSample(
                        user_id=user_id,
                        embedding=np.asarray(model_vector, dtype="<f4").tobytes(),
                        embedder=model,
                        dim=len(model_vector),
                        image_path=image_path,
                        created_at=now,
                    )
                    for model, model_vector in item.embeddings.items()
                )
    except BaseException:
        for relative in written:
            (get_settings().data_dir / relative).unlink(missing_ok=True)
        raise
    return enrolment_of(user_id)


def _quiet(_step: str) -> None:
    """No progress to show (the command line, tests)."""


def enrol_photo(user_id: int, data: bytes, keep_image: bool, progress: Callable[[str], None] = _quiet) -> Enrolment:
    """One photo (a camera shot or an upload) with exactly one good face; its size is checked here,
    before anything decodes it, whatever path the bytes came by. It takes seconds (a model may load,
    then every installed model measures the face), so `progress` is told each step in words."""
    limit_mb = get_settings().max_upload_mb
    if len(data) > limit_mb * 2**20:
        raise ImageTooLarge(
            f"This photo is {len(data) / 2**20:.1f} MB; photos for face sign-in can be at most {limit_mb} MB. "
            "Nothing was saved."
        )
    progress("Reading the photo")
    rgb = load_image(data, formats=PHOTO_FORMATS)
    progress("Finding your face")
    engine = get_engine()
    face = engine.single_face(rgb)
    progress("Measuring your face with each face model")
    found = candidate(rgb, face)
    progress("Checking it is nobody else's face, then saving")
    return enrol(user_id, [found], keep_image)


def enrolment_of(user_id: int) -> Enrolment:
    """The account's enrolled faces (one row each, see `_listed_model`), newest first, with the kept snapshots."""
    data_dir = get_settings().data_dir
    with session_scope() as session:
        model = _listed_model(session, user_id)
        rows = [] if model is None else session.execute(
            select(FaceSample.id, FaceSample.created_at, FaceSample.image_path)
            .where(FaceSample.user_id == user_id, FaceSample.embedder == model[0], FaceSample.dim == model[1])
            .order_by(FaceSample.created_at.desc(), FaceSample.id.desc())
        ).all()
    samples = []
    for sample_id, created_at, image_path in rows:
        image = data_dir / image_path if image_path else None
        samples.append(SampleInfo(sample_id, created_at, image if image and image.is_file() else None))
    return Enrolment(tuple(samples))


def delete_face_data(user_id: int) -> int:
    """Delete every sample of every model and kept image of the account at once; returns how many faces went.

    The images' folder is moved aside inside the transaction and moved back if the transaction
    fails, so rows and files never disagree; it is removed for good after the commit.
    """
    faces = get_settings().data_dir / FACE_DIR
    folder = faces / str(user_id)
    aside = faces / f".deleting-{user_id}-{secrets.token_hex(4)}"
    moved = False
    try:
        with session_scope() as session:
            model = _listed_model(session, user_id)
            count = rows_per_model(session, user_id)[model] if model else 0
            session.execute(delete(FaceSample).where(FaceSample.user_id == user_id))
            if folder.is_dir():
                os.replace(folder, aside)
                moved = True
    except BaseException:
        if moved:
            os.replace(aside, folder)
        raise
    if moved:
        shutil.rmtree(aside, ignore_errors=True)
    purge_deleted()
    return count


def clear_face_data(email: str) -> int:
    """An admin's way to free a face enrolled by the wrong account: delete every sample (and kept image)
    of the account with `email`; returns how many faces went."""
    address = normalize_email(email)
    with session_scope() as session:
        user_id = session.scalar(select(User.id).where(User.email == address))
    if user_id is None:
        raise UnknownUser(f"No account with the email {address}.")
    return delete_face_data(user_id)
