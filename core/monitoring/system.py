"""System samples over time for the System page: CPU, memory, GPU, processing speed, queue and jobs.

One sampler thread per process takes a `Sample` every WEBTUBE_MONITOR_INTERVAL_S seconds into a
bounded ring buffer (WEBTUBE_MONITOR_SAMPLES), so an hour of history costs a few hundred small
records and no storage. CPU, memory, GPU and speed are this process's (psutil; torch's CUDA
allocator only when this process already uses CUDA, so sampling never loads torch or a GPU
context); speed is the change of the metrics counters between samples. Queue depth and jobs by
status come from the database, so they cover every process that shares it.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

from core.config import get_settings
from core.monitoring import metrics
from core.monitoring.job_counts import by_status, job_counts
from core.monitoring.logs import log_file

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sample:
    """One moment of this process and of the job table."""

    at: datetime
    cpu_percent: float  # this process, in % of one core (2 busy cores: 200)
    machine_cpu_percent: float  # the whole machine, in % of all its cores
    rss_mb: float  # this process's resident memory
    gpu_mb: float | None  # CUDA memory this process's torch holds; None without CUDA in use
    photos_per_s: float  # photos the studio importer recorded, per second since the sample before
    frames_per_s: float  # video frames analysed per second
    items_per_s: float  # job items (any kind) finished per second
    queue_depth: int | None  # jobs waiting, all kinds; None when the jobs table could not be read
    jobs: dict[str, int] = field(default_factory=dict)  # jobs in the table by status


def _gpu_mb() -> float | None:
    torch = sys.modules.get("torch")  # never imported here: a process without torch has no GPU to show
    cuda = getattr(torch, "cuda", None)  # absent while another thread is still importing torch
    if cuda is None or not cuda.is_available() or not cuda.is_initialized():
        return None
    return cuda.memory_reserved() / 2**20


class Sampler:
    """Samples into a ring buffer, from its own daemon thread once started."""

    def __init__(self, interval_s: float, keep: int) -> None:
        self.interval_s = interval_s
        self._samples: deque[Sample] = deque(maxlen=keep)
        self._process = psutil.Process()
        self._process.cpu_percent(None)  # psutil's first reading is 0.0; later ones cover the time since
        psutil.cpu_percent(None)
        self._last = (time.monotonic(), metrics.totals())
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> Sample:
        """Take one sample now and keep it."""
        with self._lock:
            now, totals = time.monotonic(), metrics.totals()
            then, before = self._last
            elapsed = max(now - then, 1e-6)
            self._last = (now, totals)

            def speed(name: str) -> float:
                return max(totals[name] - before[name], 0.0) / elapsed

            try:
                jobs = by_status(job_counts())
                queued: int | None = jobs["queued"]
            except Exception:
                _log.warning("system sample: the jobs table could not be read", exc_info=True)
                jobs, queued = {}, None
            sample = Sample(
                at=datetime.now(UTC),
                cpu_percent=self._process.cpu_percent(None),
                machine_cpu_percent=psutil.cpu_percent(None),
                rss_mb=self._process.memory_info().rss / 2**20,
                gpu_mb=_gpu_mb(),
                photos_per_s=speed("photos"),
                frames_per_s=speed("frames"),
                items_per_s=speed("items"),
                queue_depth=queued,
                jobs=jobs,
            )
            self._samples.append(sample)
            return sample

    def samples(self) -> list[Sample]:
        """The kept samples, oldest first."""
        with self._lock:
            return list(self._samples)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="system-sampler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sample()
            except Exception:  # one bad sample must not end the history
                _log.warning("system sample failed", exc_info=True)


_sampler: Sampler | None = None
_sampler_lock = threading.Lock()


def start_sampler() -> Sampler:
    """This process's sampler, started on first call."""
    global _sampler
    with _sampler_lock:
        if _sampler is None:
            settings = get_settings()
            _sampler = Sampler(settings.monitor_interval_s, settings.monitor_samples)
            _sampler.start()
        return _sampler


def stop_sampler() -> None:
    """Stop and forget this process's sampler (tests; a later `start_sampler` begins a new history)."""
    global _sampler
    with _sampler_lock:
        if _sampler is not None:
            _sampler.stop()
            _sampler = None


def recent_samples() -> list[Sample]:
    """The history so far (the sampler starts if it was not running); never empty: a first sample is taken now."""
    sampler = start_sampler()
    return sampler.samples() or [sampler.sample()]


@dataclass(frozen=True)
class SystemView:
    """What the System page shows: the history, how often it grows, where metrics and logs are."""

    samples: list[Sample]
    interval_s: float
    metrics_url: str | None  # this process's /metrics, None when off
    log_file: Path | None  # this process's log file, None when logging was not configured


def system_view() -> SystemView:
    sampler = start_sampler()
    port = metrics.serving_port()
    url = f"http://{get_settings().metrics_addr}:{port}/metrics" if port else None
    return SystemView(recent_samples(), sampler.interval_s, url, log_file())
