"""Studio import, end to end: decode, detect, align, embed, write, index, in photos per second.

Run: `make bench` or `.venv/bin/python -m bench.bench_studio_import [--photos N]`. Prints one JSON
object. The photos are made from the project's test photos: three single-face photos of people/
(different people, cycled) are each scaled to 720 px high and put side by side, giving about 1.8 MP
photos with three faces; a pixel set from the photo's number makes each file distinct (no
duplicates). Each configuration runs in its own process on a fresh data directory (SQLite, the
in-process index): the default pair (MTCNN + dlib), and YuNet + SFace with detection at 800 px (the
fastest pair in bench_models), with WEBTUBE_IMPORT_WORKERS threads. A warm-up import of two photos
loads the models first, outside the timing. Target: at least 10 photos/s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tests.support.paths import FACES_DIR

HEIGHT = 720
CONFIGS = {
    "mtcnn+dlib": {"WEBTUBE_DETECTOR": "mtcnn", "WEBTUBE_EMBEDDER": "dlib"},
    "yunet+sface@800": {"WEBTUBE_DETECTOR": "yunet", "WEBTUBE_EMBEDDER": "sface", "WEBTUBE_DETECT_MAX_SIDE": "800"},
}


def make_photos(folder: Path, count: int) -> list[Path]:
    """`count` distinct JPEGs of about 1.8 MP, each three people side by side."""
    singles = sorted(p for p in (FACES_DIR / "people").glob("*/*") if "small" not in p.name)
    tiles = []
    for path in singles:
        image = Image.open(path).convert("RGB")
        tiles.append(np.asarray(image.resize((round(image.width * HEIGHT / image.height), HEIGHT))))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        row = np.concatenate([tiles[(number + k * 5) % len(tiles)] for k in range(3)], axis=1).copy()
        row[0, :3] = (number % 256, number // 256 % 256, 11)
        path = folder / f"group_{number:04d}.jpg"
        Image.fromarray(row).save(path, quality=90)
        paths.append(path)
    return paths


def _one_run(count: int) -> dict:
    """In this process (environment already set): warm up, then import the photos, timed."""
    from core.config import get_settings
    from core.faces.engine import get_engine
    from core.studio.importer import import_paths
    from core.studio.owners import resolve_owner

    work = Path(os.environ["WEBTUBE_DATA_DIR"])
    photos = make_photos(work / "photos", count)
    warm = make_photos(work / "warm", 2 + count)[count:]
    owner = resolve_owner(None)
    import_paths(owner, warm, "Warm-up")
    started = time.perf_counter()
    summary = import_paths(owner, photos, "Bench")
    seconds = time.perf_counter() - started
    engine = get_engine()
    pixels = [Image.open(p).size for p in photos[:3]]
    return {
        "photos": count, "megapixels": round(sum(w * h for w, h in pixels) / len(pixels) / 1e6, 2),
        "faces": summary.faces, "faces_per_photo": round(summary.faces / count, 2),
        "failures": summary.failures, "seconds": round(seconds, 2),
        "photos_per_s": round(count / seconds, 2), "faces_per_s": round(summary.faces / seconds, 1),
        "detector": get_settings().detector, "embedder": engine.settings.embedder,
        "import_workers": get_settings().import_workers, "device": str(engine.device),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--config", choices=sorted(CONFIGS), help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.config:
        print(json.dumps(_one_run(args.photos)))
        return
    results = {}
    for name, env in CONFIGS.items():
        with tempfile.TemporaryDirectory(prefix="bench-studio-") as data_dir:
            child = subprocess.run(
                [sys.executable, "-m", "bench.bench_studio_import", "--photos", str(args.photos), "--config", name],
                env={**os.environ, **env, "WEBTUBE_DATA_DIR": data_dir}, capture_output=True, text=True, check=False,
                cwd=Path(__file__).resolve().parent.parent)
        lines = child.stdout.strip().splitlines()
        results[name] = json.loads(lines[-1]) if child.returncode == 0 and lines else {
            "error": (child.stderr.strip().splitlines() or ["failed"])[-1]}
    print(json.dumps({
        "benchmark": "studio_import", "target_photos_per_s": 10, "cpus": os.cpu_count(),
        "load_average": [round(v, 1) for v in os.getloadavg()],
        "met": any(r.get("photos_per_s", 0) >= 10 for r in results.values()), "configs": results,
    }, indent=2))


if __name__ == "__main__":
    main()
