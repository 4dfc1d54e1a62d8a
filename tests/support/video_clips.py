"""Short H.264 clips built from the test photos, so a test knows exactly who is on screen when.

A clip is a list of segments (seconds, photos): each frame of a segment shows its photos side by side,
each fitted into an equal slot of a dark frame; no photos is an empty frame. Encoded by PyAV's libx264
(yuv420p, `+faststart`), the same encoder the analysis uses.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

Segment = tuple[float, tuple[Path, ...]]


def _frame(photos: tuple[Path, ...], size: tuple[int, int], cache: dict[Path, np.ndarray]) -> np.ndarray:
    width, height = size
    canvas = np.full((height, width, 3), 30, np.uint8)
    if not photos:
        return canvas
    slot = width // len(photos)
    for i, photo in enumerate(photos):
        if photo not in cache:
            cache[photo] = cv2.cvtColor(cv2.imread(str(photo), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        image = cache[photo]
        scale = min((slot - 8) / image.shape[1], (height - 8) / image.shape[0])
        fitted = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        top = (height - fitted.shape[0]) // 2
        left = i * slot + (slot - fitted.shape[1]) // 2
        canvas[top:top + fitted.shape[0], left:left + fitted.shape[1]] = fitted
    return canvas


def build_clip(path: Path, segments: list[Segment], fps: int = 10, size: tuple[int, int] = (640, 360)) -> Path:
    """Write the clip to `path` (MP4, or MOV by its suffix) and return it."""
    cache: dict[Path, np.ndarray] = {}
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=Fraction(fps), options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for seconds, photos in segments:
            rgb = _frame(photos, size, cache)
            for _ in range(round(seconds * fps)):
                container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    return path
