"""Benchmark: our `MtcnnCascade.detect` against facenet-pytorch's `MTCNN.detect`, printed as JSON.

Run from the repository root: `.venv/bin/python -m bench.bench_mtcnn [--runs 15] [--threads 1]`.
Why alternate: the machine is shared, so load comes and goes; timing the two detectors in turns
within one run (and taking medians, and the median of per-pair ratios) keeps the comparison fair.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np
import torch
from facenet_pytorch import MTCNN
from PIL import Image

from core.faces.mtcnn import MtcnnCascade
from tests.support.paths import FACES_DIR

CASES = (  # photo, (width, height)
    ("people/obama/obama_1.jpg", (640, 480)),
    ("groups/obama_and_biden.jpg", (1920, 1080)),
)
MIN_FACE_SIZES = (40, 20)


def load_resized(name: str, size: tuple[int, int]) -> np.ndarray:
    with Image.open(FACES_DIR / name) as img:
        rgb = np.asarray(img.convert("RGB"))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def timed_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def summary(samples: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(samples), 2), "min": round(min(samples), 2)}


def bench_case(name: str, size: tuple[int, int], min_face_size: int, runs: int, warmup: int) -> dict[str, object]:
    rgb = load_resized(name, size)
    ours = MtcnnCascade(min_face_size=min_face_size)
    theirs = MTCNN(keep_all=True, min_face_size=min_face_size)
    for _ in range(warmup):
        ours.detect(rgb)
        theirs.detect(rgb)
    ours_ms, theirs_ms = [], []
    for i in range(runs):
        pair = [(ours_ms, lambda: ours.detect(rgb)), (theirs_ms, lambda: theirs.detect(rgb))]
        for samples, fn in pair if i % 2 == 0 else pair[::-1]:
            samples.append(timed_ms(fn))
    boxes, _ = theirs.detect(rgb)
    return {
        "image": name,
        "size": f"{size[0]}x{size[1]}",
        "min_face_size": min_face_size,
        "runs": runs,
        "faces": {"ours": len(ours.detect(rgb).scores), "facenet": 0 if boxes is None else len(boxes)},
        "ours_ms": summary(ours_ms),
        "facenet_ms": summary(theirs_ms),
        "speedup_of_medians": round(statistics.median(theirs_ms) / statistics.median(ours_ms), 2),
        "speedup_median_of_pairs": round(statistics.median(t / o for t, o in zip(theirs_ms, ours_ms, strict=True)), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per detector and case (>= 15)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch intra-op threads for both detectors (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    report = {
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "load_average_before": [round(v, 2) for v in os.getloadavg()],
        "cases": [
            bench_case(name, size, min_face_size, args.runs, args.warmup)
            for name, size in CASES
            for min_face_size in MIN_FACE_SIZES
        ],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
