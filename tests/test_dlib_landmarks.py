"""Golden tests of the ported 5-point predictor and chip cutter against dlib itself (dlib-bin).

Why: dlib's ResNet embeds well only on dlib's chips, which dlib's predictor places. Given the same
box, the port must give the same points, the same chip and so the same embedding as dlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dlib
import numpy as np
import pytest

from core.config import get_settings
from core.faces.alignment import dlib_box
from core.faces.dlib_chips import extract_chip, face_chip_details, pyramid_down
from core.faces.dlib_format import DlibFormatError, DlibReader
from core.faces.dlib_landmarks import default_shape_predictor, find_predictor_file, read_shape_predictor
from core.faces.dlib_resnet import DlibEmbedder, find_dlib_model_file
from core.faces.embedders import chip_aligner
from core.faces.engine import FaceEngine, get_engine
from core.faces.images import load_image
from tests.support.paths import FACES_DIR


@dataclass
class DlibFace:
    """One face as dlib's own pipeline sees it."""

    name: str
    rgb: np.ndarray
    rect: dlib.rectangle
    shape: dlib.full_object_detection

    @property
    def corners(self) -> tuple[int, int, int, int]:
        return self.rect.left(), self.rect.top(), self.rect.right(), self.rect.bottom()

    @property
    def points(self) -> np.ndarray:
        return np.array([[p.x, p.y] for p in self.shape.parts()], dtype=np.float64)


@pytest.fixture(scope="module")
def dlib_predictor() -> dlib.shape_predictor:
    return dlib.shape_predictor(str(find_predictor_file()))


@pytest.fixture(scope="module")
def dlib_faces(dlib_predictor: dlib.shape_predictor) -> list[DlibFace]:
    """Every face dlib's HOG detector finds in people/ and groups/ (no upsampling: the same 23 faces, faster)."""
    detector = dlib.get_frontal_face_detector()
    faces = []
    for path in sorted((FACES_DIR / "people").glob("*/*")) + sorted((FACES_DIR / "groups").glob("*")):
        rgb = load_image(path)
        for rect in detector(rgb, 0):
            faces.append(DlibFace(path.name, rgb, rect, dlib_predictor(rgb, rect)))
    assert len(faces) >= 20, "expected a face in nearly every test photo"
    return faces


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> DlibEmbedder:
    return DlibEmbedder(weights_dir=tmp_path_factory.mktemp("weights"))


def test_landmarks_match_dlib_on_the_same_box(dlib_faces: list[DlibFace]) -> None:
    predictor = default_shape_predictor()
    errors = [np.abs(predictor(face.rgb, face.corners) - face.points).max() for face in dlib_faces]
    print(f"\nlandmarks: max |port - dlib| over {len(dlib_faces)} faces: {max(errors):.3g} px")
    assert max(errors) <= 0.01


def test_grey_images_and_boxes_past_the_edge_match_dlib(
    dlib_faces: list[DlibFace], dlib_predictor: dlib.shape_predictor
) -> None:
    """Grey input, and a box hanging off the image (features sampled outside read 0, as in dlib)."""
    predictor = default_shape_predictor()
    face = dlib_faces[0]
    grey = np.ascontiguousarray(face.rgb.astype(np.uint16).sum(axis=2) // 3, dtype=np.uint8)
    assert np.array_equal(predictor(grey, face.corners), face.points)
    left, top, right, bottom = face.corners
    quarter_w, quarter_h = (right - left) // 4, (bottom - top) // 4
    crop = np.ascontiguousarray(face.rgb[top + quarter_h :, left + quarter_w :])
    shifted = dlib.rectangle(-quarter_w, -quarter_h, right - left - quarter_w, bottom - top - quarter_h)
    expected = np.array([[p.x, p.y] for p in dlib_predictor(crop, shifted).parts()], dtype=np.float64)
    ours = predictor(crop, (shifted.left(), shifted.top(), shifted.right(), shifted.bottom()))
    assert np.array_equal(ours, expected)


def test_chips_match_dlib(dlib_faces: list[DlibFace]) -> None:
    worst = 0
    for face in dlib_faces:
        ours = extract_chip(face.rgb, face_chip_details(face.points, size=150))
        theirs = dlib.get_face_chip(face.rgb, face.shape, size=150, padding=0.25)
        assert ours.shape == theirs.shape == (150, 150, 3) and ours.dtype == np.uint8
        worst = max(worst, int(np.abs(ours.astype(int) - theirs).max()))
    print(f"\nchips: max pixel difference over {len(dlib_faces)} faces: {worst}")
    assert worst <= 1


@pytest.mark.parametrize(("size", "padding"), [(160, 0.25), (80, 0.5), (200, 0.0)])
def test_other_sizes_and_paddings_match_dlib(dlib_faces: list[DlibFace], size: int, padding: float) -> None:
    """FaceNet takes 160 px chips; other sizes move the pyramid's depth, which must follow dlib's."""
    for face in dlib_faces[::4]:
        ours = extract_chip(face.rgb, face_chip_details(face.points, size=size, padding=padding))
        theirs = dlib.get_face_chip(face.rgb, face.shape, size=size, padding=padding)
        assert np.abs(ours.astype(int) - theirs).max() <= 1


def test_chip_past_the_image_edge_is_black_as_in_dlib(dlib_faces: list[DlibFace]) -> None:
    face = dlib_faces[0]
    left, top, right, bottom = face.corners
    crop = np.ascontiguousarray(face.rgb[top:bottom, left:right])
    shape = dlib.full_object_detection(
        dlib.rectangle(0, 0, right - left, bottom - top),
        dlib.points([dlib.point(p.x - left, p.y - top) for p in face.shape.parts()]),
    )
    theirs = dlib.get_face_chip(crop, shape, size=150, padding=0.25)
    ours = extract_chip(crop, face_chip_details(face.points - [left, top]))
    assert (theirs == 0).all(axis=2).mean() > 0.1, "the chip should reach past the crop"
    assert np.abs(ours.astype(int) - theirs).max() <= 1


def test_embeddings_of_ported_chips_match_dlib(dlib_faces: list[DlibFace], embedder: DlibEmbedder) -> None:
    model = dlib.face_recognition_model_v1(str(find_dlib_model_file()))
    predictor = default_shape_predictor()
    chips = np.stack([extract_chip(f.rgb, face_chip_details(predictor(f.rgb, f.corners))) for f in dlib_faces])
    expected = np.stack([np.array(model.compute_face_descriptor(f.rgb, f.shape)) for f in dlib_faces])
    diff = np.abs(embedder.embed(chips).astype(np.float64) - expected).max()
    print(f"\nembeddings: max |port - dlib| over {len(dlib_faces)} faces x 128: {diff:.3g}")
    assert diff < 1e-3


@pytest.mark.parametrize("detector", ["mtcnn", "yunet"])
def test_engine_embeddings_are_close_to_dlibs_pipeline(
    dlib_faces: list[DlibFace], detector: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole engine (the detector's box mapped to a HOG box by that detector's own map) against dlib's
    HOG + predictor + ResNet."""
    monkeypatch.setenv("WEBTUBE_DETECTOR", detector)
    get_settings.cache_clear()
    engine: FaceEngine = get_engine()
    assert engine.settings.detector == detector
    model = dlib.face_recognition_model_v1(str(find_dlib_model_file()))
    detections: dict[str, list] = {}
    distances = []
    for face in dlib_faces:
        found = detections.setdefault(face.name, engine.detect(face.rgb))
        centre = np.array([(face.rect.left() + face.rect.right()) / 2, (face.rect.top() + face.rect.bottom()) / 2])
        detection = min(found, key=lambda d: np.hypot(*(np.add(d.box[:2], d.box[2:]) / 2 - centre)))
        assert np.abs(np.subtract(dlib_box(detection.box, detector), face.corners)).max() < 0.5 * face.rect.width()
        chip = chip_aligner("dlib", detector)(face.rgb, detection)  # what the engine cuts for this detector
        ours = engine.embed_chips(chip[None])[0]
        distances.append(np.linalg.norm(ours - np.array(model.compute_face_descriptor(face.rgb, face.shape))))
    print(f"\n{detector} engine vs dlib pipeline over {len(distances)} faces: median {np.median(distances):.4f}, "
          f"p90 {np.percentile(distances, 90):.4f}, max {max(distances):.4f}")
    assert np.median(distances) < 0.06
    assert np.percentile(distances, 90) < 0.15


def test_yunet_boxes_land_nearer_dlibs_with_their_own_map(
    dlib_faces: list[DlibFace], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """YuNet draws its box its own way: read with MTCNN's map its boxes miss dlib's by more than with its own."""
    monkeypatch.setenv("WEBTUBE_DETECTOR", "yunet")
    get_settings.cache_clear()
    engine = get_engine()
    errors: dict[str, list[float]] = {"mtcnn": [], "yunet": []}
    for face in dlib_faces:
        centre = np.array([(face.rect.left() + face.rect.right()) / 2, (face.rect.top() + face.rect.bottom()) / 2])
        box = min((d.box for d in engine.detect(face.rgb)),
                  key=lambda b: np.hypot(*(np.add(b[:2], b[2:]) / 2 - centre)))
        for box_map, found in errors.items():
            found.append(float(np.abs(np.subtract(dlib_box(box, box_map), face.corners)).mean()) / face.rect.width())
    assert np.mean(errors["yunet"]) < np.mean(errors["mtcnn"]), errors


def test_pyramid_level_is_dlibs_binomial_filter() -> None:
    image = np.random.default_rng(1).integers(0, 256, (21, 30, 3), dtype=np.uint8)
    down = pyramid_down(image)
    assert down.shape == (9, 13, 3)
    kernel = np.array([1, 4, 6, 4, 1])
    patch = image[0:5, 2:7, 1].astype(int)  # output (0, 1) is centred on input row 2, column 4
    assert down[0, 1, 1] == (kernel @ patch @ kernel) // 256
    assert pyramid_down(image[:8]).size == 0


# --- reading the model


def _int(value: int) -> bytes:
    magnitude = abs(value).to_bytes(max(1, (abs(value).bit_length() + 7) // 8), "little")
    return bytes([len(magnitude) | (0x80 if value < 0 else 0)]) + magnitude


def test_bulk_reads_agree_with_one_at_a_time() -> None:
    values = [0, 1, -1, 255, -256, 2**40, -(2**62), 7]
    data = b"".join(_int(v) for v in values) + _int(5) + _int(-1) + _int(-3) + _int(2) + _int(0) + _int(32000)
    r = DlibReader(data)
    assert r.read_int_array(len(values)).tolist() == values
    assert r.read_float_array(3).tolist() == [2.5, -12.0, float("inf")]
    assert r.at_end()
    with pytest.raises(DlibFormatError, match="file ends"):
        DlibReader(data[:-1]).read_int_array(len(values) + 6)
    with pytest.raises(DlibFormatError, match="control byte"):
        DlibReader(_int(3) + b"\x00\x01").read_int_array(2)


def test_the_installed_model_is_what_the_port_expects() -> None:
    predictor = default_shape_predictor()
    assert predictor.mean_shape.shape == (5, 2) and len(predictor.cascades) == 15
    cascade = predictor.cascades[0]
    assert cascade.idx1.shape == (500, 15) and cascade.leaves.shape == (500, 16, 10)
    assert cascade.deltas.shape == (800, 2)


@pytest.mark.parametrize("damage", ["empty", "truncated", "trailing", "version", "random"])
def test_damaged_model_files_fail_clearly(tmp_path: Path, damage: str) -> None:
    data = find_predictor_file().read_bytes()
    broken = {"empty": b"", "truncated": data[: len(data) // 2], "trailing": data + _int(1),
              "version": _int(2) + data[2:], "random": np.random.default_rng(0).bytes(4096)}[damage]
    with pytest.raises(DlibFormatError, match="dlib model"):
        read_shape_predictor(broken, source="broken.dat")
