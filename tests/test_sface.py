"""SFace: our chips and cv2.dnn vectors held to OpenCV's reference FaceRecognizerSF on the same faces."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.config import get_settings
from core.faces.detector import FaceDetector
from core.faces.engine import FaceEngine
from core.faces.errors import ModelUnavailable
from core.faces.images import load_image
from core.faces.sface_embedder import (
    ARCFACE_TEMPLATE,
    MODEL_FILE,
    MODEL_SHA256,
    PACKAGE,
    SfaceEmbedder,
    arcface_chip,
    packaged_file,
    similarity_matrix,
)
from core.faces.types import Detection


@pytest.fixture(scope="module")
def embedder() -> SfaceEmbedder:
    return SfaceEmbedder()


@pytest.fixture(scope="module")
def people_faces(faces_dir: Path) -> list[tuple[np.ndarray, Detection]]:
    """The main face of every photo in people/, found by MTCNN."""
    detector = FaceDetector(torch.device("cpu"), 40, 1280)
    found = []
    for path in sorted((faces_dir / "people").glob("*/*")):
        rgb = load_image(path)
        found.append((rgb, max(detector.detect(rgb), key=lambda d: d.score)))
    return found


def _reference_row(detection: Detection) -> np.ndarray:
    """A detection as the (x, y, w, h, 10 landmark values, score) row FaceRecognizerSF.alignCrop takes."""
    x1, y1, x2, y2 = detection.box
    return np.array([[x1, y1, x2 - x1, y2 - y1, *detection.landmarks.ravel(), detection.score]], np.float32)


def test_chips_and_vectors_match_opencv_reference(
    embedder: SfaceEmbedder, people_faces: list[tuple[np.ndarray, Detection]]
) -> None:
    reference = cv2.FaceRecognizerSF.create(str(packaged_file(PACKAGE, MODEL_FILE, MODEL_SHA256)), "")
    ours, theirs = [], []
    for rgb, detection in people_faces:
        chip = arcface_chip(rgb, detection)
        ref_chip = reference.alignCrop(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), _reference_row(detection))
        diff = np.abs(chip.astype(int) - cv2.cvtColor(ref_chip, cv2.COLOR_BGR2RGB).astype(int))
        assert diff.max() <= 2 and diff.mean() < 0.05, f"chip differs from alignCrop's: max {diff.max()}"
        ours.append(chip)
        vector = reference.feature(ref_chip).ravel()
        theirs.append(vector / np.linalg.norm(vector))
    vectors = embedder.embed(np.stack(ours))  # one batch, against the reference's one chip at a time
    cosines = np.einsum("ij,ij->i", vectors, np.stack(theirs))
    assert len(cosines) == 16
    assert cosines.min() > 0.999, cosines


def test_vectors_are_unit_length_and_distance_is_cosine(
    embedder: SfaceEmbedder, people_faces: list[tuple[np.ndarray, Detection]]
) -> None:
    chips = np.stack([arcface_chip(rgb, d) for rgb, d in people_faces[:3]])
    vectors = embedder.embed(chips)
    assert vectors.shape == (3, 128) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cos = float(vectors[0] @ vectors[1])
    assert np.isclose(np.linalg.norm(vectors[0] - vectors[1]), np.sqrt(2 - 2 * cos), atol=1e-5)
    assert embedder.embed(chips[:0]).shape == (0, 128)


def test_wrong_chip_size_is_refused(embedder: SfaceEmbedder) -> None:
    with pytest.raises(ValueError, match="112x112"):
        embedder.embed(np.zeros((1, 150, 150, 3), np.uint8))


def test_similarity_recovers_a_known_transform() -> None:
    angle = np.deg2rad(12.0)
    rotation = 1.7 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = (ARCFACE_TEMPLATE - [20.0, -5.0]) @ np.linalg.inv(rotation).T
    matrix = similarity_matrix(points)
    mapped = points @ matrix[:, :2].T + matrix[:, 2]
    assert np.allclose(mapped, ARCFACE_TEMPLATE, atol=1e-9)


def test_missing_package_or_altered_file_is_named() -> None:
    with pytest.raises(ModelUnavailable, match="no-such-model-package"):
        packaged_file("no-such-model-package", MODEL_FILE, MODEL_SHA256)
    with pytest.raises(ModelUnavailable, match="SHA-256"):
        packaged_file(PACKAGE, MODEL_FILE, "0" * 64)


def test_engine_with_sface_tells_people_apart(data_dir: Path, faces_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBTUBE_EMBEDDER", "sface")
    get_settings.cache_clear()
    engine = FaceEngine(get_settings())
    first, second, other = (
        engine.largest_good_face(load_image(faces_dir / "people" / name))[0].embedding
        for name in ("obama/obama_1.jpg", "obama/obama_2.jpg", "biden/biden_1.jpg")
    )
    assert engine.embedder.name == "sface"
    same, different = float(np.linalg.norm(first - second)), float(np.linalg.norm(first - other))
    assert same < engine.verify_threshold < different, (same, different)
