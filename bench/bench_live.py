"""Live recognition benchmark: frame-to-label latency with 1, 3 and 5 faces in view, preview frame rate, memory.

Run: `.venv/bin/python -m bench.bench_live [--seconds S] [--no-browser]`; prints JSON.

- pipeline, per face count: a simulated 30 fps, 640x480 camera showing that many of the test photos' faces
  side by side (tests/support/live_scenes.py; Barack Obama and Joe Biden named, the rest Unknown) goes
  through the real server-side path: VP8 decode, the page's own video callback (hand-over to the
  latest-frame-wins worker, labels drawn), VP8 encode. The worker runs the real `LiveRecognition` (engine,
  the owner's `Recogniser` on a real database, tracking); latency is from a frame's arrival in the callback
  to the labels published from it (p50, p95). The in-process preview rate is how many frames that path
  returned per second; `peak_rss_mb` is this process's VmHWM after all three runs.
- browser: the real app in headless Chromium, Studio › Live with a 30 fps fake camera of 3 faces: frames
  per second that came back from the server (received) and that the page's <video> put on screen
  (preview), and the server process's peak memory (VmHWM). Chromium and the server share this machine.
The machine's load average is printed before and after: on shared cores the figures move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import psutil
from aiortc.codecs.vpx import Vp8Encoder

from bench.bench_signin import _percentile, _vp8_packets
from bench.preview_fps import PREVIEW_FPS_JS
from core.config import get_settings
from core.faces.engine import get_engine
from tests.support.live_scenes import FIVE, KNOWN, name_people, scene

PASSWORD = "a long enough password"
EMAIL = "bench@example.com"


def _peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory of a process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc/<pid>/status: this benchmark measures memory on Linux")


def _library(data_dir: Path) -> int:
    """A member whose library names Barack Obama and Joe Biden (one imported photo each)."""
    os.environ.update(WEBTUBE_DATA_DIR=str(data_dir), WEBTUBE_BCRYPT_ROUNDS="4")
    os.environ.pop("DATABASE_URL", None)
    get_settings.cache_clear()
    from core.accounts.users import register

    member = register("Bench", EMAIL, PASSWORD, PASSWORD)
    name_people(member.id, KNOWN, data_dir / "photos")
    return member.id


def bench_pipeline(owner_id: int, faces: int, seconds: float, fps: int = 30) -> dict:
    """A simulated camera of `faces` faces through decode, the page's callback and encode, the worker labelling."""
    from core.faces.live_frames import LatestFrameWorker
    from core.studio.live_overlay import draw_labels
    from core.studio.live_recognition import LiveRecognition
    from pages.ui.live_camera import frame_callback

    rgb = scene(FIVE[:faces])
    live = LiveRecognition(owner_id)
    worker = LatestFrameWorker(live.process)
    on_frame = frame_callback(worker, draw_labels)
    packets = _vp8_packets(rgb, int(seconds * fps) + 1)
    decoder = av.CodecContext.create("libvpx", "r")
    encoder = Vp8Encoder()
    callback_ms, delivered = [], 0
    start = time.monotonic()
    for index, packet in enumerate(packets):
        due = start + index / fps
        if time.monotonic() < due:
            time.sleep(due - time.monotonic())
        for frame in decoder.decode(packet):
            frame.pts, frame.time_base = index * 3000, Fraction(1, 90000)
            called = time.perf_counter()
            out = on_frame(frame)
            callback_ms.append((time.perf_counter() - called) * 1000)
            out.pts, out.time_base = frame.pts, frame.time_base
            encoder.encode(out)
            delivered += 1
    elapsed = time.monotonic() - start
    latencies = list(worker.latencies_ms)[1:]  # the first frame also warms this worker thread's PyTorch
    labels = worker.latest or ()
    return {
        "faces_in_view": faces,
        "labels_at_end": sorted(label.name or "Unknown" for label in labels),
        "frames_in": worker.submitted,
        "frames_analysed": worker.processed,
        "analysed_fps": round(worker.processed / elapsed, 1),
        "frame_to_label_ms": {"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95)},
        "callback_ms": {"p50": _percentile(callback_ms, 50), "p95": _percentile(callback_ms, 95)},
        "preview_fps_in_process": round(delivered / elapsed, 1),
    }


def bench_browser(data_dir: Path, seconds: float) -> dict:
    """The real app in Chromium, Studio › Live with 3 faces: frames per second the page's preview presents."""
    from playwright.sync_api import expect, sync_playwright

    from tests.support.app_server import launch_chromium, run_app_server
    from tests.support.live_scenes import open_live, scene_y4m
    from tests.support.webrtc_driver import COMPONENT, start_camera

    camera = scene_y4m([(scene(FIVE[:3]), 4.0)], data_dir / "camera.y4m", fps=30)
    args = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}"]
    with run_app_server(data_dir) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright, args)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        open_live(page, server.url, EMAIL, PASSWORD)
        start_camera(page)
        expect(page.locator(".st-key-live-in-view").get_by_text("Joe Biden")).to_be_visible(timeout=120_000)
        iframe = next(f for f in page.frames if f.url and "streamlit_webrtc" in f.url)
        assert page.frame_locator(COMPONENT).first.locator("video").count()
        received, presented = iframe.evaluate(PREVIEW_FPS_JS, [seconds * 1000])
        servers = [p for p in psutil.Process().children(recursive=True) if "serve.py" in " ".join(p.cmdline())]
        server_peak = max(_peak_rss_mb(p.pid) for p in servers)
        browser.close()
    return {
        "faces_in_view": 3,
        "camera_fps": 30,
        "seconds": seconds,
        "received_fps": round(received, 1),
        "preview_fps": round(presented, 1),
        "server_peak_rss_mb": server_peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-browser", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-live-") as folder:
        data_dir = Path(folder)
        owner_id = _library(data_dir)
        report: dict = {
            "machine": {"cpus": os.cpu_count(), "load_1min_before": round(os.getloadavg()[0], 2)},
            "device": str(get_engine().device),
            "frame": "640x480",
            "camera_fps": 30,
            "pipeline": [bench_pipeline(owner_id, faces, options.seconds) for faces in (1, 3, 5)],
            "peak_rss_mb": _peak_rss_mb(),
        }
        if not options.no_browser:
            report["browser"] = bench_browser(data_dir, options.seconds)
        report["machine"]["load_1min_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
