"""What the live views draw on the preview: face boxes, a short caption, an arrow or a ring for the head moves.

Drawing is a few OpenCV calls on the frame the callback already holds (well under a
millisecond at 640x480), so it can run on every frame while the engine works on another.
The preview can be mirrored, as people expect of a self-view: then "turn to your left" and an
arrow pointing to the screen's left agree. Boxes are given in camera pixels and mirrored with
the picture; the caption and arrow are drawn after mirroring, so they read the right way.
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
    """Boxes (x1, y1, x2, y2, colour) in camera pixels, one caption line (ASCII), an arrow on the
    shown preview (-1 towards the screen's left, +1 its right), and a ring for "look straight"."""

    boxes: tuple[tuple[tuple[float, float, float, float], tuple[int, int, int]], ...] = ()
    caption: str = ""
    colour: tuple[int, int, int] = AMBER
    arrow: int = 0
    centre: bool = False


def draw_overlay(rgb: np.ndarray, overlay: Overlay | None, mirror: bool = False) -> np.ndarray:
    """Draw `overlay` onto `rgb` (mirrored first when asked) and return the drawn frame."""
    if mirror:
        rgb = np.ascontiguousarray(rgb[:, ::-1])
    if overlay is None:
        return rgb
    height, width = rgb.shape[:2]
    thickness = max(2, width // 320)
    for (x1, y1, x2, y2), colour in overlay.boxes:
        if mirror:
            x1, x2 = width - x2, width - x1
        cv2.rectangle(rgb, (int(x1), int(y1)), (int(x2), int(y2)), colour, thickness)
    if overlay.caption:
        scale = max(width / 900, 0.5)
        (text_w, text_h), base = cv2.getTextSize(overlay.caption, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        cv2.rectangle(rgb, (0, 0), (min(text_w + 16, width), text_h + base + 14), (0, 0, 0), cv2.FILLED)
        cv2.putText(rgb, overlay.caption, (8, text_h + 7), cv2.FONT_HERSHEY_SIMPLEX, scale, overlay.colour, thickness)
    y = height - height // 8
    if overlay.arrow:
        tail, head = (width // 2 - overlay.arrow * width // 6, y), (width // 2 + overlay.arrow * width // 6, y)
        cv2.arrowedLine(rgb, tail, head, overlay.colour, thickness * 3, tipLength=0.3)
    elif overlay.centre:
        cv2.circle(rgb, (width // 2, y), height // 20, overlay.colour, thickness * 2)
    return rgb
