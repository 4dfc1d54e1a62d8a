"""Bad input to an import: zip bombs, zip slip, nested zips, non-images, huge images, an empty import, and
server folders outside the allowed roots. Each is one sentence, and nothing is left half-written."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from core.accounts.users import register
from core.config import get_settings
from core.storage.database import session_scope
from core.storage.studio_models import Album, Job, Photo
from core.studio import jobs, library
from core.studio.errors import BadInput
from core.studio.importer import import_paths
from tests.support.studio_photos import PEOPLE, zip_of


@pytest.fixture
def owner(site: Path) -> int:
    return register("Ada", "ada@example.com", "correct horse battery", "correct horse battery").id


def _nothing_written(owner_id: int, data_dir: Path) -> None:
    with session_scope() as session:
        assert session.scalar(select(func.count(Job.id))) == 0
        assert session.scalar(select(func.count(Album.id))) == 0
        assert session.scalar(select(func.count(Photo.id))) == 0
    staging = data_dir / "studio" / str(owner_id) / "staging"
    assert not staging.exists() or not any(staging.rglob("*"))


def test_a_zip_bomb_is_refused_whole_and_leaves_nothing(owner: int, data_dir: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBTUBE_ZIP_MAX_MB", "5")
    get_settings.cache_clear()
    bomb = zip_of(tmp_path / "bomb.zip", {"a.jpg": PEOPLE[0].read_bytes(), "zeros.jpg": bytes(6 * 2**20)})
    with zipfile.ZipFile(bomb) as archive:
        assert archive.getinfo("zeros.jpg").compress_size < 16 * 1024  # six megabytes of zeros pack into kilobytes

    with pytest.raises(BadInput, match=r"bomb\.zip unpacks to 6 MB; a zip may unpack to at most 5 MB\."):
        import_paths(owner, [bomb], "Bomb")
    _nothing_written(owner, data_dir)


def test_many_small_bombs_in_one_import_share_one_budget(owner: int, data_dir: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Each zip under the cap, together over it: the cap is the import's, so a request of many bombs fills no disk."""
    monkeypatch.setenv("WEBTUBE_ZIP_MAX_MB", "5")
    get_settings.cache_clear()
    bombs = [zip_of(tmp_path / f"bomb{n}.zip", {"zeros.jpg": bytes(2 * 2**20)}) for n in range(3)]

    with pytest.raises(BadInput, match=r"bomb2\.zip unpacks to 2 MB; with the zips before it this import would "
                                       r"unpack more than the 5 MB one import may\."):
        import_paths(owner, bombs, "Bombs")
    _nothing_written(owner, data_dir)


def test_a_zip_whose_sizes_lie_is_stopped_while_unpacking(owner: int, data_dir: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBTUBE_ZIP_MAX_MB", "2")
    get_settings.cache_clear()
    liar = zip_of(tmp_path / "liar.zip", {f"part{n}.jpg": bytes(900 * 1024) for n in range(3)})
    with zipfile.ZipFile(liar) as archive:
        declared = [info.file_size for info in archive.infolist()]
    assert sum(declared) > 2 * 2**20  # honest headers: refused from the directory
    data = bytearray(liar.read_bytes())  # now make the central directory claim 1 KB per member
    at = data.find(b"PK\x01\x02")
    while at != -1:
        data[at + 24:at + 28] = (1024).to_bytes(4, "little")  # the entry's uncompressed size
        at = data.find(b"PK\x01\x02", at + 4)
    liar.write_bytes(bytes(data))

    summary = import_paths(owner, [liar], "Liar")  # zipfile stops each member at its declared size (CRC error)

    assert summary.photos == 0 and summary.failures == 3
    assert all(item.message == "This file is damaged inside the zip." for item in summary.failed)


def test_too_many_files_in_a_zip(owner: int, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBTUBE_ZIP_MAX_FILES", "3")
    get_settings.cache_clear()
    many = zip_of(tmp_path / "many.zip", {f"{n}.jpg": b"x" for n in range(4)})
    with pytest.raises(BadInput, match=r"many\.zip holds 4 files; a zip may hold at most 3\."):
        import_paths(owner, [many], "Many")
    _nothing_written(owner, data_dir)


def test_zip_slip_members_are_never_written_and_are_listed(owner: int, tmp_path: Path) -> None:
    good = PEOPLE[0].read_bytes()
    archive = zip_of(tmp_path / "slip.zip", {
        "../escaped.jpg": good, "/etc/absolute.jpg": good, "album/../../deep.jpg": good, "C:/windows.jpg": good,
        "album/fine.jpg": good,
    })

    summary = import_paths(owner, [archive], "Slip")

    assert summary.photos == 1 and summary.failures == 4
    assert {item.origin.split("!", 1)[1] for item in summary.failed} == {
        "../escaped.jpg", "/etc/absolute.jpg", "album/../../deep.jpg", "C:/windows.jpg"}
    assert all("leads outside it" in item.message for item in summary.failed)
    for name in ("escaped.jpg", "deep.jpg", "absolute.jpg", "windows.jpg"):
        assert not list(tmp_path.parent.rglob(name)) and not Path("/etc/absolute.jpg").exists()
    assert library.list_photos(owner).items[0].origin == f"{archive}!album/fine.jpg"


def test_nested_zips_are_not_opened(owner: int, tmp_path: Path) -> None:
    inner = zip_of(tmp_path / "inner.zip", {"face.jpg": PEOPLE[1].read_bytes()}).read_bytes()
    outer = zip_of(tmp_path / "outer.zip", {"inner.zip": inner, "disguised.jpg": inner,
                                            "face.jpg": PEOPLE[0].read_bytes()})

    summary = import_paths(owner, [outer], "Nested")

    assert summary.photos == 1 and summary.failures == 2
    assert {item.original_name for item in summary.failed} == {"inner.zip", "disguised.jpg"}
    assert all(item.message == "A zip inside a zip is not opened; unpack it and import its files."
               for item in summary.failed)


def test_non_images_in_a_zip_are_failures_with_what_they_are(owner: int, tmp_path: Path) -> None:
    archive = zip_of(tmp_path / "docs.zip", {"report.pdf": b"%PDF-1.7\n...", "notes.txt": b"hello",
                                             "empty.jpg": b"", "face.jpg": PEOPLE[0].read_bytes()})

    summary = import_paths(owner, [archive], "Docs")

    messages = {item.original_name: item.message for item in summary.failed}
    assert summary.photos == 1 and set(messages) == {"report.pdf", "notes.txt", "empty.jpg"}
    assert messages["report.pdf"].startswith("This file is a PDF document, not an image.")
    assert messages["notes.txt"].startswith("This file is not an image we can read.")
    assert messages["empty.jpg"] == "The file is empty."


def test_huge_images_get_the_face_caps(owner: int, tmp_path: Path) -> None:
    folder = tmp_path / "huge"
    folder.mkdir()
    Image.new("L", (4000, 3300)).save(folder / "wide.png")  # 13.2 MP: over the 12 MP face cap, PNG cannot shrink
    Image.new("L", (8000, 7000)).save(folder / "vast.png")  # 56 MP: over the 50 MP cap for any use

    summary = import_paths(owner, [folder], "Huge")

    messages = {item.original_name: item.message for item in summary.failed}
    assert summary.photos == 0 and summary.failures == 2
    assert messages["wide.png"] == "The image is 4000x3300 (13 MP); the limit is 12 MP."
    assert messages["vast.png"] == "The image is 8000x7000 (56 MP); the limit is 50 MP."
    failed = library.list_photos(owner, status="failed").items
    assert {p.reason for p in failed} == set(messages.values())


def test_an_empty_import_is_one_clear_sentence(owner: int, data_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / ".DS_Store").write_bytes(b"\0")
    blank = zip_of(tmp_path / "blank.zip", {})

    for sources in ([empty], [blank], []):
        with pytest.raises(BadInput, match=r"^There is nothing to import"):
            import_paths(owner, sources, "Nothing")
    with pytest.raises(BadInput, match=r"does not exist\.$"):
        import_paths(owner, [tmp_path / "missing"], "Nothing")
    with pytest.raises(BadInput, match=r"^There is nothing to import"):
        jobs.stage_uploads(owner, [])
    _nothing_written(owner, data_dir)


def test_server_folders_only_for_admins_and_only_under_the_allowed_roots(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = register("Root", "root@example.com", "correct horse battery", "correct horse battery").id
    member = register("Bea", "bea@example.com", "correct horse battery", "correct horse battery").id
    allowed, outside = tmp_path / "photos", tmp_path / "private"
    allowed.mkdir()
    outside.mkdir()
    (allowed / "escape").symlink_to(outside)
    monkeypatch.setenv("WEBTUBE_STUDIO_IMPORT_ROOTS", str(allowed))
    get_settings.cache_clear()

    with pytest.raises(BadInput, match=r"^Only admins may import folders on the server\.$"):
        jobs.start_import(member, [allowed], "Server", source="folder")
    for path in (outside, allowed / "escape", allowed / ".." / "private"):
        with pytest.raises(BadInput, match="is not under an allowed import folder"):
            jobs.start_import(admin, [path], "Server", source="folder")
    with pytest.raises(BadInput, match=r"^Uploads must be staged first"):
        jobs.start_import(member, [Path(os.devnull)], "Upload", source="upload")
    monkeypatch.delenv("WEBTUBE_STUDIO_IMPORT_ROOTS")
    get_settings.cache_clear()
    with pytest.raises(BadInput, match="set WEBTUBE_STUDIO_IMPORT_ROOTS"):
        jobs.start_import(admin, [allowed], "Server", source="folder")
