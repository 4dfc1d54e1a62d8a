"""Studio search benchmark: one query's p50 and p99 over 100,000 and 1,000,000 faces of one owner, in process
and through Milvus Lite beside it.

    python -m bench.bench_studio_search [--sizes 100000 1000000] [--queries 200] [--milvus-sizes 100000]

Prints JSON. The faces are synthetic unit vectors (128 dimensions, dlib's size), written to a fresh SQLite
database as the importer writes them (so the triggers of the index check row run), in a temporary data dir.
A query is `core.studio.index.search` as search by sample calls it (top 50, no distance limit): the check
against the database's mark, then the scan. "load_s" is the first search, which reads the faces from the
database into memory (in process) or reconciles the Milvus collection with it (Milvus Lite inserts them all).
"peak_rss_mb" is the process's peak resident set after the backend was loaded (it grows with each size).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time

import numpy as np

DIM = 128
PHOTO_FACES = 1000  # faces per synthetic photo row (the foreign key needs photos)


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _fill(owner_id: int, first: int, n: int, rng: np.random.Generator) -> float:
    """Write faces first..first+n-1 (and their photos) through SQLAlchemy Core, in batches; returns seconds."""
    from sqlalchemy import insert

    from core.storage.database import session_scope
    from core.storage.models import utcnow
    from core.storage.studio_models import Face, Photo

    started = time.perf_counter()
    now = utcnow()
    for start in range(first, first + n, 50_000):
        count = min(50_000, first + n - start)
        vectors = rng.standard_normal((count, DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with session_scope() as session:
            photos = range(start // PHOTO_FACES, (start + count + PHOTO_FACES - 1) // PHOTO_FACES)
            session.execute(insert(Photo), [
                {"id": p + 1, "owner_id": owner_id, "sha256": f"{p:064x}", "original_name": f"{p}.jpg",
                 "origin": f"/bench/{p}.jpg", "status": "processed", "created_at": now} for p in photos])
            session.execute(insert(Face), [
                {"photo_id": (start + i) // PHOTO_FACES + 1, "owner_id": owner_id, "x1": 0.0, "y1": 0.0, "x2": 1.0,
                 "y2": 1.0, "score": 1.0, "landmarks": "[]", "quality_ok": True, "quality_reasons": "",
                 "embedder": "dlib", "dim": DIM, "embedding": vectors[i].tobytes(), "created_at": now}
                for i in range(count)])
    return time.perf_counter() - started


def _measure(search: object, queries: np.ndarray) -> dict:
    times = []
    for query in queries:
        started = time.perf_counter()
        found = search(query)
        times.append(time.perf_counter() - started)
        assert len(found) == 50
    ms = np.array(times) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "mean_ms": round(float(ms.mean()), 2), "queries": len(queries)}


def _backend(kind: str, owner_id: int, queries: np.ndarray) -> dict:
    from core.config import get_settings
    from core.studio import index

    os.environ["WEBTUBE_FACE_INDEX"] = kind
    get_settings.cache_clear()
    started = time.perf_counter()
    index.search(owner_id, "dlib", queries[0], top_k=50)
    load_s = time.perf_counter() - started
    figures = {"load_s": round(load_s, 2), "peak_rss_mb": _peak_rss_mb()}
    figures.update(_measure(lambda q: index.search(owner_id, "dlib", q, top_k=50), queries))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--milvus-sizes", type=int, nargs="*", default=None,
                        help="sizes also measured through Milvus Lite (default: every size; none: --milvus-sizes)")
    args = parser.parse_args()
    report: dict = {"dim": DIM, "top_k": 50, "cpus": os.cpu_count(), "load_average": os.getloadavg()[0],
                    "sizes": {}}
    rng = np.random.default_rng(10)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WEBTUBE_DATA_DIR"] = tmp
        os.environ["WEBTUBE_MILVUS_URI"] = os.path.join(tmp, "milvus.db")
        from core.config import get_settings
        from core.studio import index
        from core.studio.owners import resolve_owner

        get_settings.cache_clear()
        owner_id = resolve_owner(None)
        written = 0
        for size in sorted(args.sizes):
            fill_s = _fill(owner_id, written, size - written, rng)
            written = size
            queries = rng.standard_normal((args.queries, DIM)).astype(np.float32)
            queries /= np.linalg.norm(queries, axis=1, keepdims=True)
            entry = {"write_s": round(fill_s, 1), "in_process": _backend("memory", owner_id, queries)}
            if args.milvus_sizes is None or size in args.milvus_sizes:
                entry["milvus_lite"] = _backend("milvus", owner_id, queries)
            index.close_index()  # each size loads afresh
            report["sizes"][str(size)] = entry
            print(json.dumps({str(size): entry}), flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
