"""Face chips as dlib's own pipeline cuts them: detector's box -> dlib's box -> dlib's 5 landmarks -> dlib's chip.

Why: dlib's ResNet was trained on chips that dlib's 5-point predictor places, and that predictor
was trained on the boxes of dlib's HOG detector. MTCNN (or YuNet) finds faces better and faster, so
its box is mapped to where HOG's box would be (a shift and a scale fitted per detector on the test
photos), then the ported predictor (`dlib_landmarks`) and chip cutter (`dlib_chips`) do exactly what dlib does.
The optional FaceNet embedder gets the same chip at its own size (160 px).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.faces.dlib_chips import extract_chip, face_chip_details
from core.faces.dlib_landmarks import default_shape_predictor


@dataclass(frozen=True)
class BoxMap:
    """Where dlib's HOG box lies relative to a detector's box, in units of that box's mean side ((w + h) / 2):
    its centre `shift_x` to the right and `shift_y` below the detector box's centre, its side `scale` times."""

    shift_x: float
    shift_y: float
    scale: float


# Fitted by `python -m bench.fit_dlib_box` (least squares) on the 23 faces of tests/data/faces people/ and groups/
# that each detector and dlib's frontal HOG detector (upsampled once) both find; each detector draws its box its
# own way, so each has its own map. HOG's boxes come in discrete sizes, so 4 to 7.5% of the HOG box's side is
# left as spread in position and size whichever unit is used; with the mean side, MTCNN's faces' embeddings lay
# closest to dlib's own on average (0.061, against 0.062 with the height and 0.065 with the width as the unit).
BOX_MAPS = {
    "mtcnn": BoxMap(shift_x=-0.0045, shift_y=0.0683, scale=0.9413),
    "yunet": BoxMap(shift_x=0.0051, shift_y=0.0633, scale=0.9411),
}


def dlib_box(box: tuple[float, float, float, float], detector: str = "mtcnn") -> tuple[float, float, float, float]:
    """The (left, top, right, bottom) rectangle dlib's HOG detector would give for a detector's (x1, y1, x2, y2) box."""
    mapping = BOX_MAPS[detector]
    x1, y1, x2, y2 = box
    side = ((x2 - x1) + (y2 - y1)) / 2
    centre_x = (x1 + x2) / 2 + mapping.shift_x * side
    centre_y = (y1 + y2) / 2 + mapping.shift_y * side
    half = (mapping.scale * side - 1) / 2  # dlib's rectangles count both end pixels
    return centre_x - half, centre_y - half, centre_x + half, centre_y + half


def dlib_landmarks(rgb: np.ndarray, box: tuple[float, float, float, float], detector: str = "mtcnn") -> np.ndarray:
    """dlib's five points (image-right eye's outer and inner corners, image-left eye's, nose) for a detector's box."""
    return default_shape_predictor()(rgb, dlib_box(box, detector))


def align_face(
    rgb: np.ndarray, box: tuple[float, float, float, float], size: int = 150, detector: str = "mtcnn"
) -> np.ndarray:
    """The `size`x`size` RGB chip dlib would cut (padding 0.25) for the face in a detector's box."""
    return extract_chip(rgb, face_chip_details(dlib_landmarks(rgb, box, detector), size))
