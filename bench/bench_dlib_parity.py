"""How close WebTube's face embeddings are to dlib's own pipeline, and how fast the landmark port is.

Why: dlib's ResNet is only as good as published when it sees dlib's chips. For every face of the
test photos that dlib's HOG detector finds, this compares WebTube's embedding (the full engine:
MTCNN box mapped to a HOG box, ported 5-point predictor, ported chip, PyTorch ResNet) with dlib's
(HOG box, dlib's 5-point predictor, dlib's ResNet), and times the ported predictor against dlib's.
A same-person pair lies about 0.35 apart, so the median should stay far below that (target < 0.05).
The distance is printed for each detector (MTCNN, YuNet, each box mapped to dlib's by its own fitted map),
and for YuNet's boxes read with MTCNN's map, to show what the detector's own map gains.

Prints JSON. Run: `make bench` or `.venv/bin/python -m bench.bench_dlib_parity [--repeat N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import dlib
import numpy as np

from core.config import get_settings
from core.faces.alignment import align_face
from core.faces.dlib_chips import extract_chip, face_chip_details
from core.faces.dlib_landmarks import default_shape_predictor, find_predictor_file
from core.faces.dlib_resnet import find_dlib_model_file
from core.faces.engine import FaceEngine, get_engine
from core.faces.images import load_image
from tests.support.paths import FACES_DIR

HOG_UPSAMPLE = 1  # as face_recognition runs dlib's detector by default
MIN_IOU = 0.3


def _photos() -> list[Path]:
    return sorted(p for folder in ("people", "groups", "hard") for p in (FACES_DIR / folder).rglob("*")
                  if p.suffix.lower() in {".jpg", ".png"})


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


def _median_ms(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _summary(values: list[float], digits: int = 4) -> dict:
    array = np.array(values)
    return {"median": round(float(np.median(array)), digits), "p90": round(float(np.percentile(array, 90)), digits),
            "max": round(float(array.max()), digits), "mean": round(float(array.mean()), digits)}


def _engine(detector: str) -> FaceEngine:
    os.environ["WEBTUBE_DETECTOR"] = detector
    get_settings.cache_clear()
    return get_engine()


# Columns: which detector finds the face, and which detector's box map reads its box.
COLUMNS = {"mtcnn": ("mtcnn", "mtcnn"), "yunet": ("yunet", "yunet"), "yunet_with_mtcnn_map": ("yunet", "mtcnn")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per face for the speed figures")
    args = parser.parse_args()

    engines = {detector: _engine(detector) for detector in ("mtcnn", "yunet")}
    ours = default_shape_predictor()
    hog = dlib.get_frontal_face_detector()
    theirs = dlib.shape_predictor(str(find_predictor_file()))
    resnet = dlib.face_recognition_model_v1(str(find_dlib_model_file()))
    distances: dict[str, list[float]] = {column: [] for column in COLUMNS}
    worst = {column: ("", 0.0) for column in COLUMNS}
    unmatched = dict.fromkeys(COLUMNS, 0)
    point_error, chip_error = 0.0, 0
    ours_ms, theirs_ms = [], []
    dlib_faces = 0
    for path in _photos():
        rgb = load_image(path)
        found = {detector: engine.detect(rgb) for detector, engine in engines.items()}
        for rect in hog(rgb, HOG_UPSAMPLE):
            dlib_faces += 1
            corners = (rect.left(), rect.top(), rect.right(), rect.bottom())
            shape = theirs(rgb, rect)
            reference = np.array(resnet.compute_face_descriptor(rgb, shape))
            points = np.array([[p.x, p.y] for p in shape.parts()], dtype=float)
            point_error = max(point_error, float(np.abs(ours(rgb, corners) - points).max()))
            chip = dlib.get_face_chip(rgb, shape, size=150, padding=0.25)
            ported_chip = extract_chip(rgb, face_chip_details(points))
            chip_error = max(chip_error, int(np.abs(ported_chip.astype(int) - chip).max()))
            ours_ms.append(_median_ms(lambda rgb=rgb, c=corners: ours(rgb, c), args.repeat))
            theirs_ms.append(_median_ms(lambda rgb=rgb, r=rect: theirs(rgb, r), args.repeat))
            hog_box = np.array(corners, dtype=float) + np.array([0, 0, 1, 1])  # inclusive corners to edges
            for column, (detector, box_map) in COLUMNS.items():
                overlaps = [_iou(np.array(d.box), hog_box) for d in found[detector]]
                if not overlaps or max(overlaps) < MIN_IOU:
                    unmatched[column] += 1
                    continue
                box = found[detector][int(np.argmax(overlaps))].box
                vector = engines[detector].embed_chips(align_face(rgb, box, detector=box_map)[None])[0]
                distance = float(np.linalg.norm(vector.astype(np.float64) - reference))
                distances[column].append(distance)
                if distance > worst[column][1]:
                    worst[column] = (str(path.relative_to(FACES_DIR)), distance)
    report = {
        "photos": len(_photos()),
        "dlib_faces": dlib_faces,
        "matched_faces": {column: len(values) for column, values in distances.items()},
        "unmatched_dlib_faces": unmatched,
        "webtube_vs_dlib_pipeline_distance": {column: _summary(values) for column, values in distances.items()},
        "worst_face": {column: {"photo": photo, "distance": round(distance, 4)}
                       for column, (photo, distance) in worst.items()},
        "same_box_landmark_max_px_error": point_error,
        "same_landmarks_chip_max_pixel_diff": chip_error,
        "landmarks_ms_per_face": {"port": round(statistics.median(ours_ms), 2),
                                  "dlib_cpp": round(statistics.median(theirs_ms), 2)},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
