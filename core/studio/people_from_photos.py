"""A new person made from photos of them: each photo must show exactly one face, and that face is theirs.

Why its own module: this is how the HTTP API (and CompreFace's "add a subject with examples") enrols a
person, and every photo is checked before anything is written, so a refused photo leaves no person behind.
The photos then enter the library as any added face's does (core.studio.recognise_add); if one fails
after the checks, the person is deleted again, and the photos already added stay in the library, unnamed.
"""

from __future__ import annotations

from core.faces.errors import NoFaceFound, TooManyFaces
from core.storage.database import session_scope
from core.studio import people
from core.studio.errors import BadInput
from core.studio.recognise_add import add_face
from core.studio.recognise_photo import analyse_photo

MAX_PHOTOS = 20


def _check_one_face(name: str, image: bytes) -> None:
    try:
        _, faces = analyse_photo(image)
    except BadInput as exc:
        raise BadInput(f"{name}: {exc}") from exc.__cause__ or exc
    if not faces:
        raise NoFaceFound(f"{name}: no face was found; use a photo where the face is clearly visible.")
    if len(faces) > 1:
        raise TooManyFaces(f"{name}: {len(faces)} faces were found; each photo of a new person must show only them.")


def check_photo_count(count: int) -> None:
    if not count:
        raise BadInput("Give at least one photo of the person.")
    if count > MAX_PHOTOS:
        raise BadInput(f"Give at most {MAX_PHOTOS} photos at a time.")


def create_person_from_photos(owner_id: int, name: str, photos: list[tuple[str, bytes]],
                              notes: str = "") -> people.PersonInfo:
    """A person named `name` whose faces are the one face of each photo (file name, bytes); at least one photo."""
    check_photo_count(len(photos))
    cleaned = people.clean_name(name)
    with session_scope() as session:
        people.unique_name(session, owner_id, cleaned)
    for file_name, image in photos:
        _check_one_face(file_name, image)
    person = add_face(owner_id, photos[0][1], 0, name=cleaned, original_name=photos[0][0])
    try:
        for file_name, image in photos[1:]:
            add_face(owner_id, image, 0, person_id=person.id, original_name=file_name)
    except Exception:
        people.delete_person(owner_id, person.id)  # a photo failed after the checks: no half-made person stays
        raise
    if notes:
        people.rename_person(owner_id, person.id, cleaned, notes)
    return people.get_person(owner_id, person.id)
