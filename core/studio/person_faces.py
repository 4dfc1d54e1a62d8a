"""Correcting one person's faces from their page: move faces to someone else, unname them, or delete them.

Two ways to take a face away from a person, because they mean different things:
- unname ("Not this person"): the face stays in the library, unnamed, and is remembered as not them, so no
  suggestion or cluster naming puts it back; the right correction for a wrong match, which is still someone;
- delete: the face leaves the library for good (rows, search index, thumbnails: face_removal), while its
  photo stays; for a detection that is not a face, or someone whose face the owner does not want kept.
Moving a face is the owner saying who it is: it joins the other person (overriding any earlier "not them")
and is remembered as not the person it left. Each call is one transaction: all the faces, or none.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.storage.database import session_scope
from core.storage.studio_models import Face, FaceRejection, Person
from core.studio.errors import BadInput
from core.studio.face_removal import drop_faces, forget_files
from core.studio.people import PersonInfo, add_person, own_face, own_person, person_info


def _their_faces(session: Session, owner_id: int, person: Person, face_ids: Iterable[int]) -> list[Face]:
    """The chosen faces, each the owner's (else NotFound, as for any id not theirs) and named as `person`."""
    ids = list(dict.fromkeys(face_ids))
    if not ids:
        raise BadInput("Choose at least one face.")
    faces = [own_face(session, owner_id, face_id) for face_id in ids]
    strays = [face.id for face in faces if face.person_id != person.id]
    if strays:
        raise BadInput(f"Face {strays[0]} is not one of {person.name}'s faces.")
    return faces


def _not_them(session: Session, faces: list[Face], person: Person) -> None:
    """Remember the faces as not `person`, and let go of them as `person`'s cover."""
    for face in faces:
        if session.get(FaceRejection, (face.id, person.id)) is None:
            session.add(FaceRejection(face_id=face.id, person_id=person.id))
    if person.cover_face_id in {face.id for face in faces}:
        person.cover_face_id = None


def move_faces(owner_id: int, person_id: int, face_ids: Iterable[int], to_person_id: int | None = None,
               new_name: str | None = None) -> PersonInfo:
    """Move faces of `person_id` to `to_person_id`, or to a new person called `new_name`; returns who has them now."""
    if (to_person_id is None) == (new_name is None):
        raise BadInput("Choose the person to move the faces to, or give a new person's name.")
    with session_scope() as session:
        source = own_person(session, owner_id, person_id)
        faces = _their_faces(session, owner_id, source, face_ids)
        if to_person_id == person_id:
            raise BadInput(f"These faces are already {source.name}'s: choose someone else.")
        target = own_person(session, owner_id, to_person_id) if to_person_id is not None \
            else add_person(session, owner_id, new_name or "")
        _not_them(session, faces, source)
        session.execute(delete(FaceRejection).where(FaceRejection.person_id == target.id,
                                                    FaceRejection.face_id.in_([face.id for face in faces])))
        for face in faces:
            face.person_id, face.named_by, face.cluster_id, face.suggested_person_id = target.id, "hand", None, None
        return person_info(session, target)


def unname_faces(owner_id: int, person_id: int, face_ids: Iterable[int]) -> int:
    """"Not this person" for several of their faces at once: unnamed, kept, never suggested for them again."""
    with session_scope() as session:
        person = own_person(session, owner_id, person_id)
        faces = _their_faces(session, owner_id, person, face_ids)
        _not_them(session, faces, person)
        for face in faces:
            face.person_id = face.named_by = face.suggested_person_id = face.cluster_id = None
        return len(faces)


def delete_faces(owner_id: int, person_id: int, face_ids: Iterable[int]) -> int:
    """Delete faces of this person from the library (rows, index, thumbnails); their photos stay."""
    with session_scope() as session:
        person = own_person(session, owner_id, person_id)
        faces = _their_faces(session, owner_id, person, face_ids)
        files = drop_faces(session, owner_id, [face.id for face in faces])
    forget_files(files)
    return len(faces)
