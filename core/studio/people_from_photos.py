"""A new person made from photos of them: each photo must show exactly one face, and that face is theirs.

Why its own module: this is how the HTTP API (and CompreFace's "add a subject with examples") enrols a
person, and every photo is checked before anything is written, so a refused photo leaves no person behind.
The photos then enter the library as any added face's does (core.studio.recognise_add). If one still fails
after the checks (a photo the library holds without a face for the current model, the disk full, the person
deleted meanwhile), the library is put back as it was: the photos this call added go, and the photos it
already held get back their faces' names and their albums.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from dataclasses import dataclass

from sqlalchemy import delete, select, tuple_, update

from core.faces.errors import NoFaceFound, TooManyFaces
from core.storage.database import session_scope
from core.storage.studio_models import Album, Face, Photo, album_photos
from core.studio import library, people
from core.studio.errors import BadInput, NotFound
from core.studio.recognise_add import ALBUM, add_face
from core.studio.recognise_photo import analyse_photo

MAX_PHOTOS = 20
_NAMING = ("person_id", "named_by", "suggested_person_id", "cluster_id")


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


def _photo_ids(owner_id: int, shas: set[str]) -> set[int]:
    with session_scope() as session:
        return set(session.scalars(select(Photo.id).where(Photo.owner_id == owner_id, Photo.sha256.in_(shas))))


@dataclass(frozen=True)
class _LibraryBefore:
    """What adding the photos may change in the owner's library, taken before they are added."""

    owner_id: int
    shas: set[str]
    photo_ids: set[int]  # of these photos, the ones the library held already
    naming: dict[int, tuple]  # their faces' names, suggestions and clusters
    links: set[tuple[int, int]]  # their (album, photo) pairs
    album_ids: set[int]

    @classmethod
    def take(cls, owner_id: int, images: list[bytes]) -> _LibraryBefore:
        shas = {hashlib.sha256(image).hexdigest() for image in images}
        photo_ids = _photo_ids(owner_id, shas)
        with session_scope() as session:
            naming = {row[0]: tuple(row[1:]) for row in session.execute(
                select(Face.id, *(getattr(Face, column) for column in _NAMING)).where(Face.photo_id.in_(photo_ids)))}
            links = set(session.execute(select(album_photos.c.album_id, album_photos.c.photo_id)
                                        .where(album_photos.c.photo_id.in_(photo_ids))).tuples())
            album_ids = set(session.scalars(select(Album.id).where(Album.owner_id == owner_id)))
        return cls(owner_id, shas, photo_ids, naming, links, album_ids)

    def restore(self, person_id: int | None) -> None:
        """Put the library back as it was, then delete the half-made person (who by then has no faces).

        The import jobs stay in the history: they ran; what they added is gone."""
        with session_scope() as session:
            for face_id, values in self.naming.items():
                session.execute(update(Face).where(Face.id == face_id).values(dict(zip(_NAMING, values, strict=True))))
            now = set(session.execute(select(album_photos.c.album_id, album_photos.c.photo_id)
                                      .where(album_photos.c.photo_id.in_(self.photo_ids))).tuples())
            if now - self.links:
                session.execute(delete(album_photos).where(
                    tuple_(album_photos.c.album_id, album_photos.c.photo_id).in_(now - self.links)))
        for photo_id in _photo_ids(self.owner_id, self.shas) - self.photo_ids:
            library.delete_photo(self.owner_id, photo_id)
        if person_id is not None:
            with suppress(NotFound):  # deleted meanwhile: that may be why adding failed
                people.delete_person(self.owner_id, person_id)
        with session_scope() as session:  # the recognition album, if this call made it and it is empty again
            session.execute(delete(Album).where(
                Album.owner_id == self.owner_id, Album.name == ALBUM, Album.id.not_in(self.album_ids),
                Album.id.not_in(select(album_photos.c.album_id))))


def create_person_from_photos(owner_id: int, name: str, photos: list[tuple[str, bytes]],
                              notes: str = "") -> people.PersonInfo:
    """A person named `name` whose faces are the one face of each photo (file name, bytes); at least one photo."""
    check_photo_count(len(photos))
    cleaned = people.clean_name(name)
    with session_scope() as session:
        people.unique_name(session, owner_id, cleaned)
    for file_name, image in photos:
        _check_one_face(file_name, image)
    before = _LibraryBefore.take(owner_id, [image for _, image in photos])
    person_id = None
    try:
        person_id = add_face(owner_id, photos[0][1], 0, name=cleaned, original_name=photos[0][0]).id
        for file_name, image in photos[1:]:
            add_face(owner_id, image, 0, person_id=person_id, original_name=file_name)
    except Exception:
        before.restore(person_id)
        raise
    if notes:
        people.rename_person(owner_id, person_id, cleaned, notes)
    return people.get_person(owner_id, person_id)
