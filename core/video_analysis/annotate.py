"""The annotated copy: every frame of the video with each person's box and name, as H.264 MP4 for browsers.

Why every frame (not only the sampled ones): the copy plays as smoothly as the original. Faces are only
known at the samples, so a box is moved linearly between two samples of the same track, and held for half
a sample interval before a track's first and after its last sample. The copy is encoded by PyAV's libx264
(yuv420p, `+faststart` so playback starts before the whole file arrives; preset ultrafast, which halved
this pass against veryfast in bench/bench_video.py for a somewhat bigger file); it has no sound (the original
keeps it). Names are drawn with OpenCV's Hershey font, which is ASCII: accents are dropped ("José" -> "Jose").
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from core.video_analysis.decoding import every_frame
from core.video_analysis.probe import VideoFile

KNOWN = (40, 200, 70)
UNKNOWN = (255, 170, 0)
MAX_SIDE = 1280  # bigger videos are drawn at this size: boxes stay readable, encoding stays affordable
TIME_BASE = Fraction(1, 90_000)

Box = tuple[float, float, float, float]
# per sampled frame: its time and (track id, box, caption, known) for every face
Marks = list[tuple[float, list[tuple[int, Box, str, bool]]]]


def ascii_caption(text: str) -> str:
    """What the Hershey font can draw: accents dropped, other characters as '?'."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain or "?"


def _boxes_at(marks: Marks, times: list[float], at: float, half: float) -> list[tuple[Box, str, bool]]:
    """Boxes to draw at `at`: interpolated between the samples around it, held half an interval at a track's ends."""
    k = bisect_right(times, at) - 1
    before = dict((t, (box, cap, known)) for t, box, cap, known in marks[k][1]) if k >= 0 else {}
    after = dict((t, (box, cap, known)) for t, box, cap, known in marks[k + 1][1]) if k + 1 < len(marks) else {}
    t0 = times[k] if k >= 0 else at
    t1 = times[k + 1] if k + 1 < len(marks) else at
    drawn = []
    for track, (box, caption, known) in before.items():
        if track in after and t1 > t0:
            w = (at - t0) / (t1 - t0)
            box = tuple(a + (b - a) * w for a, b in zip(box, after[track][0], strict=True))
            drawn.append((box, caption, known))
        elif at - t0 <= half:
            drawn.append((box, caption, known))
    drawn += [value for track, value in after.items() if track not in before and t1 - at <= half]
    return drawn


def _draw(rgb: np.ndarray, boxes: Iterable[tuple[Box, str, bool]], scale: float) -> np.ndarray:
    thickness = max(2, rgb.shape[1] // 400)
    font = max(rgb.shape[1] / 1100, 0.45)
    for (x1, y1, x2, y2), caption, known in boxes:
        colour = KNOWN if known else UNKNOWN
        p1, p2 = (int(x1 * scale), int(y1 * scale)), (int(x2 * scale), int(y2 * scale))
        cv2.rectangle(rgb, p1, p2, colour, thickness)
        (tw, th), base = cv2.getTextSize(caption, cv2.FONT_HERSHEY_SIMPLEX, font, 1)
        top = max(p1[1] - th - base - 6, 0)
        cv2.rectangle(rgb, (p1[0], top), (p1[0] + tw + 8, top + th + base + 6), colour, cv2.FILLED)
        cv2.putText(rgb, caption, (p1[0] + 4, top + th + 3), cv2.FONT_HERSHEY_SIMPLEX, font, (0, 0, 0), 1, cv2.LINE_AA)
    return rgb


def write_annotated(video: VideoFile, marks: Marks, sample_fps: float, out: Path,
                    on_frame: Callable[[int], None] | None = None,
                    keep_going: Callable[[], bool] = lambda: True) -> bool:
    """Encode the annotated copy to `out`; False (and `out` incomplete) when stopped by `keep_going`."""
    scale = min(1.0, MAX_SIDE / max(video.width, video.height))
    width, height = (round(video.width * scale) // 2 * 2, round(video.height * scale) // 2 * 2)  # yuv420p: even sides
    times = [at for at, _ in marks]
    half = 0.5 / sample_fps
    with av.open(str(out), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=Fraction(video.fps).limit_denominator(1001),
                                      options={"preset": "ultrafast", "crf": "23"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = TIME_BASE
        last_pts = -1
        for index, (at, rgb) in enumerate(every_frame(video, on_frame)):
            if index % 30 == 0 and not keep_going():
                return False
            frame_rgb = rgb if scale == 1.0 and rgb.shape[:2] == (height, width) else cv2.resize(rgb, (width, height))
            drawn = _draw(np.ascontiguousarray(frame_rgb), _boxes_at(marks, times, at, half), scale)
            frame = av.VideoFrame.from_ndarray(drawn, format="rgb24")
            frame.pts = max(round(at / TIME_BASE), last_pts + 1)
            frame.time_base = TIME_BASE
            last_pts = frame.pts
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return True
