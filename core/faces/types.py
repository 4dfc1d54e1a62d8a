"""Plain data the face engine hands out: detections, quality verdicts and analysed faces."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One face as the detector saw it, in the original image's pixel coordinates."""

    box: tuple[float, float, float, float]  # x1, y1, x2, y2
    score: float
    landmarks: np.ndarray  # (5, 2): left eye, right eye, nose, left mouth, right mouth (image left/right)

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)


@dataclass(frozen=True)
class Quality:
    """Verdict on whether a face is good enough to enrol or sign in with, and why not."""

    ok: bool
    reasons: tuple[str, ...] = ()
    sharpness: float = 0.0
    yaw: float = 0.0  # signed head turn estimate from landmarks, in [-1, 1]; 0 is frontal

    @property
    def message(self) -> str:
        return "good" if self.ok else ", ".join(self.reasons)


@dataclass
class Face:
    """A detected face after alignment and embedding: what every feature works with."""

    detection: Detection
    quality: Quality
    chip: np.ndarray  # aligned RGB uint8 chip (size x size x 3)
    embedding: np.ndarray | None = field(default=None)

    def to_json(self, with_embedding: bool = False) -> dict:
        """A JSON-ready summary (the command line prints these)."""
        out = {
            "box": [round(float(v), 1) for v in self.detection.box],
            "score": round(float(self.detection.score), 4),
            "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in self.detection.landmarks],
            "quality": {"ok": self.quality.ok, "reasons": list(self.quality.reasons),
                        "sharpness": round(self.quality.sharpness, 1), "yaw": round(self.quality.yaw, 3)},
        }
        if with_embedding and self.embedding is not None:
            out["embedding"] = [round(float(v), 6) for v in self.embedding]
        return out
