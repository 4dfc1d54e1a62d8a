"""Our MTCNN cascade against facenet-pytorch's `MTCNN.detect` on the project's real photos.

Why: the cascade reimplements facenet-pytorch's pipeline for speed on the same pretrained
networks; these tests pin that it still finds the same faces, boxes, scores and landmarks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from facenet_pytorch import MTCNN
from PIL import Image

from core.faces import mtcnn
from core.faces.mtcnn import CascadeResult, MtcnnCascade
from tests.support.paths import FACES_DIR

PHOTOS = sorted(
    p.relative_to(FACES_DIR).as_posix()
    for pattern in ("people/*/*", "groups/*", "hard/*")
    for p in FACES_DIR.glob(pattern)
    if p.suffix.lower() in {".jpg", ".png"}
)
MIN_FACE_SIZES = (20, 40)
# Every photo at the app's minimum face size (40 px); facenet-pytorch's default 20 px, whose pyramid goes
# further down and costs the reference several seconds a photo, on the photos with small or partial faces.
CASES = [(name, 40) for name in PHOTOS] + [(name, 20) for name in PHOTOS if name.startswith(("groups/", "hard/"))]
STRONG = 0.9  # faces the app acts on; weaker ones may legitimately come and go
MAX_CORNER_PX = 2.0
MAX_SCORE_DIFF = 0.02
MAX_LANDMARK_PX = 3.0


def load_rgb(name: str) -> np.ndarray:
    with Image.open(FACES_DIR / name) as img:
        return np.asarray(img.convert("RGB"))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def facenet_detect(reference: MTCNN, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """facenet-pytorch's boxes, scores, landmarks as float arrays (numpy 2 may hand back object arrays)."""
    boxes, scores, points = reference.detect(rgb, landmarks=True)
    if boxes is None:
        return np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))
    return tuple(np.asarray(x, dtype=float) for x in (boxes, scores, points))


@pytest.fixture(scope="module")
def cascades() -> dict[int, MtcnnCascade]:
    return {size: MtcnnCascade(min_face_size=size) for size in MIN_FACE_SIZES}


@pytest.fixture(scope="module")
def detect(cascades: dict[int, MtcnnCascade]) -> Callable[[str, int], CascadeResult]:
    """Our result per (photo, min face size), computed once for all tests of the module."""
    return functools.cache(lambda name, min_face_size: cascades[min_face_size].detect(load_rgb(name)))


@pytest.fixture(scope="module")
def references() -> dict[int, MTCNN]:
    return {size: MTCNN(keep_all=True, min_face_size=size) for size in MIN_FACE_SIZES}


@pytest.fixture(scope="module")
def deviations(request: pytest.FixtureRequest) -> Iterator[dict[str, float]]:
    """Largest deviations seen over all photos, printed at the end of the module."""
    worst = {"faces": 0, "corner_px": 0.0, "score": 0.0, "landmark_px": 0.0}
    yield worst
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None and worst["faces"]:
        with capture.global_and_fixture_disabled():  # fixture teardown output is captured otherwise
            reporter.write_line(
                f"\nMtcnnCascade vs facenet-pytorch over {worst['faces']} faces: max corner error "
                f"{worst['corner_px']:.2g} px, max score diff {worst['score']:.2g}, "
                f"max landmark error {worst['landmark_px']:.2g} px"
            )


def test_photos_found() -> None:
    assert len(PHOTOS) >= 20, f"test photos missing under {FACES_DIR}"


@pytest.mark.parametrize(("name", "min_face_size"), CASES)
def test_matches_facenet(
    name: str,
    min_face_size: int,
    detect: Callable[[str, int], CascadeResult],
    references: dict[int, MTCNN],
    deviations: dict[str, float],
) -> None:
    ref_boxes, ref_scores, ref_points = facenet_detect(references[min_face_size], load_rgb(name))
    ours = detect(name, min_face_size)

    strong = ours.scores >= STRONG
    assert strong.sum() == (ref_scores >= STRONG).sum(), (ours.scores, ref_scores)
    unmatched = set(np.flatnonzero(strong))
    for box, score, points in zip(ref_boxes, ref_scores, ref_points, strict=True):
        if score < STRONG:
            continue
        j = max(unmatched, key=lambda k: iou(box, ours.boxes[k]))
        unmatched.remove(j)
        assert iou(box, ours.boxes[j]) > 0.9
        corner = float(np.abs(ours.boxes[j] - box).max())
        score_diff = abs(float(ours.scores[j]) - score)
        landmark = float(np.abs(ours.landmarks[j] - points).max())
        assert corner < MAX_CORNER_PX
        assert score_diff < MAX_SCORE_DIFF
        assert landmark < MAX_LANDMARK_PX
        deviations["faces"] += 1
        for key, value in (("corner_px", corner), ("score", score_diff), ("landmark_px", landmark)):
            deviations[key] = max(deviations[key], value)


def test_known_faces(detect: Callable[[str, int], CascadeResult]) -> None:
    """The facts measured on these photos with facenet-pytorch's defaults (min face 20 px)."""
    obama = detect("people/obama/obama_1.jpg", 20)
    assert len(obama.scores) == 2
    assert obama.scores[0] > 0.99
    assert 0.75 < obama.scores[1] < 0.9
    assert len(detect("groups/obama_and_biden.jpg", 20).scores) == 4
    for name in PHOTOS:
        if name.startswith("people/") and name != "people/obama/obama_1.jpg":
            found = detect(name, 20)
            assert len(found.scores) == 1, name
            left_eye, right_eye = found.landmarks[0, 0], found.landmarks[0, 1]
            assert left_eye[0] < right_eye[0], f"{name}: landmarks must be in image left/right order"


def assert_well_formed(result: CascadeResult, n: int | None = None) -> None:
    count = len(result.scores)
    assert n is None or count == n
    assert result.boxes.shape == (count, 4)
    assert result.landmarks.shape == (count, 5, 2)
    for array in (result.boxes, result.scores, result.landmarks):
        assert array.dtype == np.float32
    assert np.all(np.diff(result.scores) <= 0), "faces must come best first"


def test_group_photo_result_shape(detect: Callable[[str, int], CascadeResult]) -> None:
    result = detect("groups/obama_and_biden.jpg", 40)
    assert_well_formed(result, n=4)
    assert np.all(result.boxes[:, 2:] > result.boxes[:, :2])


@pytest.mark.parametrize("shape", [(480, 640, 3), (8, 8, 3), (1, 500, 3)])
def test_blank_and_tiny_images_have_no_faces(cascades: dict[int, MtcnnCascade], shape: tuple[int, int, int]) -> None:
    for cascade in cascades.values():
        assert_well_formed(cascade.detect(np.zeros(shape, np.uint8)), n=0)


def test_repeated_sizes_give_identical_results(cascades: dict[int, MtcnnCascade]) -> None:
    """The per-size pyramid plan is cached: interleaving frame sizes must not change any answer."""
    cascade = cascades[20]
    small, group = load_rgb("people/obama/obama_5_small.jpg"), load_rgb("groups/two_people.jpg")
    first = cascade.detect(small)
    cascade.detect(group)
    again = cascade.detect(small)
    np.testing.assert_array_equal(first.boxes, again.boxes)
    np.testing.assert_array_equal(first.scores, again.scores)
    np.testing.assert_array_equal(first.landmarks, again.landmarks)


def test_huge_frame_path_gives_same_faces(
    detect: Callable[[str, int], CascadeResult], cascades: dict[int, MtcnnCascade], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frames over 8.4 MP sum in float64 (int32 would overflow); force that path on a normal photo."""
    monkeypatch.setattr(mtcnn, "_INT32_TABLE_MAX_PIXELS", 0)
    name = "groups/two_people.jpg"
    found, expected = cascades[40].detect(load_rgb(name)), detect(name, 40)
    np.testing.assert_allclose(found.boxes, expected.boxes, atol=1e-3)
    np.testing.assert_allclose(found.scores, expected.scores, atol=1e-5)
    np.testing.assert_allclose(found.landmarks, expected.landmarks, atol=1e-3)


@pytest.mark.parametrize(
    "bad",
    [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8), np.zeros((10, 10, 3), np.float32)],
)
def test_rejects_non_rgb8(cascades: dict[int, MtcnnCascade], bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8 RGB"):
        cascades[40].detect(bad)
