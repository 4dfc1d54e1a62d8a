"""The latest-frame-wins worker: the callback never waits, the newest frame wins, idle threads end."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from core.faces.live_frames import LatestFrameWorker


def _frame(value: int) -> np.ndarray:
    return np.full((4, 4, 3), value, np.uint8)


def _wait(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_submit_never_waits_for_slow_work_and_the_newest_frame_wins() -> None:
    busy, release = threading.Event(), threading.Event()
    seen: list[int] = []

    def slow(rgb: np.ndarray, _arrived: float) -> int:
        busy.set()
        release.wait(5)
        seen.append(int(rgb[0, 0, 0]))
        return seen[-1]

    worker = LatestFrameWorker(slow, idle_stop_s=1)
    worker.submit(_frame(1))
    assert busy.wait(5)
    started = time.perf_counter()
    for value in range(2, 31):  # one second of a 30 fps camera while the worker is stuck on frame 1
        worker.submit(_frame(value))
    assert time.perf_counter() - started < 0.1
    release.set()
    assert _wait(lambda: worker.latest == 30)
    assert seen == [1, 30]  # frames 2..29 were replaced, never queued
    assert worker.submitted == 30 and worker.processed == len(seen)
    assert len(worker.latencies_ms) == len(seen)


def test_a_failing_frame_does_not_end_the_worker() -> None:
    def picky(rgb: np.ndarray, _arrived: float) -> int:
        if rgb[0, 0, 0] == 1:
            raise ValueError("bad frame")
        return int(rgb[0, 0, 0])

    worker = LatestFrameWorker(picky, idle_stop_s=1)
    worker.submit(_frame(1))
    time.sleep(0.1)
    worker.submit(_frame(2))
    assert _wait(lambda: worker.latest == 2)
    assert worker.processed == 1


def test_the_thread_ends_when_frames_stop_and_comes_back_with_the_next_one() -> None:
    worker = LatestFrameWorker(lambda rgb, _at: int(rgb[0, 0, 0]), idle_stop_s=0.2)
    before = set(threading.enumerate())

    def new_workers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t not in before and t.name == "latest-frame-worker"]

    worker.submit(_frame(5))
    assert _wait(lambda: worker.latest == 5)
    assert _wait(lambda: not new_workers())
    worker.submit(_frame(6))
    assert _wait(lambda: worker.latest == 6)
