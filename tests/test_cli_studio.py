"""`python -m core studio import ...`: a JSON summary on stdout; bad input is status 2 and one line on stderr."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.accounts.users import register
from core.config import PROJECT_ROOT, get_settings
from core.studio import cli, library
from core.studio.owners import resolve_owner
from tests.support.studio_photos import GROUPS, PEOPLE, no_face_photo, zip_of

PASSWORD = "correct horse battery"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, object, str]:
    status = cli.main(argv)
    captured = capsys.readouterr()
    return status, (json.loads(captured.out) if captured.out else None), captured.err


def test_import_prints_the_summary_as_json_from_the_real_entry_point(site: Path, tmp_path: Path) -> None:
    folder = tmp_path / "album"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(GROUPS[0], folder / "sub" / GROUPS[0].name)
    shutil.copy(PEOPLE[0], folder / PEOPLE[0].name)
    no_face_photo(folder / "sky.jpg")
    (folder / "notes.txt").write_text("hello")
    env = {**os.environ, "WEBTUBE_DATA_DIR": str(site), "WEBTUBE_BCRYPT_ROUNDS": "4"}

    done = subprocess.run([sys.executable, "-m", "core", "studio", "import", str(folder), str(PEOPLE[0]),
                           "--album", " Summer  2026 "], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert {k: summary[k] for k in ("album", "photos", "no_face_photos", "failures", "duplicates")} == {
        "album": "Summer 2026", "photos": 3, "no_face_photos": 1, "failures": 1, "duplicates": 1}
    assert summary["faces"] >= 3 and summary["seconds"] > 0 and isinstance(summary["job_id"], int)
    assert summary["failed"] == [{"file": "notes.txt", "origin": str(folder / "notes.txt"),
                                  "error": "This file is not an image we can read. Use JPG, PNG, WEBP, BMP, "
                                           "TIFF or GIF."}]
    owner = resolve_owner(None)  # no --owner: the default library
    assert [a.name for a in library.list_albums(owner)] == ["Summer 2026"]


def test_owner_picks_the_library(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ada = register("Ada", "ada@example.com", PASSWORD, PASSWORD).id

    status, summary, _ = _run(["import", str(PEOPLE[1]), "--owner", "ADA@example.com"], capsys)

    assert status == 0 and summary["photos"] == 1
    assert library.list_albums(ada)[0].name == "Imported"
    assert library.list_albums(resolve_owner(None)) == []


@pytest.mark.parametrize(("make", "message"), [
    (lambda tmp: [str(tmp / "missing.jpg")], r"^error: /.*/missing\.jpg does not exist\.\n$"),
    (lambda tmp: [str((tmp / "empty").mkdir() or tmp / "empty")],
     r"^error: There is nothing to import: no files were found in what was given\.\n$"),
    (lambda tmp: [str(zip_of(tmp / "bomb.zip", {"zeros.jpg": bytes(3 * 2**20)}))],
     r"^error: bomb\.zip unpacks to 3 MB; a zip may unpack to at most 2 MB\.\n$"),
    (lambda tmp: [str(PEOPLE[0]), "--owner", "nobody@example.com"],
     r"^error: No account with the email nobody@example.com\.\n$"),
    (lambda tmp: [str(PEOPLE[0]), "--owner", "not an email"], r"^error: That email address is not valid: .*\n$"),
    (lambda tmp: [str(PEOPLE[0]), "--album", "   "], r"^error: Give the album a name\.\n$"),
])
def test_bad_input_is_status_2_and_one_line(site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch, make: object, message: str) -> None:
    monkeypatch.setenv("WEBTUBE_ZIP_MAX_MB", "2")
    get_settings.cache_clear()

    status, out, err = _run(["import", *make(tmp_path)], capsys)

    assert (status, out) == (2, None)
    assert err.count("\n") == 1
    assert re.match(message, err), err
    owner = resolve_owner(None)
    assert library.list_albums(owner) == [] and library.list_photos(owner).total == 0
    staging = site / "studio" / str(owner) / "staging"
    assert not staging.exists() or not any(staging.iterdir())  # nothing unpacked is left behind


def test_library_commands(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run(["import", str(GROUPS[0]), str(PEOPLE[0]), "--album", "Two"], capsys)

    status, albums, _ = _run(["albums"], capsys)
    assert status == 0 and [(a["name"], a["photo_count"]) for a in albums] == [("Two", 2)]
    status, page, _ = _run(["photos", "--status", "processed"], capsys)
    assert status == 0 and page["total"] == 2
    status, deleted, _ = _run(["delete-photo", str(page["photos"][0]["id"])], capsys)
    assert status == 0 and deleted == {"deleted_photo": page["photos"][0]["id"]}
    status, _, err = _run(["delete-album", "999"], capsys)
    assert status == 2 and err == "error: There is no such album in your library.\n"
    status, _, _ = _run(["delete-album", str(albums[0]["id"]), "--with-photos"], capsys)
    assert status == 0 and library.list_photos(resolve_owner(None)).total == 0


def test_people_commands_find_correct_and_move_faces(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from core.studio import people

    _run(["import", str(GROUPS[0]), "--album", "Group"], capsys)
    owner_id = resolve_owner(None)
    faces = library.photo_detail(owner_id, library.list_photos(owner_id).items[0].id).faces
    assert len(faces) >= 2
    person = people.create_person(owner_id, "Zoë")
    for face in faces:
        people.assign_face(owner_id, face.id, person.id)

    status, found, _ = _run(["people", "list", "--search", "zoe", "--sort", "faces"], capsys)
    assert status == 0 and [p["name"] for p in found] == ["Zoë"] and found[0]["faces"] == len(faces)
    status, moved, _ = _run(["people", "move-face", str(person.id), str(faces[0].id), "--new-name", "Kit"], capsys)
    assert status == 0 and moved["to"]["name"] == "Kit" and moved["moved"] == [faces[0].id]
    status, cover, _ = _run(["people", "set-cover", str(person.id), str(faces[1].id)], capsys)
    assert status == 0 and cover["faces"] == len(faces) - 1
    status, _, err = _run(["people", "move-face", str(person.id), str(faces[0].id), "--to", str(person.id)], capsys)
    assert status == 2 and err.startswith("error: ") and err.count("\n") == 1  # Kit's face is not Zoë's any more
    status, removed, _ = _run(["people", "remove-face", str(person.id), str(faces[1].id)], capsys)
    assert status == 0 and removed == {"unnamed_faces": 1}
