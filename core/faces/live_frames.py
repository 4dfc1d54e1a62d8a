"""Latest-frame-wins worker: the video callback hands frames over and never waits for the engine.

The webrtc callback runs once per frame and must return at once, or the preview stutters. It
only drops the newest frame into a one-frame slot (replacing any frame not yet taken) and draws
the last known overlay. One background thread takes the newest frame, runs the slow work
(detection, embedding, matching: 60-100 ms on two cores) and publishes the overlay; the page
polls the service's own state. Frames that arrive while the thread is busy are simply replaced.

The thread starts on the first frame and ends after `idle_stop_s` without frames, so a closed
tab leaves no thread behind. It runs PyTorch with one intra-op thread: the live view shares the
CPU with video decoding and encoding (and other sessions), and OpenMP threads that outnumber free
cores spin against each other. Measured on 2 busy cores: 640x480 analysis p50 370 ms with two
threads, 62 ms with one; on idle cores one thread costs about 10%.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np
import torch

R = TypeVar("R")
LOG = logging.getLogger(__name__)
_DEFAULT_THREADS = torch.get_num_threads()


class LatestFrameWorker(Generic[R]):
    """Runs `process(rgb, arrived_at)` on the newest frame only, in one background thread."""

    def __init__(
        self, process: Callable[[np.ndarray, float], R], idle_stop_s: float = 10.0, keep_latencies: int = 500
    ) -> None:
        self._process = process
        self._idle_stop_s = idle_stop_s
        self._cond = threading.Condition()
        self._slot: tuple[np.ndarray, float] | None = None
        self._thread: threading.Thread | None = None
        self._latest: R | None = None
        self.latencies_ms: deque[float] = deque(maxlen=keep_latencies)  # arrival to result, per processed frame
        self.submitted = 0
        self.processed = 0

    def submit(self, rgb: np.ndarray) -> None:
        """Offer a frame (called from the video callback): cheap, never blocks on the engine."""
        with self._cond:
            self._slot = (rgb, time.monotonic())
            self.submitted += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="latest-frame-worker", daemon=True)
                self._thread.start()
            self._cond.notify()

    @property
    def latest(self) -> R | None:
        """The result of the most recently processed frame (what the callback draws)."""
        return self._latest

    def _run(self) -> None:
        torch.set_num_threads(1)  # for this thread; restored so threads started later get the default
        try:
            self._loop()
        finally:
            torch.set_num_threads(_DEFAULT_THREADS)

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: self._slot is not None, timeout=self._idle_stop_s):
                    self._thread = None
                    return
                assert self._slot is not None
                rgb, arrived = self._slot
                self._slot = None
            try:
                self._latest = self._process(rgb, arrived)
            except Exception:  # a bad frame must not end the live view
                LOG.exception("frame processing failed")
                continue
            self.latencies_ms.append((time.monotonic() - arrived) * 1000.0)
            self.processed += 1
