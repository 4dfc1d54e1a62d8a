"""The faces of each sampled frame, through the one face engine, embedded several frames at a time.

Why batches: the embedder costs about 0.25 s for one chip on two CPU cores but under 0.03 s per chip in a
batch of dozens, so chips of consecutive frames wait (at most BATCH_CHIPS of them) and go in one pass.
Only confident detections are kept (score >= the engine's MIN_SCORE): weaker boxes are rarely faces.
For each face the crop a thumbnail would use is cut now, while the frame is at hand; the tracker keeps
only the best crop per track, as JPEG bytes, so memory stays at a few kilobytes per track, not frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from core.faces.engine import FaceEngine
from core.faces.quality import MIN_SCORE
from core.faces.types import Face
from core.video_analysis.decoding import Sample

BATCH_CHIPS = 32
BATCH_FRAMES = 16  # and frames without faces do not wait longer than this
THUMB_MARGIN = 0.6  # the crop reaches this share of the box's size beyond each side: enough to find the face again


@dataclass
class Sighting:
    """One face in one sampled frame."""

    sample: int  # the sampled frame's position in the analysis (0, 1, ...)
    frame: int  # the frame's number in the video
    at: float
    box: tuple[float, float, float, float]
    score: float
    rank: tuple[bool, float]  # (quality ok, area): how good a thumbnail it makes, best highest
    crop: np.ndarray | None  # RGB face crop with a margin; dropped once the tracker has seen it
    crop_box: tuple[float, ...]  # the face's box in the crop
    embedding: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))


@dataclass(frozen=True)
class FrameFaces:
    """A sampled frame's time and its faces, embedded."""

    sample: int
    frame: int
    at: float
    sightings: list[Sighting]


def jpeg(rgb: np.ndarray) -> bytes:
    """An RGB image as JPEG bytes (quality 90)."""
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ValueError("the image could not be encoded as JPEG")
    return data.tobytes()


def face_crop(rgb: np.ndarray, box: tuple[float, float, float, float]) -> tuple[np.ndarray, tuple[float, ...]]:
    """The face with a margin around it, clipped to the frame, and the face's box in the crop's pixels."""
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * THUMB_MARGIN, (y2 - y1) * THUMB_MARGIN
    height, width = rgb.shape[:2]
    left, top = max(int(x1 - mx), 0), max(int(y1 - my), 0)
    right, bottom = min(int(x2 + mx), width), min(int(y2 + my), height)
    return np.ascontiguousarray(rgb[top:bottom, left:right]), (x1 - left, y1 - top, x2 - left, y2 - top)


def _sightings(number: int, sample: Sample, faces: list[Face]) -> list[Sighting]:
    found = []
    for face in faces:
        crop, crop_box = face_crop(sample.rgb, face.detection.box)
        found.append(Sighting(number, sample.frame, sample.at, tuple(float(v) for v in face.detection.box),
                              float(face.detection.score), (face.quality.ok, face.detection.area), crop, crop_box))
    return found


def frame_faces(engine: FaceEngine, samples: Iterable[Sample]) -> Iterator[FrameFaces]:
    """Every sampled frame with its confident faces, in order, embeddings batched across frames."""
    pending: list[tuple[FrameFaces, list[np.ndarray]]] = []
    waiting = 0

    def flush() -> Iterator[FrameFaces]:
        chips = [chip for _, frame_chips in pending for chip in frame_chips]
        if chips:
            vectors = iter(engine.embed_chips(np.stack(chips)))
            for found, _ in pending:
                for sighting in found.sightings:
                    sighting.embedding = np.asarray(next(vectors), dtype=np.float32)
        yield from (found for found, _ in pending)
        pending.clear()

    for number, sample in enumerate(samples):
        faces = [face for face in engine.analyse(sample.rgb, embed=False) if face.detection.score >= MIN_SCORE]
        pending.append((FrameFaces(number, sample.frame, sample.at, _sightings(number, sample, faces)),
                        [face.chip for face in faces]))
        waiting += len(faces)
        if waiting >= BATCH_CHIPS or len(pending) >= BATCH_FRAMES:
            yield from flush()
            waiting = 0
    yield from flush()
