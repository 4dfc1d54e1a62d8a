"""Driving the streamlit-webrtc camera component in Chromium: START, and retry when no frames come.

The component lives in an iframe titled `streamlit_webrtc.component.webrtc_streamer` with START
and STOP buttons. Now and then a connection comes up without frames; then STOP and START again
a few times before giving up.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout

COMPONENT = 'iframe[title="streamlit_webrtc.component.webrtc_streamer"]'


def start_camera_until(page: Any, outcome: Any, attempts: int = 4, wait_ms: int = 25_000) -> None:
    """Press START and wait for `outcome` (a locator) to show; STOP and START again while it does not."""
    camera = page.frame_locator(COMPONENT).first
    for _ in range(attempts):
        camera.get_by_role("button", name="START").click(timeout=60_000)
        try:
            outcome.first.wait_for(state="visible", timeout=wait_ms)
            return
        except PlaywrightTimeout:
            stop = camera.get_by_role("button", name="STOP")
            if stop.count():
                stop.click()
    raise AssertionError(f"no outcome after {attempts} camera starts")
