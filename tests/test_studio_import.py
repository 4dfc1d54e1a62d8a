"""Importing into the studio: every face boxed and embedded, one photo per content, EXIF dates, no-face and
failed photos reported, and deleting a photo or album removes its faces from the database, the index and
the disk. Real SQLite, the real face engine and the real test photos."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from core.accounts.users import register
from core.storage.database import session_scope
from core.storage.studio_models import Face, Photo
from core.studio import index, library, thumbs
from core.studio.errors import NotFound
from core.studio.importer import import_paths
from tests.support.studio_photos import GROUPS, PEOPLE, jpeg_bytes, no_face_photo

pytestmark = pytest.mark.both_databases


@pytest.fixture
def owner(site: Path) -> int:
    return register("Ada", "ada@example.com", "correct horse battery", "correct horse battery").id


def _face_count(owner_id: int) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count(Face.id)).where(Face.owner_id == owner_id))


def test_every_face_found_boxed_embedded_and_stored_once(owner: int, data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "album"
    (folder / "people").mkdir(parents=True)
    for path in PEOPLE[:6]:
        shutil.copy(path, folder / "people" / path.name)
    for path in GROUPS:
        shutil.copy(path, folder / path.name)
    shutil.copy(GROUPS[0], folder / "people" / "same_bytes_other_name.jpg")

    summary = import_paths(owner, [folder], "Holiday")

    assert summary.photos == 6 + len(GROUPS) and summary.duplicates == 1 and summary.failures == 0
    assert summary.faces == _face_count(owner) >= summary.photos + 3  # the group photos hold two or more each
    page = library.list_photos(owner, page_size=100)
    assert page.total == summary.photos
    for photo in page.items:
        detail = library.photo_detail(owner, photo.id)
        assert photo.status == "processed" and detail.faces, photo.original_name
        for face in detail.faces:
            x1, y1, x2, y2 = face.box
            assert 0 <= x1 < x2 and 0 <= y1 < y2 and x2 <= photo.width * 1.1 and y2 <= photo.height * 1.1
            assert face.embedder == "dlib" and 0.9 <= face.score <= 1.0
        stored = library.photo_file(owner, photo.id)
        digest = hashlib.sha256(stored.read_bytes()).hexdigest()
        assert stored.relative_to(data_dir).as_posix().startswith(f"studio/{owner}/{digest[:2]}/{digest}.")
    groups = [p for p in page.items if p.original_name == "obama_and_biden.jpg"]
    assert library.photo_detail(owner, groups[0].id).photo.face_count >= 3

    ids, vectors = library.face_vectors(owner, "dlib")
    assert len(ids) == summary.faces and vectors.shape == (summary.faces, 128) and vectors.dtype == np.float32
    nearest = index.search(owner, "dlib", vectors[3], top_k=1)
    assert nearest[0][0] == ids[3] and nearest[0][1] < 1e-4


def test_the_same_photo_again_joins_the_new_album_without_a_second_copy(owner: int, tmp_path: Path) -> None:
    first = import_paths(owner, PEOPLE[:3], "One")
    again = import_paths(owner, PEOPLE[:3], "Two")

    assert (first.photos, again.photos, again.duplicates, again.faces) == (3, 0, 3, 0)
    albums = {album.name: album for album in library.list_albums(owner)}
    assert albums["One"].photo_count == albums["Two"].photo_count == 3
    assert _face_count(owner) == first.faces


def test_photos_without_faces_and_unreadable_files_are_listed_and_do_not_stop_the_import(
    owner: int, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    no_face_photo(folder / "sky.jpg")
    (folder / "notes.txt").write_text("not a photo")
    (folder / "broken.jpg").write_bytes(PEOPLE[0].read_bytes()[:400])
    shutil.copy(PEOPLE[0], folder / "zz_good.jpg")

    summary = import_paths(owner, [folder], "Mixed")

    assert (summary.photos, summary.no_face_photos, summary.failures) == (2, 1, 2)
    messages = {item.original_name: item.message for item in summary.failed}
    assert set(messages) == {"notes.txt", "broken.jpg"}
    assert all(message and message.endswith(".") for message in messages.values())
    no_faces = library.list_photos(owner, status="no_faces")
    assert [p.original_name for p in no_faces.items] == ["sky.jpg"] and no_faces.items[0].reason
    assert library.list_photos(owner, status="processed").items[0].original_name == "zz_good.jpg"


def test_exif_date_and_orientation(owner: int, tmp_path: Path) -> None:
    upright = Image.open(PEOPLE[0]).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: a viewer rotates it 90 degrees clockwise to show it upright
    details = exif.get_ifd(0x8769)
    details[36867] = "2021:06:05 14:30:00"
    details[36881] = "+02:00"
    path = tmp_path / "turned.jpg"
    path.write_bytes(jpeg_bytes(upright.transpose(Image.Transpose.ROTATE_90), exif=exif))

    summary = import_paths(owner, [path], "Dated")

    photo = library.list_photos(owner).items[0]
    assert summary.faces >= 1 and (photo.width, photo.height) == upright.size
    assert photo.taken_at == datetime(2021, 6, 5, 12, 30, tzinfo=UTC)
    face = library.photo_detail(owner, photo.id).faces[0]
    assert face.box[2] <= upright.width and face.box[3] <= upright.height * 0.8  # the face is in the upper part


def _files_of(owner_id: int, data_dir: Path) -> list[Path]:
    files = (data_dir / "studio" / str(owner_id)).rglob("*")
    return sorted(p for p in files if p.is_file() and "staging" not in p.parts)


def test_deleting_a_photo_removes_its_faces_from_database_index_and_disk(owner: int, data_dir: Path) -> None:
    import_paths(owner, [GROUPS[0], PEOPLE[0]], "Two")
    photo = next(p for p in library.list_photos(owner).items if p.original_name == GROUPS[0].name)
    faces = library.photo_detail(owner, photo.id).faces
    thumbs.face_thumbnail(owner, faces[0].id)
    thumbs.photo_thumbnail(owner, photo.id)
    _, vectors = library.face_vectors(owner, "dlib", [faces[0].id])
    stored = library.photo_file(owner, photo.id)
    before = _files_of(owner, data_dir)

    library.delete_photo(owner, photo.id)

    assert not stored.exists() and len(_files_of(owner, data_dir)) == len(before) - 3  # photo and two thumbnails
    assert library.faces_of(owner, [f.id for f in faces]) == []
    assert all(hit[0] not in {f.id for f in faces} for hit in index.search(owner, "dlib", vectors[0], top_k=50))
    with pytest.raises(NotFound):
        library.photo_detail(owner, photo.id)
    assert library.list_photos(owner).total == 1


def test_deleting_an_album_with_its_photos_keeps_photos_another_album_holds(owner: int, data_dir: Path) -> None:
    import_paths(owner, [PEOPLE[0], PEOPLE[1]], "Trip")
    import_paths(owner, [PEOPLE[1]], "Best")
    trip = next(a for a in library.list_albums(owner) if a.name == "Trip")

    library.delete_album(owner, trip.id, delete_photos=True)

    left = library.list_photos(owner).items
    assert [p.original_name for p in left] == [PEOPLE[1].name]
    assert [a.name for a in library.list_albums(owner)] == ["Best"]
    assert _face_count(owner) == left[0].face_count
    with session_scope() as session:
        kept = session.scalars(select(Photo.stored_path).where(Photo.owner_id == owner)).all()
    assert [p.relative_to(data_dir).as_posix() for p in _files_of(owner, data_dir)] == kept


def test_a_failing_index_during_a_delete_leaves_photo_faces_and_index_as_they_were(
    owner: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_paths(owner, [GROUPS[0]], "Kept")
    photo = library.list_photos(owner).items[0]
    face_ids, vectors = library.face_vectors(owner, "dlib")
    stored = library.photo_file(owner, photo.id)

    def broken(owner_id: int, ids: object) -> None:
        raise OSError("index unreachable")

    monkeypatch.setattr(index, "remove_faces", broken)
    with pytest.raises(OSError, match="index unreachable"):
        library.delete_photo(owner, photo.id)
    monkeypatch.undo()

    assert [f.id for f in library.photo_detail(owner, photo.id).faces] == face_ids and stored.is_file()
    assert index.search(owner, "dlib", vectors[0], top_k=1)[0][0] == face_ids[0]


def test_a_failing_index_during_an_import_keeps_the_photo_and_search_still_finds_it(
    owner: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise OSError("index unreachable")

    monkeypatch.setattr(index, "add_faces", broken)
    summary = import_paths(owner, [PEOPLE[0]], "Logged")
    monkeypatch.undo()

    face_ids, vectors = library.face_vectors(owner, "dlib")
    assert summary.photos == 1 and summary.failures == 0 and len(face_ids) == summary.faces
    assert index.search(owner, "dlib", vectors[0], top_k=1)[0][0] == face_ids[0]  # the database is the truth
