"""The face engine on real photos: detection counts, quality verdicts, alignment and matching."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from core.faces.engine import FaceEngine, get_engine
from core.faces.errors import NoFaceFound, TooManyFaces
from core.faces.images import load_image
from core.faces.matching import identify, similarity_percent, verify
from core.faces.quality import MIN_SCORE, head_yaw
from core.faces.types import Face

GROUP_COUNTS = {"two_people.jpg": 2, "kit_with_rose.jpg": 2, "obama_and_biden.jpg": 4}


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return get_engine()


@pytest.fixture(scope="module")
def people(faces_dir: Path, engine: FaceEngine) -> dict[Path, list[Face]]:
    photos = sorted(p for p in (faces_dir / "people").glob("*/*") if p.suffix in {".jpg", ".png"})
    assert len(photos) == 16
    return {photo: engine.analyse(load_image(photo)) for photo in photos}


def _good(faces: list[Face]) -> list[Face]:
    return [face for face in faces if face.detection.score >= MIN_SCORE and face.quality.ok]


def test_every_person_photo_has_exactly_one_good_face(people: dict[Path, list[Face]]) -> None:
    for photo, faces in people.items():
        good = _good(faces)
        assert len(good) == 1, f"{photo.name}: {[f.to_json() for f in faces]}"
        face = good[0]
        assert face.chip.shape == (150, 150, 3)
        assert face.embedding is not None and face.embedding.shape == (128,)
        left_eye, right_eye, nose, mouth_left, mouth_right = face.detection.landmarks
        assert left_eye[0] < right_eye[0]
        assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])


@pytest.mark.parametrize(("name", "count"), GROUP_COUNTS.items())
def test_group_photos_yield_their_counts(faces_dir: Path, engine: FaceEngine, name: str, count: int) -> None:
    faces = engine.analyse(load_image(faces_dir / "groups" / name), embed=False)
    assert len(faces) == count
    areas = [face.detection.area for face in faces]
    assert areas == sorted(areas, reverse=True)


@pytest.mark.parametrize("name", ["obama_partial_face_1.jpg", "obama_partial_face_2.jpg"])
def test_partial_faces_are_flagged_as_cut(faces_dir: Path, engine: FaceEngine, name: str) -> None:
    faces = engine.analyse(load_image(faces_dir / "hard" / name), embed=False)
    assert faces, "the partial face should still be detected"
    assert not faces[0].quality.ok
    assert any("cut by the image edge" in reason for reason in faces[0].quality.reasons)


def test_rgba_png_works_and_matches_its_jpeg_twin(faces_dir: Path, engine: FaceEngine) -> None:
    rgba_face = _good(engine.analyse(load_image(faces_dir / "hard" / "32bit.png")))[0]
    jpeg_face = _good(engine.analyse(load_image(faces_dir / "people" / "obama" / "obama_2.jpg")))[0]
    assert verify(rgba_face.embedding, jpeg_face.embedding, engine.verify_threshold).distance < 0.1


def test_same_and_different_people_are_told_apart(people: dict[Path, list[Face]], engine: FaceEngine) -> None:
    embeddings = [(photo.parent.name, _good(faces)[0].embedding) for photo, faces in people.items()]
    genuine, impostor = [], []
    for (name_a, emb_a), (name_b, emb_b) in itertools.combinations(embeddings, 2):
        (genuine if name_a == name_b else impostor).append(verify(emb_a, emb_b, engine.verify_threshold).distance)
    worst_genuine, closest_impostor = max(genuine), min(impostor)
    print(f"\nverify threshold {engine.verify_threshold}: {len(genuine)} genuine pairs, worst {worst_genuine:.4f} "
          f"(margin {engine.verify_threshold - worst_genuine:.4f}); {len(impostor)} impostor pairs, closest "
          f"{closest_impostor:.4f} (margin {closest_impostor - engine.verify_threshold:.4f})")
    assert worst_genuine < engine.verify_threshold < closest_impostor


def test_identify_names_people_and_says_unknown(people: dict[Path, list[Face]], engine: FaceEngine) -> None:
    photos = list(people)
    gallery_photos = [p for p in photos if not p.stem.endswith("_1")]
    gallery = np.stack([_good(people[p])[0].embedding for p in gallery_photos])
    labels = [p.parent.name for p in gallery_photos]
    for probe in (p for p in photos if p.stem.endswith("_1") and p.parent.name in labels):
        answer = identify(_good(people[probe])[0].embedding, gallery, labels, engine.verify_threshold)
        assert answer.label == probe.parent.name
        assert answer.runner_up != answer.label
    stranger = _good(people[next(p for p in photos if p.parent.name == "lin_manuel_miranda")])[0].embedding
    assert identify(stranger, gallery, labels, engine.verify_threshold).label is None


def test_similarity_percent_is_documented_mapping() -> None:
    assert similarity_percent(0.0, 0.6) == 100.0
    assert similarity_percent(0.6, 0.6) == pytest.approx(50.0)
    assert similarity_percent(5.0, 0.6) == 0.0


def test_batch_embedding_equals_one_by_one(people: dict[Path, list[Face]], engine: FaceEngine) -> None:
    chips = np.stack([_good(faces)[0].chip for faces in people.values()])
    batch = engine.embed_chips(chips)
    single = np.concatenate([engine.embed_chips(chip[None]) for chip in chips])
    assert np.abs(batch - single).max() < 1e-4


def test_yaw_changes_sign_in_a_mirror(faces_dir: Path, engine: FaceEngine) -> None:
    rgb = load_image(faces_dir / "people" / "obama" / "obama_2.jpg")
    turned = engine.analyse(rgb, embed=False)[0].detection.landmarks
    mirrored = engine.analyse(np.ascontiguousarray(rgb[:, ::-1]), embed=False)[0].detection.landmarks
    assert abs(head_yaw(turned)) < 0.3
    assert head_yaw(turned) == pytest.approx(-head_yaw(mirrored), abs=0.08)


def test_single_face_refuses_groups_and_blanks(faces_dir: Path, engine: FaceEngine) -> None:
    with pytest.raises(TooManyFaces):
        engine.single_face(load_image(faces_dir / "groups" / "two_people.jpg"))
    with pytest.raises(NoFaceFound):
        engine.single_face(np.full((480, 640, 3), 128, dtype=np.uint8))


def test_exif_rotated_photo_is_found_upright(faces_dir: Path, engine: FaceEngine, tmp_path: Path) -> None:
    from PIL import Image

    photo = Image.open(faces_dir / "people" / "biden" / "biden_2.jpg")
    exif = Image.Exif()
    exif[0x0112] = 8  # stored rotated, tagged "rotate 270 clockwise to view"
    path = tmp_path / "sideways.jpg"
    photo.transpose(Image.Transpose.ROTATE_270).save(path, exif=exif.tobytes())
    face = engine.single_face(load_image(path))
    eyes_y = face.detection.landmarks[:2, 1]
    assert eyes_y.max() < face.detection.landmarks[3:, 1].min(), "eyes should sit above the mouth"


def test_cmyk_and_16_bit_photos_find_the_face(faces_dir: Path, engine: FaceEngine, tmp_path: Path) -> None:
    from PIL import Image

    photo = Image.open(faces_dir / "people" / "kit_harington" / "kit_harington_2.jpg")
    photo.convert("CMYK").save(tmp_path / "cmyk.jpg")
    grey16 = np.asarray(photo.convert("L"), dtype=np.uint16) * 257
    Image.fromarray(grey16).save(tmp_path / "deep.png")
    for name in ("cmyk.jpg", "deep.png"):
        assert engine.single_face(load_image(tmp_path / name)).quality.ok


def test_a_face_filling_the_frame_is_found_and_embedded(faces_dir: Path, engine: FaceEngine) -> None:
    """Crops to the face box and inside it: MTCNN finds the tighter one only in the black-bordered retry."""
    rgb = load_image(faces_dir / "people" / "obama" / "obama_3.jpg")
    whole = _good(engine.analyse(rgb))[0]
    x1, y1, x2, y2 = whole.detection.box
    for inset in (0.0, 0.1):
        dx, dy = inset * (x2 - x1), inset * (y2 - y1)
        crop = np.ascontiguousarray(rgb[round(y1 + dy) : round(y2 - dy), round(x1 + dx) : round(x2 - dx)])
        if inset:
            assert not any(d.score >= MIN_SCORE for d in engine.detector.detect(crop)), "the retry is not needed"
        faces = engine.confident_faces(crop)
        assert len(faces) == 1, f"inset {inset}: {[f.to_json() for f in faces]}"
        distance = verify(faces[0].embedding, whole.embedding, engine.verify_threshold).distance
        print(f"\ncrop {inset:.0%} inside the box: distance to the whole photo's face {distance:.3f}")
        assert distance < 0.4


@pytest.mark.parametrize(("reason", "sentence"), [
    ("too small (59px wide, needs 60px): come closer",
     "The face is too small (59 pixels wide; at least 60 are needed): use a photo where the face is larger, "
     "or come closer to the camera."),
    ("blurred: hold still or add light", "The face is blurred: use a sharper photo."),
    ("head turned too far: look at the camera",
     "The head is turned too far to one side: use a photo where the face looks ahead."),
])
def test_a_refused_face_is_one_sentence_for_a_person(reason: str, sentence: str) -> None:
    from core.faces.quality_words import refusal
    from core.faces.types import Quality

    assert refusal(Quality(ok=False, reasons=(reason, "too dark: add light"))) == sentence
