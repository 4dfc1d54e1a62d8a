"""People in an owner's photos: naming clusters, merging, splitting, correcting, and suggestions to confirm.

"Not this person" is a FaceRejection row: the face is never suggested for (or put back into) that
person again, whatever clustering or a new import finds. Suggestions compare a new face with each
person's centroid (the mean of their named faces of the same embedder) under the verify
threshold; a person's centroid is steadier than any one face, and the verify threshold is what the
sign-in engine already trusts for "same person".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.config import get_settings
from core.faces.embedders import CALIBRATED
from core.storage.database import purge_deleted, session_scope
from core.storage.studio_models import Face, FaceRejection, Person
from core.studio import index
from core.studio.clustering import face_infos, vectors_of
from core.studio.errors import BadInput, NotFound, owned
from core.studio.records import FaceInfo

NAME_MAX = 120


@dataclass(frozen=True)
class PersonInfo:
    id: int
    name: str
    notes: str
    face_count: int
    photo_count: int
    cover_face_id: int | None


def verify_threshold(embedder: str) -> float:
    """The "same person" distance for `embedder`: WEBTUBE_VERIFY_THRESHOLD for the configured one, else calibrated."""
    settings = get_settings()
    if settings.verify_threshold is not None and embedder == settings.embedder:
        return settings.verify_threshold
    return CALIBRATED[embedder].verify


def _clean_name(name: str | None) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise BadInput("Give the person a name.")
    if len(cleaned) > NAME_MAX:
        raise BadInput(f"A name can be at most {NAME_MAX} characters.")
    return cleaned


def _person(session: Session, owner_id: int, person_id: int) -> Person:
    return owned(session, Person, owner_id, person_id, "No such person in your library.")


def _face(session: Session, owner_id: int, face_id: int) -> Face:
    return owned(session, Face, owner_id, face_id, "No such face in your library.")


def _info(session: Session, person: Person) -> PersonInfo:
    faces, photos, first = session.execute(
        select(func.count(Face.id), func.count(func.distinct(Face.photo_id)), func.min(Face.id))
        .where(Face.person_id == person.id)
    ).one()
    cover = person.cover_face_id
    if cover is None or session.scalar(select(Face.person_id).where(Face.id == cover)) != person.id:
        cover = first
    return PersonInfo(person.id, person.name, person.notes, faces, photos, cover)


def _unique_name(session: Session, owner_id: int, name: str, person_id: int | None = None) -> None:
    clash = session.scalar(select(Person.id).where(Person.owner_id == owner_id, Person.name == name))
    if clash is not None and clash != person_id:
        raise BadInput(f"You already have a person called {name}.")


def list_people(owner_id: int) -> list[PersonInfo]:
    """The owner's people, by name."""
    with session_scope() as session:
        people = session.scalars(select(Person).where(Person.owner_id == owner_id).order_by(Person.name)).all()
        return [_info(session, p) for p in people]


def get_person(owner_id: int, person_id: int) -> PersonInfo:
    with session_scope() as session:
        return _info(session, _person(session, owner_id, person_id))


def create_person(owner_id: int, name: str, notes: str = "") -> PersonInfo:
    """A new, faceless person; the name must be new in this library."""
    cleaned = _clean_name(name)
    try:
        with session_scope() as session:
            _unique_name(session, owner_id, cleaned)
            person = Person(owner_id=owner_id, name=cleaned, notes=notes or "")
            session.add(person)
            session.flush()
            return _info(session, person)
    except IntegrityError as exc:  # made at the same moment elsewhere
        raise BadInput(f"You already have a person called {cleaned}.") from exc


def rename_person(owner_id: int, person_id: int, name: str, notes: str | None = None) -> PersonInfo:
    cleaned = _clean_name(name)
    with session_scope() as session:
        person = _person(session, owner_id, person_id)
        _unique_name(session, owner_id, cleaned, person_id)
        person.name = cleaned
        if notes is not None:
            person.notes = notes
        session.flush()
        return _info(session, person)


def set_cover(owner_id: int, person_id: int, face_id: int) -> PersonInfo:
    with session_scope() as session:
        person = _person(session, owner_id, person_id)
        if _face(session, owner_id, face_id).person_id != person_id:
            raise BadInput("The cover must be one of this person's faces.")
        person.cover_face_id = face_id
        return _info(session, person)


def merge_people(owner_id: int, source_ids: list[int], target_id: int) -> PersonInfo:
    """Move every face (and every "not this person") of the sources to the target, then drop the sources."""
    sources = sorted(set(source_ids) - {target_id})
    if not sources:
        raise BadInput("Choose at least one other person to merge into this one.")
    with session_scope() as session:
        target = _person(session, owner_id, target_id)
        for source_id in sources:
            _person(session, owner_id, source_id)
        session.execute(update(Face).where(Face.person_id.in_(sources)).values(person_id=target_id))
        session.execute(
            update(Face).where(Face.suggested_person_id.in_(sources)).values(suggested_person_id=target_id)
        )
        rejected = session.scalars(select(FaceRejection.face_id).where(FaceRejection.person_id.in_(sources))).all()
        known = set(session.scalars(select(FaceRejection.face_id).where(FaceRejection.person_id == target_id)))
        for face_id in set(rejected) - known:
            session.add(FaceRejection(face_id=face_id, person_id=target_id))
        session.flush()
        session.execute(delete(Person).where(Person.id.in_(sources)))
        session.flush()
        return _info(session, target)


def delete_person(owner_id: int, person_id: int) -> int:
    """Delete the person and every face named as them, from the database and the index together.

    Face data is personal data: the faces go, not just the name. Returns how many faces were removed.
    """
    with session_scope() as session:
        person = _person(session, owner_id, person_id)
        face_ids = list(session.scalars(select(Face.id).where(Face.person_id == person_id)))
        session.execute(update(Face).where(Face.suggested_person_id == person_id).values(suggested_person_id=None))
        session.execute(delete(Face).where(Face.id.in_(face_ids)))
        session.delete(person)
        session.flush()
        index.remove_faces(owner_id, face_ids)  # fails -> the transaction rolls back, nothing removed
    purge_deleted()
    return len(face_ids)


def _rejected(session: Session, face_id: int, person_id: int) -> bool:
    return session.get(FaceRejection, (face_id, person_id)) is not None


def _join(session: Session, faces: list[Face], person_id: int, named_by: str) -> int:
    """Name the faces as the person, skipping any the owner said is not them; returns how many joined."""
    joined = 0
    for face in faces:
        if _rejected(session, face.id, person_id):
            continue
        face.person_id, face.named_by, face.cluster_id, face.suggested_person_id = person_id, named_by, None, None
        joined += 1
    return joined


def name_cluster(owner_id: int, cluster_id: int, name: str | None = None, person_id: int | None = None) -> PersonInfo:
    """The cluster becomes a person: a new one called `name`, or joins `person_id`."""
    if (name is None) == (person_id is None):
        raise BadInput("Give either a new name or a person to join.")
    with session_scope() as session:
        faces = _cluster_faces(session, owner_id, cluster_id)
        if person_id is not None:
            person = _person(session, owner_id, person_id)
        else:
            cleaned = _clean_name(name)
            existing = session.scalar(select(Person).where(Person.owner_id == owner_id, Person.name == cleaned))
            person = existing or Person(owner_id=owner_id, name=cleaned, notes="")
            session.add(person)
            session.flush()
        _join(session, faces, person.id, "clustering")
        session.flush()
        return _info(session, person)


def _cluster_faces(session: Session, owner_id: int, cluster_id: int) -> list[Face]:
    faces = session.scalars(
        select(Face).where(Face.owner_id == owner_id, Face.person_id.is_(None), Face.cluster_id == cluster_id)
    ).all()
    if not faces:
        raise NotFound("No such cluster in your library.")
    return list(faces)


def merge_clusters(owner_id: int, cluster_ids: list[int]) -> int:
    """One cluster of them all, under the smallest id; returns that id."""
    ids = sorted(set(cluster_ids))
    if len(ids) < 2:
        raise BadInput("Choose at least two clusters to merge.")
    with session_scope() as session:
        for cluster_id in ids:
            _cluster_faces(session, owner_id, cluster_id)
        session.execute(
            update(Face).where(Face.owner_id == owner_id, Face.person_id.is_(None), Face.cluster_id.in_(ids))
            .values(cluster_id=ids[0])
        )
    return ids[0]


def split_cluster(owner_id: int, cluster_id: int, face_ids: list[int]) -> int:
    """Move the chosen faces of the cluster into a new cluster; returns its id."""
    chosen = set(face_ids)
    with session_scope() as session:
        faces = _cluster_faces(session, owner_id, cluster_id)
        moving = [f for f in faces if f.id in chosen]
        if not moving or len(moving) != len(chosen):
            raise BadInput("Choose faces of this cluster to split off.")
        if len(moving) == len(faces):
            raise BadInput("Leave at least one face in the cluster.")
        new_id = (session.scalar(select(func.max(Face.cluster_id)).where(Face.owner_id == owner_id)) or 0) + 1
        for face in moving:
            face.cluster_id = new_id
    return new_id


def reject_face(owner_id: int, face_id: int) -> None:
    """"Not this person": the face leaves its person (or its suggestion, or its cluster), remembered for the person."""
    with session_scope() as session:
        face = _face(session, owner_id, face_id)
        person_id = face.person_id or face.suggested_person_id
        if person_id is None and face.cluster_id is None:
            raise BadInput("This face is not named, suggested or in a cluster.")
        if person_id is not None and not _rejected(session, face_id, person_id):
            session.add(FaceRejection(face_id=face_id, person_id=person_id))
        face.person_id = face.named_by = face.suggested_person_id = face.cluster_id = None


def assign_face(owner_id: int, face_id: int, person_id: int) -> FaceInfo:
    """The owner says who this is: that overrides any earlier "not this person" for them."""
    with session_scope() as session:
        face = _face(session, owner_id, face_id)
        _person(session, owner_id, person_id)
        session.execute(delete(FaceRejection).where(FaceRejection.face_id == face_id,
                                                    FaceRejection.person_id == person_id))
        face.person_id, face.named_by, face.cluster_id, face.suggested_person_id = person_id, "hand", None, None
        session.flush()
        return face_infos(session, [face])[0]


def confirm_suggestion(owner_id: int, face_id: int) -> FaceInfo:
    with session_scope() as session:
        face = _face(session, owner_id, face_id)
        if face.suggested_person_id is None or face.person_id is not None:
            raise BadInput("This face has no suggestion to confirm.")
        _join(session, [face], face.suggested_person_id, "suggestion")
        session.flush()
        return face_infos(session, [face])[0]


def suggestions(owner_id: int) -> list[FaceInfo]:
    """Unnamed faces with a suggested person, waiting for the owner to confirm or reject."""
    with session_scope() as session:
        faces = session.scalars(
            select(Face).where(Face.owner_id == owner_id, Face.person_id.is_(None),
                               Face.suggested_person_id.is_not(None)).order_by(Face.suggested_person_id, Face.id)
        ).all()
        return face_infos(session, faces)


def person_faces(owner_id: int, person_id: int) -> list[FaceInfo]:
    with session_scope() as session:
        _person(session, owner_id, person_id)
        faces = session.scalars(select(Face).where(Face.person_id == person_id).order_by(Face.id)).all()
        return face_infos(session, faces)


def suggest_for_new_faces(owner_id: int, face_ids: list[int]) -> int:
    """Suggest a person for each new, good, unnamed face whose nearest person's centroid is within the verify
    threshold, never a person the owner rejected for that face. Returns how many suggestions were made."""
    made = 0
    with session_scope() as session:
        new = session.scalars(
            select(Face).where(Face.owner_id == owner_id, Face.id.in_(face_ids), Face.person_id.is_(None),
                               Face.quality_ok.is_(True))
        ).all()
        for embedder in {f.embedder for f in new}:
            people, centroids = _centroids(session, owner_id, embedder)
            if not people:
                continue
            limit = verify_threshold(embedder)
            faces = [f for f in new if f.embedder == embedder]
            distances = np.linalg.norm(vectors_of(faces)[:, None, :] - centroids[None, :, :], axis=2)
            rejected = {tuple(row) for row in session.execute(
                select(FaceRejection.face_id, FaceRejection.person_id)
                .where(FaceRejection.face_id.in_([f.id for f in faces]))
            )}
            for face, row in zip(faces, distances, strict=True):
                for j in np.argsort(row).tolist():
                    if row[j] > limit:
                        break
                    if (face.id, people[j]) not in rejected:
                        face.suggested_person_id = people[j]
                        made += 1
                        break
    return made


def _centroids(session: Session, owner_id: int, embedder: str) -> tuple[list[int], np.ndarray]:
    """Each named person's mean embedding for `embedder` (people with no face of it are left out).

    Reads only person ids and vectors: the importer asks once per photo, in libraries of any size."""
    rows = session.execute(
        select(Face.person_id, Face.embedding, Face.dim)
        .where(Face.owner_id == owner_id, Face.person_id.is_not(None), Face.embedder == embedder)
    ).all()
    if not rows:
        return [], np.zeros((0, 0), dtype=np.float32)
    vectors = np.vstack([np.frombuffer(blob, dtype="<f4", count=dim) for _, blob, dim in rows]).astype(np.float32)
    owners = np.array([person_id for person_id, _, _ in rows])
    people = sorted(set(owners.tolist()))
    return people, np.vstack([vectors[owners == p].mean(axis=0) for p in people])


def _person_json(p: PersonInfo) -> dict:
    return {"id": p.id, "name": p.name, "notes": p.notes, "faces": p.face_count, "photos": p.photo_count,
            "cover_face_id": p.cover_face_id}


def cli_people(args) -> dict | list:
    """`python -m core studio people list | rename ID NAME | merge TARGET SOURCE... | delete ID` [--owner EMAIL]."""
    from core.studio.owners import resolve_owner

    owner_id = resolve_owner(getattr(args, "owner", None))
    action = args.action
    if action == "list":
        return [_person_json(p) for p in list_people(owner_id)]
    if action == "rename":
        return _person_json(rename_person(owner_id, args.person_id, args.name, getattr(args, "notes", None)))
    if action == "merge":
        return _person_json(merge_people(owner_id, args.source_ids, args.target_id))
    if action == "delete":
        return {"deleted": args.person_id, "faces_removed": delete_person(owner_id, args.person_id)}
    raise BadInput(f"Unknown people action {action}: use list, rename, merge or delete.")
