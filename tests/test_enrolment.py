"""Enrolment on the real photos: quality gate, someone else's face refused, opt-in snapshots, deletion."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import SessionTransaction

from core.__main__ import main as cli
from core.accounts.users import UserInfo, register
from core.config import get_settings
from core.face_signin.enrolment import (
    FACE_DIR,
    MAX_SAMPLES,
    EnrolmentRefused,
    candidate,
    delete_face_data,
    enrol,
    enrol_photo,
    enrolment_of,
    gallery,
)
from core.faces.engine import get_engine
from core.faces.errors import ImageTooLarge, NoFaceFound, PoorQualityFace, TooManyFaces
from core.faces.images import load_image
from core.storage.database import get_engine as get_database
from core.storage.database import session_scope
from core.storage.models import FaceSample


def _account(name: str) -> UserInfo:
    return register(name, f"{name.lower()}@example.com", "a long enough password", "a long enough password")


def _photo(faces_dir: Path, relative: str) -> bytes:
    return (faces_dir / relative).read_bytes()


def _rows(user_id: int) -> list[FaceSample]:
    with session_scope() as session:
        return list(session.scalars(select(FaceSample).where(FaceSample.user_id == user_id)))


def test_enrol_stores_one_row_per_installed_model_and_no_image_unless_asked(
    site: Path, faces_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dlib is configured and SFace's weights package is installed (FaceNet's file is not): one face, two rows,
    each holding exactly what that model's own engine gives for the photo."""
    ann = _account("Ann")
    enrolled = enrol_photo(ann.id, _photo(faces_dir, "people/obama/obama_2.jpg"), keep_image=False)
    assert enrolled.count == 1 and enrolled.samples[0].image is None
    rows = {row.embedder: row for row in _rows(ann.id)}
    assert sorted(rows) == ["dlib", "sface"]
    first = rows["dlib"].created_at
    assert all((row.dim, row.image_path, row.created_at) == (128, None, first) for row in rows.values())
    photo = load_image(faces_dir / "people/obama/obama_2.jpg")
    for model in ("dlib", "sface"):
        monkeypatch.setenv("WEBTUBE_EMBEDDER", model)
        get_settings.cache_clear()
        direct = get_engine().single_face(photo).embedding
        assert np.allclose(np.frombuffer(rows[model].embedding, dtype="<f4"), direct, atol=1e-5), model
    assert not (site / FACE_DIR).exists()


def test_opt_in_keeps_a_small_snapshot_under_the_data_dir(site: Path, faces_dir: Path) -> None:
    ann = _account("Ann")
    enrolled = enrol_photo(ann.id, _photo(faces_dir, "people/obama/obama_2.jpg"), keep_image=True)
    image = enrolled.samples[0].image
    assert image is not None and image.parent == site / FACE_DIR / str(ann.id)
    with Image.open(image) as snapshot:
        assert snapshot.size == (160, 160)


@pytest.mark.parametrize(
    ("photo", "error"),
    [
        ("hard/obama_partial_face_1.jpg", PoorQualityFace),
        ("groups/two_people.jpg", TooManyFaces),
    ],
)
def test_only_one_good_face_is_enrolled(site: Path, faces_dir: Path, photo: str, error: type) -> None:
    ann = _account("Ann")
    with pytest.raises(error):
        enrol_photo(ann.id, _photo(faces_dir, photo), keep_image=True)
    assert _rows(ann.id) == []
    assert not (site / FACE_DIR).exists()


def test_a_photo_without_a_face_is_refused(site: Path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 140, 160)).save(out, format="JPEG")
    with pytest.raises(NoFaceFound):
        enrol_photo(_account("Ann").id, out.getvalue(), keep_image=False)


def test_a_candidate_must_pass_the_quality_verdict(site: Path, faces_dir: Path) -> None:
    rgb = load_image(faces_dir / "hard/obama_partial_face_1.jpg")
    face = get_engine().analyse(rgb)[0]
    assert not face.quality.ok
    with pytest.raises(PoorQualityFace, match=r"^Part of the face is outside the picture"):
        candidate(rgb, face)


def test_someone_elses_face_is_refused_for_a_new_account(site: Path, faces_dir: Path) -> None:
    ann, bob = _account("Ann"), _account("Bob")
    enrol_photo(ann.id, _photo(faces_dir, "people/obama/obama_1.jpg"), keep_image=False)
    with pytest.raises(EnrolmentRefused, match="matches another account's enrolled face"):
        enrol_photo(bob.id, _photo(faces_dir, "people/obama/obama_3.jpg"), keep_image=True)
    assert _rows(bob.id) == []
    assert not (site / FACE_DIR / str(bob.id)).exists()
    # Bob's own face is fine, and Ann can add more of hers
    assert enrol_photo(bob.id, _photo(faces_dir, "people/biden/biden_1.jpg"), keep_image=False).count == 1
    assert enrol_photo(ann.id, _photo(faces_dir, "people/obama/obama_4.jpg"), keep_image=False).count == 2


def test_a_face_closer_to_another_account_than_to_ones_own_is_refused(site: Path, faces_dir: Path) -> None:
    ann, bob = _account("Ann"), _account("Bob")
    enrol_photo(ann.id, _photo(faces_dir, "people/obama/obama_1.jpg"), keep_image=False)
    enrol_photo(bob.id, _photo(faces_dir, "people/biden/biden_1.jpg"), keep_image=False)
    with pytest.raises(EnrolmentRefused):
        enrol_photo(bob.id, _photo(faces_dir, "people/obama/obama_2.jpg"), keep_image=False)
    assert len(_rows(bob.id)) == 2  # his one face, in both models


def test_a_batch_is_enrolled_whole_or_not_at_all(site: Path, faces_dir: Path) -> None:
    ann, bob = _account("Ann"), _account("Bob")
    enrol_photo(ann.id, _photo(faces_dir, "people/obama/obama_1.jpg"), keep_image=False)
    engine = get_engine()
    batch = []
    for relative in ("people/biden/biden_1.jpg", "people/biden/biden_2.jpg", "people/obama/obama_2.jpg"):
        rgb = load_image(faces_dir / relative)
        batch.append(candidate(rgb, engine.single_face(rgb)))
    with pytest.raises(EnrolmentRefused):
        enrol(bob.id, batch, keep_images=True)
    assert _rows(bob.id) == []
    assert not any((site / FACE_DIR).glob(f"{bob.id}/*"))
    assert enrol(bob.id, batch[:2], keep_images=True).count == 2


def test_an_account_holds_at_most_max_samples(site: Path, faces_dir: Path) -> None:
    ann = _account("Ann")
    rgb = load_image(faces_dir / "people/obama/obama_2.jpg")
    one = candidate(rgb, get_engine().single_face(rgb))
    enrol(ann.id, [one] * MAX_SAMPLES, keep_images=False)
    with pytest.raises(EnrolmentRefused, match=f"at most {MAX_SAMPLES}"):
        enrol(ann.id, [one], keep_images=False)
    assert enrolment_of(ann.id).count == MAX_SAMPLES


def test_gallery_holds_every_account_and_listing_is_newest_first(site: Path, faces_dir: Path) -> None:
    ann, bob = _account("Ann"), _account("Bob")
    enrol_photo(ann.id, _photo(faces_dir, "people/obama/obama_1.jpg"), keep_image=False)
    enrol_photo(bob.id, _photo(faces_dir, "people/biden/biden_1.jpg"), keep_image=False)
    enrol_photo(ann.id, _photo(faces_dir, "people/obama/obama_2.jpg"), keep_image=False)
    faces = gallery()
    assert faces.embeddings.shape == (3, 128) and faces.embeddings.dtype == np.float32
    assert sorted(faces.accounts) == [ann.id, ann.id, bob.id]
    listed = enrolment_of(ann.id)
    assert listed.count == 2
    assert listed.samples[0].id > listed.samples[1].id
    assert listed.last_at == listed.samples[0].created_at


def test_delete_my_face_data_removes_rows_images_and_gallery_entries(site: Path, faces_dir: Path) -> None:
    ann, bob = _account("Ann"), _account("Bob")
    enrol_photo(ann.id, _photo(faces_dir, "people/obama/obama_1.jpg"), keep_image=True)
    enrol_photo(ann.id, _photo(faces_dir, "people/obama/obama_2.jpg"), keep_image=True)
    enrol_photo(bob.id, _photo(faces_dir, "people/biden/biden_1.jpg"), keep_image=True)
    assert sorted(row.embedder for row in _rows(ann.id)) == ["dlib", "dlib", "sface", "sface"]
    assert delete_face_data(ann.id) == 2  # two faces, each with a row of every model: all four rows go
    assert _rows(ann.id) == [] and enrolment_of(ann.id).count == 0
    assert not (site / FACE_DIR / str(ann.id)).exists()
    assert list((site / FACE_DIR).iterdir()) == [site / FACE_DIR / str(bob.id)]
    assert gallery().accounts == (bob.id,)
    assert enrolment_of(bob.id).samples[0].image is not None
    assert delete_face_data(ann.id) == 0


def test_a_failed_delete_leaves_rows_and_images_as_they_were(
    site: Path, faces_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = _account("Ann")
    enrol_photo(ann.id, _photo(faces_dir, "people/obama/obama_1.jpg"), keep_image=True)
    image = enrolment_of(ann.id).samples[0].image

    def broken_commit(self: SessionTransaction) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(SessionTransaction, "commit", broken_commit)
    with pytest.raises(RuntimeError, match="disk full"):
        delete_face_data(ann.id)
    monkeypatch.undo()
    assert len(_rows(ann.id)) == 2  # the face's dlib and SFace rows
    assert image is not None and image.is_file()
    assert sorted(p.name for p in (site / FACE_DIR).iterdir()) == [str(ann.id)]


# --- issue 8: leftovers in the -wal file, a size cap of enrol_photo's own, a way out for the real owner ---


def _raw_database_bytes(site: Path) -> bytes:
    """Every byte SQLite keeps on disk for the database: the file, its write-ahead log and shared memory."""
    return b"".join(p.read_bytes() for p in sorted(site.glob("webtube.sqlite3*")) if p.is_file())


def test_deleted_face_data_is_left_neither_in_the_wal_nor_in_the_database_file(site: Path, faces_dir: Path) -> None:
    """The attack: after "Delete my face data" the embeddings were still readable in the -wal file.
    Twenty samples span several pages, so the deletion frees whole pages (zeroed by `secure_delete`)."""
    ann, bob = _account("Ann"), _account("Bob")
    rgb = load_image(faces_dir / "people/obama/obama_1.jpg")
    enrol(ann.id, [candidate(rgb, get_engine().single_face(rgb))] * MAX_SAMPLES, keep_images=False)
    enrol_photo(bob.id, _photo(faces_dir, "people/biden/biden_1.jpg"), keep_image=False)
    ann_rows, bob_rows = _rows(ann.id), _rows(bob.id)
    assert {row.embedder for row in ann_rows} == {"dlib", "sface"}
    assert all(row.embedding in _raw_database_bytes(site) for row in ann_rows)  # the search itself works
    assert delete_face_data(ann.id) == MAX_SAMPLES
    raw = _raw_database_bytes(site)
    assert not any(row.embedding in raw for row in ann_rows)  # every model's vector of her face is gone
    assert all(row.embedding in raw for row in bob_rows)  # only the deleted account's face is gone
    wal = site / "webtube.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    with get_database().connect() as connection:  # set by the app, whatever SQLite's build defaults to
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_a_photo_over_the_upload_cap_is_refused_before_anything_decodes_it(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBTUBE_MAX_UPLOAD_MB", "1")
    get_settings.cache_clear()

    def must_not_decode(*args: object, **kwargs: object) -> None:
        raise AssertionError("enrol_photo decoded a photo over its cap")

    monkeypatch.setattr("core.face_signin.enrolment.load_image", must_not_decode)
    ann = _account("Ann")
    with pytest.raises(ImageTooLarge, match=r"This photo is 1\.0 MB; photos for face sign-in can be at most 1 MB"):
        enrol_photo(ann.id, b"\xff\xd8" + b"\0" * 2**20, keep_image=True)
    assert _rows(ann.id) == []


def test_the_real_owner_refused_is_told_the_way_out_and_an_admin_clears_the_other_account(
    site: Path, faces_dir: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mallory enrols Obama's face first; Obama is refused, is told to ask an admin, and the admin's
    `python -m core users clear-face EMAIL` (the account is named in the server log) lets him enrol."""
    mallory, owner = _account("Mallory"), _account("Obama")
    enrol_photo(mallory.id, _photo(faces_dir, "people/obama/obama_1.jpg"), keep_image=True)
    with pytest.raises(EnrolmentRefused, match="an admin can clear the other account's face samples: ask one"):
        enrol_photo(owner.id, _photo(faces_dir, "people/obama/obama_2.jpg"), keep_image=False)
    assert f"account {owner.id} refused: the face matches account {mallory.id}" in caplog.text
    assert cli(["users", "clear-face", " MALLORY@example.com"]) == 0
    assert capsys.readouterr().out == "Deleted 1 face sample(s) of mallory@example.com.\n"
    assert _rows(mallory.id) == [] and not (site / FACE_DIR / str(mallory.id)).exists()
    assert enrol_photo(owner.id, _photo(faces_dir, "people/obama/obama_2.jpg"), keep_image=False).count == 1
    assert cli(["users", "clear-face", "nobody@example.com"]) == 1
    assert "No account with the email nobody@example.com." in capsys.readouterr().err
