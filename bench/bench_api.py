"""HTTP API benchmark: requests per second and latency of detect and of search by sample, at 1 and 8 clients.

Run: `.venv/bin/python -m bench.bench_api [--seconds S]`; prints JSON. A real `python -m core api` server
(uvicorn) on loopback, on a fresh data folder whose library holds the test photos (imported through the
API); each client is a thread with its own httpx connection sending the same request back to back for
S seconds after a warm-up. Latency is per request, client side (upload, the face engine, the answer).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from core.accounts.api_keys import create_key
from core.accounts.users import register
from tests.support.api_server import run_api_server
from tests.support.face_app import settings_for
from tests.support.paths import FACES_DIR

SAMPLE = FACES_DIR / "people/obama/obama_3.jpg"
RATE = 1_000_000  # the bench measures the server, not the key's rate limit


def _library(client: httpx.Client) -> int:
    album = client.post("/albums", json={"name": "Bench"}).raise_for_status().json()["id"]
    photos = [("files", (p.name, p.read_bytes())) for p in sorted((FACES_DIR / "people").rglob("*.jpg"))]
    job = client.post(f"/albums/{album}/photos", files=photos).raise_for_status().json()["job_id"]
    while client.get(f"/jobs/{job}").json()["status"] not in ("done", "failed", "cancelled"):
        time.sleep(0.5)
    return len(photos)


def _run(url: str, key: str, path: str, data: dict, clients: int, seconds: float) -> dict:
    image = SAMPLE.read_bytes()
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client() -> None:
        nonlocal errors
        with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=120) as http:
            http.post(path, files={"image": ("sample.jpg", image)}, data=data)  # warm-up: models, connection
            start.wait()
            stop = time.monotonic() + seconds
            while time.monotonic() < stop:
                began = time.perf_counter()
                ok = http.post(path, files={"image": ("sample.jpg", image)}, data=data).status_code == 200
                took = (time.perf_counter() - began) * 1000
                with lock:
                    latencies.append(took)
                    errors += not ok

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - began
    ordered = sorted(latencies)
    return {"clients": clients, "requests": len(ordered), "errors": errors, "rps": round(len(ordered) / wall, 2),
            "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    with settings_for(data_dir):
        owner = register("Bench", "bench@example.com", "a long enough password", "a long enough password")
        key, _ = create_key(owner.id, "bench", "read write")
    with run_api_server(data_dir, {"WEBTUBE_API_RATE_PER_MINUTE": str(RATE)}) as server:
        url = f"{server.url}/api/v1"
        with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=300) as client:
            photos = _library(client)
        results = {name: [_run(url, key, path, data, clients, args.seconds) for clients in (1, 8)]
                   for name, path, data in (("detect", "/faces/detect", {}),
                                            ("search", "/search", {"threshold": "75", "top_k": "10"}))}
    print(json.dumps({"benchmark": "api", "cpu_count": os.cpu_count(), "library_photos": photos,
                      "sample": SAMPLE.name, "seconds_each": args.seconds, **results}, indent=2))


if __name__ == "__main__":
    main()
