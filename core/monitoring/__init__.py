"""Monitoring: Prometheus metrics, structured log lines and per-process system samples.

`start_monitoring(role)` is the one call a process makes at start (the app in serve.py, each
`python -m core worker`): JSON log lines to stderr and a rotating file, the sampler thread behind the
System page, and `/metrics` on WEBTUBE_METRICS_PORT when that is set.
"""

from __future__ import annotations

from core.monitoring.logs import configure_logging
from core.monitoring.metrics import serve_metrics
from core.monitoring.system import start_sampler


def start_monitoring(role: str = "app", port: int | None = None) -> int | None:
    """Logging, sampler and metrics for this process (each at most once); returns the metrics port, or None."""
    configure_logging(role)
    start_sampler()
    return serve_metrics(port)
