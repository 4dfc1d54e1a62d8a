"""Faces of many photos embedded in one pass: the same faces and vectors as photo by photo, in order, a broken
photo failing alone, through the import job too; and, on a machine with a GPU, the same vectors on both
devices. Real models, the real test photos, real SQLite."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from prometheus_client import REGISTRY

from core.config import get_settings
from core.faces.batching import analyse_photos
from core.faces.engine import FaceEngine, get_engine
from core.faces.errors import ImageError
from core.faces.images import load_image
from core.faces.quality import MIN_SCORE
from core.faces.types import Face
from core.studio import library
from core.studio.importer import import_paths
from core.studio.owners import resolve_owner
from tests.support.studio_photos import GROUPS, PEOPLE

PHOTOS = [*GROUPS, *PEOPLE[:3]]


def _embed_passes() -> float:
    return REGISTRY.get_sample_value("webtube_model_seconds_count", {"stage": "embed"}) or 0.0


def _assert_same_faces(got: list[Face], want: list[Face], tolerance: float = 1e-5) -> None:
    assert len(got) == len(want) >= 1
    for a, b in zip(got, want, strict=True):
        assert a.detection.box == b.detection.box and a.quality == b.quality
        assert float(np.abs(a.embedding - b.embedding).max()) <= tolerance


def test_batched_faces_equal_the_per_photo_ones_in_order_and_a_broken_photo_fails_alone() -> None:
    engine = get_engine()
    items = [path.read_bytes() for path in PHOTOS]
    items.insert(3, items[0][:400])  # a truncated JPEG in the middle of the stream

    before = _embed_passes()
    photos = list(analyse_photos(engine, items, load_image, batch=6, workers=2))
    passes = _embed_passes() - before

    assert [id(photo.item) for photo in photos] == [id(item) for item in items]  # each photo in its place
    broken = photos.pop(3)
    assert isinstance(broken.error, ImageError) and str(broken.error).endswith(".") and broken.faces == []
    for photo in photos:
        assert photo.error is None
        _assert_same_faces(photo.faces, engine.analyse(load_image(photo.item)))
    assert passes <= len(photos) / 3  # each forward pass held the faces of three photos or more


def test_the_import_job_records_batched_faces_equal_to_the_per_photo_ones(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBTUBE_EMBED_BATCH", "3")  # a.jpg's two faces and d.jpg's one share a pass
    get_settings.cache_clear()
    folder = tmp_path / "album"
    folder.mkdir()
    shutil.copy(GROUPS[0], folder / "a.jpg")
    (folder / "b.jpg").write_bytes(GROUPS[0].read_bytes()[:400])
    (folder / "c.jpg").write_bytes(b"")
    shutil.copy(PEOPLE[0], folder / "d.jpg")

    owner = resolve_owner(None)
    summary = import_paths(owner, [folder], "Batched")

    assert (summary.photos, summary.failures) == (2, 2)
    assert {item.original_name: item.message for item in summary.failed} == {
        "b.jpg": "The image is damaged and cannot be read.", "c.jpg": "The file is empty."}
    processed = library.list_photos(owner, status="processed").items
    assert sorted(photo.original_name for photo in processed) == ["a.jpg", "d.jpg"]
    for photo in processed:
        stored = library.photo_detail(owner, photo.id).faces
        faces = get_engine().analyse(load_image(folder / photo.original_name))
        want = np.stack([face.embedding for face in faces if face.detection.score >= MIN_SCORE])
        _, vectors = library.face_vectors(owner, "dlib", [face.id for face in stored])
        assert len(stored) == len(want) >= 1 and float(np.abs(vectors - want).max()) <= 1e-5


def _twin(face: Face, others: list[Face]) -> Face:
    """The face of `others` whose box overlaps `face`'s most (the same face seen on the other device)."""
    def overlap(other: Face) -> float:
        (ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2) = face.detection.box, other.detection.box
        inter = max(0.0, min(ax2, bx2) - max(ax1, bx1)) * max(0.0, min(ay2, by2) - max(ay1, by1))
        return inter / (face.detection.area + other.detection.area - inter)
    return max(others, key=overlap)


def test_the_cuda_setting_gives_the_same_faces_and_embeddings_as_the_cpu() -> None:
    """On a GPU this compares CUDA with the CPU; without one, WEBTUBE_DEVICE=cuda runs on the CPU (the fallback a
    CPU-only machine takes) and must give the same answers too."""
    settings = get_settings()
    cpu = FaceEngine(settings.model_copy(update={"device": "cpu"}))
    cuda = FaceEngine(settings.model_copy(update={"device": "cuda"}))
    assert cuda.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    items = [path.read_bytes() for path in PHOTOS]

    on_cpu = list(analyse_photos(cpu, items, load_image, batch=128, workers=2))
    on_cuda = list(analyse_photos(cuda, items, load_image, batch=128, workers=2))

    # the same chips: cuDNN may convolve in TF32, so a few thousandths, far under the 0.6 verify distance
    chips = np.stack([face.chip for photo in on_cpu for face in photo.faces])
    same_chips = np.linalg.norm(cpu.embed_chips(chips) - cuda.embed_chips(chips), axis=1)
    assert float(same_chips.max()) <= 0.02
    # the whole path: every confident face found on both, boxes within 2 px, vectors a quarter of verify apart
    for a, b in zip(on_cpu, on_cuda, strict=True):
        confident = [face for face in a.faces if face.detection.score >= MIN_SCORE]
        assert a.error is None and b.error is None and confident
        assert len(confident) == len([face for face in b.faces if face.detection.score >= MIN_SCORE])
        for face in confident:
            twin = _twin(face, b.faces)
            assert np.abs(np.subtract(face.detection.box, twin.detection.box)).max() <= 2.0
            assert float(np.linalg.norm(face.embedding - twin.embedding)) <= 0.15
