"""People: naming clusters, merging, splitting, "not this person", suggestions for new imports, deletion.

Real photos through the real importer and the real in-process index, on real SQLite.
"""
# ruff: noqa: F811 (the library fixtures are imported, then named as arguments)

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from core.storage.database import session_scope
from core.storage.studio_models import Face, FaceRejection, Person, Photo
from core.studio import clustering, index, people
from core.studio.errors import BadInput, NotFound
from core.studio.importer import import_paths
from tests.support.paths import FACES_DIR
from tests.support.studio_library import HELD_OUT, Library, library, library_template  # noqa: F401


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
