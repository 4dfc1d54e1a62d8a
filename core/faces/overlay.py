"""What the live views draw on the preview: face boxes, a short caption, an arrow for the head turn.

Drawing is a few OpenCV calls on the frame the callback already holds (well under a
millisecond at 640x480), so it can run on every frame while the engine works on another.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

GREEN = (40, 200, 70)
AMBER = (255, 170, 0)
RED = (230, 50, 50)


@dataclass(frozen=True)
class Overlay:
    """Boxes (x1, y1, x2, y2, colour), one caption line (ASCII), and an arrow: -1 image left, +1 right."""

    boxes: tuple[tuple[tuple[float, float, float, float], tuple[int, int, int]], ...] = ()
    caption: str = ""
    colour: tuple[int, int, int] = AMBER
    arrow: int = 0


def draw_overlay(rgb: np.ndarray, overlay: Overlay | None) -> np.ndarray:
    """Draw `overlay` onto `rgb` in place and return it."""
    if overlay is None:
        return rgb
    height, width = rgb.shape[:2]
    thickness = max(2, width // 320)
    for (x1, y1, x2, y2), colour in overlay.boxes:
        cv2.rectangle(rgb, (int(x1), int(y1)), (int(x2), int(y2)), colour, thickness)
    if overlay.caption:
        scale = max(width / 900, 0.5)
        (text_w, text_h), base = cv2.getTextSize(overlay.caption, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        cv2.rectangle(rgb, (0, 0), (min(text_w + 16, width), text_h + base + 14), (0, 0, 0), cv2.FILLED)
        cv2.putText(rgb, overlay.caption, (8, text_h + 7), cv2.FONT_HERSHEY_SIMPLEX, scale, overlay.colour, thickness)
    if overlay.arrow:
        y = height - height // 8
        tail, head = (width // 2 - overlay.arrow * width // 6, y), (width // 2 + overlay.arrow * width // 6, y)
        cv2.arrowedLine(rgb, tail, head, overlay.colour, thickness * 3, tipLength=0.3)
    return rgb
