"""Fit the map from MTCNN's box to the box dlib's HOG detector gives, which dlib's 5-point predictor expects.

Why: the predictor was trained on HOG boxes, so its points (and dlib's chips) depend on where the
box is. For every face of tests/data/faces people/ and groups/ that both detectors find, this takes
the HOG box's centre offset from the MTCNN box's centre and its side, in units of the MTCNN box's
height, width or their mean; the means are the least-squares shift and scale. Prints JSON with
each choice of unit and its residual (the spread, in units of the HOG box), so the choice in
`core/faces/alignment.py` can be checked. Only the project's own photos are used: LFW and the other
public sets stay held out for independent evaluation.

Run from the project root: `.venv/bin/python -m bench.fit_dlib_box`.
"""

from __future__ import annotations

import json
import sys

import dlib
import numpy as np

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


def box_pairs() -> list[tuple[np.ndarray, np.ndarray]]:
    """(MTCNN x1, y1, x2, y2; HOG left, top, right, bottom) for every face both detectors find."""
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
        print(f"{path.relative_to(FACES_DIR)}: {len(pairs)} faces so far", file=sys.stderr)
    return pairs


def fit(pairs: list[tuple[np.ndarray, np.ndarray]], unit: str) -> dict:
    """Least-squares shift and scale in the given unit of the MTCNN box, and their residual spread."""
    rows = []
    for mtcnn, hog in pairs:
        width, height = mtcnn[2] - mtcnn[0], mtcnn[3] - mtcnn[1]
        size = {"height": height, "width": width, "mean_side": (width + height) / 2}[unit]
        shift = ((hog[:2] + hog[2:]) / 2 - (mtcnn[:2] + mtcnn[2:]) / 2) / size
        rows.append([*shift, (hog[2] - hog[0] + 1) / size])
    table = np.array(rows)
    mean, spread = table.mean(axis=0), table.std(axis=0) / table[:, 2].mean()
    return {
        "shift_x": round(float(mean[0]), 4), "shift_y": round(float(mean[1]), 4), "scale": round(float(mean[2]), 4),
        "residual_in_hog_box": {"x": round(float(spread[0]), 4), "y": round(float(spread[1]), 4),
                                "side": round(float(spread[2]), 4)},
    }


def main() -> None:
    pairs = box_pairs()
    if not pairs:
        raise SystemExit(f"no face found by both detectors under {FACES_DIR}")
    report = {"faces": len(pairs), "hog_upsample": HOG_UPSAMPLE,
              "fits": {unit: fit(pairs, unit) for unit in ("height", "width", "mean_side")}}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
