"""A fake webcam: photos from tests/data/faces as 640x480 frames, and .y4m streams Chromium can play as a camera.

Chromium's `--use-file-for-fake-video-capture=F.y4m` loops the file as the webcam; ffmpeg makes
the file from a still photo, letterboxed so the face keeps its shape, or from a sequence of
frames (a slideshow, a photo alternating with its mirror image).
Files go to a temporary folder the caller owns, never into the repository.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

from core.faces.images import load_image

WIDTH, HEIGHT = 640, 480
_FIT = f"scale={WIDTH}:{HEIGHT}:force_original_aspect_ratio=decrease,pad={WIDTH}:{HEIGHT}:(ow-iw)/2:(oh-ih)/2"


def webcam_frame(photo: Path) -> np.ndarray:
    """The photo as a 640x480 RGB webcam frame, letterboxed like the .y4m streams."""
    picture = Image.fromarray(load_image(photo))
    picture.thumbnail((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    frame = Image.new("RGB", (WIDTH, HEIGHT))
    frame.paste(picture, ((WIDTH - picture.width) // 2, (HEIGHT - picture.height) // 2))
    return np.asarray(frame)


def still_y4m(photo: Path, out: Path, seconds: float = 4, fps: int = 15) -> Path:
    """A camera that shows one photo (Chromium loops it): a person holding still, or a photo held up."""
    _ffmpeg(["-loop", "1", "-i", str(photo), "-t", str(seconds)], out, fps)
    return out


def slideshow_y4m(pictures: list[tuple[np.ndarray, float]], out: Path, fps: int = 15) -> Path:
    """A camera that shows each 640x480 RGB picture for its seconds, in turn (Chromium loops it)."""
    raw = b"".join(rgb.tobytes() * max(round(seconds * fps), 1) for rgb, seconds in pictures)
    inputs = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}", "-r", str(fps), "-i", "-"]
    _ffmpeg(inputs, out, fps, stdin=raw)
    return out


def _ffmpeg(inputs: list[str], out: Path, fps: int, stdin: bytes | None = None) -> None:
    command = ["ffmpeg", "-loglevel", "error", "-y", *inputs]
    command += ["-vf", f"{_FIT},format=yuv420p", "-r", str(fps), "-f", "yuv4mpegpipe", str(out)]
    if stdin is None:
        command.insert(1, "-nostdin")
    subprocess.run(command, check=True, timeout=120, input=stdin)
