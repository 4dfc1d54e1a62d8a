"""Frames out of a video in one sequential pass: no seeking, and only the sampled frames become pixels.

Why sequential: seeking in H.264 lands on key frames and decodes forward anyway, so for a sampling rate
of a few frames per second one straight pass is cheapest and exact. Every frame must be decoded (the
next depends on it), but only sampled ones are converted to RGB, the costly part of a skipped frame.
A file that ends well before its stated duration is truncated: said in one sentence, not analysed in part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import av
import numpy as np

from core.studio.errors import BadInput
from core.video_analysis.probe import VideoFile, check_duration

TRUNCATED = "The video file is truncated or damaged and cannot be read."


@dataclass(frozen=True)
class Sample:
    """One sampled frame: its number in the video, its time, and its pixels."""

    frame: int
    at: float
    rgb: np.ndarray


def _frames(video: VideoFile, on_frame: Callable[[int], None] | None) -> Iterator[tuple[int, float, av.VideoFrame]]:
    """(frame number, seconds from the start, frame) for every frame, in order; damage becomes BadInput."""
    try:
        container = av.open(str(video.path))
    except av.FFmpegError as exc:
        raise BadInput(TRUNCATED) from exc
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame threads: decoding keeps up while the engine works
        # Times are the player's clock: from the container's start, which may precede the first frame.
        start = container.start_time / av.time_base if container.start_time is not None else None
        last = 0.0
        index = -1
        try:
            for index, frame in enumerate(container.decode(stream)):
                at = float(frame.time) if frame.time is not None else index / video.fps
                start = at if start is None else start
                last = at - start
                if video.duration_s is None:
                    check_duration(last)
                if on_frame is not None:
                    on_frame(index)
                yield index, last, frame
        except av.FFmpegError as exc:
            raise BadInput(_cut_short(index, last, video.duration_s)) from exc
    if index < 0:
        raise BadInput(TRUNCATED)
    if video.duration_s is not None and last < video.duration_s - max(1.0, 0.1 * video.duration_s):
        raise BadInput(_cut_short(index, last, video.duration_s))


def _cut_short(index: int, last: float, duration_s: float | None) -> str:
    """The sentence for a file that ends (or breaks) early: where, if any frame was read."""
    if index < 0:
        return TRUNCATED
    of = f" of {duration_s:.1f} s" if duration_s else ""
    return f"The video file is truncated: it stops at {last:.1f} s{of}."


def sampled_frames(video: VideoFile, sample_fps: float,
                   on_frame: Callable[[int], None] | None = None) -> Iterator[Sample]:
    """The frames nearest to every 1/sample_fps seconds (all frames when the video has fewer), as RGB."""
    step = 1.0 / sample_fps
    due = 0.0
    for index, at, frame in _frames(video, on_frame):
        if at + 1e-3 >= due:
            yield Sample(index, at, frame.to_ndarray(format="rgb24"))
            while due <= at + 1e-3:
                due += step


def every_frame(video: VideoFile, on_frame: Callable[[int], None] | None = None) -> Iterator[tuple[float, np.ndarray]]:
    """(seconds, RGB) of every frame, for drawing the annotated copy."""
    for _, at, frame in _frames(video, on_frame):
        yield at, frame.to_ndarray(format="rgb24")
