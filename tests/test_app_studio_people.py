"""Studio › People, the admin view, through Streamlit's AppTest on the real core (SQLite, face engine, index).

The library is the test photos imported once per module (tests/support/studio_library.py); each test names a
few people by hand, then does on the page what an owner does: find and sort people, rename, pick the cover,
move a face to someone else or to a new person, delete a face, merge, and delete a person after reading
what goes. Every result is checked in the database, not only in the page's words.
"""
# ruff: noqa: F811 (the library fixtures are imported, then named as arguments)

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from core.storage.database import session_scope
from core.storage.studio_models import Face, Photo
from core.studio import index, people
from core.studio.people import PersonInfo
from tests.support.app_driver import ServerPagesManager, button, open_app, texts, widget
from tests.support.studio_library import Library, library, library_template  # noqa: F401

PAGE = "pages/studio_people.py"


@pytest.fixture
def owner(library: Library, monkeypatch: pytest.MonkeyPatch) -> Library:
    """The imported library, its owner signed in; pages as a running server sees them (see ServerPagesManager)."""
    monkeypatch.setattr("streamlit.testing.v1.app_test.PagesManager", ServerPagesManager)
    return library


def _named(owner_id: int, folder: str, name: str) -> tuple[PersonInfo, list[int]]:
    """A person named by hand with every face of the photos in people/<folder>/; returns them and their face ids."""
    with session_scope() as session:
        rows = session.execute(select(Face.id, Photo.origin).join(Photo).where(Face.owner_id == owner_id)).all()
    face_ids = sorted(face_id for face_id, origin in rows if Path(origin).parent.name == folder)
    person = people.create_person(owner_id, name)
    for face_id in face_ids:
        people.assign_face(owner_id, face_id, person.id)
    return people.get_person(owner_id, person.id), face_ids


def _plain(markdown: str) -> str:
    """What a person reads: Markdown escapes and invisible word joiners removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def _cards(at: AppTest) -> list[str]:
    """The names on the cards, in the order shown (each card's name is its only bold line)."""
    return [_plain(text)[2:-2] for text in texts(at, "markdown") if re.fullmatch(r"\*\*[^*]+\*\*", text)]


def _run(at: AppTest) -> None:
    """Run the page after an action; a run that raised shows the exception on the page, never passes here."""
    at.run()
    assert not at.exception, at.exception


def _open(at: AppTest, person_id: int) -> None:
    at.button(key=f"person-open-{person_id}").click()
    _run(at)


def _tick(at: AppTest, person_id: int, *face_ids: int) -> None:
    for face_id in face_ids:
        at.checkbox(key=f"person-{person_id}-faces-pick-{face_id}").check()
    _run(at)


def _photo_count(owner_id: int) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Photo).where(Photo.owner_id == owner_id))


def _face_ids(owner_id: int, person_id: int) -> list[int]:
    return [face.id for face in people.person_faces(owner_id, person_id)]


def test_search_and_sort_the_people(owner: Library) -> None:
    _named(owner.owner_id, "kit_harington", "Kit")
    _, rose_faces = _named(owner.owner_id, "rose_leslie", "Rose")
    _named(owner.owner_id, "alex_lacamoire", "Alex")
    _named(owner.owner_id, "biden", "Biden")
    with session_scope() as session:  # Rose's newest photo: taken in 2031
        session.get(Photo, session.get(Face, rose_faces[0]).photo_id).taken_at = datetime(2031, 5, 1, tzinfo=UTC)
    theirs = people.create_person(owner.stranger_id, "Theirs")
    at = open_app(owner.owner_id)
    at.session_state["studio_open_person"] = theirs.id  # another library's person never opens here
    at.switch_page(PAGE).run()
    assert not at.exception
    assert texts(at, "subheader") == []
    assert _cards(at) == ["Alex", "Biden", "Kit", "Rose"]
    assert "4 people" in texts(at, "caption") and "3 faces in 3 photos" in texts(at, "caption")
    assert "Latest photo 1 May 2031" in texts(at, "caption")
    at.text_input(key="people-search").input("  rO ")
    _run(at)
    assert _cards(at) == ["Rose"]
    assert "1 of 4 people found for “rO”." in [_plain(c) for c in texts(at, "caption")]
    at.text_input(key="people-search").input("nobody")
    _run(at)
    assert _cards(at) == []
    at.text_input(key="people-search").input("")
    at.segmented_control(key="people-sort").set_value("faces")
    _run(at)
    assert _cards(at) == ["Alex", "Kit", "Biden", "Rose"]  # 3, 3, 2, 2 faces; ties by name
    at.segmented_control(key="people-sort").set_value("recent")
    _run(at)
    assert _cards(at)[0] == "Rose"


def test_rename_set_the_cover_and_move_faces(owner: Library) -> None:
    kit, kit_faces = _named(owner.owner_id, "kit_harington", "Kit")
    rose, rose_faces = _named(owner.owner_id, "rose_leslie", "Rose")
    at = open_app(owner.owner_id, PAGE)
    _open(at, kit.id)
    assert texts(at, "subheader") == ["Kit"]
    widget(at, "text_input", "Name").input("Kit Harington")
    widget(at, "text_area", "Notes").input("Actor")
    button(at, "Save").click()
    _run(at)
    assert texts(at, "success") == ["Saved “Kit Harington”."]
    assert (people.get_person(owner.owner_id, kit.id).name, people.get_person(owner.owner_id, kit.id).notes) == (
        "Kit Harington", "Actor")
    # the cover: one ticked face
    gallery = f"person-{kit.id}-faces"
    assert at.button(key=f"{gallery}-cover").disabled
    _tick(at, kit.id, kit_faces[1], kit_faces[2])
    assert at.button(key=f"{gallery}-cover").disabled  # two ticked: which one?
    at.checkbox(key=f"{gallery}-pick-{kit_faces[2]}").uncheck()
    _run(at)
    at.button(key=f"{gallery}-cover").click()
    _run(at)
    assert texts(at, "success") == ["The ticked face is now Kit Harington's cover."]
    assert people.get_person(owner.owner_id, kit.id).cover_face_id == kit_faces[1]
    assert [c for c in texts(at, "caption") if c.startswith("Cover")] == ["Cover · named by you"]
    # move one face to Rose
    _tick(at, kit.id, kit_faces[0])
    at.selectbox(key=f"{gallery}-to").set_value(rose.id)
    at.button(key=f"{gallery}-move").click()
    _run(at)
    assert texts(at, "success") == ["1 face moved from Kit Harington to Rose."]
    assert _face_ids(owner.owner_id, rose.id) == sorted([*rose_faces, kit_faces[0]])
    # to a new person: a taken name is one sentence and moves nothing, a new one makes them
    _tick(at, kit.id, kit_faces[2])
    at.selectbox(key=f"{gallery}-to").set_value(0)
    _run(at)
    at.text_input(key=f"{gallery}-new-name").input("Rose")
    at.button(key=f"{gallery}-move").click()
    _run(at)
    assert texts(at, "error") == ["You already have a person called Rose."]
    assert _face_ids(owner.owner_id, kit.id) == kit_faces[1:]
    at.text_input(key=f"{gallery}-new-name").input("Kit's double")
    at.button(key=f"{gallery}-move").click()
    _run(at)
    assert texts(at, "success") == ["1 face moved from Kit Harington to Kit's double."]
    [double] = people.list_people(owner.owner_id, search="double")
    assert _face_ids(owner.owner_id, double.id) == [kit_faces[2]]
    assert _face_ids(owner.owner_id, kit.id) == [kit_faces[1]]


def test_delete_a_face_from_the_library_after_confirming(owner: Library) -> None:
    kit, kit_faces = _named(owner.owner_id, "kit_harington", "Kit")
    gallery = f"person-{kit.id}-faces"
    photos = _photo_count(owner.owner_id)
    at = open_app(owner.owner_id, PAGE)
    _open(at, kit.id)
    _tick(at, kit.id, kit_faces[0])
    assert at.button(key=f"{gallery}-delete").disabled  # not before the confirmation
    at.checkbox(key=f"{gallery}-delete-sure").check()
    _run(at)
    at.button(key=f"{gallery}-delete").click()
    _run(at)
    assert texts(at, "success") == ["1 face deleted from your library; their photos stay."]
    with session_scope() as session:
        assert session.get(Face, kit_faces[0]) is None
    assert _photo_count(owner.owner_id) == photos
    assert _face_ids(owner.owner_id, kit.id) == kit_faces[1:]
    assert not at.checkbox(key=f"{gallery}-delete-sure").value  # the next faces need a new confirmation


def test_merge_then_delete_with_a_confirmation_saying_what_goes(owner: Library) -> None:
    alex, alex_faces = _named(owner.owner_id, "alex_lacamoire", "Alex")
    lin, lin_faces = _named(owner.owner_id, "lin_manuel_miranda", "Lin")
    rose, _ = _named(owner.owner_id, "rose_leslie", "Rose")
    photos = _photo_count(owner.owner_id)
    at = open_app(owner.owner_id, PAGE)
    _open(at, alex.id)
    widget(at, "multiselect", "Merge these people").set_value([lin.id])
    widget(at, "selectbox", "into").set_value(alex.id)
    button(at, "Merge").click()
    _run(at)
    assert texts(at, "success") == ["Merged into Alex: 4 faces."]
    assert [p.name for p in people.list_people(owner.owner_id)] == ["Alex", "Rose"]
    assert _face_ids(owner.owner_id, alex.id) == sorted(alex_faces + lin_faces)
    # the confirmation says what goes and what stays, and nothing goes before it is ticked
    [what] = [_plain(text) for text in texts(at, "markdown") if text.startswith("Deleting ")]
    assert "deletes their 4 faces from your library for good" in what
    assert "The 4 photos they are in stay in your library" in what
    assert button(at, "Delete person").disabled
    with session_scope() as session:
        embedder = session.get(Face, alex_faces[0]).embedder
        probe = np.frombuffer(session.get(Face, alex_faces[0]).embedding, dtype="<f4").copy()
    at.checkbox(key=f"person-{alex.id}-sure").check()
    _run(at)
    button(at, "Delete person").click()
    _run(at)
    assert texts(at, "success") == ["Alex is deleted."]
    assert texts(at, "subheader") == [] and _cards(at) == ["Rose"]
    with session_scope() as session:
        left = session.scalar(select(func.count()).select_from(Face).where(Face.id.in_(alex_faces + lin_faces)))
    assert left == 0 and _photo_count(owner.owner_id) == photos
    assert not {face_id for face_id, _ in index.search(owner.owner_id, embedder, probe, 100)} & {*alex_faces,
                                                                                               *lin_faces}
    # merged the other way, into the person chosen: their page opens
    _open(at, rose.id)
    other = people.create_person(owner.owner_id, "Rose again")
    _run(at)
    widget(at, "multiselect", "Merge these people").set_value([other.id])
    widget(at, "selectbox", "into").set_value(other.id)
    button(at, "Merge").click()
    _run(at)
    assert texts(at, "success") == ["Merged into Rose again: 2 faces."]
    assert texts(at, "subheader") == ["Rose again"]
