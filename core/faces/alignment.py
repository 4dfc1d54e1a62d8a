"""Five-point alignment: a similarity transform of the detector's landmarks onto a fixed template.

Why a template: dlib's ResNet was trained on chips cut by dlib's own aligner (150x150, padding
0.25). Mapping MTCNN's five points onto where those points sit in dlib's chips gives the
embedder the crops it expects without running dlib's landmark model. The template is the mean
position of MTCNN's points inside dlib's chips, refitted by `bench/fit_template.py`.
"""

from __future__ import annotations

import cv2
import numpy as np

TEMPLATE_SIZE = 150
# left eye, right eye, nose, left mouth corner, right mouth corner (image left/right), chip pixels at 150x150.
# Refitted by `python -m bench.fit_template`: the mean of MTCNN's points mapped into dlib's own chips
# (dlib's 5-point predictor, get_face_chip_details(size=150, padding=0.25)) over the 23 faces of
# shared/faces people/ and groups/ that both detectors find. The first guess, fitted on 29 faces,
# differed by 0.7 to 2.2 px per point.
TEMPLATE_150 = np.array(
    [[47.22, 45.02], [101.57, 45.52], [74.46, 77.80], [49.09, 103.66], [99.51, 103.87]],
    dtype=np.float64,
)


def template_for(size: int) -> np.ndarray:
    """The template scaled to a chip of `size` pixels (the optional embedder wants 160)."""
    return TEMPLATE_150 * (size / TEMPLATE_SIZE)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares rotation, uniform scale and shift taking `src` points onto `dst` (Umeyama, 1991).

    Returns the 2x3 matrix for cv2.warpAffine. Closed form, so it is deterministic, unlike RANSAC.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1.0
    rotation = u @ sign @ vt
    src_var = (src_c**2).sum() / len(src)
    scale = float(np.trace(np.diag(singular) @ sign) / src_var) if src_var > 0 else 1.0
    shift = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, shift[:, None]])


def align_face(rgb: np.ndarray, landmarks: np.ndarray, size: int = TEMPLATE_SIZE) -> np.ndarray:
    """Cut the aligned `size`x`size` RGB chip for one face.

    When the face is much larger than the chip, the region is first shrunk with area averaging,
    as dlib does with its pyramid, so the chip is not aliased.
    """
    matrix = similarity_transform(landmarks, template_for(size))
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale < 0.5:
        rgb, matrix = _shrink_region(rgb, matrix, size, scale)
    return cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _shrink_region(rgb: np.ndarray, matrix: np.ndarray, size: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Crop the chip's footprint from the image and downsample it to twice the chip's scale."""
    inverse = cv2.invertAffineTransform(matrix)
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], dtype=np.float64)
    footprint = corners @ inverse.T
    height, width = rgb.shape[:2]
    x0 = int(np.clip(np.floor(footprint[:, 0].min()) - 2, 0, width - 1))
    y0 = int(np.clip(np.floor(footprint[:, 1].min()) - 2, 0, height - 1))
    x1 = int(np.clip(np.ceil(footprint[:, 0].max()) + 2, x0 + 1, width))
    y1 = int(np.clip(np.ceil(footprint[:, 1].max()) + 2, y0 + 1, height))
    factor = min(1.0, 2.0 * scale)
    region = rgb[y0:y1, x0:x1]
    small = cv2.resize(region, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    fx = small.shape[1] / region.shape[1]
    fy = small.shape[0] / region.shape[0]
    to_region = np.array([[1.0 / fx, 0, x0], [0, 1.0 / fy, y0], [0, 0, 1]])
    return small, matrix @ to_region
