"""A video file's length and one representative frame, read with PyAV (ffmpeg's libraries, already a dependency).

Direct video links carry no thumbnail and often no length; the file itself has both. The frame is
taken a tenth of the way in (at most 10 s): the very first frame is often black or a title card.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image

FRAME_AT_FRACTION = 0.1
FRAME_AT_MOST_S = 10.0


class NotAVideo(ValueError):
    """The file has no video stream PyAV can decode; the message says so."""


@dataclass(frozen=True)
class Still:
    image: Image.Image
    at_s: float  # where in the video the frame is
    duration_s: float | None


def still(path: Path) -> Still:
    """The file's length and the frame at `FRAME_AT_FRACTION` of it (the first frame for very short files)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise NotAVideo("The file holds no video picture.")
            stream = container.streams.video[0]
            duration = _duration(container, stream)
            target = min((duration or 0.0) * FRAME_AT_FRACTION, FRAME_AT_MOST_S)
            if target > 0 and stream.time_base is not None:
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.time is None or frame.time >= target or target == 0:
                    return Still(frame.to_image(), float(frame.time or 0.0), duration)
    except av.FFmpegError as exc:
        raise NotAVideo(f"The file could not be read as a video ({type(exc).__name__}).") from exc
    raise NotAVideo("The file's video holds no picture.")


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None
