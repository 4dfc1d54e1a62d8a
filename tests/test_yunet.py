"""YuNet beside MTCNN: the same faces, the same landmark order, scores on MTCNN's scale, and its measured misses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.config import get_settings
from core.faces.detector import FaceDetector
from core.faces.engine import FaceEngine
from core.faces.images import load_image
from core.faces.quality import MIN_SCORE
from core.faces.types import Detection


@pytest.fixture(scope="module")
def detectors() -> dict[str, FaceDetector]:
    return {kind: FaceDetector(torch.device("cpu"), 40, 1280, kind) for kind in ("mtcnn", "yunet")}


def _iou(a: Detection, b: Detection) -> float:
    x1, y1 = max(a.box[0], b.box[0]), max(a.box[1], b.box[1])
    x2, y2 = min(a.box[2], b.box[2]), min(a.box[3], b.box[3])
    inter = max(x2 - x1, 0.0) * max(y2 - y1, 0.0)
    return inter / (a.area + b.area - inter)


def test_people_main_faces_match_mtcnn(detectors: dict[str, FaceDetector], faces_dir: Path) -> None:
    photos = sorted((faces_dir / "people").glob("*/*"))
    assert len(photos) == 16
    for photo in photos:
        rgb = load_image(photo)
        (yunet,) = detectors["yunet"].detect(rgb)
        mtcnn = detectors["mtcnn"].detect(rgb)[0]
        assert _iou(yunet, mtcnn) > 0.5, photo.name
        assert yunet.score >= MIN_SCORE, photo.name  # confident on MTCNN's scale
        spread = np.linalg.norm(yunet.landmarks - mtcnn.landmarks, axis=1) / mtcnn.width
        assert spread.max() < 0.12, (photo.name, spread)  # same points in the same order
        left_eye, right_eye, _, left_mouth, right_mouth = yunet.landmarks
        assert left_eye[0] < right_eye[0] and left_mouth[0] < right_mouth[0]


@pytest.mark.parametrize(
    ("name", "found"), [("kit_with_rose.jpg", 2), ("two_people.jpg", 2), ("obama_and_biden.jpg", 3)]
)
def test_group_photos(detectors: dict[str, FaceDetector], faces_dir: Path, name: str, found: int) -> None:
    """Measured recall: 7 of the 8 faces in groups/; YuNet misses the small, blurred fourth face of
    obama_and_biden.jpg (bottom left) at any score threshold, which MTCNN finds at 0.83."""
    rgb = load_image(faces_dir / "groups" / name)
    yunet = detectors["yunet"].detect(rgb)
    assert len(yunet) == found
    mtcnn = detectors["mtcnn"].detect(rgb)
    for face in yunet:
        assert max(_iou(face, other) for other in mtcnn) > 0.5


def test_edge_cut_faces_are_found_and_judged(data_dir: Path, faces_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBTUBE_DETECTOR", "yunet")
    get_settings.cache_clear()
    engine = FaceEngine(get_settings())
    for name in ("obama_partial_face_1.jpg", "obama_partial_face_2.jpg"):
        faces = engine.analyse(load_image(faces_dir / "hard" / name), embed=False)
        assert len(faces) == 1, name
        assert not faces[0].quality.ok and any("edge" in reason for reason in faces[0].quality.reasons), name


def test_engine_with_yunet_verifies(data_dir: Path, faces_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBTUBE_DETECTOR", "yunet")
    get_settings.cache_clear()
    engine = FaceEngine(get_settings())
    first, second, other = (
        engine.largest_good_face(load_image(faces_dir / "people" / name))[0].embedding
        for name in ("obama/obama_1.jpg", "obama/obama_3.jpg", "biden/biden_2.jpg")
    )
    assert float(np.linalg.norm(first - second)) < engine.verify_threshold < float(np.linalg.norm(first - other))


def test_blank_and_bad_input(detectors: dict[str, FaceDetector]) -> None:
    assert detectors["yunet"].detect(np.zeros((480, 640, 3), np.uint8)) == []
    with pytest.raises(ValueError, match="RGB uint8"):
        detectors["yunet"].cascade.detect(np.zeros((48, 64), np.uint8))


def test_fast_side_finds_the_same_faces(detectors: dict[str, FaceDetector], faces_dir: Path) -> None:
    """WEBTUBE_DETECT_MAX_SIDE=800 (the benchmark's fast YuNet row) loses no face of the test photos."""
    fast = FaceDetector(torch.device("cpu"), 40, 800, "yunet")
    photos = sorted(p for p in faces_dir.glob("*/*") if p.suffix in {".jpg", ".png"})
    photos += sorted((faces_dir / "people").glob("*/*"))
    assert len(photos) == 22
    for photo in photos:
        rgb = load_image(photo)
        full, shrunk = detectors["yunet"].detect(rgb), fast.detect(rgb)
        assert len(full) == len(shrunk), photo.name
        for face in full:
            assert max(_iou(face, other) for other in shrunk) > 0.7, photo.name
