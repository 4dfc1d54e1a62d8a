"""Face engine benchmark: prints JSON figures for this machine, ours beside the face_recognition library.

Run: `make bench` or `.venv/bin/python -m bench.bench_faces [--repeat N]`. Medians of repeated runs
after a warm-up. The peer (face_recognition: dlib's HOG detector and the same ResNet in C++)
runs in the same process on the same photos, after our figures and our peak RSS are taken.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from bench.timing import median_ms
from core.faces.engine import get_engine
from core.faces.images import load_image
from tests.support.paths import FACES_DIR as FACES

SIZES = {"640x480": (640, 480), "1920x1080": (1920, 1080)}


def _photos() -> list[Path]:
    found = list((FACES / "people").glob("*/*")) + list((FACES / "groups").glob("*"))
    return sorted(p for p in found if p.suffix.lower() in {".jpg", ".png"})


def _frames() -> dict[str, np.ndarray]:
    rgb = load_image(FACES / "groups" / "two_people.jpg")
    return {name: cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) for name, size in SIZES.items()}


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def bench_ours(repeat: int) -> dict:
    engine = get_engine()
    frames = _frames()
    detect = {name: median_ms(lambda f=frame: engine.detector.detect(f), repeat) for name, frame in frames.items()}
    chips = [face.chip for face in engine.analyse(load_image(FACES / "people" / "obama" / "obama_2.jpg"))]
    batch32 = np.stack(chips * 32)[:32]
    per_face_ms_1 = median_ms(lambda: engine.embed_chips(batch32[:1]), repeat * 4)
    per_batch_ms_32 = median_ms(lambda: engine.embed_chips(batch32), repeat)
    photos = _photos()
    start = time.perf_counter()
    faces = sum(len(engine.analyse(load_image(photo))) for photo in photos)
    pipeline_s = time.perf_counter() - start
    return {
        "detector": "MTCNN (own cascade, facenet-pytorch weights)",
        "embedder": engine.embedder.name,
        "device": str(engine.device),
        "detect_ms": detect,
        "embed_faces_per_s": {
            "batch_1": round(1000 / per_face_ms_1, 1),
            "batch_32": round(32 * 1000 / per_batch_ms_32, 1),
        },
        "pipeline": {
            "photos": len(photos),
            "faces": faces,
            "photos_per_s": round(len(photos) / pipeline_s, 2),
            "megapixels_mean": round(float(np.mean([_megapixels(p) for p in photos])), 2),
        },
        "peak_rss_mb": _peak_rss_mb(),
    }


def _megapixels(path: Path) -> float:
    from PIL import Image

    with Image.open(path) as img:
        return img.width * img.height / 1e6


def bench_face_recognition(repeat: int) -> dict:
    import face_recognition

    frames = _frames()
    detect = {
        name: median_ms(lambda f=frame: face_recognition.face_locations(f), repeat) for name, frame in frames.items()
    }
    rgb = face_recognition.load_image_file(str(FACES / "people" / "obama" / "obama_2.jpg"))
    box = face_recognition.face_locations(rgb)[:1]
    per_face_ms = median_ms(lambda: face_recognition.face_encodings(rgb, box), repeat * 2)
    photos = _photos()
    start = time.perf_counter()
    faces = 0
    for photo in photos:
        image = face_recognition.load_image_file(str(photo))
        faces += len(face_recognition.face_encodings(image, face_recognition.face_locations(image)))
    pipeline_s = time.perf_counter() - start
    return {
        "detector": "dlib HOG (face_recognition default)",
        "detect_ms": detect,
        "embed_faces_per_s": {"batch_1": round(1000 / per_face_ms, 1), "batch_32": None},
        "pipeline": {"photos": len(photos), "faces": faces, "photos_per_s": round(len(photos) / pipeline_s, 2)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-peer", action="store_true", help="skip the face_recognition comparison")
    args = parser.parse_args()
    result = {
        "machine": {"cpu_threads": torch.get_num_threads(), "python": platform.python_version(),
                    "torch": torch.__version__, "cuda": torch.cuda.is_available()},
        "webtube": bench_ours(args.repeat),
        "targets": {
            "embed_batch_32_faces_per_s": ">= 200",
            "detect_640x480_ms": "<= 60",
            "pipeline_photos_per_s": ">= 5",
        },
    }
    if not args.no_peer:
        result["face_recognition"] = bench_face_recognition(args.repeat)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
