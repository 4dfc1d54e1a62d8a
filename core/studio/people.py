"""People in an owner's photos: listing (search, sort), naming clusters, merging, splitting, correcting,
suggestions to confirm, deleting. Moving and removing one person's faces: core/studio/person_faces.py.

"Not this person" is a FaceRejection row: the face is never suggested for (or put back into) that
person again, whatever clustering or a new import finds. Suggestions compare a new face with each
person's centroid (the mean of their named faces of the same embedder) under the verify
threshold; a person's centroid is steadier than any one face, and the verify threshold is what the
sign-in engine already trusts for "same person".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.config import get_settings
from core.faces.thresholds import CALIBRATED
from core.storage.database import session_scope
from core.storage.studio_models import Face, FaceRejection, Person, Photo
from core.storage.video_models import VideoPerson
from core.studio.clustering import face_infos, vectors_of
from core.studio.errors import BadInput, NotFound, owned
from core.studio.face_removal import drop_faces, forget_files
from core.studio.records import FaceInfo

NAME_MAX = 120
NOTES_MAX = 2000
SORTS = ("name", "faces", "recent")  # by name; most faces first; most recently seen first


@dataclass(frozen=True)
class PersonInfo:
    id: int
    name: str
    notes: str
    face_count: int
    photo_count: int
    cover_face_id: int | None  # the chosen cover while it is one of their faces, else their first face
    last_seen: datetime | None = None  # their newest photo: when it was taken (EXIF), else when it was imported


def verify_threshold(embedder: str) -> float:
    """The "same person" distance for `embedder`: WEBTUBE_VERIFY_THRESHOLD for the configured one, else calibrated."""
    settings = get_settings()
    if settings.verify_threshold is not None and embedder == settings.embedder:
        return settings.verify_threshold
    return CALIBRATED[embedder].verify


def clean_name(name: str | None) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise BadInput("Give the person a name.")
    if len(cleaned) > NAME_MAX:
        raise BadInput(f"A name can be at most {NAME_MAX} characters.")
    return cleaned


def _clean_notes(notes: str | None) -> str:
    cleaned = (notes or "").strip()
    if len(cleaned) > NOTES_MAX:
        raise BadInput(f"Notes can be at most {NOTES_MAX} characters.")
    return cleaned


def own_person(session: Session, owner_id: int, person_id: int) -> Person:
    return owned(session, Person, owner_id, person_id, "No such person in your library.")


def own_face(session: Session, owner_id: int, face_id: int) -> Face:
    return owned(session, Face, owner_id, face_id, "No such face in your library.")


def _summaries(session: Session, owner_id: int, person_id: int | None = None) -> list[PersonInfo]:
    """People with their counts, cover and latest photo in one grouped query (a page lists them all at once)."""
    query = (
        select(Person.id, Person.name, Person.notes, func.count(Face.id), func.count(func.distinct(Face.photo_id)),
               func.max(case((Face.id == Person.cover_face_id, Face.id))), func.min(Face.id),
               func.max(func.coalesce(Photo.taken_at, Photo.created_at)))
        .outerjoin(Face, Face.person_id == Person.id).outerjoin(Photo, Photo.id == Face.photo_id)
        .where(Person.owner_id == owner_id).group_by(Person.id)
    )
    if person_id is not None:
        query = query.where(Person.id == person_id)
    return [PersonInfo(pid, name, notes, faces, photos, cover if cover is not None else first, seen)
            for pid, name, notes, faces, photos, cover, first, seen in session.execute(query)]


def person_info(session: Session, person: Person) -> PersonInfo:
    session.flush()
    return _summaries(session, person.owner_id, person.id)[0]


def unique_name(session: Session, owner_id: int, name: str, person_id: int | None = None) -> None:
    clash = session.scalar(select(Person.id).where(Person.owner_id == owner_id, Person.name == name))
    if clash is not None and clash != person_id:
        raise BadInput(f"You already have a person called {name}.")


def add_person(session: Session, owner_id: int, name: str, notes: str = "") -> Person:
    """A new, faceless person in this transaction; the name is cleaned and must be new in this library."""
    cleaned = clean_name(name)
    unique_name(session, owner_id, cleaned)
    person = Person(owner_id=owner_id, name=cleaned, notes=_clean_notes(notes))
    session.add(person)
    session.flush()
    return person


def _folded(text: str) -> str:
    """For matching names as people type them: any case, accents optional ("zoe" finds Zoë), spaces collapsed."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def _sort_key(sort: str) -> Callable[[PersonInfo], tuple]:
    def by_name(p: PersonInfo) -> tuple:
        return _folded(p.name), p.id

    if sort == "faces":
        return lambda p: (-p.face_count, *by_name(p))
    if sort == "recent":
        return lambda p: (p.last_seen is None, -(p.last_seen.timestamp() if p.last_seen else 0), *by_name(p))
    return by_name


def list_people(owner_id: int, search: str = "", sort: str = "name") -> list[PersonInfo]:
    """The owner's people whose name contains `search`, by name, most faces or most recently seen (`SORTS`)."""
    if sort not in SORTS:
        raise BadInput(f"Sort people by {', '.join(SORTS[:-1])} or {SORTS[-1]}.")
    wanted = _folded(search or "")
    with session_scope() as session:
        found = [p for p in _summaries(session, owner_id) if wanted in _folded(p.name)]
    return sorted(found, key=_sort_key(sort))


def get_person(owner_id: int, person_id: int) -> PersonInfo:
    with session_scope() as session:
        return person_info(session, own_person(session, owner_id, person_id))


def create_person(owner_id: int, name: str, notes: str = "") -> PersonInfo:
    """A new, faceless person; the name must be new in this library."""
    try:
        with session_scope() as session:
            return person_info(session, add_person(session, owner_id, name, notes))
    except IntegrityError as exc:  # made at the same moment elsewhere
        raise BadInput(f"You already have a person called {clean_name(name)}.") from exc


def rename_person(owner_id: int, person_id: int, name: str, notes: str | None = None) -> PersonInfo:
    """A new name (and, when given, new notes); the name must stay unique in this library."""
    cleaned = clean_name(name)
    with session_scope() as session:
        person = own_person(session, owner_id, person_id)
        unique_name(session, owner_id, cleaned, person_id)
        person.name = cleaned
        if notes is not None:
            person.notes = _clean_notes(notes)
        session.flush()
        return person_info(session, person)


def set_cover(owner_id: int, person_id: int, face_id: int) -> PersonInfo:
    """The face shown on the person's card: it must be one of their own faces."""
    with session_scope() as session:
        person = own_person(session, owner_id, person_id)
        if own_face(session, owner_id, face_id).person_id != person_id:
            raise BadInput("The cover must be one of this person's faces.")
        person.cover_face_id = face_id
        return person_info(session, person)


def merge_people(owner_id: int, source_ids: list[int], target_id: int) -> PersonInfo:
    """Move every face, "not this person" and video appearance of the sources to the target, then drop the sources."""
    sources = sorted(set(source_ids) - {target_id})
    if not sources:
        raise BadInput("Choose at least one other person to merge into this one.")
    with session_scope() as session:
        target = own_person(session, owner_id, target_id)
        for source_id in sources:
            own_person(session, owner_id, source_id)
        session.execute(update(Face).where(Face.person_id.in_(sources)).values(person_id=target_id))
        session.execute(
            update(Face).where(Face.suggested_person_id.in_(sources)).values(suggested_person_id=target_id)
        )
        rejected = session.scalars(select(FaceRejection.face_id).where(FaceRejection.person_id.in_(sources))).all()
        known = set(session.scalars(select(FaceRejection.face_id).where(FaceRejection.person_id == target_id)))
        for face_id in set(rejected) - known:
            session.add(FaceRejection(face_id=face_id, person_id=target_id))
        # The videos they were found in now name the merged person (else the delete below unnames them).
        session.execute(update(VideoPerson).where(VideoPerson.person_id.in_(sources)).values(person_id=target_id))
        session.flush()
        session.execute(delete(Person).where(Person.id.in_(sources)))
        session.flush()
        return person_info(session, target)


def delete_person(owner_id: int, person_id: int) -> int:
    """Delete the person and every face named as them: rows, index, thumbnails (face_removal), in one go.

    Face data is personal data: the faces go, not just the name; their photos stay in the library. Faces
    only suggested as them stay, unnamed. Returns how many faces were deleted.
    """
    with session_scope() as session:
        person = own_person(session, owner_id, person_id)
        face_ids = list(session.scalars(select(Face.id).where(Face.person_id == person_id)))
        session.execute(update(Face).where(Face.suggested_person_id == person_id).values(suggested_person_id=None))
        files = drop_faces(session, owner_id, face_ids)
        session.delete(person)
    forget_files(files)
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
            person = own_person(session, owner_id, person_id)
        else:
            cleaned = clean_name(name)
            existing = session.scalar(select(Person).where(Person.owner_id == owner_id, Person.name == cleaned))
            person = existing or Person(owner_id=owner_id, name=cleaned, notes="")
            session.add(person)
            session.flush()
        _join(session, faces, person.id, "clustering")
        session.flush()
        return person_info(session, person)


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
        face = own_face(session, owner_id, face_id)
        person_id = face.person_id or face.suggested_person_id
        if person_id is None and face.cluster_id is None:
            raise BadInput("This face is not named, suggested or in a cluster.")
        if person_id is not None and not _rejected(session, face_id, person_id):
            session.add(FaceRejection(face_id=face_id, person_id=person_id))
        face.person_id = face.named_by = face.suggested_person_id = face.cluster_id = None


def assign_face(owner_id: int, face_id: int, person_id: int) -> FaceInfo:
    """The owner says who this is: that overrides any earlier "not this person" for them."""
    with session_scope() as session:
        face = own_face(session, owner_id, face_id)
        own_person(session, owner_id, person_id)
        session.execute(delete(FaceRejection).where(FaceRejection.face_id == face_id,
                                                    FaceRejection.person_id == person_id))
        face.person_id, face.named_by, face.cluster_id, face.suggested_person_id = person_id, "hand", None, None
        session.flush()
        return face_infos(session, [face])[0]


def confirm_suggestion(owner_id: int, face_id: int) -> FaceInfo:
    with session_scope() as session:
        face = own_face(session, owner_id, face_id)
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
        own_person(session, owner_id, person_id)
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
            "cover_face_id": p.cover_face_id, "last_seen": p.last_seen.isoformat() if p.last_seen else None}


def _face_json(f: FaceInfo) -> dict:
    return {"id": f.id, "photo_id": f.photo_id, "box": list(f.box), "quality_ok": f.quality_ok,
            "embedder": f.embedder, "named_by": f.named_by}


def cli_people(args) -> dict | list:
    """`python -m core studio people ACTION [--owner EMAIL]`, the People page's operations from the shell:
    list [--search TEXT] [--sort name|faces|recent] | faces ID | rename ID NAME [--notes TEXT] | set-cover ID FACE
    | move-face ID FACE... (--to ID | --new-name NAME) | remove-face ID FACE... [--delete] | merge TARGET SOURCE...
    | delete ID."""
    from core.studio.owners import resolve_owner
    from core.studio.person_faces import delete_faces, move_faces, unname_faces  # they build on this module

    owner_id = resolve_owner(getattr(args, "owner", None))
    action = args.action
    if action == "list":
        found = list_people(owner_id, getattr(args, "search", None) or "", getattr(args, "sort", None) or "name")
        return [_person_json(p) for p in found]
    if action == "faces":
        return [_face_json(f) for f in person_faces(owner_id, args.person_id)]
    if action == "rename":
        return _person_json(rename_person(owner_id, args.person_id, args.name, getattr(args, "notes", None)))
    if action == "set-cover":
        return _person_json(set_cover(owner_id, args.person_id, args.face_id))
    if action == "move-face":
        moved_to = move_faces(owner_id, args.person_id, args.face_ids, getattr(args, "to", None),
                              getattr(args, "new_name", None))
        return {"moved": args.face_ids, "to": _person_json(moved_to)}
    if action == "remove-face":
        if getattr(args, "delete", False):
            return {"deleted_faces": delete_faces(owner_id, args.person_id, args.face_ids)}
        return {"unnamed_faces": unname_faces(owner_id, args.person_id, args.face_ids)}
    if action == "merge":
        return _person_json(merge_people(owner_id, args.source_ids, args.target_id))
    if action == "delete":
        return {"deleted": args.person_id, "faces_removed": delete_person(owner_id, args.person_id)}
    raise BadInput(f"Unknown people action {action}: use list, faces, rename, set-cover, move-face, remove-face, "
                   "merge or delete.")
