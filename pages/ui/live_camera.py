"""The live webcam view both face panels use: streamlit-webrtc feeding a latest-frame-wins worker.

The video callback (run by streamlit-webrtc in its own thread, once per frame) only hands the
frame to the worker and draws the last overlay the worker published, so the preview keeps the
camera's pace while the face engine works on the newest frame in the background. The preview is
mirrored like a mirror (the engine gets the camera's own frame), so "turn to your left" and the
arrow on the screen point the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import av
import numpy as np
import streamlit as st
from streamlit_webrtc import WebRtcMode, WebRtcStreamerContext, webrtc_streamer

from core.config import get_settings
from core.faces.live_frames import LatestFrameWorker
from core.faces.overlay import Overlay, draw_overlay
from core.hosting.ice import rtc_configuration
from core.hosting.secure_context import camera_refusal

CAMERA = {"video": {"width": {"ideal": 640}, "height": {"ideal": 480}}, "audio": False}
PREVIEW_WIDTH = 480  # pixels on the page; the frames stay 640x480
# How often a panel re-reads the worker's state while the camera plays. Each fragment rerun costs
# the browser preview frames (Chromium on the same two busy cores, 30 fps camera, frames shown:
# 29 fps without polling, 21 every second, 6 every half second); the overlay on the video shows
# progress frame by frame anyway, so the page only needs to catch up once a second.
POLL_S = 1.0
Draw = Callable[[np.ndarray, Any], np.ndarray]  # (camera frame, the worker's latest result) -> the frame shown


def session_object(key: str, make: Callable[[], Any]) -> Any:
    """One object per browser session under `key` (workers must outlive reruns)."""
    if key not in st.session_state:
        st.session_state[key] = make()
    return st.session_state[key]


def mirrored(rgb: np.ndarray, overlay: Overlay | None) -> np.ndarray:
    """The face panels' drawing: the overlay on a mirrored self-view."""
    return draw_overlay(rgb, overlay, mirror=True)


def frame_callback(worker: LatestFrameWorker[Any], draw: Draw = mirrored) -> Callable[[av.VideoFrame], av.VideoFrame]:
    """The per-frame callback: hand the frame over, draw the worker's last result, return at once.

    `draw` must not change the array it is given: the worker analyses that same frame."""

    def on_frame(frame: av.VideoFrame) -> av.VideoFrame:
        rgb: np.ndarray = frame.to_ndarray(format="rgb24")
        worker.submit(rgb)
        return av.VideoFrame.from_ndarray(draw(rgb, worker.latest), format="rgb24")

    return on_frame


def _ice_configuration(key: str) -> dict:
    """This session's ICE configuration, minted again once half of its relay credential's life is gone
    (a new one on every rerun would hand the component new arguments each time)."""
    held = st.session_state.get(f"{key}-ice")
    if held is None or held[0] <= time.monotonic():
        held = (time.monotonic() + get_settings().turn_ttl_s / 2, rtc_configuration())
        st.session_state[f"{key}-ice"] = held
    return held[1]


def camera_refused(instead: str = "") -> bool:
    """On a page the browser will not give the camera (plain HTTP on another machine's name), say why and
    what to do instead, and return True: the caller then draws no dead camera widget."""
    refusal = camera_refusal(st.context.url)
    if refusal is not None:
        st.warning(f"{refusal} {instead}".strip(), icon=":material/no_photography:")
    return refusal is not None


def live_camera(key: str, worker: LatestFrameWorker[Any], draw: Draw = mirrored) -> WebRtcStreamerContext:
    """The webcam component (START/STOP) wired to `worker`, each frame drawn by `draw`; ICE servers (and a
    relay credential minted for this session) come from the settings."""
    with st.container(width=PREVIEW_WIDTH):
        return webrtc_streamer(
            key=key,
            mode=WebRtcMode.SENDRECV,
            rtc_configuration=_ice_configuration(key),
            media_stream_constraints=CAMERA,
            video_frame_callback=frame_callback(worker, draw),
            async_processing=True,
        )
