"""Camera frame sequences built from real photos and the real clip, for liveness tests in core.

Each sequence is a list of (seconds, RGB frame) as a webcam would deliver them; `analysed` keeps
the frames the live path would analyse at a given rate (it takes only the newest frame, so frames
are dropped between analyses). `CachedEngine` runs the real face engine once per distinct
picture: a slideshow or a mirror trick shows the same few pictures hundreds of times.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import av
import numpy as np
from PIL import Image

from core.faces.engine import FaceEngine
from core.faces.types import Face
from tests.support.fake_camera import HEIGHT, WIDTH, webcam_frame

Frames = list[tuple[float, np.ndarray]]
CLIP = Path("video") / "short_hamilton_clip.mp4"
# Lin-Manuel Miranda turns his head to his right and back, twice, and stays one face, in this span;
# the clip cuts to a group shot at 7.89 s.
CLIP_TURN_S = (3.55, 7.87)


_SEEN: dict[tuple[object, ...], list[Face]] = {}  # across tests: the head-turn cases share most clip frames


class CachedEngine:
    """The real engine, with each distinct picture analysed once per model set-up (tests show the same photo
    and the same clip frames often)."""

    def __init__(self, engine: FaceEngine) -> None:
        self.engine = engine

    def __getattr__(self, name: str) -> object:
        return getattr(self.engine, name)

    def confident_faces(self, rgb: np.ndarray) -> list[Face]:
        settings = self.engine.settings
        key = (settings.detector, settings.embedder, settings.min_face_px, settings.detect_max_side,
               hashlib.blake2b(np.ascontiguousarray(rgb).tobytes(), digest_size=16).digest())
        if key not in _SEEN:
            _SEEN[key] = self.engine.confident_faces(rgb)
        return _SEEN[key]


def mirrored(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, ::-1])


def show(pictures: Iterable[tuple[np.ndarray, float]], fps: float = 30.0, start: float = 0.0) -> Frames:
    """A camera that shows each picture for its seconds, one after the other (a slideshow)."""
    frames, at = [], start
    for rgb, seconds in pictures:
        end = at + seconds
        while at < end - 1e-9:
            frames.append((at, rgb))
            at += 1.0 / fps
    return frames


def analysed(frames: Frames, every_s: float, offset_s: float = 0.0) -> Frames:
    """The frames a worker analysing one frame every `every_s` seconds would take: the newest at each tick."""
    kept, tick = [], frames[0][0] + offset_s
    for index, (at, _rgb) in enumerate(frames):
        following = frames[index + 1][0] if index + 1 < len(frames) else float("inf")
        if at <= tick < following:
            kept.append(frames[index])
            tick += every_s
        while tick < at:
            tick += every_s
    return kept


def paste_face(base: np.ndarray, other: np.ndarray, size: int = 240) -> np.ndarray:
    """`base` with the photo `other`, shrunk to `size` pixels, pasted into its bottom-right corner."""
    picture = Image.fromarray(other)
    picture.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = base.copy()
    out[-picture.height :, -picture.width :] = np.asarray(picture)
    return out


def clip_frames(faces_dir: Path, span: tuple[float, float] = CLIP_TURN_S, mirror: bool = False) -> Frames:
    """The real clip's frames in `span`, letterboxed to 640x480 like a webcam, timed from 0."""
    frames = []
    with av.open(str(faces_dir / CLIP)) as clip:
        for frame in clip.decode(video=0):
            at = float(frame.time)
            if span[0] <= at <= span[1]:
                rgb = _letterbox(frame.to_ndarray(format="rgb24"))
                frames.append((at - span[0], mirrored(rgb) if mirror else rgb))
    return frames


def photo(faces_dir: Path, name: str) -> np.ndarray:
    return webcam_frame(faces_dir / name)


def _letterbox(rgb: np.ndarray) -> np.ndarray:
    frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    top = (HEIGHT - rgb.shape[0]) // 2
    frame[top : top + rgb.shape[0], : rgb.shape[1]] = rgb[:HEIGHT, :WIDTH]
    return frame
