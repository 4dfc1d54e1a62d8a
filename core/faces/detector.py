"""Face detection: MTCNN (default) or YuNet on a copy of the image no larger than the configured side.

Large photos are shrunk before detection (the cascade's cost grows with pixels, a face 40px wide
at 1280px is still found) and boxes and landmarks are mapped back to the original's pixels. The
shrunk copy also stays within the cascade's int32 summed-area table (8.4 MP), so however large
`WEBTUBE_DETECT_MAX_SIDE` is set, no float64 table of the whole frame (24 bytes a pixel) is built.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from core.faces.mtcnn import _INT32_TABLE_MAX_PIXELS, MtcnnCascade
from core.faces.types import Detection
from core.faces.yunet import YunetCascade


class FaceDetector:
    """Finds every face with its score and five landmarks, largest first."""

    def __init__(self, device: torch.device, min_face_px: int, max_side: int, kind: str = "mtcnn") -> None:
        """`kind` is WEBTUBE_DETECTOR: `mtcnn` or `yunet` (whose scores come on MTCNN's scale, see yunet.py)."""
        self.max_side = max_side
        self.cascade: MtcnnCascade | YunetCascade
        if kind == "yunet":
            self.cascade = YunetCascade(min_face_size=min_face_px)
        else:
            self.cascade = MtcnnCascade(device=device, min_face_size=min_face_px)

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        height, width = rgb.shape[:2]
        # the table's reach, less half a pixel a side so that rounding the size cannot go past it
        table_scale = math.sqrt(_INT32_TABLE_MAX_PIXELS / (height * width)) - 0.5 / min(height, width)
        scale = min(1.0, self.max_side / max(height, width), table_scale)
        small = rgb
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        found = self.cascade.detect(small)
        back_x = width / small.shape[1]
        back_y = height / small.shape[0]
        detections = [
            Detection(
                box=(float(b[0] * back_x), float(b[1] * back_y), float(b[2] * back_x), float(b[3] * back_y)),
                score=float(s),
                landmarks=np.asarray(p, dtype=np.float64) * np.array([back_x, back_y]),
            )
            for b, s, p in zip(found.boxes, found.scores, found.landmarks, strict=True)
        ]
        return sorted(detections, key=lambda d: d.area, reverse=True)
