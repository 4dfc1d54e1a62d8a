"""Face chips as dlib's own pipeline cuts them: MTCNN box -> dlib's box -> dlib's 5 landmarks -> dlib's chip.

Why: dlib's ResNet was trained on chips that dlib's 5-point predictor places, and that predictor
was trained on the boxes of dlib's HOG detector. MTCNN finds faces better and faster, so its box
is mapped to where HOG's box would be (a shift and a scale fitted on the test photos), then the
ported predictor (`dlib_landmarks`) and chip cutter (`dlib_chips`) do exactly what dlib does.
The optional FaceNet embedder gets the same chip at its own size (160 px).
"""

from __future__ import annotations

import numpy as np

from core.faces.dlib_chips import extract_chip, face_chip_details
from core.faces.dlib_landmarks import default_shape_predictor

# MTCNN box -> dlib HOG box, in units of the MTCNN box's mean side ((width + height) / 2): the HOG box's centre
# lies BOX_SHIFT_X to the right of and BOX_SHIFT_Y below the MTCNN box's centre, and its side is BOX_SCALE
# times the mean side. Fitted by `python -m bench.fit_dlib_box` (least squares) on the 23 faces of
# tests/data/faces people/ and groups/ that both detectors find (dlib's frontal HOG detector, upsampled
# once). HOG's boxes come in discrete sizes, so 5 to 7.5% of the HOG box's side is left as spread in
# position and size whichever unit is used; with the mean side, those faces' embeddings lay closest to
# dlib's own on average (0.061, against 0.062 with the height and 0.065 with the width as the unit).
BOX_SHIFT_X = -0.0045
BOX_SHIFT_Y = 0.0683
BOX_SCALE = 0.9413


def dlib_box(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The (left, top, right, bottom) rectangle dlib's HOG detector would give for an MTCNN (x1, y1, x2, y2) box."""
    x1, y1, x2, y2 = box
    side = ((x2 - x1) + (y2 - y1)) / 2
    centre_x = (x1 + x2) / 2 + BOX_SHIFT_X * side
    centre_y = (y1 + y2) / 2 + BOX_SHIFT_Y * side
    half = (BOX_SCALE * side - 1) / 2  # dlib's rectangles count both end pixels
    return centre_x - half, centre_y - half, centre_x + half, centre_y + half


def dlib_landmarks(rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """dlib's five points (image-right eye's outer and inner corners, image-left eye's, nose) for an MTCNN box."""
    return default_shape_predictor()(rgb, dlib_box(box))


def align_face(rgb: np.ndarray, box: tuple[float, float, float, float], size: int = 150) -> np.ndarray:
    """The `size`x`size` RGB chip dlib would cut (padding 0.25) for the face in an MTCNN box."""
    return extract_chip(rgb, face_chip_details(dlib_landmarks(rgb, box), size))
