"""Jobs through a broker, end to end: imports with 1, 2 and 4 worker processes, and imports under search load.

    python -m bench.bench_workers [--broker redis|rabbitmq] [--photos 400] [--workers 1 2 4]
                                  [--load-photos 1000] [--clients 5] [--per-job 10] [--owners 8]

Prints one JSON object. Everything is real and started here on loopback: the broker (redis-server or
rabbitmq-server), PostgreSQL (the database workers on other machines would share), and `python -m core worker`
processes with the face models; this process plays the app (it queues the imports and sends their ids).
The photos are small distinct one-face photos (320x240, tests/support/job_workers.small_photos), split into
imports of `--per-job` photos: an import is one job and one job runs on one worker, so W workers need at least
W jobs to share. The imports take turns over `--owners` libraries, as many people importing at once do; with
`--owners 1` every worker writes into one library, and each in-process index copy is rebuilt from the
database whenever another process added a face (core/studio/index_state.py), which does not scale.
Before the timing, every worker has joined the broker and run a one-photo import (the models are loaded).
"throughput": photos per second from the first import queued to the last one done, for each worker count, on a
fresh database each. "load": `--load-photos` photos imported by the largest worker count
while `--clients` threads search by sample (core.studio.search, the Studio's Search page) without pause;
photos per second, search p50/p95 in ms, and the check that nothing was lost or doubled: every photo stored
once with its one face, every job item processed once. The issue's 10,000 photos is `--load-photos 10000`;
what finishes in about 10 minutes on 2 busy cores is `--photos 160 --load-photos 600`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from tests.support.job_workers import empty_broker, small_photos, wait_for_consumers, worker_env, workers
from tests.support.paths import FACES_DIR
from tests.support.postgres_server import postgres_server
from tests.support.rabbitmq_server import rabbitmq_server
from tests.support.redis_server import redis_server

PASSWORD = "correct horse battery"
SEARCH_SAMPLE = FACES_DIR / "people" / "obama" / "obama_1.jpg"  # the same person as every imported photo
JOB_TIMEOUT_S = 3600


@contextlib.contextmanager
def _app(data_dir: Path, database_url: str, broker_url: str, owners: int) -> Iterator[list[int]]:
    """This process as the app on a fresh database; yields the owners' ids."""
    from core.accounts.users import register
    from core.config import get_settings

    os.environ.update(WEBTUBE_DATA_DIR=str(data_dir), DATABASE_URL=database_url, WEBTUBE_BROKER_URL=broker_url,
                      WEBTUBE_BCRYPT_ROUNDS="4")
    get_settings.cache_clear()
    empty_broker(broker_url)
    yield [register(f"Bench {n}", f"bench{n}@example.com", PASSWORD, PASSWORD).id for n in range(owners)]
    get_settings.cache_clear()


def _imports(owners: list[int], photos: list[Path], per_job: int) -> list[int]:
    """Imports of `per_job` photos each, the owners taking turns (owner k gets imports k, k + len(owners), ...)."""
    from core.studio import jobs

    job_ids = []
    for number, start in enumerate(range(0, len(photos), per_job)):
        owner_id, chunk = owners[number % len(owners)], photos[start:start + per_job]
        staged = jobs.stage_uploads(owner_id, [(p.name, p.read_bytes()) for p in chunk])
        job_ids.append(jobs.start_import(owner_id, staged, f"Bench {number}"))
    return job_ids


def _wait(job_ids: list[int]) -> None:
    from core.storage.database import session_scope
    from core.storage.studio_models import Job

    deadline = time.monotonic() + JOB_TIMEOUT_S
    for job_id in job_ids:
        while True:
            with session_scope() as session:
                if session.get_one(Job, job_id).status in ("done", "failed", "cancelled"):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"job {job_id} did not finish in {JOB_TIMEOUT_S} s")
            time.sleep(0.2)


def _record(owners: list[int], job_ids: list[int], expected: int) -> dict:
    """What the database holds: photos, faces and items against the photos sent; lost and doubled counts."""
    from core.storage.database import session_scope
    from core.storage.studio_models import Face, Job, JobItem, Photo

    with session_scope() as session:
        photos = session.scalar(select(func.count(Photo.id)).where(Photo.owner_id.in_(owners)))
        shas = session.scalar(select(func.count(func.distinct(Photo.sha256))).where(Photo.owner_id.in_(owners)))
        faces = session.scalar(select(func.count(Face.id)).where(Face.owner_id.in_(owners)))
        boxes = session.execute(select(Face.photo_id, Face.x1, Face.y1).where(Face.owner_id.in_(owners))).all()
        processed = session.scalar(select(func.count()).where(JobItem.job_id.in_(job_ids),
                                                              JobItem.status == "processed"))
        statuses = session.scalars(select(Job.status).where(Job.id.in_(job_ids))).all()
        holders = session.scalars(select(Job.worker).where(Job.id.in_(job_ids))).all()
    return {"photos_stored": photos, "faces_stored": faces, "items_processed": processed,
            "lost": expected - processed, "doubled": (photos - shas) + (len(boxes) - len(set(boxes))),
            "jobs_done": statuses.count("done"), "jobs": len(job_ids),
            "workers_used": len({h.rpartition(":")[0] for h in holders if h})}


def _warm(owners: list[int], folder: Path, count: int) -> None:
    """One-photo imports until each of `count` workers has run one (its models loaded)."""
    from core.storage.database import session_scope
    from core.storage.studio_models import Job

    for round_ in range(5):
        job_ids = _imports(owners, small_photos(folder / str(round_), count, first=900_000 + round_ * count), 1)
        _wait(job_ids)
        with session_scope() as session:
            warmed = {w.rpartition(":")[0] for w in session.scalars(select(Job.worker)) if w}
        if len(warmed) >= count:
            return


def _throughput(broker_url: str, work: Path, count: int, photos: list[Path], per_job: int, owners: int) -> dict:
    with postgres_server() as database_url, _app(work / f"data-{count}", database_url, broker_url, owners) as ids:
        env = worker_env(work / f"data-{count}", broker_url, database_url)
        with workers(count, env, work / f"logs-{count}"):
            wait_for_consumers(broker_url, count)
            _warm(ids, work / f"warm-{count}", count)
            started = time.perf_counter()
            job_ids = _imports(ids, photos, per_job)
            _wait(job_ids)
            seconds = time.perf_counter() - started
        record = _record(ids, job_ids, len(photos))
    return {"workers": count, "photos": len(photos), "seconds": round(seconds, 1),
            "photos_per_s": round(len(photos) / seconds, 2), **record}


def _searcher(owner_id: int, sample: bytes, stop: threading.Event, latencies: list[float], errors: list[str]) -> None:
    from core.studio.search import search_by_sample

    while not stop.is_set():
        started = time.perf_counter()
        try:
            search_by_sample(owner_id, sample, face_index=None)
        except Exception as exc:  # a failed search is counted, not hidden
            errors.append(f"{type(exc).__name__}: {exc}")
        latencies.append(time.perf_counter() - started)


def _load(broker_url: str, work: Path, count: int, photos: list[Path], per_job: int, owners: int,
          clients: int) -> dict:
    sample = SEARCH_SAMPLE.read_bytes()
    with postgres_server() as database_url, _app(work / "data-load", database_url, broker_url, owners) as ids:
        env = worker_env(work / "data-load", broker_url, database_url)
        with workers(count, env, work / "logs-load"):
            wait_for_consumers(broker_url, count)
            _warm(ids, work / "warm-load", count)
            stop, latencies, errors = threading.Event(), [], []
            threads = [threading.Thread(target=_searcher, args=(ids[0], sample, stop, latencies, errors))
                       for _ in range(clients)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            job_ids = _imports(ids, photos, per_job)
            _wait(job_ids)
            seconds = time.perf_counter() - started
            stop.set()
            for thread in threads:
                thread.join()
        record = _record(ids, job_ids, len(photos))
    ms = np.asarray(latencies) * 1000
    return {"workers": count, "photos": len(photos), "clients": clients, "seconds": round(seconds, 1),
            "photos_per_s": round(len(photos) / seconds, 2), "searches": len(latencies),
            "search_errors": len(errors), "first_error": errors[0] if errors else None,
            "search_p50_ms": round(float(np.percentile(ms, 50)), 1) if len(ms) else None,
            "search_p95_ms": round(float(np.percentile(ms, 95)), 1) if len(ms) else None, **record}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=("redis", "rabbitmq"), default="redis")
    parser.add_argument("--photos", type=int, default=400, help="photos per throughput run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--load-photos", type=int, default=1000, help="photos of the load test (the issue: 10000)")
    parser.add_argument("--clients", type=int, default=5, help="searching clients during the load test")
    parser.add_argument("--per-job", type=int, default=10, help="photos per import job")
    parser.add_argument("--owners", type=int, default=8, help="libraries the imports take turns in (1: all in one)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    photos = small_photos(work / "photos", args.photos)
    load_photos = small_photos(work / "load-photos", args.load_photos, first=args.photos)
    server = redis_server() if args.broker == "redis" else rabbitmq_server()
    with server as broker:
        runs = [_throughput(broker.url, work, count, photos, args.per_job, args.owners) for count in args.workers]
        load = _load(broker.url, work, max(args.workers), load_photos, args.per_job, args.owners, args.clients)
    print(json.dumps({"broker": args.broker, "per_job": args.per_job, "owners": args.owners, "cpus": os.cpu_count(),
                      "load_average": [round(x, 2) for x in os.getloadavg()],
                      "throughput": runs, "load": load}, indent=2))


if __name__ == "__main__":
    main()
