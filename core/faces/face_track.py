"""Following one face from frame to frame, so a cut between pictures cannot pass for a head turn.

A real head moves continuously: between two analysed frames its box overlaps the last one, its
landmarks move a little relative to the box, its yaw changes by what a neck can do in that time,
and it stays the same person. A slideshow, a photo swapped for its mirror image, or a second
face breaks at least one of these at the cut. Bounds are per second wherever the time between
frames matters, because the live path analyses only the newest frame and drops the rest.

The five-point yaw is noisy (single-frame glitches of 0.3 to 0.4 near a turned pose in the real
clip), so it is filtered by the median of the last three frames: a glitch that comes back is
ignored, a cut that stays is seen in full.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from core.faces.matching import distances
from core.faces.quality import head_yaw

# Beyond this the five-point yaw of a near-profile face is mostly noise; the challenge never needs more.
YAW_LIMIT = 0.8
# Allowances for detector noise on a face that does not move at all, added to the per-second bounds.
YAW_JITTER = 0.12
LANDMARK_JITTER = 0.12  # in face widths, landmarks relative to the box


@dataclass(frozen=True)
class TrackBounds:
    """How far a real face may move between two analysed frames (see README's WEBTUBE_LIVENESS_* rows)."""

    max_yaw_speed: float  # filtered yaw per second
    max_landmark_speed: float  # box-relative landmark movement, face widths per second
    min_box_overlap: float  # intersection over union of consecutive boxes
    max_gap_s: float  # longest time between two frames that show the face
    same_face_threshold: float  # embedding distance to the recognised face, on every frame


@dataclass(frozen=True)
class Sighting:
    """The main face of one analysed frame, and how many faces big enough to sign in the frame held."""

    at: float
    box: tuple[float, float, float, float]
    landmarks: np.ndarray  # (5, 2), image pixels
    embedding: np.ndarray
    faces: int = 1

    @property
    def width(self) -> float:
        return max(self.box[2] - self.box[0], 1e-6)

    @property
    def yaw(self) -> float:
        return float(np.clip(head_yaw(self.landmarks), -YAW_LIMIT, YAW_LIMIT))

    def shape(self) -> np.ndarray:
        """Landmarks relative to the box, in face widths: moves with the pose, not with the head's position."""
        return (self.landmarks - np.array(self.box[:2])) / self.width


def box_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two boxes."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class TrackBroken(Exception):
    """The face was not followed continuously; the message says how (one clause, lower case)."""


@dataclass
class FaceTrack:
    """One face followed through a challenge; `follow` raises TrackBroken at the first discontinuity."""

    bounds: TrackBounds
    references: np.ndarray  # (n, dim) embeddings of the recognised face
    start: Sighting
    last: Sighting = field(init=False)
    _yaws: deque[float] = field(init=False)
    yaw: float = field(init=False)  # filtered yaw of the last sighting

    def __post_init__(self) -> None:
        self.last = self.start
        self._yaws = deque([self.start.yaw] * 3, maxlen=3)
        self.yaw = self.start.yaw

    def follow(self, sighting: Sighting) -> float:
        """Take the next frame's main face; return its filtered yaw, or raise TrackBroken."""
        bounds, last = self.bounds, self.last
        dt = sighting.at - last.at
        if sighting.faces > 1:
            raise TrackBroken("a second face came into view")
        if dt > bounds.max_gap_s:
            raise TrackBroken(f"the face was lost for {dt:.1f} s")
        if box_overlap(last.box, sighting.box) < bounds.min_box_overlap:
            raise TrackBroken("the face jumped to another place (a cut, not a head turn)")
        moved = float(np.linalg.norm(sighting.shape() - last.shape(), axis=1).mean())
        if moved > bounds.max_landmark_speed * dt + LANDMARK_JITTER:
            raise TrackBroken("the face's features jumped between two frames (a cut, not a head turn)")
        if float(distances(sighting.embedding, self.references).min()) > bounds.same_face_threshold:
            raise TrackBroken("the face changed to someone else's")
        self._yaws.append(sighting.yaw)
        yaw = statistics.median(self._yaws)
        if abs(yaw - self.yaw) > bounds.max_yaw_speed * dt + YAW_JITTER:
            raise TrackBroken("the head turned faster than a head can (a cut between pictures)")
        self.last, self.yaw = sighting, yaw
        return yaw

    def lost(self, now: float) -> bool:
        """Whether frames keep coming without the face for longer than the gap allows."""
        return now - self.last.at > self.bounds.max_gap_s
