"""Driving the streamlit-webrtc camera component in Chromium: START, and retry when no frames come.

The component lives in an iframe titled `streamlit_webrtc.component.webrtc_streamer` with START
and STOP buttons, and shows the stream the server sends back in a <video>. Now and then a
connection comes up without frames; then STOP and START again a few times before giving up.
Frames are flowing once that video's clock runs.
"""

from __future__ import annotations

import time
from typing import Any

COMPONENT = 'iframe[title="streamlit_webrtc.component.webrtc_streamer"]'
_PLAYING = "v => v.readyState >= 2 && v.currentTime > 0.5 && v.videoWidth > 0"


def frames_flowing(page: Any, wait_s: float) -> bool:
    """Whether the processed stream plays in the component within `wait_s` seconds."""
    video = page.frame_locator(COMPONENT).first.locator("video").first
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if video.count() and video.evaluate(_PLAYING):
            return True
        time.sleep(0.25)
    return False


def start_camera(page: Any, attempts: int = 4, wait_s: float = 20) -> None:
    """Press START until frames flow through the server and back, pressing STOP between tries."""
    camera = page.frame_locator(COMPONENT).first
    for _ in range(attempts):
        camera.get_by_role("button", name="START").click(timeout=60_000)
        if frames_flowing(page, wait_s):
            return
        stop = camera.get_by_role("button", name="STOP")
        if stop.count():
            stop.click()
    buttons = camera.get_by_role("button").all_inner_texts()
    raise AssertionError(f"the camera sent no frames after {attempts} starts; the component shows {buttons}")
