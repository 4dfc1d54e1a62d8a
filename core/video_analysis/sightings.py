"""The faces of each sampled frame, through the one face engine, embedded several frames at a time.

Why batches: the embedder costs about 0.25 s for one chip on two CPU cores but under 0.03 s per chip in a
batch of dozens, so chips of consecutive frames wait (at most BATCH_CHIPS of them) and go in one pass.
A face that plainly continues one face of the previous sample (its box overlaps that one face's by
FOLLOW_OVERLAP and no other face is near it) is not embedded again, except every EMBED_EVERY-th sample:
the tracker follows it by its box, and the embedder (the costliest step) runs on about a third of the
faces of a steady shot. Never across a cut: when the whole picture changes between two samples (its
small greyscale copy differs by more than CUT_LEVEL on average), a face in the same place may be
someone else, so every face of the new shot is embedded. Only confident detections are kept
(score >= the engine's MIN_SCORE): weaker boxes are rarely faces.
For each face the crop a thumbnail would use is cut now, while the frame is at hand; the tracker keeps
only the best crop per track, as JPEG bytes, so memory stays at a few kilobytes per track, not frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from core.faces.engine import FaceEngine
from core.faces.face_track import box_overlap
from core.faces.quality import MIN_SCORE
from core.faces.types import Face
from core.video_analysis.decoding import Sample

FOLLOW_OVERLAP = 0.6
NEAR_OVERLAP = 0.2  # another face this close to the followed one makes the box alone ambiguous
EMBED_EVERY = 3
CUT_LEVEL = 20.0  # mean grey-level change (0-255) of the picture's 32x18 copy that marks a cut
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
    embedding: np.ndarray | None = None  # None: followed by its box (see `follows`), not embedded
    follows: Sighting | None = field(default=None, repr=False)  # the previous sample's face this one continues
    unembedded: int = 0  # samples since this chain of boxes was last embedded


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


def _followed(sighting: Sighting, previous: list[Sighting], current: list[Sighting]) -> Sighting | None:
    """The one face of the previous sample this face plainly continues, or None when it is not that clear."""
    close = [p for p in previous if box_overlap(p.box, sighting.box) >= FOLLOW_OVERLAP]
    if len(close) != 1:
        return None
    rivals = [c for c in current if c is not sighting and box_overlap(close[0].box, c.box) >= NEAR_OVERLAP]
    return None if rivals or close[0].unembedded + 1 >= EMBED_EVERY else close[0]


def _picture(rgb: np.ndarray) -> np.ndarray:
    """A 32x18 greyscale copy of the frame: enough to tell a cut from a steady shot, cheap to compare."""
    return cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (32, 18), interpolation=cv2.INTER_AREA).astype(np.float32)


def frame_faces(engine: FaceEngine, samples: Iterable[Sample]) -> Iterator[FrameFaces]:
    """Every sampled frame with its confident faces, in order, embeddings batched across frames."""
    pending: list[tuple[FrameFaces, list[tuple[Sighting, np.ndarray]]]] = []
    waiting = 0
    previous: list[Sighting] = []
    last_picture: np.ndarray | None = None

    def flush() -> Iterator[FrameFaces]:
        chips = [chip for _, frame_chips in pending for _, chip in frame_chips]
        if chips:
            vectors = iter(engine.embed_chips(np.stack(chips)))
            for _, frame_chips in pending:
                for sighting, _ in frame_chips:
                    sighting.embedding = np.asarray(next(vectors), dtype=np.float32)
        yield from (found for found, _ in pending)
        pending.clear()

    for number, sample in enumerate(samples):
        faces = [face for face in engine.analyse(sample.rgb, embed=False) if face.detection.score >= MIN_SCORE]
        sightings = _sightings(number, sample, faces)
        picture = _picture(sample.rgb)
        if last_picture is None or float(np.abs(picture - last_picture).mean()) > CUT_LEVEL:
            previous = []  # a new shot: nobody is followed by box alone
        last_picture = picture
        to_embed = []
        for sighting, face in zip(sightings, faces, strict=True):
            sighting.follows = _followed(sighting, previous, sightings)
            if sighting.follows is None:
                to_embed.append((sighting, face.chip))
            else:
                sighting.unembedded = sighting.follows.unembedded + 1
        previous = sightings
        pending.append((FrameFaces(number, sample.frame, sample.at, sightings), to_embed))
        waiting += len(to_embed)
        if waiting >= BATCH_CHIPS or len(pending) >= BATCH_FRAMES:
            yield from flush()
            waiting = 0
    yield from flush()
