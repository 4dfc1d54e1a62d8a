"""Add a face of a photo (or of a frozen live frame) to the owner's people: a new person, or another sample.

Adding a face is the owner asking to keep the photo, so it goes into their library through the
importer, exactly as an imported photo does (stored once per SHA-256, album "Added by recognition",
faces indexed, suggestions made), and then that face is named in one transaction. Everything that can
be refused (the name, the person, the image, the face) is checked before anything is written; if the
naming still fails (the person deleted or the name taken at that moment), a photo this call added is
deleted again.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.faces.engine import get_engine
from core.faces.types import Face as EngineFace
from core.storage.database import session_scope
from core.storage.studio_models import Face, FaceRejection, Person, Photo
from core.studio import importer, intake, library, people
from core.studio.errors import BadInput, NotFound, owned
from core.studio.recognise import Box
from core.studio.recognise_photo import analyse_photo

ALBUM = "Added by recognition"


def _overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _chosen_box(faces: list[EngineFace], face_index: int | None, box: Box | None) -> Box:
    if not faces:
        raise BadInput("No face was found in the photo; use one where the face is clearly visible.")
    if face_index is not None:
        if not 0 <= face_index < len(faces):
            raise BadInput(f"The photo holds {len(faces)} face(s); choose one of 1 to {len(faces)}.")
        return faces[face_index].detection.box
    best = max(faces, key=lambda f: _overlap(f.detection.box, box))
    if _overlap(best.detection.box, box) < 0.3:
        raise BadInput("No face of the photo is where that box is; choose a face that is boxed.")
    return best.detection.box


def _check_target(owner_id: int, name: str | None, person_id: int | None) -> None:
    """Refuse a taken name or someone else's person before anything is written."""
    if person_id is not None:
        people.get_person(owner_id, person_id)
        return
    with session_scope() as session:
        people.unique_name(session, owner_id, name)


def _import(owner_id: int, image: bytes, original_name: str) -> tuple[int, bool]:
    """Import the photo as any upload is; returns its id and whether this call added it."""
    sha256 = hashlib.sha256(image).hexdigest()
    with session_scope() as session:
        had = session.scalar(select(Photo.id).where(Photo.owner_id == owner_id, Photo.sha256 == sha256,
                                                    Photo.status != "failed")) is not None
    staging = intake.staging_dir(owner_id)
    try:
        path = staging / (Path(original_name.replace("\\", "/")).name.strip()[:200] or "recognised.jpg")
        path.write_bytes(image)
        summary = importer.import_paths(owner_id, [path], ALBUM, "upload")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if summary.failures:
        raise BadInput(summary.failed[0].message or "The photo could not be added to your library.")
    with session_scope() as session:
        photo = session.scalars(select(Photo).where(Photo.owner_id == owner_id, Photo.sha256 == sha256)).one()
        if not had:
            photo.origin = path.name  # as a page upload records it (not the staging folder it passed through)
        return photo.id, not had


def _stored_face(session: Session, owner_id: int, photo_id: int, box: Box, decoded: tuple[int, int]) -> Face:
    """The library's face of the photo at `box` (decoded pixels; the library keeps upright stored pixels)."""
    photo = owned(session, Photo, owner_id, photo_id, "There is no such photo in your library.")
    sx, sy = (photo.width or decoded[0]) / decoded[0], (photo.height or decoded[1]) / decoded[1]
    scaled = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
    faces = session.scalars(select(Face).where(Face.photo_id == photo_id,
                                               Face.embedder == get_engine().settings.embedder)).all()
    best = max(faces, key=lambda f: _overlap((f.x1, f.y1, f.x2, f.y2), scaled), default=None)
    if best is None or _overlap((best.x1, best.y1, best.x2, best.y2), scaled) < 0.5:
        raise BadInput("This photo is in your library without that face for the current face model; "
                       "re-embed the library first.")
    return best


def add_face(owner_id: int, image: bytes, face_index: int | None = None, *, box: Box | None = None,
             name: str | None = None, person_id: int | None = None,
             original_name: str = "recognised.jpg") -> people.PersonInfo:
    """Keep the photo in the library and name one of its faces: a new person `name`, or a sample of `person_id`.

    The face is `face_index` (left to right from 0, as `recognise_photo` lists them) or the one at `box`."""
    if (name is None) == (person_id is None):
        raise BadInput("Give either a new name or a person to add the face to.")
    if (face_index is None) == (box is None):
        raise BadInput("Choose one face of the photo.")
    cleaned = people.clean_name(name) if name is not None else None
    _check_target(owner_id, cleaned, person_id)
    rgb, faces = analyse_photo(image)
    chosen = _chosen_box(faces, face_index, box)
    photo_id, added = _import(owner_id, image, original_name)
    try:
        person_id = _name(owner_id, photo_id, chosen, (rgb.shape[1], rgb.shape[0]), cleaned, person_id)
    except Exception:
        if added:
            library.delete_photo(owner_id, photo_id)
        raise
    return people.get_person(owner_id, person_id)


def _name(owner_id: int, photo_id: int, box: Box, decoded: tuple[int, int], name: str | None,
          person_id: int | None) -> int:
    """Name the photo's face at `box` as a new person `name` or as `person_id`, in one transaction."""
    try:
        with session_scope() as session:
            face = _stored_face(session, owner_id, photo_id, box, decoded)
            if name is not None:
                people.unique_name(session, owner_id, name)
                person = Person(owner_id=owner_id, name=name, notes="")
                session.add(person)
                session.flush()
                person_id = person.id
            elif session.get(Person, person_id) is None:
                raise NotFound("No such person in your library.")  # deleted a moment ago
            session.execute(delete(FaceRejection).where(FaceRejection.face_id == face.id,
                                                        FaceRejection.person_id == person_id))
            face.person_id, face.named_by, face.cluster_id, face.suggested_person_id = person_id, "hand", None, None
            return person_id
    except IntegrityError as exc:  # the same name made at the same moment elsewhere
        raise BadInput(f"You already have a person called {name}.") from exc
