"""Refit the 5-point alignment template so MTCNN landmarks give the chips dlib's ResNet was trained on.

Why: the embedder expects dlib's chips (`get_face_chip_details(shape, 150, 0.25)` on dlib's own
5-point landmarks), but the app finds faces with MTCNN. For every face both find, this maps
MTCNN's five landmarks into dlib's chip frame; their mean is the template that a similarity
transform from MTCNN landmarks should hit. Prints JSON: template, per-point std, faces used.

Run from the project root: `.venv/bin/python -m bench.fit_template`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import dlib
import numpy as np
from facenet_pytorch import MTCNN

from core.faces.dlib_resnet import find_dlib_model_file
from core.faces.images import load_image

FACES_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "faces"
CHIP_SIZE = 150
PADDING = 0.25
MIN_SCORE = 0.9
MIN_IOU = 0.3
POINTS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")  # MTCNN's order, image left/right
START = [[45.73, 45.19], [100.60, 45.42], [72.67, 78.02], [46.95, 103.34], [99.50, 103.17]]


def chip_transform(details: dlib.chip_details) -> np.ndarray:
    """dlib's get_mapping_to_chip: the 2x3 affine map that takes image points into chip pixels."""
    r = details.rect
    center = np.array([(r.left() + r.right()) / 2, (r.top() + r.bottom()) / 2])
    cos, sin = np.cos(details.angle), np.sin(details.angle)
    rotation = np.array([[cos, -sin], [sin, cos]])
    corners = np.array([[r.left(), r.top()], [r.right(), r.top()], [r.right(), r.bottom()]])
    source = (corners - center) @ rotation.T + center
    target = np.array([[0, 0], [details.cols - 1, 0], [details.cols - 1, details.rows - 1]], dtype=float)
    affine = np.linalg.solve(np.c_[source, np.ones(3)], target)  # 3 points fix an affine map exactly
    return affine.T


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Overlap of two x1, y1, x2, y2 boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def mtcnn_faces(mtcnn: MTCNN, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N, 4) and landmarks (N, 5, 2) above MIN_SCORE, as float (numpy 2 may give object arrays)."""
    boxes, probs, points = mtcnn.detect(image, landmarks=True)
    if boxes is None:
        return np.zeros((0, 4)), np.zeros((0, 5, 2))
    keep = np.asarray(probs, dtype=float) >= MIN_SCORE
    return np.asarray(boxes, dtype=float)[keep], np.asarray(points, dtype=float)[keep]


def faces_in_chip_frame(image: np.ndarray, mtcnn: MTCNN, detector, predictor) -> list[np.ndarray]:
    """MTCNN landmarks of each face dlib also finds, mapped into dlib's chip for that face."""
    boxes, points = mtcnn_faces(mtcnn, image)
    found = []
    for rect in detector(image, 1):
        dlib_box = np.array([rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1], dtype=float)
        overlaps = [iou(dlib_box, box) for box in boxes]
        if not overlaps or max(overlaps) < MIN_IOU:
            continue
        details = dlib.get_face_chip_details(predictor(image, rect), size=CHIP_SIZE, padding=PADDING)
        landmarks = points[int(np.argmax(overlaps))]
        found.append(np.c_[landmarks, np.ones(5)] @ chip_transform(details).T)
    return found


def main() -> None:
    predictor = dlib.shape_predictor(str(find_dlib_model_file().with_name("shape_predictor_5_face_landmarks.dat")))
    detector = dlib.get_frontal_face_detector()
    mtcnn = MTCNN(keep_all=True, device="cpu")
    images = sorted((FACES_DIR / "people").glob("*/*")) + sorted((FACES_DIR / "groups").glob("*"))
    faces = []
    for path in images:
        found = faces_in_chip_frame(load_image(path), mtcnn, detector, predictor)
        print(f"{path.relative_to(FACES_DIR)}: {len(found)} face(s)", file=sys.stderr)
        faces += found
    if not faces:
        raise SystemExit(f"no face found by both detectors under {FACES_DIR}")
    stack = np.stack(faces)
    mean, std = stack.mean(axis=0), stack.std(axis=0)
    report = {
        "chip_size": CHIP_SIZE,
        "padding": PADDING,
        "faces": len(faces),
        "template": {name: [round(float(x), 2), round(float(y), 2)] for name, (x, y) in zip(POINTS, mean, strict=True)},
        "std": {name: [round(float(x), 2), round(float(y), 2)] for name, (x, y) in zip(POINTS, std, strict=True)},
        "shift_from_start_px": {
            name: round(float(np.hypot(*(m - s))), 2) for name, m, s in zip(POINTS, mean, np.array(START), strict=True)
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
