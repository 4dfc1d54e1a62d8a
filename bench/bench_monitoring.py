"""Monitoring benchmark: what watching costs the work it watches.

    python -m bench.bench_monitoring [--jobs 10000] [--repeat 20]

Prints JSON: one counter increment and one latency observation (microseconds: the engine records one per
detect and embed call, the importer two per photo); one JSON log line to the rotating file; one sampler
sample (psutil plus the grouped count over the jobs table); one whole /metrics scrape over HTTP with
`--jobs` job rows in the table. Runs on SQLite in a new temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import time
import urllib.request

N_CALLS = 100_000


def _us_per_call(action: object, calls: int = N_CALLS) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        action()  # type: ignore[operator]
    return round((time.perf_counter() - start) / calls * 1e6, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000, help="job rows in the table while scraping")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ["WEBTUBE_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-monitoring-")
    os.environ.pop("DATABASE_URL", None)
    os.environ["WEBTUBE_BCRYPT_ROUNDS"] = "4"  # the account only owns the job rows

    from sqlalchemy import insert

    from bench.timing import median_ms
    from core.accounts.users import register
    from core.monitoring import metrics
    from core.monitoring.logs import configure_logging, log_event
    from core.monitoring.system import Sampler
    from core.storage.database import session_scope
    from core.storage.studio_models import Job
    from tests.support.app_server import free_port

    owner = register("Bench", "bench@example.com", "a long enough password", "a long enough password").id
    kinds, statuses = ("import", "reembed", "video_analysis"), ("queued", "running", "done", "failed", "cancelled")
    with session_scope() as session:
        rows = [{"owner_id": owner, "kind": kinds[i % 3], "status": statuses[i % 5], "params": "{}"}
                for i in range(args.jobs)]
        session.execute(insert(Job), rows)
    port = metrics.serve_metrics(free_port())
    url = f"http://127.0.0.1:{port}/metrics"

    def scrape() -> int:
        with urllib.request.urlopen(url, timeout=30) as response:
            return len(response.read())

    configure_logging("bench")
    with contextlib.redirect_stderr(io.StringIO()):  # the lines also go to stderr; only the file is timed here
        log_us = _us_per_call(lambda: log_event("job_finished", job_id=1, kind="import", seconds=1.5), 20_000)
    sampler = Sampler(interval_s=60, keep=10)
    print(json.dumps({
        "counter_inc_us": _us_per_call(lambda: metrics.photos_processed(1)),
        "observe_model_us": _us_per_call(lambda: metrics.observe_model("detect", 0.05)),
        "log_event_us": log_us,
        "job_rows": args.jobs,
        "sample_ms": median_ms(sampler.sample, args.repeat),
        "scrape_ms": median_ms(scrape, args.repeat),
        "scrape_bytes": scrape(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }, indent=2))


if __name__ == "__main__":
    main()
