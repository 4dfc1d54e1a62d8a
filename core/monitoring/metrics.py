"""Prometheus metrics of this process: jobs, photos, frames, faces, model latency, sign-ins, queue depth.

Built on `prometheus_client` and its default registry, which already carries the process collector
(CPU seconds, resident memory, open files on Linux), Python's GC and platform. Counters live in
this process; queue depth and jobs by status are read from the jobs table at scrape time by a
custom collector, so every process shows the same queue. Each recording function is cheap and
never raises: monitoring must not break the work it watches.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec

from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.config import get_settings
from core.monitoring.job_counts import job_counts, queued_by_kind

_log = logging.getLogger(__name__)
_P = ParamSpec("_P")

JOBS = Counter("webtube_jobs", "Job events by kind and status (started, done, failed, cancelled).", ["kind", "status"])
JOB_ITEMS = Counter("webtube_job_items", "Items finished by jobs (photos, frames, ...), by job kind.", ["kind"])
FRAMES = Counter("webtube_video_frames", "Video frames analysed.")
PHOTOS = Counter("webtube_photos_processed", "Photos analysed and recorded by the studio importer.")
FACES = Counter("webtube_faces_found", "Faces found and recorded.")
MODEL_SECONDS = Histogram(
    "webtube_model_seconds", "Time spent in one model stage call (detect: one image; embed: one batch of chips).",
    ["stage"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
SIGNINS = Counter("webtube_signin_attempts", "Sign-in attempts by method and outcome.", ["method", "outcome"])


def _never_raises(record: Callable[_P, None]) -> Callable[_P, None]:
    """A metric that cannot be recorded is logged, never raised into the caller's work."""

    @wraps(record)
    def safe(*args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            record(*args, **kwargs)
        except Exception:
            _log.warning("metric %s not recorded", record.__name__, exc_info=True)

    return safe


@_never_raises
def job_event(kind: str, status: str) -> None:
    """A job of `kind` started, or ended done, failed or cancelled."""
    JOBS.labels(kind, status).inc()


@_never_raises
def items_processed(kind: str, count: int = 1) -> None:
    """A job of `kind` finished `count` more items."""
    if count > 0:
        JOB_ITEMS.labels(kind).inc(count)


@_never_raises
def frames_processed(count: int = 1) -> None:
    if count > 0:
        FRAMES.inc(count)


@_never_raises
def photos_processed(count: int = 1) -> None:
    if count > 0:
        PHOTOS.inc(count)


@_never_raises
def faces_found(count: int) -> None:
    if count > 0:
        FACES.inc(count)


@_never_raises
def observe_model(stage: str, seconds: float) -> None:
    """One call of a model stage ("detect", "embed") took `seconds`."""
    MODEL_SECONDS.labels(stage).observe(max(seconds, 0.0))


@contextmanager
def model_timer(stage: str) -> Iterator[None]:
    """Time the block as one call of `stage`, also when it raises."""
    start = time.perf_counter()
    try:
        yield
    finally:
        observe_model(stage, time.perf_counter() - start)


@_never_raises
def signin_attempt(method: str, outcome: str) -> None:
    """One sign-in by `method` ("password", "face") ended with `outcome` ("ok", "wrong_password", ...)."""
    SIGNINS.labels(method, outcome).inc()


def _total(counter: Counter) -> float:
    """The sum of a counter over its labels, read through the public collector interface."""
    return sum(s.value for metric in counter.collect() for s in metric.samples if s.name.endswith("_total"))


def totals() -> dict[str, float]:
    """This process's running totals the sampler turns into speeds."""
    return {"photos": _total(PHOTOS), "frames": _total(FRAMES), "faces": _total(FACES), "items": _total(JOB_ITEMS)}


class JobTableCollector(Collector):
    """Queue depth and jobs by kind and status, read from the database at each scrape."""

    def describe(self) -> Iterable[Metric]:
        """The families without touching the database (the registry asks for them when this is registered)."""
        return list(self._families())

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily("webtube_job_queue_depth", "Jobs waiting to run, by kind.", labels=["kind"]),
            GaugeMetricFamily("webtube_jobs_by_status", "Jobs in the table by kind and status.",
                              labels=["kind", "status"]),
            GaugeMetricFamily("webtube_job_table_up", "1 when the jobs table could be read at this scrape."),
        )

    def collect(self) -> Iterable[Metric]:
        depth, statuses, up = self._families()
        try:
            counts = job_counts()
        except Exception:
            _log.warning("metrics: the jobs table could not be read", exc_info=True)
            up.add_metric([], 0)
            return [up]
        for kind, queued in queued_by_kind(counts).items():
            depth.add_metric([kind], queued)
        for (kind, status), count in sorted(counts.items()):
            statuses.add_metric([kind, status], count)
        up.add_metric([], 1)
        return [depth, statuses, up]


REGISTRY.register(JobTableCollector())

_serving: int | None = None
_serve_lock = threading.Lock()


def serve_metrics(port: int | None = None) -> int | None:
    """Serve /metrics once per process on `port` (default WEBTUBE_METRICS_PORT; 0 = off); returns the port served.

    Listens on WEBTUBE_METRICS_ADDR (127.0.0.1 by default). A port already taken (another process
    on this host holds it: give each worker its own WEBTUBE_METRICS_PORT) is logged, not raised.
    """
    global _serving
    with _serve_lock:
        if _serving is not None:
            return _serving
        settings = get_settings()
        wanted = settings.metrics_port if port is None else port
        if not wanted:
            return None
        try:
            start_http_server(wanted, addr=settings.metrics_addr)
        except OSError as exc:
            _log.warning("metrics: cannot listen on %s:%s (%s); this process serves no /metrics",
                         settings.metrics_addr, wanted, exc)
            return None
        _serving = wanted
        _log.info("metrics: serving http://%s:%s/metrics", settings.metrics_addr, wanted)
        return wanted


def serving_port() -> int | None:
    """The port this process serves /metrics on, or None."""
    return _serving
