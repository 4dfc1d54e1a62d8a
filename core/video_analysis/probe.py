"""What a file is before any frame is decoded: container, codec, size, duration, refused with one sentence.

Why up front: a 3-hour film or a renamed text file must be refused when the person asks, not after a
worker has spent minutes on it. The container and codec are read from the file itself (PyAV), never from
its extension, so `clip.mp4` holding a WebM, or `photo.mov` holding a JPEG, is judged by what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from core.config import get_settings
from core.studio.errors import BadInput, TooLarge, WrongType

# PyAV's demuxer names: MP4 and MOV share one demuxer, WebM is read by the Matroska one.
CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "MP4/MOV", "matroska,webm": "WebM"}
CODECS = {"h264": "H.264", "hevc": "H.265", "vp8": "VP8", "vp9": "VP9", "av1": "AV1", "mpeg4": "MPEG-4"}
_MAGIC = (b"ftyp", b"moov", b"mdat", b"wide", b"free")  # an MP4/MOV box name at offset 4
_EBML = b"\x1a\x45\xdf\xa3"  # the first bytes of every WebM/Matroska file


@dataclass(frozen=True)
class VideoFile:
    """A video the analysis can read, as its container describes it."""

    path: Path
    container: str  # "MP4/MOV" or "WebM"
    codec: str  # PyAV's decoder name, e.g. "h264"
    width: int
    height: int
    fps: float
    duration_s: float | None  # None when the container does not say (then the decoder enforces the cap)
    frame_count: int  # from the container, else estimated from duration and rate


def _looks_like_video(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(12)
    return head[4:8] in _MAGIC or head.startswith(_EBML)


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float | None:
    """The length a player shows (the container's), else the video stream's."""
    if container.duration:
        return container.duration / av.time_base
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return None


def _minutes(seconds: float) -> str:
    return f"{seconds / 3600:.1f} hours" if seconds >= 3600 else f"{seconds / 60:.0f} minutes"


def check_size(size: int) -> None:
    """Refuse a file over WEBTUBE_VIDEO_MAX_MB (also used while an upload is being copied)."""
    cap = get_settings().video_max_mb
    if size > cap * 1_000_000:
        raise TooLarge(f"The video is too big ({size / 1_000_000:.0f} MB); the limit is {cap} MB.")


def check_duration(seconds: float) -> None:
    """Refuse a video longer than WEBTUBE_VIDEO_MAX_SECONDS."""
    cap = get_settings().video_max_seconds
    if seconds > cap:
        raise TooLarge(f"The video is too long ({_minutes(seconds)}); the limit is {_minutes(cap)}.")


def probe_video(path: Path) -> VideoFile:
    """Open `path` and check it can be analysed; BadInput with the reason otherwise. Decodes nothing."""
    if not path.is_file():
        raise BadInput("The video file is missing.")
    check_size(path.stat().st_size)
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        if _looks_like_video(path):
            raise BadInput("The video file is truncated or damaged and cannot be read.") from exc
        raise WrongType("This file is not a video (MP4, WebM or MOV).") from exc
    with container:
        kind = CONTAINERS.get(container.format.name)
        if kind is None or not container.streams.video:
            raise WrongType("This file is not a video (MP4, WebM or MOV).")
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        if codec not in CODECS:
            names = ", ".join(CODECS.values())
            raise WrongType(f"The video's codec ({codec}) is not supported; use one of {names}.")
        fps = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
        duration = _duration(container, stream)
        if duration is not None:
            check_duration(duration)
        frames = stream.frames or (round(duration * fps) if duration else 0)
        if not stream.width or not stream.height:
            raise BadInput("The video file is truncated or damaged and cannot be read.")
        return VideoFile(path, kind, codec, stream.width, stream.height, fps, duration, frames)
