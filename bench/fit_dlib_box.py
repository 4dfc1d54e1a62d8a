"""Fit the map from each detector's box (MTCNN, YuNet) to the box dlib's HOG detector gives, which dlib's
5-point predictor expects.

Why: the predictor was trained on HOG boxes, so its points (and dlib's chips) depend on where the
box is, and MTCNN and YuNet draw their boxes differently. For every face of tests/data/faces people/
and groups/ that both detectors find, this takes the HOG box's centre offset from the detector box's
centre and its side, in units of the detector box's height, width or their mean; the means are the
least-squares shift and scale. Prints JSON per detector with each choice of unit and its residual
(the spread, in units of the HOG box), so the constants in `core/faces/alignment.py` can be checked.
Only the project's own photos are used: LFW and the other public sets stay held out for independent
evaluation.

Run from the project root: `.venv/bin/python -m bench.fit_dlib_box [--detector mtcnn|yunet ...]`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import dlib
import numpy as np

from core.config import get_settings
from core.faces.engine import get_engine
from core.faces.images import load_image
from tests.support.paths import FACES_DIR

HOG_UPSAMPLE = 1  # as face_recognition (dlib's own Python pipeline) runs it by default
MIN_IOU = 0.3


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Overlap of two x1, y1, x2, y2 boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


def box_pairs(detector: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(detector's x1, y1, x2, y2; HOG left, top, right, bottom) for every face both detectors find."""
    os.environ["WEBTUBE_DETECTOR"] = detector
    get_settings.cache_clear()
    engine, hog = get_engine(), dlib.get_frontal_face_detector()
    pairs = []
    for path in sorted((FACES_DIR / "people").glob("*/*")) + sorted((FACES_DIR / "groups").glob("*")):
        rgb = load_image(path)
        boxes = [np.array(d.box) for d in engine.detect(rgb)]
        for rect in hog(rgb, HOG_UPSAMPLE):
            hog_box = np.array([rect.left(), rect.top(), rect.right(), rect.bottom()], dtype=float)
            overlaps = [iou(box, hog_box + np.array([0, 0, 1, 1])) for box in boxes]  # inclusive corners to edges
            if overlaps and max(overlaps) >= MIN_IOU:
                pairs.append((boxes[int(np.argmax(overlaps))], hog_box))
        print(f"{detector} {path.relative_to(FACES_DIR)}: {len(pairs)} faces so far", file=sys.stderr)
    return pairs


def fit(pairs: list[tuple[np.ndarray, np.ndarray]], unit: str) -> dict:
    """Least-squares shift and scale in the given unit of the detector's box, and their residual spread."""
    rows = []
    for box, hog in pairs:
        width, height = box[2] - box[0], box[3] - box[1]
        size = {"height": height, "width": width, "mean_side": (width + height) / 2}[unit]
        shift = ((hog[:2] + hog[2:]) / 2 - (box[:2] + box[2:]) / 2) / size
        rows.append([*shift, (hog[2] - hog[0] + 1) / size])
    table = np.array(rows)
    mean, spread = table.mean(axis=0), table.std(axis=0) / table[:, 2].mean()
    return {
        "shift_x": round(float(mean[0]), 4), "shift_y": round(float(mean[1]), 4), "scale": round(float(mean[2]), 4),
        "residual_in_hog_box": {"x": round(float(spread[0]), 4), "y": round(float(spread[1]), 4),
                                "side": round(float(spread[2]), 4)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", action="append", choices=("mtcnn", "yunet"), dest="detectors")
    detectors = parser.parse_args().detectors or ["mtcnn", "yunet"]
    report: dict = {"hog_upsample": HOG_UPSAMPLE}
    for detector in detectors:
        pairs = box_pairs(detector)
        if not pairs:
            raise SystemExit(f"no face found by both {detector} and HOG under {FACES_DIR}")
        report[detector] = {"faces": len(pairs),
                            "fits": {unit: fit(pairs, unit) for unit in ("height", "width", "mean_side")}}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
