"""Face models side by side: MTCNN vs YuNet, dlib vs SFace, every pipeline pair, face_recognition as the peer.

Run: `make bench` or `.venv/bin/python -m bench.bench_models [--repeat N]`. Prints one JSON object:
detection ms at 640x480 and 1920x1080 (the detectors on the raw frame; YuNet's target is at most
15 ms at 640x480 on 2 cores), embedding faces/s at batch 1 and 32, and the whole engine (detect,
judge, align, embed) in photos/s on the test photos resized to 1 megapixel, for each detector and
embedder pair (target: at least 20 photos/s with the fastest pair), and YuNet's pairs again with
photos shrunk to 800 px for detection. Medians after a warm-up.
With `--runtimes`, SFace is also timed through onnx2torch and onnxruntime when they are importable
(they are not dependencies: this is how cv2.dnn was chosen).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable

import cv2
import numpy as np
import torch

from bench.timing import median_ms
from core.config import get_settings
from core.faces.detector import FaceDetector
from core.faces.engine import FaceEngine
from core.faces.images import load_image
from tests.support.paths import FACES_DIR as FACES

SIZES = {"640x480": (640, 480), "1920x1080": (1920, 1080)}
DETECTORS = ("mtcnn", "yunet")
EMBEDDERS = ("dlib", "sface")
FAST_SIDE = 800  # WEBTUBE_DETECT_MAX_SIDE=800: YuNet still finds every face it finds at 1280 in the test photos


def _frames() -> dict[str, np.ndarray]:
    rgb = load_image(FACES / "groups" / "two_people.jpg")
    return {name: cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) for name, size in SIZES.items()}


def _one_megapixel_photos() -> list[np.ndarray]:
    """Every photo of people/ and groups/, resized (aspect kept) to about one million pixels."""
    paths = sorted(p for p in [*(FACES / "people").glob("*/*"), *(FACES / "groups").glob("*")] if p.is_file())
    photos = []
    for path in paths:
        rgb = load_image(path)
        scale = (1e6 / (rgb.shape[0] * rgb.shape[1])) ** 0.5
        size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
        photos.append(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC))
    return photos


def _engine(detector: str, embedder: str, max_side: int | None = None) -> FaceEngine:
    update = {"detector": detector, "embedder": embedder, "detect_max_side": max_side or get_settings().detect_max_side}
    return FaceEngine(get_settings().model_copy(update=update))


def bench_detectors(repeat: int) -> dict:
    settings = get_settings()
    frames = _frames()
    out = {}
    for kind in DETECTORS:
        cascade = FaceDetector(torch.device("cpu"), settings.min_face_px, settings.detect_max_side, kind).cascade
        out[kind] = {name: median_ms(lambda f=frame, c=cascade: c.detect(f), repeat) for name, frame in frames.items()}
    return out


def bench_embedders(repeat: int) -> dict:
    rgb = load_image(FACES / "people" / "obama" / "obama_2.jpg")
    out = {}
    for name in EMBEDDERS:
        engine = _engine("mtcnn", name)
        chips = np.stack([engine.analyse(rgb, embed=False)[0].chip] * 32)
        one = median_ms(lambda e=engine, c=chips: e.embed_chips(c[:1]), repeat * 4)
        many = median_ms(lambda e=engine, c=chips: e.embed_chips(c), repeat)
        out[name] = {"chip": chips.shape[1], "batch_1": round(1000 / one, 1), "batch_32": round(32000 / many, 1)}
    return out


def bench_pipelines(photos: list[np.ndarray]) -> dict:
    """Each pair at the configured WEBTUBE_DETECT_MAX_SIDE, and YuNet's also at FAST_SIDE (its cost is per pixel)."""
    configurations = [(d, e, get_settings().detect_max_side) for d in DETECTORS for e in EMBEDDERS]
    configurations += [("yunet", e, FAST_SIDE) for e in EMBEDDERS]
    out = {}
    for detector, embedder, side in configurations:
        engine = _engine(detector, embedder, side)
        engine.analyse(photos[0])  # warm-up: loads the models
        start = time.perf_counter()
        faces = sum(len(engine.analyse(photo)) for photo in photos)
        seconds = time.perf_counter() - start
        name = f"{detector}+{embedder}" + ("" if side == get_settings().detect_max_side else f" (max side {side})")
        out[name] = {"photos_per_s": round(len(photos) / seconds, 2), "faces": faces}
    return out


def bench_face_recognition(photos: list[np.ndarray], repeat: int) -> dict:
    import face_recognition

    frames = _frames()
    detect = {
        name: median_ms(lambda f=frame: face_recognition.face_locations(f), repeat) for name, frame in frames.items()
    }
    rgb = load_image(FACES / "people" / "obama" / "obama_2.jpg")
    box = face_recognition.face_locations(rgb)[:1]
    one = median_ms(lambda: face_recognition.face_encodings(rgb, box), repeat * 2)
    start = time.perf_counter()
    faces = sum(len(face_recognition.face_encodings(p, face_recognition.face_locations(p))) for p in photos)
    seconds = time.perf_counter() - start
    return {
        "detector": "dlib HOG",
        "detect_ms": detect,
        "embed_faces_per_s": {"batch_1": round(1000 / one, 1)},
        "pipeline": {"photos_per_s": round(len(photos) / seconds, 2), "faces": faces},
    }


def bench_sface_runtimes(repeat: int) -> dict:
    """SFace on one and 32 chips through each runtime that is importable (cv2.dnn always is)."""
    from core.faces.sface_embedder import MODEL_FILE, MODEL_SHA256, PACKAGE, packaged_file

    path = str(packaged_file(PACKAGE, MODEL_FILE, MODEL_SHA256))
    blobs = {n: np.random.default_rng(0).uniform(0, 255, (n, 3, 112, 112)).astype(np.float32) for n in (1, 32)}
    runners: dict[str, Callable[[np.ndarray], object]] = {}
    net = cv2.dnn.readNetFromONNX(path)
    runners["cv2.dnn"] = lambda x: (net.setInput(x, "data"), net.forward())
    try:
        import onnx
        from onnx2torch import convert

        model = convert(onnx.load(path)).eval()
        runners["onnx2torch"] = lambda x: model(torch.from_numpy(x)).detach()
    except ImportError:
        pass
    try:
        import onnxruntime

        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        runners["onnxruntime (batch 1 only: the graph fixes it)"] = lambda x: [
            session.run(None, {"data": row[None]}) for row in x
        ]
    except ImportError:
        pass
    out = {}
    with torch.inference_mode():
        for name, run in runners.items():
            out[name] = {f"batch_{n}": round(n * 1000 / median_ms(lambda b=blob, r=run: r(b), repeat), 1)
                         for n, blob in blobs.items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-peer", action="store_true", help="skip the face_recognition comparison")
    parser.add_argument("--runtimes", action="store_true", help="also time SFace through other ONNX runtimes")
    args = parser.parse_args()
    photos = _one_megapixel_photos()
    result: dict = {
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "opencv_threads": cv2.getNumThreads(), "python": platform.python_version()},
        "detect_ms": bench_detectors(args.repeat),
        "embed_faces_per_s": bench_embedders(args.repeat),
        "pipeline_1mp": {"photos": len(photos), **bench_pipelines(photos)},
    }
    if args.runtimes:
        result["sface_runtimes_faces_per_s"] = bench_sface_runtimes(args.repeat)
    if not args.no_peer:
        result["face_recognition"] = bench_face_recognition(photos, args.repeat)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
