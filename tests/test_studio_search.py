"""Search by sample on the real test photos, imported through the studio's importer into the default library:
the right person above the threshold, nobody else's faces, filters, people together, several faces in a sample,
the calibrated percentage scale, bad input, and the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.accounts.users import register
from core.config import get_settings
from core.faces.risk import _calibration
from core.faces.thresholds import CALIBRATED
from core.storage.database import session_scope
from core.storage.studio_models import Face
from core.studio import cli, index, library, people, scale
from core.studio.errors import BadInput, NotFound
from core.studio.importer import import_paths
from core.studio.owners import resolve_owner
from core.studio.search import photos_with_people, sample_faces, search_by_sample

PASSWORD = "correct horse battery staple 42"


@dataclass(frozen=True)
class Studio:
    owner: int
    faces: Path
    people_album: int
    groups_album: int


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> Iterator[Studio]:
    """The people photos (all but obama_1.jpg, kept as the sample) and the group photos, imported once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WEBTUBE_DATA_DIR", str(tmp_path_factory.mktemp("studio")))
        patch.setenv("WEBTUBE_BCRYPT_ROUNDS", "4")
        patch.delenv("DATABASE_URL", raising=False)
        get_settings.cache_clear()
        owner = resolve_owner(None)
        portraits = sorted(p for p in (faces_dir / "people").rglob("*.*") if p.name != "obama_1.jpg")
        summary = import_paths(owner, portraits, "People", "folder")
        assert summary.failures == 0 and summary.photos == len(portraits)
        assert import_paths(owner, [faces_dir / "groups"], "Groups", "folder").photos == 3
        albums = {album.name: album.id for album in library.list_albums(owner)}
        yield Studio(owner, faces_dir, albums["People"], albums["Groups"])
        index.close_index()
    get_settings.cache_clear()


def _sample(studio: Studio, relative: str) -> bytes:
    return (studio.faces / relative).read_bytes()


def _names(result: object) -> list[str]:
    return [match.photo.original_name for match in result.matches]


def test_a_sample_of_obama_finds_obamas_photos_and_not_bidens(studio: Studio) -> None:
    result = search_by_sample(studio.owner, _sample(studio, "people/obama/obama_1.jpg"))
    names = _names(result)
    assert {"obama_2.jpg", "obama_3.jpg", "obama_4.jpg", "obama_5_small.jpg", "obama_and_biden.jpg"} <= set(names)
    assert not [name for name in names if name.startswith(("biden", "kit", "rose", "alex", "lin"))]
    assert result.threshold_pct == scale.DEFAULT_PERCENT
    similarities = [match.similarity_pct for match in result.matches]
    assert similarities == sorted(similarities, reverse=True) and min(similarities) >= scale.DEFAULT_PERCENT
    group = next(m for m in result.matches if m.photo.original_name == "obama_and_biden.jpg")
    x1, y1, x2, y2 = group.face.box
    assert x2 > x1 > 0 and y2 > y1 > 0 and group.face.photo_id == group.photo.id
    biden = search_by_sample(studio.owner, _sample(studio, "people/biden/biden_1.jpg"))
    assert {"biden_2.jpg", "obama_and_biden.jpg"} <= set(_names(biden))
    assert not [name for name in _names(biden) if name.startswith("obama_") and name != "obama_and_biden.jpg"]


def test_the_threshold_and_top_k(studio: Studio) -> None:
    sample = _sample(studio, "people/obama/obama_1.jpg")
    loose = search_by_sample(studio.owner, sample, threshold_pct=70, top_k=100)
    strict = search_by_sample(studio.owner, sample, threshold_pct=95, top_k=100)
    assert 0 < len(strict.matches) < len(loose.matches)
    assert all(match.similarity_pct >= 95 for match in strict.matches)
    assert all(match.similarity_pct >= 70 for match in loose.matches)
    assert _names(search_by_sample(studio.owner, sample, threshold_pct=70, top_k=2)) == _names(loose)[:2]


def test_album_and_person_filters(studio: Studio) -> None:
    sample = _sample(studio, "people/obama/obama_1.jpg")
    in_groups = search_by_sample(studio.owner, sample, album_id=studio.groups_album)
    assert in_groups.matches and {m.photo.original_name for m in in_groups.matches} <= {
        "obama_and_biden.jpg", "two_people.jpg", "kit_with_rose.jpg"}
    assert all(studio.groups_album in m.photo.album_ids for m in in_groups.matches)
    person = people.create_person(studio.owner, "Barack")
    chosen = search_by_sample(studio.owner, sample, threshold_pct=90).matches[:2]
    for match in chosen:
        people.assign_face(studio.owner, match.face.id, person.id)
    named = search_by_sample(studio.owner, sample, threshold_pct=70, person_id=person.id)
    assert [m.face.id for m in named.matches] == [m.face.id for m in chosen]
    assert all(m.face.person_name == "Barack" for m in named.matches)
    people.delete_person(studio.owner, person.id)  # its faces leave the library (and the index) too
    assert not {m.face.id for m in chosen} & {m.face.id for m in search_by_sample(studio.owner, sample).matches}


def test_photos_where_two_people_appear_together(studio: Studio) -> None:
    obama, biden = people.create_person(studio.owner, "Obama"), people.create_person(studio.owner, "Biden")
    for person, photo in ((obama, "people/obama/obama_1.jpg"), (biden, "people/biden/biden_1.jpg")):
        for match in search_by_sample(studio.owner, _sample(studio, photo), threshold_pct=90).matches:
            people.assign_face(studio.owner, match.face.id, person.id)
    together = photos_with_people(studio.owner, [obama.id, biden.id])
    assert [photo.original_name for photo in together] == ["obama_and_biden.jpg"]
    alone = {photo.original_name for photo in photos_with_people(studio.owner, [biden.id])}
    assert alone >= {"biden_2.jpg", "obama_and_biden.jpg"}
    with pytest.raises(BadInput):
        photos_with_people(studio.owner, [])


def test_a_sample_with_several_faces_searches_the_chosen_one(studio: Studio) -> None:
    sample = _sample(studio, "groups/obama_and_biden.jpg")
    faces = sample_faces(sample)  # 4 face-like shapes, one under the importer's detector score: 3 faces
    assert len(faces) == 3 and [f.index for f in faces] == [0, 1, 2]
    assert all(f.thumbnail_jpeg[:2] == b"\xff\xd8" for f in faces)
    assert [f.box[0] for f in faces] == sorted(f.box[0] for f in faces)  # left to right
    firsts = []
    for face in faces:
        result = search_by_sample(studio.owner, sample, face_index=face.index, threshold_pct=90)
        assert result.sample_box == face.box
        assert result.matches and result.matches[0].photo.original_name == "obama_and_biden.jpg"
        assert result.matches[0].similarity_pct == 100.0  # the very face, in the library
        firsts.append(result.matches[0].face.id)
    assert len(set(firsts)) == 3  # each chosen face finds itself, not its neighbour
    with pytest.raises(BadInput, match="holds 3 face"):
        search_by_sample(studio.owner, sample, face_index=3)


def test_another_owner_finds_nothing_and_cannot_filter_by_our_album(studio: Studio) -> None:
    stranger = register("Mallory", "mallory@example.com", PASSWORD, PASSWORD).id
    sample = _sample(studio, "people/obama/obama_1.jpg")
    assert search_by_sample(stranger, sample, threshold_pct=0, top_k=100).matches == []
    with pytest.raises(NotFound):
        search_by_sample(stranger, sample, album_id=studio.people_album)


def test_bad_input_is_one_sentence(studio: Studio, faces_dir: Path) -> None:
    with pytest.raises(BadInput, match="JPG, PNG or WEBP"):
        search_by_sample(studio.owner, b"%PDF-1.4 not a photo")
    with pytest.raises(BadInput, match="Top K"):
        search_by_sample(studio.owner, _sample(studio, "people/obama/obama_1.jpg"), top_k=0)
    with pytest.raises(BadInput, match="percentage"):
        search_by_sample(studio.owner, _sample(studio, "people/obama/obama_1.jpg"), threshold_pct=120)


def test_the_percentage_scale_is_calibrated() -> None:
    for embedder in ("dlib", "sface"):
        assert scale.percent(scale.distance_for(95, embedder), embedder) == pytest.approx(95)
        assert scale.percent(0.0, embedder) == 100
        distances = [scale.distance_for(p, embedder) for p in (95, 90, 80, 70)]
        assert distances == sorted(distances)
        assert "Fewer than 1 in" in scale.risk_words(95, embedder)  # near-certain: no stranger pair passes
        loose = scale.risk_words(70, embedder)
        pairs = len(_calibration()[embedder]["genuine"])
        assert "About 1 in" in loose and f"It finds {pairs} of {pairs} same-person pairs" in loose  # loose: some do
    assert scale.distance_for(scale.DEFAULT_PERCENT, "dlib") == pytest.approx(CALIBRATED["dlib"].verify)
    assert "not measured" in scale.risk_words(80, "facenet")


def test_the_command_line(studio: Studio, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sample = studio.faces / "people/obama/obama_1.jpg"
    assert cli.main(["search", str(sample), "--threshold", "90", "--top", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["matches"]) == 3 and out["threshold_pct"] == 90 and "strangers" in out["risk"]
    assert all(m["origin"].endswith(".jpg") and len(m["box"]) == 4 and m["similarity_pct"] >= 90
               for m in out["matches"])
    assert cli.main(["reindex"]) == 0
    with session_scope() as session:
        faces = session.scalar(select(func.count(Face.id)).where(Face.owner_id == studio.owner))
    assert json.loads(capsys.readouterr().out)["faces"] == faces > 15
    not_a_photo = tmp_path / "notes.txt"
    not_a_photo.write_text("hello")
    assert cli.main(["search", str(not_a_photo)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
