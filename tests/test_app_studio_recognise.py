"""Studio › Recognise through Streamlit's AppTest, on the real core (SQLite, face engine, importer).

What a person does: upload a photo, read who each face is (name, similarity, runner-up, or Unknown) and
what the threshold risks, add the unknown face as a new person, see them named at once, then take a
photo of them with the camera and add it to the same person.
"""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.accounts.users import register
from core.studio import importer, library, people
from core.studio.recognise_add import ALBUM
from tests.support.app_driver import button, open_app, texts, widget

PASSWORD = "a long enough password"
UPLOAD = "Photo to recognise (JPG, PNG or WEBP)"


def _plain(markdown: str) -> str:
    """What a person reads in a Markdown label: escapes and invisible word joiners removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def _verdicts(at: AppTest) -> list[str]:
    """The line naming each face: '**1 · Kit Harington** — 95 % similar ...', in face order."""
    return [_plain(text) for text in texts(at, "markdown") if re.match(r"\*\*\d+ · ", _plain(text))]


def _library(faces_dir: Path) -> int:
    """An account whose library names Kit Harington and Alex Lacamoire (so there is a runner-up)."""
    owner = register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    names = {"Kit Harington": ["kit_harington_1.jpg", "kit_harington_2.jpg"],
             "Alex Lacamoire": ["alex_lacamoire_1.jpg"]}
    folders = {"Kit Harington": "kit_harington", "Alex Lacamoire": "alex_lacamoire"}
    files = [faces_dir / "people" / folders[name] / file for name, listed in names.items() for file in listed]
    importer.import_paths(owner.id, files, "Trip", "upload")
    photos = {photo.original_name: photo.id for photo in library.list_photos(owner.id).items}
    for name, listed in names.items():
        person = people.create_person(owner.id, name)
        for file in listed:
            face = library.photo_detail(owner.id, photos[file]).faces[0]
            people.assign_face(owner.id, face.id, person.id)
    return owner.id


def test_recognise_a_photo_add_the_unknown_then_they_are_recognised(site: Path, faces_dir: Path) -> None:
    owner_id = _library(faces_dir)
    at = open_app(owner_id, "pages/studio_recognise.py")
    assert not at.exception and texts(at, "title") == ["Recognise faces"]
    widget(at, "file_uploader", UPLOAD).upload("premiere.jpg", (faces_dir / "groups/kit_with_rose.jpg").read_bytes(),
                                              "image/jpeg")
    at.run()
    assert not at.exception
    rose, kit = _verdicts(at)  # left to right: Rose Leslie, then Kit Harington
    assert rose.startswith("**1 · Unknown** — closest is "), rose
    assert kit.startswith("**2 · Kit Harington** — ") and " % similar" in kit, kit
    assert "Runner-up: Alex Lacamoire, " in kit, kit
    assert any("stranger" in _plain(c) and "points ahead" in _plain(c) for c in texts(at, "caption"))
    assert len(at.main.get("image")) == 3  # the photo, boxed and labelled, and each face beside its verdict
    # add the unknown face as a new person
    at.text_input(key="recognise-face-0-name").input("Rose Leslie")
    at.button(key="recognise-face-0-new").click()
    at.run()
    assert not at.exception
    assert texts(at, "success")[0].startswith("Face 1 is now Rose Leslie (1 face)"), texts(at, "success")
    assert _verdicts(at)[0].startswith("**1 · Rose Leslie** — 100 % similar"), _verdicts(at)
    album = next(a for a in library.list_albums(owner_id) if a.name == ALBUM)
    assert album.photo_count == 1
    # another photo of her, taken with the camera: named, and added to her as a second sample
    widget(at, "file_uploader", UPLOAD).clear()  # an upload would win over the camera
    at.camera_input[0].upload("shot.jpg", (faces_dir / "people/rose_leslie/rose_leslie_2.jpg").read_bytes(),
                              "image/jpeg")
    at.run()
    (verdict,) = _verdicts(at)
    assert verdict.startswith("**1 · Rose Leslie** — "), verdict
    rose_id = next(p.id for p in people.list_people(owner_id) if p.name == "Rose Leslie")
    at.selectbox(key="recognise-face-0-person").set_value(rose_id)
    at.run()
    button(at, "Add to Rose Leslie").click()
    at.run()
    assert texts(at, "success")[0].startswith("Face 1 is now Rose Leslie (2 faces)"), texts(at, "success")
    assert people.get_person(owner_id, rose_id).photo_count == 2


def test_a_bad_photo_is_one_sentence(site: Path) -> None:
    owner = register("Bo", "bo@example.com", PASSWORD, PASSWORD)
    at = open_app(owner.id, "pages/studio_recognise.py")
    widget(at, "file_uploader", UPLOAD).upload("fake.jpg", b"this is not a photo at all", "image/jpeg")
    at.run()
    assert not at.exception
    assert len(texts(at, "error")) == 1 and "image" in texts(at, "error")[0], texts(at, "error")
