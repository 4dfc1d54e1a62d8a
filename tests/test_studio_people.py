"""People: naming clusters, merging, splitting, "not this person", suggestions for new imports, deletion.

Real photos through the real importer and the real in-process index, on real SQLite.
"""
# ruff: noqa: F811 (the library fixtures are imported, then named as arguments)

from __future__ import annotations

import argparse
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from core.storage.database import session_scope
from core.storage.studio_models import Face, FaceRejection, Person, Photo
from core.studio import clustering, index, people, person_faces, thumbs
from core.studio.errors import BadInput, NotFound
from core.studio.importer import import_paths
from core.studio.index_state import current_mark
from core.studio.library import faces_of, thumbs_dir
from tests.support.paths import FACES_DIR
from tests.support.studio_library import HELD_OUT, Library, library, library_template  # noqa: F401

pytestmark = pytest.mark.both_databases


def _cluster_of(owner_id: int, person: str) -> clustering.ClusterInfo:
    """The cluster whose faces come from people/<person>/ (clustering tests show clusters are pure)."""
    run = clustering.cluster_faces(owner_id)
    with session_scope() as session:
        origins = dict(session.execute(select(Photo.id, Photo.origin)).all())
    for cluster in run.clusters:
        if any(Path(origins[f.photo_id]).parent.name == person for f in cluster.faces):
            return cluster
    raise AssertionError(f"no cluster of {person}")


def _import_held_out(tmp_path: Path, owner_id: int) -> list[int]:
    """The held-out Obama photo arrives in a later import; returns its new faces."""
    folder = tmp_path / "later"
    folder.mkdir()
    shutil.copy(FACES_DIR / "people" / "obama" / HELD_OUT, folder / HELD_OUT)
    summary = import_paths(owner_id, [folder], "Later", "folder")
    assert summary.photos == 1 and summary.faces >= 1
    with session_scope() as session:
        return list(session.scalars(select(Face.id).join(Photo).where(Photo.original_name == HELD_OUT)))


def test_naming_a_cluster_makes_a_person_with_its_faces(library: Library) -> None:
    cluster = _cluster_of(library.owner_id, "obama")
    person = people.name_cluster(library.owner_id, cluster.cluster_id, name="  Barack   Obama ")
    assert person.name == "Barack Obama" and person.face_count == cluster.size
    assert person.cover_face_id in {f.id for f in cluster.faces}
    faces = people.person_faces(library.owner_id, person.id)
    assert {f.id for f in faces} == {f.id for f in cluster.faces}
    assert all(f.named_by == "clustering" and f.cluster_id is None and f.person_name == "Barack Obama"
               for f in faces)
    assert [p.name for p in people.list_people(library.owner_id)] == ["Barack Obama"]
    joined = people.name_cluster(library.owner_id, _cluster_of(library.owner_id, "biden").cluster_id,
                                 person_id=person.id)
    assert joined.id == person.id and joined.face_count > person.face_count


def test_names_are_checked_and_unique_per_library(library: Library) -> None:
    people.create_person(library.owner_id, "Rose")
    with pytest.raises(BadInput, match="already have a person called Rose"):
        people.create_person(library.owner_id, "Rose")
    with pytest.raises(BadInput, match="name"):
        people.create_person(library.owner_id, "   ")
    with pytest.raises(BadInput, match="at most 120"):
        people.create_person(library.owner_id, "x" * 121)
    assert people.create_person(library.stranger_id, "Rose").name == "Rose"  # another library, another Rose
    kit = people.create_person(library.owner_id, "Kit")
    with pytest.raises(BadInput, match="already have"):
        people.rename_person(library.owner_id, kit.id, "Rose")
    assert people.rename_person(library.owner_id, kit.id, "Kit Harington", notes="actor").notes == "actor"


def test_not_this_person_is_remembered_and_never_suggested_again(library: Library, tmp_path: Path) -> None:
    obama = people.name_cluster(library.owner_id, _cluster_of(library.owner_id, "obama").cluster_id, name="Obama")
    new_faces = _import_held_out(tmp_path, library.owner_id)
    suggested = [f for f in people.suggestions(library.owner_id) if f.id in new_faces]
    assert [f.suggested_person_name for f in suggested] == ["Obama"]  # the importer asked for suggestions
    face_id = suggested[0].id
    people.reject_face(library.owner_id, face_id)
    # the attack: ask again, as a new import or a re-run would; the rejected person is never suggested again
    assert people.suggest_for_new_faces(library.owner_id, [face_id]) == 0
    assert face_id not in {f.id for f in people.suggestions(library.owner_id)}
    # nor does naming a cluster that holds the face pull it into that person
    with session_scope() as session:
        session.get(Face, face_id).cluster_id = 999
    people.name_cluster(library.owner_id, 999, person_id=obama.id)
    assert face_id not in {f.id for f in people.person_faces(library.owner_id, obama.id)}
    # the owner can still say by hand that it is them
    assert people.assign_face(library.owner_id, face_id, obama.id).named_by == "hand"
    with session_scope() as session:
        assert session.get(FaceRejection, (face_id, obama.id)) is None


def test_a_confirmed_suggestion_names_the_face(library: Library, tmp_path: Path) -> None:
    obama = people.name_cluster(library.owner_id, _cluster_of(library.owner_id, "obama").cluster_id, name="Obama")
    new_faces = _import_held_out(tmp_path, library.owner_id)
    face = next(f for f in people.suggestions(library.owner_id) if f.id in new_faces)
    confirmed = people.confirm_suggestion(library.owner_id, face.id)
    assert confirmed.person_id == obama.id and confirmed.named_by == "suggestion"
    assert confirmed.suggested_person_id is None
    with pytest.raises(BadInput, match="no suggestion"):
        people.confirm_suggestion(library.owner_id, face.id)


def test_removing_a_face_from_its_person_remembers_it(library: Library) -> None:
    cluster = _cluster_of(library.owner_id, "kit_harington")
    kit = people.name_cluster(library.owner_id, cluster.cluster_id, name="Kit")
    wrong = cluster.faces[0].id
    people.reject_face(library.owner_id, wrong)
    assert wrong not in {f.id for f in people.person_faces(library.owner_id, kit.id)}
    people.suggest_for_new_faces(library.owner_id, [wrong])  # it is still close to Kit's other faces
    with session_scope() as session:
        assert session.get(FaceRejection, (wrong, kit.id)) is not None
        assert session.get(Face, wrong).suggested_person_id != kit.id


def test_merge_and_split_clusters(library: Library) -> None:
    a = _cluster_of(library.owner_id, "alex_lacamoire")
    b = _cluster_of(library.owner_id, "kit_harington")
    merged = people.merge_clusters(library.owner_id, [a.cluster_id, b.cluster_id])
    after = {c.cluster_id: c for c in clustering.current_clusters(library.owner_id).clusters}
    assert merged == min(a.cluster_id, b.cluster_id) and after[merged].size == a.size + b.size
    new_id = people.split_cluster(library.owner_id, merged, [f.id for f in b.faces])
    after = {c.cluster_id: c for c in clustering.current_clusters(library.owner_id).clusters}
    assert {f.id for f in after[new_id].faces} == {f.id for f in b.faces}
    assert {f.id for f in after[merged].faces} == {f.id for f in a.faces}
    with pytest.raises(BadInput, match="at least one face"):
        people.split_cluster(library.owner_id, new_id, [f.id for f in b.faces])
    with pytest.raises(BadInput, match="two clusters"):
        people.merge_clusters(library.owner_id, [merged])


def test_merging_people_moves_faces_and_rejections(library: Library) -> None:
    alex = people.name_cluster(library.owner_id, _cluster_of(library.owner_id, "alex_lacamoire").cluster_id,
                               name="Alex")
    kit_cluster = _cluster_of(library.owner_id, "kit_harington")
    kit = people.name_cluster(library.owner_id, kit_cluster.cluster_id, name="Kit")
    people.reject_face(library.owner_id, kit_cluster.faces[0].id)
    merged = people.merge_people(library.owner_id, [kit.id], alex.id)
    assert merged.face_count == alex.face_count + kit.face_count - 1
    assert [p.name for p in people.list_people(library.owner_id)] == ["Alex"]
    with session_scope() as session:
        assert session.get(FaceRejection, (kit_cluster.faces[0].id, alex.id)) is not None
    with pytest.raises(BadInput):
        people.merge_people(library.owner_id, [alex.id], alex.id)


def test_deleting_a_person_removes_their_faces_from_database_and_index(library: Library) -> None:
    cluster = _cluster_of(library.owner_id, "obama")
    person = people.name_cluster(library.owner_id, cluster.cluster_id, name="Obama")
    face_ids = {f.id for f in cluster.faces}
    with session_scope() as session:
        probe = np.frombuffer(session.get(Face, min(face_ids)).embedding, dtype="<f4").copy()
        embedder = session.get(Face, min(face_ids)).embedder
    assert face_ids & {i for i, _ in index.search(library.owner_id, embedder, probe, 50, None)}
    assert people.delete_person(library.owner_id, person.id) == len(face_ids)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Face).where(Face.id.in_(face_ids))) == 0
        assert session.get(Person, person.id) is None
    assert not face_ids & {i for i, _ in index.search(library.owner_id, embedder, probe, 50, None)}


def test_a_failing_index_leaves_the_person_and_faces_in_place(library: Library,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = _cluster_of(library.owner_id, "obama")
    person = people.name_cluster(library.owner_id, cluster.cluster_id, name="Obama")

    def broken(owner_id: int, face_ids: list[int]) -> None:
        raise OSError("index unavailable")

    monkeypatch.setattr(index, "remove_faces", broken)
    with pytest.raises(OSError):
        people.delete_person(library.owner_id, person.id)
    assert people.get_person(library.owner_id, person.id).face_count == cluster.size


def test_another_owner_can_neither_see_nor_change_people(library: Library) -> None:
    cluster = _cluster_of(library.owner_id, "obama")
    person = people.name_cluster(library.owner_id, cluster.cluster_id, name="Obama")
    face_id = cluster.faces[0].id
    other = library.stranger_id
    assert people.list_people(other) == [] and people.suggestions(other) == []
    for attempt in (
        lambda: people.rename_person(other, person.id, "Mine"),
        lambda: people.delete_person(other, person.id),
        lambda: people.person_faces(other, person.id),
        lambda: people.reject_face(other, face_id),
        lambda: people.assign_face(other, face_id, people.create_person(other, "Theirs").id),
        lambda: people.merge_people(other, [person.id], people.create_person(other, "Target").id),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert people.get_person(library.owner_id, person.id).face_count == cluster.size
    assert people.suggest_for_new_faces(other, [face_id]) == 0


def test_cli_people_list_rename_merge_delete(library: Library) -> None:
    a = people.name_cluster(library.owner_id, _cluster_of(library.owner_id, "obama").cluster_id, name="A")
    b = people.name_cluster(library.owner_id, _cluster_of(library.owner_id, "biden").cluster_id, name="B")
    listed = people.cli_people(argparse.Namespace(owner=None, action="list"))
    assert [p["name"] for p in listed] == ["A", "B"] and listed[0]["faces"] == a.face_count
    renamed = people.cli_people(argparse.Namespace(owner=None, action="rename", person_id=a.id, name="Obama"))
    assert renamed["name"] == "Obama"
    merged = people.cli_people(argparse.Namespace(owner=None, action="merge", target_id=a.id, source_ids=[b.id]))
    assert merged["faces"] == a.face_count + b.face_count
    deleted = people.cli_people(argparse.Namespace(owner=None, action="delete", person_id=a.id))
    assert deleted == {"deleted": a.id, "faces_removed": a.face_count + b.face_count}


# --- the People admin view: list with search and sort, cover, move, unname, delete faces ---------------------------


def _named(owner_id: int, folder: str, name: str) -> tuple[people.PersonInfo, list[int]]:
    """A person named by hand with every face of the photos in people/<folder>/; returns them and their face ids."""
    with session_scope() as session:
        rows = session.execute(select(Face.id, Photo.origin).join(Photo).where(Face.owner_id == owner_id)).all()
    face_ids = sorted(face_id for face_id, origin in rows if Path(origin).parent.name == folder)
    person = people.create_person(owner_id, name)
    for face_id in face_ids:
        people.assign_face(owner_id, face_id, person.id)
    return people.get_person(owner_id, person.id), face_ids


def _face_ids(owner_id: int, person_id: int) -> list[int]:
    return [f.id for f in people.person_faces(owner_id, person_id)]


def test_people_are_listed_with_counts_found_by_name_and_sorted(library: Library) -> None:
    owner = library.owner_id
    kit, kit_faces = _named(owner, "kit_harington", "Kit Harington")
    rose, _ = _named(owner, "rose_leslie", "rose leslie")
    alex, _ = _named(owner, "alex_lacamoire", "Alex Lacamoire")
    zoe = people.create_person(owner, "Zoë")  # nobody's face yet
    assert (kit.face_count, kit.photo_count, rose.face_count) == (3, 3, 2)
    assert kit.cover_face_id == kit_faces[0] and zoe.cover_face_id is None and zoe.last_seen is None
    # by name, whatever the case; most faces first; the newest photo first (EXIF date, else imported)
    assert [p.name for p in people.list_people(owner)] == ["Alex Lacamoire", "Kit Harington", "rose leslie", "Zoë"]
    assert [p.name for p in people.list_people(owner, sort="faces")][:2] == ["Alex Lacamoire", "Kit Harington"]
    assert people.list_people(owner, sort="faces")[-1].name == "Zoë"
    with session_scope() as session:
        photo = session.get(Photo, session.get(Face, kit_faces[1]).photo_id)
        photo.taken_at = datetime(2031, 5, 1, tzinfo=UTC)
    recent = people.list_people(owner, sort="recent")
    assert recent[0].name == "Kit Harington" and recent[0].last_seen == datetime(2031, 5, 1, tzinfo=UTC)
    assert recent[-1].name == "Zoë"  # never seen: last
    # search: part of the name, any case, accents optional, spaces collapsed
    assert [p.name for p in people.list_people(owner, search="  LES ")] == ["rose leslie"]
    assert [p.name for p in people.list_people(owner, search="zoe")] == ["Zoë"]
    assert [p.name for p in people.list_people(owner, search="I", sort="faces")] == [
        "Alex Lacamoire", "Kit Harington", "rose leslie"]
    assert people.list_people(owner, search="nobody") == []
    assert people.list_people(library.stranger_id, search="Kit") == []
    with pytest.raises(BadInput, match="Sort people by name, faces or recent"):
        people.list_people(owner, sort="age")
    assert alex.face_count == 3


def test_the_cover_is_one_of_their_own_faces(library: Library) -> None:
    owner = library.owner_id
    kit, kit_faces = _named(owner, "kit_harington", "Kit")
    rose, rose_faces = _named(owner, "rose_leslie", "Rose")
    assert people.set_cover(owner, kit.id, kit_faces[2]).cover_face_id == kit_faces[2]
    assert people.list_people(owner)[0].cover_face_id == kit_faces[2]
    with pytest.raises(BadInput, match="one of this person's faces"):
        people.set_cover(owner, kit.id, rose_faces[0])
    theirs = people.create_person(library.stranger_id, "Theirs")
    for attempt in (lambda: people.set_cover(library.stranger_id, kit.id, kit_faces[0]),
                    lambda: people.set_cover(library.stranger_id, theirs.id, kit_faces[0]),
                    lambda: people.set_cover(owner, theirs.id, kit_faces[0])):
        with pytest.raises(NotFound):
            attempt()
    # a cover that leaves its person falls back to their first face
    person_faces.move_faces(owner, kit.id, [kit_faces[2]], to_person_id=rose.id)
    assert people.get_person(owner, kit.id).cover_face_id == kit_faces[0]
    with session_scope() as session:
        assert session.get(Person, kit.id).cover_face_id is None


def test_moving_faces_to_someone_else_or_a_new_person(library: Library) -> None:
    owner = library.owner_id
    kit, kit_faces = _named(owner, "kit_harington", "Kit")
    rose, rose_faces = _named(owner, "rose_leslie", "Rose")
    moved_to = person_faces.move_faces(owner, kit.id, [kit_faces[0], kit_faces[0]], to_person_id=rose.id)
    assert moved_to.id == rose.id and moved_to.face_count == len(rose_faces) + 1
    assert _face_ids(owner, kit.id) == kit_faces[1:]
    assert [f.named_by for f in people.person_faces(owner, rose.id)] == ["hand"] * 3
    with session_scope() as session:  # remembered as not Kit, so no suggestion puts it back
        assert session.get(FaceRejection, (kit_faces[0], kit.id)) is not None
    # moved back: the owner says it is Kit after all, which lifts that "not Kit"
    person_faces.move_faces(owner, rose.id, [kit_faces[0]], to_person_id=kit.id)
    with session_scope() as session:
        assert session.get(FaceRejection, (kit_faces[0], kit.id)) is None
        assert session.get(FaceRejection, (kit_faces[0], rose.id)) is not None
    # to a new person, named as any name is
    double = person_faces.move_faces(owner, kit.id, [kit_faces[1], kit_faces[2]], new_name="  Kit's   double ")
    assert (double.name, double.face_count) == ("Kit's double", 2)
    assert _face_ids(owner, double.id) == kit_faces[1:]


def test_a_move_that_cannot_be_done_moves_nothing(library: Library) -> None:
    owner = library.owner_id
    kit, kit_faces = _named(owner, "kit_harington", "Kit")
    rose, rose_faces = _named(owner, "rose_leslie", "Rose")
    theirs = people.create_person(library.stranger_id, "Theirs")
    refused = [
        (BadInput, "already Kit's", lambda: person_faces.move_faces(owner, kit.id, kit_faces, to_person_id=kit.id)),
        (BadInput, "at least one face", lambda: person_faces.move_faces(owner, kit.id, [], to_person_id=rose.id)),
        (BadInput, "or give a new", lambda: person_faces.move_faces(owner, kit.id, kit_faces)),
        (BadInput, "or give a new", lambda: person_faces.move_faces(owner, kit.id, kit_faces, rose.id, "New")),
        (BadInput, f"Face {rose_faces[0]} is not one of Kit's",
         lambda: person_faces.move_faces(owner, kit.id, [kit_faces[0], rose_faces[0]], to_person_id=rose.id)),
        (BadInput, "already have a person called Rose",
         lambda: person_faces.move_faces(owner, kit.id, kit_faces, new_name="Rose")),
        (BadInput, "Give the person a name", lambda: person_faces.move_faces(owner, kit.id, kit_faces, new_name=" ")),
        (BadInput, "at most 120", lambda: person_faces.move_faces(owner, kit.id, kit_faces, new_name="x" * 121)),
        # another owner's ids read as missing, whichever of the three they are
        (NotFound, "No such person", lambda: person_faces.move_faces(owner, kit.id, kit_faces, theirs.id)),
        (NotFound, "No such face", lambda: person_faces.move_faces(library.stranger_id, theirs.id, kit_faces,
                                                                     new_name="Mine")),
        (NotFound, "No such person", lambda: person_faces.move_faces(library.stranger_id, kit.id, kit_faces,
                                                                       theirs.id)),
    ]
    for error, message, attempt in refused:
        with pytest.raises(error, match=message):
            attempt()
    assert _face_ids(owner, kit.id) == kit_faces and _face_ids(owner, rose.id) == rose_faces
    assert [p.name for p in people.list_people(owner)] == ["Kit", "Rose"]
    assert [p.name for p in people.list_people(library.stranger_id)] == ["Theirs"]
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(FaceRejection)) == 0


def test_unnaming_faces_keeps_them_and_remembers(library: Library) -> None:
    owner = library.owner_id
    kit, kit_faces = _named(owner, "kit_harington", "Kit")
    people.set_cover(owner, kit.id, kit_faces[1])
    assert person_faces.unname_faces(owner, kit.id, kit_faces[:2]) == 2
    assert _face_ids(owner, kit.id) == kit_faces[2:]
    faces = faces_of(owner, kit_faces[:2])
    assert [(f.person_id, f.named_by, f.cluster_id) for f in faces] == [(None, None, None)] * 2
    assert people.suggest_for_new_faces(owner, kit_faces[:2]) == 0  # close to Kit, but never suggested again
    assert people.get_person(owner, kit.id).cover_face_id == kit_faces[2]
    with pytest.raises(BadInput, match="not one of Kit's"):
        person_faces.unname_faces(owner, kit.id, kit_faces[:1])  # no longer theirs
    with pytest.raises(NotFound):
        person_faces.unname_faces(library.stranger_id, kit.id, kit_faces[2:])
    assert _face_ids(owner, kit.id) == kit_faces[2:]


def _thumbnails(owner_id: int, face_ids: list[int]) -> list[Path]:
    """Make each face's cached thumbnail (as the pages do) and return the files."""
    for face_id in face_ids:
        thumbs.face_thumbnail(owner_id, face_id)
    folder = thumbs_dir(owner_id)
    return [path for face_id in face_ids for path in folder.glob(f"f{face_id}-*.jpg")]


def _photo_count(owner_id: int) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Photo).where(Photo.owner_id == owner_id))


def _in_step(owner_id: int, embedder: str) -> None:
    """The index's check row counts exactly the database's faces (migration 0004's triggers)."""
    with session_scope() as session:
        count, id_sum = session.execute(select(func.count(Face.id), func.coalesce(func.sum(Face.id), 0))
                                        .where(Face.owner_id == owner_id, Face.embedder == embedder)).one()
    mark = current_mark(owner_id, embedder)
    assert (mark.count, mark.id_sum) == (count, id_sum)


def _probe(face_id: int) -> tuple[str, np.ndarray]:
    with session_scope() as session:
        face = session.get(Face, face_id)
        return face.embedder, np.frombuffer(face.embedding, dtype="<f4").copy()


def _found(owner_id: int, embedder: str, vector: np.ndarray) -> set[int]:
    return {face_id for face_id, _ in index.search(owner_id, embedder, vector, 100, None)}


def test_deleting_faces_removes_them_everywhere_and_keeps_the_photos(library: Library) -> None:
    owner = library.owner_id
    kit, kit_faces = _named(owner, "kit_harington", "Kit")
    rose, _ = _named(owner, "rose_leslie", "Rose")
    gone = kit_faces[:2]
    people.set_cover(owner, kit.id, gone[0])
    person_faces.move_faces(owner, kit.id, [kit_faces[2]], to_person_id=rose.id)
    person_faces.move_faces(owner, rose.id, [kit_faces[2]], to_person_id=kit.id)  # leaves a "not Rose" mark
    embedder, probe = _probe(gone[0])
    assert set(gone) <= _found(owner, embedder, probe)
    files = _thumbnails(owner, gone)
    assert files and all(path.is_file() for path in files)
    with session_scope() as session:
        photos = [session.get(Face, face_id).photo_id for face_id in gone]
    assert person_faces.delete_faces(owner, kit.id, gone) == 2
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Face).where(Face.id.in_(gone))) == 0
        assert session.scalar(select(func.count()).select_from(Photo).where(Photo.id.in_(photos))) == 2
        assert session.get(Person, kit.id).cover_face_id is None
    assert not any(path.exists() for path in files)
    assert not set(gone) & _found(owner, embedder, probe)
    _in_step(owner, embedder)
    assert people.get_person(owner, kit.id).face_count == 1
    with pytest.raises(NotFound):
        person_faces.delete_faces(library.stranger_id, kit.id, kit_faces[2:])
    with pytest.raises(NotFound):
        person_faces.delete_faces(owner, kit.id, gone)  # already gone
    with pytest.raises(BadInput, match="at least one face"):
        person_faces.delete_faces(owner, kit.id, [])


def test_a_failing_index_leaves_the_faces_to_delete_in_place(library: Library,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    owner = library.owner_id
    kit, kit_faces = _named(owner, "kit_harington", "Kit")
    files = _thumbnails(owner, kit_faces)

    def broken(owner_id: int, face_ids: list[int]) -> None:
        raise OSError("index unavailable")

    monkeypatch.setattr(index, "remove_faces", broken)
    with pytest.raises(OSError):
        person_faces.delete_faces(owner, kit.id, kit_faces)
    assert _face_ids(owner, kit.id) == kit_faces and all(path.is_file() for path in files)


def test_deleting_a_person_deletes_their_faces_thumbnails_and_marks_but_not_photos(library: Library) -> None:
    owner = library.owner_id
    _, kit_faces = _named(owner, "kit_harington", "Kit")
    rose, rose_faces = _named(owner, "rose_leslie", "Rose")
    person_faces.unname_faces(owner, rose.id, rose_faces[:1])  # a "not Rose" mark that must go with Rose
    files = _thumbnails(owner, kit_faces + rose_faces)
    embedder, probe = _probe(rose_faces[1])
    photos_before = _photo_count(owner)
    assert people.delete_person(owner, rose.id) == 1
    assert _photo_count(owner) == photos_before
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(FaceRejection)) == 0
        assert session.get(Face, rose_faces[0]) is not None  # unnamed before: not theirs any more, kept
    assert [path.exists() for path in files] == [True] * len(kit_faces) + [True, False]
    assert rose_faces[1] not in _found(owner, embedder, probe)
    _in_step(owner, embedder)
    assert [p.name for p in people.list_people(owner)] == ["Kit"]


def test_notes_are_checked(library: Library) -> None:
    kit = people.create_person(library.owner_id, "Kit", notes="  actor ")
    assert kit.notes == "actor"
    with pytest.raises(BadInput, match="at most 2000"):
        people.rename_person(library.owner_id, kit.id, "Kit", notes="x" * 2001)
    assert people.get_person(library.owner_id, kit.id).notes == "actor"


def test_cli_people_search_sort_faces_cover_move_and_remove(library: Library) -> None:
    kit, kit_faces = _named(library.owner_id, "kit_harington", "Kit")
    rose, rose_faces = _named(library.owner_id, "rose_leslie", "Rose")

    def cli(action: str, **fields: object) -> dict | list:
        return people.cli_people(argparse.Namespace(owner=None, action=action, **fields))

    assert [p["name"] for p in cli("list", search="ros", sort="name")] == ["Rose"]
    assert [p["name"] for p in cli("list", search=None, sort="faces")] == ["Kit", "Rose"]
    assert [f["id"] for f in cli("faces", person_id=kit.id)] == kit_faces
    assert cli("set-cover", person_id=kit.id, face_id=kit_faces[1])["cover_face_id"] == kit_faces[1]
    moved = cli("move-face", person_id=kit.id, face_ids=[kit_faces[0]], to=rose.id, new_name=None)
    assert moved == {"moved": [kit_faces[0]], "to": cli("list", search="Rose", sort="name")[0]}
    new = cli("move-face", person_id=rose.id, face_ids=[kit_faces[0]], to=None, new_name="Kit 2")["to"]
    assert (new["name"], new["faces"]) == ("Kit 2", 1)
    assert cli("remove-face", person_id=rose.id, face_ids=rose_faces[:1], delete=False) == {"unnamed_faces": 1}
    assert cli("remove-face", person_id=kit.id, face_ids=kit_faces[1:], delete=True) == {"deleted_faces": 2}
    assert [(p["name"], p["faces"]) for p in cli("list")] == [("Kit", 0), ("Kit 2", 1), ("Rose", 1)]
    stranger = argparse.Namespace(owner="stranger@example.com", action="faces", person_id=rose.id)
    with pytest.raises(NotFound):
        people.cli_people(stranger)
