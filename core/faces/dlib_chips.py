"""Face chips cut exactly as dlib's `get_face_chip` cuts them, in numpy.

Why exact: dlib's ResNet was trained on these chips, so any other crop (another interpolation,
another reference shape, a few pixels of shift) moves embeddings. The steps follow dlib 20
(image_transforms/interpolation.h and image_pyramid.h):

- `face_chip_details`: a least-squares similarity from dlib's five reference points (their place
  in a 68-point mean face, padded) to the detected points gives the chip's angle and a rectangle
  in the image;
- `extract_chip`: when that rectangle is far larger than the chip, the region is first shrunk by
  dlib's 2:1 pyramid (a 5-tap binomial filter in integers), so bilinear sampling is not aliased;
  then every chip pixel is bilinearly sampled (truncated to uint8, black outside the image).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# dlib's five reference points in a unit face (image-right eye outer and inner corner, image-left eye
# outer and inner corner, bottom of the nose), from the 68-point mean shape of get_face_chip_details.
REFERENCE_5 = np.array(
    [[0.8595674595992, 0.2134981538014], [0.6460604764104, 0.2289674387677], [0.1205750620789, 0.2137274526848],
     [0.3340850613712, 0.2290642403242], [0.4901123135679, 0.6277975316475]],
    dtype=np.float64,
)
DEFAULT_PADDING = 0.25


def find_similarity_transform(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares rotation, uniform scale and shift taking `src` onto `dst` (Umeyama 1991), as dlib solves it.

    Returns (2x2 matrix, shift). Closed form, so deterministic; the reflection rule is dlib's.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    src_var = float((src_c**2).sum()) / len(src)
    cov = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    det = np.linalg.det(cov)
    if det < 0 or (det == 0 and np.linalg.det(u) * np.linalg.det(vt) < 0):
        sign[1 if singular[1] < singular[0] else 0] = -1.0
    rotation = (u * sign) @ vt
    scale = 1.0 / src_var * float((singular * sign).sum()) if src_var != 0 else 1.0
    matrix = scale * rotation
    return matrix, dst_mean - matrix @ src_mean


@dataclass(frozen=True)
class ChipDetails:
    """Where a chip lies in the image: dlib's `chip_details` (rectangle corners inclusive, angle in radians)."""

    rect: tuple[float, float, float, float]  # left, top, right, bottom
    angle: float
    rows: int
    cols: int


def face_chip_details(parts: np.ndarray, size: int = 150, padding: float = DEFAULT_PADDING) -> ChipDetails:
    """dlib's `get_face_chip_details` for a 5-point shape (points in dlib's order, as its predictor gives them)."""
    chip_points = (padding + REFERENCE_5) / (2 * padding + 1) * size
    matrix, shift = find_similarity_transform(chip_points, np.asarray(parts, dtype=np.float64))
    x_axis = matrix[:, 0]
    scale = float(np.hypot(*x_axis))
    centre = matrix @ np.array([size / 2.0, size / 2.0]) + shift
    half = (size * scale - 1) / 2
    rect = (centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half)
    return ChipDetails(rect=rect, angle=float(np.arctan2(x_axis[1], x_axis[0])), rows=size, cols=size)


def _area(rect: tuple[float, float, float, float]) -> float:
    """dlib's drectangle area: sides count both end pixels (right - left + 1)."""
    left, top, right, bottom = rect
    if top > bottom or left > right:
        return 0.0
    return (right - left + 1) * (bottom - top + 1)


def _rect_down(rect: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Where a rectangle lands one level down dlib's 2:1 pyramid (its point_down: p/2 - (1.25, 0.75))."""
    left, top, right, bottom = rect
    return left / 2 - 1.25, top / 2 - 0.75, right / 2 - 1.25, bottom / 2 - 0.75


def _rotated_corners(rect: tuple[float, float, float, float], angle: float) -> np.ndarray:
    """The rectangle's tl, tr, bl, br corners turned by `angle` about its centre."""
    left, top, right, bottom = rect
    centre = np.array([(left + right) / 2.0, (top + bottom) / 2.0])
    corners = np.array([[left, top], [right, top], [left, bottom], [right, bottom]]) - centre
    cos, sin = np.cos(angle), np.sin(angle)
    return np.stack([cos * corners[:, 0] - sin * corners[:, 1], sin * corners[:, 0] + cos * corners[:, 1]], 1) + centre


def _lround(value: float) -> int:
    """C's lround: halves go away from zero (Python's round goes to even)."""
    return int(np.copysign(np.floor(abs(value) + 0.5), value))


def pyramid_down(image: np.ndarray) -> np.ndarray:
    """One level of dlib's `pyramid_down<2>` on uint8: separable [1 4 6 4 1] filter, every other pixel, then /256.

    Sums are at most 16 * 16 * 255 = 65280, so uint16 holds them exactly (as dlib's own uint16 sums do).
    """
    rows, cols = image.shape[:2]
    if rows <= 8 or cols <= 8:
        return image[:0, :0]
    src = image.astype(np.uint16)
    span = 2 * ((cols - 3) // 2)
    horizontal = (src[:, 0:span:2] + 4 * src[:, 1 : span + 1 : 2] + 6 * src[:, 2 : span + 2 : 2]
                  + 4 * src[:, 3 : span + 3 : 2] + src[:, 4 : span + 4 : 2])
    span = 2 * ((rows - 3) // 2)
    vertical = (horizontal[0:span:2] + 4 * horizontal[1 : span + 1 : 2] + 6 * horizontal[2 : span + 2 : 2]
                + 4 * horizontal[3 : span + 3 : 2] + horizontal[4 : span + 4 : 2])
    return (vertical >> 8).astype(np.uint8)


def _bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dlib's interpolate_bilinear at each (x, y): a float64 blend truncated to uint8, black off the image."""
    rows, cols = image.shape[:2]
    left, top = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    inside = (left >= 0) & (top >= 0) & (left + 1 < cols) & (top + 1 < rows)
    lr = (x - left)[..., None]
    tb = (y - top)[..., None]
    left, top = np.where(inside, left, 0), np.where(inside, top, 0)
    source = image.astype(np.float64)
    if source.ndim == 2:
        source = source[..., None]
    tl, tr = source[top, left], source[top, left + 1]
    bl, br = source[top + 1, left], source[top + 1, left + 1]
    blend = (1 - tb) * ((1 - lr) * tl + lr * tr) + tb * ((1 - lr) * bl + lr * br)
    out = np.where(inside[..., None], blend, 0.0).astype(np.uint8)
    return out.reshape(x.shape + image.shape[2:])


def extract_chip(image: np.ndarray, details: ChipDetails) -> np.ndarray:
    """dlib's `extract_image_chip` with bilinear interpolation (the pyramid only when the region is much larger)."""
    height, width = image.shape[:2]
    size = details.rows * details.cols
    depth, grow = 0, 2.0
    rect = _rect_down(details.rect)
    while _area(rect) > size:
        rect = _rect_down(rect)
        depth += 1
        grow = grow * 2 + 2
    corners = _rotated_corners(details.rect, details.angle)
    box = [max(corners[:, 0].min() - grow, 0.0), max(corners[:, 1].min() - grow, 0.0),
           min(corners[:, 0].max() + grow, width - 1.0), min(corners[:, 1].max() + grow, height - 1.0)]
    x0, y0, x1, y1 = (_lround(v) for v in box)
    chip_shape = (details.rows, details.cols, *image.shape[2:])
    if x1 < x0 or y1 < y0:  # the chip lies wholly outside the image
        return np.zeros(chip_shape, dtype=np.uint8)
    levels = [image[y0 : y1 + 1, x0 : x1 + 1]]
    for _ in range(depth):
        levels.append(pyramid_down(levels[-1]))
    left, top, right, bottom = details.rect
    rect, level = (left - x0, top - y0, right - x0, bottom - y0), 0
    while _area(_rect_down(rect)) > size and level < depth:
        rect, level = _rect_down(rect), level + 1
    level_image = levels[level]
    if level_image.size == 0:  # dlib's pyramid gives an empty image below 9 pixels
        return np.zeros(chip_shape, dtype=np.uint8)
    tl, tr, bl, _ = _rotated_corners(rect, details.angle)
    # the affine map taking chip pixels (0,0), (cols-1,0), (0,rows-1) onto those corners
    along_x = (tr - tl) / max(details.cols - 1, 1)
    along_y = (bl - tl) / max(details.rows - 1, 1)
    cols, rows = np.meshgrid(np.arange(details.cols, dtype=np.float64), np.arange(details.rows, dtype=np.float64))
    x = along_x[0] * cols + along_y[0] * rows + tl[0]
    y = along_x[1] * cols + along_y[1] * rows + tl[1]
    return _bilinear(level_image, x, y).reshape(chip_shape)
