"""Quality verdict per face: can it be trusted for enrolment and sign-in, and if not, why.

Albums keep every face and show the verdict; enrolment and sign-in refuse faces that fail it,
because a blurred, tiny, cut or turned face gives an embedding far from the person's own.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.faces.types import Detection, Quality

MIN_FACE_WIDTH_PX = 60
MIN_SCORE = 0.9
# variance of the Laplacian inside the chip: sharp test photos score 80 to 2300, blurred (sigma 2) under 16
MIN_SHARPNESS = 25.0
MAX_ABS_YAW = 0.6
EDGE_TOLERANCE = 0.04  # share of the box allowed outside the image before it counts as cut


def head_yaw(landmarks: np.ndarray) -> float:
    """Signed head turn from five landmarks: nose offset from the eyes' midpoint along the eye line.

    0 is frontal; +1 puts the nose over the eye on the image's right (the person turned to their
    own left, as the camera sees them unmirrored), -1 over the eye on the image's left. Roll does
    not change it, because the offset is measured along the eye axis.
    """
    left_eye, right_eye, nose = landmarks[0], landmarks[1], landmarks[2]
    axis = right_eye - left_eye
    half_span = float(np.linalg.norm(axis)) / 2.0
    if half_span < 1e-6:
        return 0.0
    offset = float(np.dot(nose - (left_eye + right_eye) / 2.0, axis / (2.0 * half_span)))
    return float(np.clip(offset / half_span, -1.5, 1.5))


def sharpness(chip: np.ndarray) -> float:
    """Variance of the Laplacian over the chip's centre (the face, not the background)."""
    size = chip.shape[0]
    margin = size * 2 // 15
    grey = cv2.cvtColor(chip[margin : size - margin, margin : size - margin], cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def _cut_by_edge(detection: Detection, image_shape: tuple[int, ...]) -> bool:
    height, width = image_shape[:2]
    x1, y1, x2, y2 = detection.box
    slack_x, slack_y = EDGE_TOLERANCE * detection.width, EDGE_TOLERANCE * detection.height
    box_out = x1 < -slack_x or y1 < -slack_y or x2 > width + slack_x or y2 > height + slack_y
    points = detection.landmarks
    points_out = bool((points < 0).any() or (points[:, 0] >= width).any() or (points[:, 1] >= height).any())
    return box_out or points_out


def assess(detection: Detection, chip: np.ndarray, image_shape: tuple[int, ...], dark_level: float = 40.0) -> Quality:
    """Judge one face; every failed check adds a reason a person can act on."""
    reasons: list[str] = []
    if detection.width < MIN_FACE_WIDTH_PX:
        reasons.append(f"too small ({detection.width:.0f}px wide, needs {MIN_FACE_WIDTH_PX}px): come closer")
    if _cut_by_edge(detection, image_shape):
        reasons.append("cut by the image edge: move into the frame")
    if detection.score < MIN_SCORE:
        reasons.append(f"low detection score ({detection.score:.2f})")
    sharp = sharpness(chip)
    if sharp < MIN_SHARPNESS:
        reasons.append("blurred: hold still or add light")
    if float(chip.mean()) < dark_level:
        reasons.append("too dark: add light")
    yaw = head_yaw(detection.landmarks)
    if abs(yaw) > MAX_ABS_YAW:
        reasons.append("head turned too far: look at the camera")
    return Quality(ok=not reasons, reasons=tuple(reasons), sharpness=sharp, yaw=yaw)
