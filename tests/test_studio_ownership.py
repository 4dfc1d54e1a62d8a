"""A library belongs to the account that imported it: another account (an admin too) cannot see, search,
delete or export it through the library, the jobs, the index or the command line, and is never told
whether an id exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.accounts.users import get_user, register
from core.jobs import queue
from core.studio import cli, index, jobs, library, thumbs
from core.studio.errors import NotFound
from core.studio.importer import import_paths
from core.studio.owners import DEFAULT_LIBRARY_EMAIL, resolve_owner
from tests.support.studio_photos import GROUPS, PEOPLE

pytestmark = pytest.mark.both_databases

PASSWORD = "correct horse battery"


@pytest.fixture
def two(site: Path) -> tuple[int, int]:
    """The admin (first account) and a member who owns a library."""
    admin = register("Root", "root@example.com", PASSWORD, PASSWORD).id
    owner = register("Ada", "ada@example.com", PASSWORD, PASSWORD).id
    import_paths(owner, [GROUPS[0], PEOPLE[0]], "Ada's")
    return admin, owner


def test_another_account_sees_and_deletes_nothing_through_the_library(two: tuple[int, int]) -> None:
    admin, owner = two
    assert get_user(admin).is_admin
    photo = library.list_photos(owner).items[0]
    album = library.list_albums(owner)[0]
    face_ids, _ = library.face_vectors(owner, "dlib")

    assert library.list_albums(admin) == [] and library.list_photos(admin).total == 0
    assert library.faces_of(admin, face_ids) == []
    assert library.face_vectors(admin, "dlib")[0] == []
    calls = [
        lambda: library.photo_detail(admin, photo.id), lambda: library.photo_file(admin, photo.id),
        lambda: library.list_photos(admin, album_id=album.id), lambda: library.delete_photo(admin, photo.id),
        lambda: library.delete_album(admin, album.id, delete_photos=True),
        lambda: thumbs.photo_thumbnail(admin, photo.id), lambda: thumbs.face_thumbnail(admin, face_ids[0]),
        lambda: thumbs.photo_with_boxes(admin, photo.id),
        lambda: library.photo_detail(admin, 10_000),  # no such id: the very same answer
    ]
    for call in calls:
        with pytest.raises(NotFound, match=r"^There is no such (photo|album|face) in your library\.$"):
            call()
    assert library.list_photos(owner).total == 2 and len(library.face_vectors(owner, "dlib")[0]) == len(face_ids)
    assert library.photo_file(owner, photo.id).is_file()


def test_the_index_answers_each_owner_with_their_own_faces_only(two: tuple[int, int]) -> None:
    admin, owner = two
    face_ids, vectors = library.face_vectors(owner, "dlib")

    assert index.search(owner, "dlib", vectors[0], top_k=5)[0][0] == face_ids[0]
    assert index.search(admin, "dlib", vectors[0], top_k=5) == []
    index.remove_faces(admin, face_ids)  # another owner's ids: nothing of the owner's goes
    assert index.search(owner, "dlib", vectors[0], top_k=5)[0][0] == face_ids[0]


def test_another_account_cannot_follow_or_cancel_someone_elses_import(two: tuple[int, int]) -> None:
    admin, owner = two
    job = queue.recent_jobs(owner)[0]

    assert queue.recent_jobs(admin) == []
    for call in (lambda: queue.job_info(admin, job.id), lambda: jobs.job_items(admin, job.id),
                 lambda: queue.cancel_job(admin, job.id), lambda: queue.retry_job(admin, job.id),
                 lambda: queue.delete_job(admin, job.id), lambda: queue.job_result(admin, job.id)):
        with pytest.raises(NotFound, match=r"^There is no such job in your history\.$"):
            call()


def test_the_command_line_keeps_libraries_apart(two: tuple[int, int], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    _, owner = two
    photo = library.list_photos(owner).items[0]

    assert cli.main(["albums", "--owner", "root@example.com"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli.main(["photos", "--owner", "ada@example.com"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 2
    assert cli.main(["delete-photo", str(photo.id), "--owner", "root@example.com"]) == 2
    assert capsys.readouterr().err == "error: There is no such photo in your library.\n"
    assert cli.main(["albums"]) == 0  # the default library is an account of its own
    assert json.loads(capsys.readouterr().out) == []
    faces = len(library.face_vectors(owner, "dlib")[0])
    for who, expected in (("root@example.com", 0), ("ada@example.com", faces)):
        out = tmp_path / f"{who}.json"
        assert cli.main(["export", "--format", "json", "--output", str(out), "--owner", who]) == 0
        capsys.readouterr()
        assert len(json.loads(out.read_text())) == expected
    assert library.list_photos(owner).total == 2


def test_the_default_library_is_an_account_nobody_can_sign_in_to(site: Path) -> None:
    from core.accounts.users import InvalidCredentials, sign_in

    library_id = resolve_owner(None)
    assert resolve_owner(None) == library_id == resolve_owner(DEFAULT_LIBRARY_EMAIL)
    assert not get_user(library_id).is_admin
    first = register("Root", "root@example.com", PASSWORD, PASSWORD)
    assert first.is_admin  # the library account made first does not take the first-account admin right
    for guess in ("", "library", PASSWORD):
        with pytest.raises(InvalidCredentials):
            sign_in(DEFAULT_LIBRARY_EMAIL, guess)
