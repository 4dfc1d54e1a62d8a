"""What the live recognition preview draws: a box and a label (name and similarity, or Unknown) on every face.

Drawing runs in the video callback on every frame (a few OpenCV calls, well under a millisecond at
640x480), on a copy: the same array is handed to the recognition worker and may be frozen and added
to the library, so it must stay as the camera took it. OpenCV's built-in font is ASCII only, so names
are drawn with their accents dropped ("José" as "Jose"); the page's list shows them in full.
The studio view is not mirrored: what it shows is what a frozen frame keeps.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import cv2
import numpy as np

from core.faces.overlay import AMBER, GREEN
from core.studio.live_tracks import Label

_FONT = cv2.FONT_HERSHEY_SIMPLEX


def ascii_text(text: str) -> str:
    """`text` as OpenCV can draw it: accents dropped, anything else outside ASCII as '?'."""
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c if c.isascii() else "?" for c in folded if not unicodedata.combining(c))


def caption(label: Label) -> str:
    """'Ada Lovelace 91%' or 'Unknown'."""
    return f"{label.name} {label.similarity_pct:.0f}%" if label.known and label.name else "Unknown"


def draw_labels(rgb: np.ndarray, labels: Sequence[Label] | None, numbered: bool = False) -> np.ndarray:
    """A copy of `rgb` with each label's box and caption (prefixed "1: ", "2: " ... when `numbered`)."""
    shown = rgb.copy()
    if not labels:
        return shown
    height, width = shown.shape[:2]
    thickness = max(1, width // 320)
    scale = max(width / 1100, 0.4)
    for number, label in enumerate(labels, start=1):
        colour = GREEN if label.known else AMBER
        x1, y1, x2, y2 = (round(v) for v in label.box)
        cv2.rectangle(shown, (x1, y1), (x2, y2), colour, thickness)
        text = ascii_text(f"{number}: {caption(label)}" if numbered else caption(label))
        (text_w, text_h), base = cv2.getTextSize(text, _FONT, scale, thickness)
        top = y1 - text_h - base - 4 if y1 - text_h - base - 4 >= 0 else min(y2 + 2, height - text_h - base - 4)
        left = min(max(x1, 0), max(width - text_w - 6, 0))
        cv2.rectangle(shown, (left, top), (left + text_w + 6, top + text_h + base + 4), (0, 0, 0), cv2.FILLED)
        cv2.putText(shown, text, (left + 3, top + text_h + 2), _FONT, scale, colour, thickness, cv2.LINE_AA)
    return shown
