"""The live webcam view both face panels use: streamlit-webrtc feeding a latest-frame-wins worker.

The video callback (run by streamlit-webrtc in its own thread, once per frame) only hands the
frame to the worker and draws the last overlay the worker published, so the preview keeps the
camera's pace while the face engine works on the newest frame in the background. The preview is
mirrored like a mirror (the engine gets the camera's own frame), so "turn to your left" and the
arrow on the screen point the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import av
import numpy as np
import streamlit as st
from streamlit_webrtc import WebRtcMode, WebRtcStreamerContext, webrtc_streamer

from core.config import get_settings
from core.faces.live_frames import LatestFrameWorker
from core.faces.overlay import Overlay, draw_overlay

CAMERA = {"video": {"width": {"ideal": 640}, "height": {"ideal": 480}}, "audio": False}
PREVIEW_WIDTH = 480  # pixels on the page; the frames stay 640x480
# How often a panel re-reads the worker's state while the camera plays. Each fragment rerun costs
# the browser preview frames (Chromium on the same two busy cores, 30 fps camera, frames shown:
# 29 fps without polling, 21 every second, 6 every half second); the overlay on the video shows
# progress frame by frame anyway, so the page only needs to catch up once a second.
POLL_S = 1.0


def session_object(key: str, make: Callable[[], Any]) -> Any:
    """One object per browser session under `key` (workers must outlive reruns)."""
    if key not in st.session_state:
        st.session_state[key] = make()
    return st.session_state[key]


def frame_callback(worker: LatestFrameWorker[Overlay]) -> Callable[[av.VideoFrame], av.VideoFrame]:
    """The per-frame callback: hand the frame over, draw the last overlay, return at once."""

    def on_frame(frame: av.VideoFrame) -> av.VideoFrame:
        rgb: np.ndarray = frame.to_ndarray(format="rgb24")
        worker.submit(rgb)
        return av.VideoFrame.from_ndarray(draw_overlay(rgb, worker.latest, mirror=True), format="rgb24")

    return on_frame


def live_camera(key: str, worker: LatestFrameWorker[Overlay]) -> WebRtcStreamerContext:
    """The webcam component (START/STOP) wired to `worker`; ICE servers come from the settings."""
    with st.container(width=PREVIEW_WIDTH):
        return webrtc_streamer(
            key=key,
            mode=WebRtcMode.SENDRECV,
            rtc_configuration=get_settings().rtc_configuration,
            media_stream_constraints=CAMERA,
            video_frame_callback=frame_callback(worker),
            async_processing=True,
        )
