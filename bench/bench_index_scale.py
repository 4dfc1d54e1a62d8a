"""Face index at scale: in-process exact search, Milvus Lite, and a Milvus server with HNSW and with IVF_PQ,
over the same library and the same queries, at 100,000 and 1,000,000 faces of one owner.

    python -m bench.bench_index_scale [--sizes 100000 1000000] [--queries 1000] [--lite-sizes ...]
                                      [--backends memory lite hnsw ivf_pq] [--hnsw-ef 128 256 512]
                                      [--ivf-nprobe 32 128] [--max-query-s 120] [--server-config key=value ...]

Prints JSON: per size and backend, recall@10 against an exact brute-force search (numpy, float64 distances),
p50/p99 of one query (for HNSW at each --hnsw-ef, for IVF_PQ at each --ivf-nprobe, on one build;
`core.studio.index.search`, top 10, as search by sample calls it: the check against the
database's mark, the index, the exact re-ranking on the database's vectors), build time (`index.rebuild` of the
owner, plus, on the server, until Milvus reports every row indexed) and memory (in process and Lite: this
process's resident set grown by the build; server: psutil's RSS of the Milvus process).

The library: the real faces of the test photos (tests/data/faces, imported with the real engine, dlib), plus
synthetic 128-value faces modelled on them. dlib's vectors are not unit length: they lie near one common mean
(norm ~1.3) within ~0.56 of it, strangers ~0.85 apart. So synthetic people are that mean plus a random offset
(people ~0.8 apart), each with ~10 faces: their person plus noise (same-person distance ~0.42). Synthetic
queries are new samples of stored people (what search by sample asks); the real queries are the real faces.
Random unit vectors were tried first: they leave the real faces an island far from every synthetic one, where
an HNSW graph built over the rest finds them badly (recall@10 0.43 at 20,000), a library no one has.

The server is the `milvus` package's standalone server, started here on loopback in a temporary folder and
stopped at the end; its embedded etcd listens on the fixed port 2380, so nothing else may run a Milvus server
on this machine meanwhile (the server tests included). A backend whose queries run past --max-query-s stops
there and says how many it ran.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

DIM = 128
TOP_K = 10
PER_PERSON = 10
PERSON_SPREAD = 0.55  # a person's offset from the faces' mean: strangers ~0.8 apart (dlib's real faces: ~0.85)
NOISE = 0.30  # a face's offset from its person: same-person distance ~0.42 (dlib's threshold: 0.6)
PHOTO_FACES = 1000  # synthetic faces per photo row (the foreign key needs photos)
SWEEP = {"hnsw": "hnsw_ef", "ivf_pq": "ivf_nprobe"}  # the search setting each measures on one build
# A server seals a segment at maxSize x sealProportion (2.3's defaults: 512 MB x 0.23, about 230,000 faces of
# 128 values) and searches each sealed segment's graph on its own: a million faces made five graphs to walk per
# query. Up to ~2,000,000 faces in one segment (binlog files, 16 MB each, no longer seal it early).
SERVER_CONFIG = {"dataCoord.segment.maxSize": 1024, "dataCoord.segment.sealProportion": 1.0,
                 "dataCoord.segment.maxBinlogFileNumber": 256}
SETTINGS = {
    "memory": {"WEBTUBE_FACE_INDEX": "memory"},
    "lite": {"WEBTUBE_FACE_INDEX": "milvus", "WEBTUBE_MILVUS_INDEX": "HNSW"},
    "hnsw": {"WEBTUBE_FACE_INDEX": "milvus", "WEBTUBE_MILVUS_INDEX": "HNSW"},
    "ivf_pq": {"WEBTUBE_FACE_INDEX": "milvus", "WEBTUBE_MILVUS_INDEX": "IVF_PQ"},
}


def _rss_mb(pid: int | None = None) -> float:
    return round(psutil.Process(pid).memory_info().rss / 2**20, 1)


def _people(rng: np.random.Generator, mean: np.ndarray, n: int) -> np.ndarray:
    return (mean + PERSON_SPREAD / np.sqrt(DIM) * rng.standard_normal((n, DIM))).astype(np.float32)


def _samples(rng: np.random.Generator, centres: np.ndarray, who: np.ndarray) -> np.ndarray:
    return (centres[who] + NOISE / np.sqrt(DIM) * rng.standard_normal((len(who), DIM))).astype(np.float32)


def _import_real(owner_id: int) -> dict:
    """The test photos through the real importer (real detector and embedder)."""
    from core.studio.importer import import_paths
    from tests.support.paths import FACES_DIR

    started = time.perf_counter()
    summary = import_paths(owner_id, [FACES_DIR / "people", FACES_DIR / "groups"], "Real", "folder")
    return {"photos": summary.photos, "faces": summary.faces, "seconds": round(time.perf_counter() - started, 1)}


def _write(owner_id: int, vectors: np.ndarray, first_photo: int) -> float:
    """Synthetic faces (and photos to hold them) through SQLAlchemy Core, in batches; returns seconds."""
    from sqlalchemy import insert

    from core.storage.database import session_scope
    from core.storage.models import utcnow
    from core.storage.studio_models import Face, Photo

    started = time.perf_counter()
    now = utcnow()
    for start in range(0, len(vectors), 50_000):
        batch = vectors[start : start + 50_000]
        photos = range(start // PHOTO_FACES, (start + len(batch) + PHOTO_FACES - 1) // PHOTO_FACES)
        with session_scope() as session:
            session.execute(insert(Photo), [
                {"id": first_photo + p, "owner_id": owner_id, "sha256": f"b{first_photo + p:063x}",
                 "original_name": f"{p}.jpg", "origin": f"/bench/{first_photo + p}.jpg", "status": "processed",
                 "created_at": now} for p in photos])
            session.execute(insert(Face), [
                {"photo_id": first_photo + (start + i) // PHOTO_FACES, "owner_id": owner_id, "x1": 0.0, "y1": 0.0,
                 "x2": 1.0, "y2": 1.0, "score": 1.0, "landmarks": "[]", "quality_ok": True, "quality_reasons": "",
                 "embedder": "dlib", "dim": DIM, "embedding": batch[i].tobytes(), "created_at": now}
                for i in range(len(batch))])
    return time.perf_counter() - started


def _exact(owner_id: int, queries: np.ndarray) -> list[list[int]]:
    """The true top-10 of each query: every face of the owner measured (float64), ties by id."""
    from core.studio.index_state import load_vectors

    ids, vectors = load_vectors(owner_id, "dlib")
    norms = np.einsum("ij,ij->i", vectors, vectors)
    truth = []
    for query in queries:
        approx = norms - 2.0 * (vectors @ query)
        best = np.argpartition(approx, 256)[:256]
        exact = np.linalg.norm(vectors[best].astype(np.float64) - query.astype(np.float64), axis=1)
        truth.append([int(ids[best][i]) for i in np.lexsort((ids[best], exact))[:TOP_K]])
    return truth


def _use(backend: str, uri: str) -> None:
    from core.config import get_settings
    from core.studio import index

    index.close_index()
    for knob in SWEEP.values():  # the last sweep's value goes: the build runs on the configured default
        os.environ.pop(f"WEBTUBE_MILVUS_{knob.upper()}", None)
    os.environ.update(SETTINGS[backend])
    os.environ["WEBTUBE_MILVUS_URI"] = uri
    get_settings.cache_clear()


def _build(backend: str, owner_id: int, server_pid: int | None, timeout_s: float) -> dict:
    from core.studio import index

    rss_before = _rss_mb()
    started = time.perf_counter()
    faces = index.rebuild()  # Milvus: dropped and written again from the database
    figures: dict = {"faces": faces, "rebuild_s": round(time.perf_counter() - started, 1)}
    if backend in ("hnsw", "ivf_pq"):
        figures["indexed"] = index.get_index().wait_indexed("dlib", timeout_s)  # built, and loaded
    index.search(owner_id, "dlib", np.zeros(DIM, dtype=np.float32), top_k=TOP_K)  # in process: the codes made
    figures["build_s"] = round(time.perf_counter() - started, 1)
    if server_pid is not None:
        figures["server_rss_mb"] = _rss_mb(server_pid)
    else:
        figures["process_rss_growth_mb"] = round(_rss_mb() - rss_before, 1)
    return figures


def _drop(uri: str) -> None:
    """Drop every collection (the memory back), through a client of its own."""
    from pymilvus import MilvusClient

    client = MilvusClient(uri, timeout=120)
    for name in client.list_collections():
        client.drop_collection(name)
    client.close()


def _measure(owner_id: int, queries: np.ndarray, truth: list[list[int]], max_s: float) -> dict:
    from core.studio import index

    for query in queries[:5]:  # warm: caches, connections, the first query's mark check
        index.search(owner_id, "dlib", query, top_k=TOP_K)
    times, recalls = [], []
    deadline = time.monotonic() + max_s
    for query, true in zip(queries, truth, strict=True):
        started = time.perf_counter()
        found = index.search(owner_id, "dlib", query, top_k=TOP_K)
        times.append(time.perf_counter() - started)
        recalls.append(len({face_id for face_id, _ in found} & set(true)) / TOP_K)
        if time.monotonic() > deadline:
            break
    ms = np.array(times) * 1000
    return {"recall_at_10": round(float(np.mean(recalls)), 4), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2), "queries": len(times)}


def _start_server(base: Path, config: dict) -> object:
    from milvus import MilvusServer

    server = MilvusServer(wait_for_started=False)
    server.set_base_dir(str(base))
    for key, value in config.items():  # what `milvus-server --extra-config key=value` sets
        server.config.set(key, value)
    server.start()
    server.wait_started(timeout=180_000)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1000,
                        help="synthetic queries (p99 of 1,000 is the tenth slowest; of 200, the second: noise)")
    parser.add_argument("--backends", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--lite-sizes", type=int, nargs="*", default=None, help="sizes Lite runs at (default: all)")
    parser.add_argument("--hnsw-ef", type=int, nargs="+", default=[128, 256, 512], help="HNSW search breadths tried")
    parser.add_argument("--server-config", nargs="*", default=[f"{k}={v}" for k, v in SERVER_CONFIG.items()],
                        help="the server's milvus.yaml settings, key=value (none: the package's defaults)")
    parser.add_argument("--ivf-nprobe", type=int, nargs="+", default=[32, 128], help="IVF_PQ clusters searched")
    parser.add_argument("--max-query-s", type=float, default=120, help="stop a backend's queries after this long")
    parser.add_argument("--build-timeout-s", type=float, default=2400, help="wait this long for the server's index")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # `timeout` stops us: the server is stopped too
    report: dict = {"dim": DIM, "top_k": TOP_K, "cpus": os.cpu_count(), "load_average": os.getloadavg(),
                    "sizes": {}}
    rng = np.random.default_rng(16)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WEBTUBE_DATA_DIR"] = tmp
        os.environ.update(SETTINGS["memory"])
        from core.config import get_settings
        from core.studio import index, library
        from core.studio.owners import resolve_owner

        get_settings.cache_clear()
        owner_id = resolve_owner(None)
        report["real"] = _import_real(owner_id)
        real_queries = np.asarray(library.face_vectors(owner_id, "dlib")[1], dtype=np.float32)
        server_config = dict(item.split("=", 1) for item in args.server_config)
        report["server_config"] = server_config
        server = (_start_server(Path(tmp) / "milvus-server", server_config)
                  if {"hnsw", "ivf_pq"} & set(args.backends) else None)
        uris = {"memory": "", "lite": str(Path(tmp) / "lite.db"),
                "hnsw": f"http://127.0.0.1:{server.listen_port}" if server else "", "ivf_pq": ""}
        uris["ivf_pq"] = uris["hnsw"]
        report["server_rss_idle_mb"] = _rss_mb(server.server_proc.pid) if server else None
        try:
            centres = np.zeros((0, DIM), dtype=np.float32)
            written = report["real"]["faces"]
            for size in sorted(args.sizes):
                people = _people(rng, real_queries.mean(axis=0), (size - written) // PER_PERSON + 1)
                centres = np.concatenate([centres, people])
                who = np.repeat(np.arange(len(centres) - len(people), len(centres)), PER_PERSON)[: size - written]
                write_s = _write(owner_id, _samples(rng, centres, who), first_photo=10_000 + written // PHOTO_FACES)
                written = size
                queries = np.concatenate([_samples(rng, centres, rng.integers(0, len(centres), args.queries)),
                                          real_queries])
                started = time.perf_counter()
                truth = _exact(owner_id, queries)
                entry: dict = {"write_s": round(write_s, 1), "exact_truth_s": round(time.perf_counter() - started, 1),
                               "synthetic_queries": args.queries, "real_queries": len(real_queries)}
                for backend in args.backends:
                    if backend == "lite" and args.lite_sizes is not None and size not in args.lite_sizes:
                        continue
                    _use(backend, uris[backend])
                    on_server = server is not None and backend in ("hnsw", "ivf_pq")
                    figures = _build(backend, owner_id, server.server_proc.pid if on_server else None,
                                     args.build_timeout_s)
                    n = args.queries
                    knob = SWEEP.get(backend, "")
                    for value in getattr(args, knob, None) or [None]:  # a search setting: same index, no rebuild
                        if value is not None:
                            os.environ[f"WEBTUBE_MILVUS_{knob.upper()}"] = str(value)
                            get_settings.cache_clear()
                        key = "" if value is None else f"{knob}={value} "
                        figures[key + "synthetic"] = _measure(owner_id, queries[:n], truth[:n], args.max_query_s)
                        figures[key + "real"] = _measure(owner_id, queries[n:], truth[n:], args.max_query_s)
                    entry[backend] = figures
                    print(json.dumps({str(size): {backend: figures}}), flush=True)
                    index.close_index()
                    if backend != "memory":
                        _drop(uris[backend])
                report["sizes"][str(size)] = entry
        finally:
            index.close_index()
            if server is not None:
                server.stop()
    report["load_average_end"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
