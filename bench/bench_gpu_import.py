"""Photos per second of the import's face work, photo by photo versus batched, on WEBTUBE_DEVICE.

Run: `WEBTUBE_DEVICE=cuda .venv/bin/python -m bench.bench_gpu_import [--photos N]` (cpu when unset or
without a GPU). Prints one JSON object. The photos are bench_studio_import's: about 1.8 MP, three
people side by side, each file distinct. Both paths get the same bytes, already in memory, and
WEBTUBE_IMPORT_WORKERS threads:
- per_photo: each thread decodes, detects, aligns and embeds one photo at a time (`analyse_file`, what
  the import did before batching);
- batched: `core.faces.batching.analyse_photos`, the threads decode, detect and align ahead and the
  faces of many photos are embedded in one pass (WEBTUBE_EMBED_BATCH faces);
- import: the whole batched import job into a fresh SQLite library (`import_paths`): the above plus
  storing files, the per-photo transactions and the index.
The two paths must find the same faces; `max_abs_diff` is the largest difference of their embeddings.
A warm-up of two photos before each run loads the models first; each path runs --rounds times, in turns
with the other, and its best rate is reported (the runs show the spread on a shared machine).
Goal on one modern GPU: 300 photos/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from bench.bench_studio_import import make_photos

GOAL_PHOTOS_PER_S = 300


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    with Path("/proc/cpuinfo").open() as info:
        names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
    return names[0] if names else platform.processor() or "cpu"


def _timed(work: Callable[[list[bytes]], list], datas: list[bytes], sync: bool) -> tuple[float, list]:
    started = time.perf_counter()
    result = work(datas)
    if sync:
        torch.cuda.synchronize()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, help="photos per path (default: 600 on CUDA, 24 on a CPU)")
    parser.add_argument("--rounds", type=int, default=2, help="timed runs of each path; the best is reported")
    args = parser.parse_args()
    work_dir = tempfile.TemporaryDirectory(prefix="bench-gpu-import-")
    os.environ["WEBTUBE_DATA_DIR"] = work_dir.name
    from core.config import get_settings
    from core.faces.batching import analyse_photos, batch_size
    from core.faces.engine import get_engine
    from core.faces.quality import MIN_SCORE
    from core.studio.importer import analyse_file, decode_file, import_paths
    from core.studio.owners import resolve_owner

    get_settings.cache_clear()
    engine = get_engine()
    settings = get_settings()
    cuda = engine.device.type == "cuda"
    count = args.photos or (600 if cuda else 24)
    workers, batch = settings.import_workers, batch_size(engine)
    paths = make_photos(Path(work_dir.name) / "photos", count + 2)
    datas = [path.read_bytes() for path in paths]
    warm, datas = datas[:2], datas[2:]

    def per_photo(chunk: list[bytes]) -> list[list]:
        with ThreadPoolExecutor(workers) as pool:
            return [found.faces for found in pool.map(analyse_file, chunk)]

    def batched(chunk: list[bytes]) -> list[list]:
        photos = analyse_photos(engine, chunk, lambda data: decode_file(data)[1], batch, workers)
        return [[face for face in photo.faces if face.detection.score >= MIN_SCORE] for photo in photos]

    results: dict[str, dict] = {}
    faces_of: dict[str, list[list]] = {}
    for _ in range(args.rounds):  # the paths take turns, so a change in the machine's load hits both alike
        for name, work in (("per_photo", per_photo), ("batched", batched)):
            work(warm)
            seconds, faces_of[name] = _timed(work, datas, cuda)
            runs = results.setdefault(name, {"runs_photos_per_s": []})["runs_photos_per_s"]
            runs.append(round(count / seconds, 2))
            results[name].update(photos_per_s=max(runs), faces=sum(map(len, faces_of[name])))
    one, many = faces_of["per_photo"], faces_of["batched"]
    same = [len(a) == len(b) for a, b in zip(one, many, strict=True)]
    diffs = [float(np.abs(fa.embedding - fb.embedding).max())
             for a, b, ok in zip(one, many, same, strict=True) if ok for fa, fb in zip(a, b, strict=True)]

    owner = resolve_owner(None)
    import_paths(owner, paths[:2], "Warm-up")
    started = time.perf_counter()
    summary = import_paths(owner, paths[2:], "Bench")
    seconds = time.perf_counter() - started
    results["import"] = {"seconds": round(seconds, 2), "photos_per_s": round(count / seconds, 2),
                         "faces": summary.faces, "failures": summary.failures}
    megapixels = round(float(np.mean([width * height for width, height in map(_size, paths[2:])])) / 1e6, 2)
    work_dir.cleanup()

    best = max(r["photos_per_s"] for r in results.values())
    print(json.dumps({
        "benchmark": "gpu_import", "device": str(engine.device), "device_name": _device_name(engine.device),
        "photos": count, "megapixels": megapixels,
        "faces_per_photo": round(results["batched"]["faces"] / count, 2), "import_workers": workers,
        "embed_batch": batch, "torch_threads": torch.get_num_threads(), "cpus": os.cpu_count(),
        "load_average": [round(v, 1) for v in os.getloadavg()], "detector": settings.detector,
        "embedder": settings.embedder, "same_faces": all(same), "max_abs_diff": max(diffs, default=0.0),
        "goal_photos_per_s": GOAL_PHOTOS_PER_S, "met": best >= GOAL_PHOTOS_PER_S,
        "speedup_batched": round(results["batched"]["photos_per_s"] / results["per_photo"]["photos_per_s"], 2),
        "paths": results,
    }, indent=2))


def _size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        return image.size


if __name__ == "__main__":
    main()
