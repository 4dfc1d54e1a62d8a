"""Fast MTCNN cascade (P-Net pyramid, R-Net, O-Net) on facenet-pytorch's pretrained networks.

Why our own cascade: facenet-pytorch's `MTCNN.detect` resizes every candidate crop with its own
`adaptive_avg_pool2d` call and runs P-Net in NCHW, which costs ~90 ms per 640x480 frame on a small
CPU. Here one summed-area table of the frame serves every resize: a pyramid level or a batch of
crops is a few gathers plus a divide, with exactly the window arithmetic of PyTorch's 'area'
interpolation, so the networks see the same pixels as in facenet-pytorch and give the same faces.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from facenet_pytorch.models.mtcnn import ONet, PNet, RNet
from torchvision.ops import batched_nms, nms

_PNET_STRIDE = 2
_PNET_CELL = 12
_NMS_PER_LEVEL = 0.5
_NMS_PYRAMID = 0.7
_NMS_RNET = 0.7
_NMS_FINAL_MIN = 0.7
_RNET_SIZE = 24
_ONET_SIZE = 48


@dataclass(frozen=True)
class CascadeResult:
    """Faces of one image, best first."""

    boxes: np.ndarray  # (N, 4) float32 x1, y1, x2, y2 in input pixels
    scores: np.ndarray  # (N,) float32 O-Net face probability
    landmarks: np.ndarray  # (N, 5, 2) float32 left eye, right eye, nose, mouth left, mouth right (x, y)


def _empty_result() -> CascadeResult:
    return CascadeResult(
        boxes=np.zeros((0, 4), np.float32),
        scores=np.zeros((0,), np.float32),
        landmarks=np.zeros((0, 5, 2), np.float32),
    )


def _area_windows(start: torch.Tensor, length: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-output-pixel [lo, hi) source windows of PyTorch's 'area' resize (adaptive average pooling).

    `start`/`length` are (N,) integer spans in the source; returns two (N, size) index tensors.
    """
    i = torch.arange(size, device=start.device)
    lo = start[:, None] + (i * length[:, None]) // size
    hi = start[:, None] + ((i + 1) * length[:, None] + size - 1) // size
    return lo, hi


class _SummedArea:
    """Summed-area table of one RGB frame; area-resampled patches come out as float32 (N, 3, h, w)."""

    def __init__(self, rgb: np.ndarray, device: torch.device) -> None:
        height, width = rgb.shape[:2]
        # int32 sums are exact while the whole frame sums below 2**31; float64 is exact far beyond.
        depth = cv2.CV_32S if height * width * 255 < 2**31 else cv2.CV_64F
        table = torch.from_numpy(cv2.integral(rgb, sdepth=depth)).to(device)
        self.height, self.width = height, width
        self.table = table  # (H+1, W+1, 3)
        self.flat = table.view(-1, 3)

    def resize_frame(self, out_h: int, out_w: int) -> torch.Tensor:
        """The whole frame at (out_h, out_w): separable, so a big level costs two row/column gathers."""
        device = self.table.device
        zero = torch.zeros(1, dtype=torch.long, device=device)
        r0, r1 = _area_windows(zero, torch.full_like(zero, self.height), out_h)
        c0, c1 = _area_windows(zero, torch.full_like(zero, self.width), out_w)
        rows = self.table[r1[0]] - self.table[r0[0]]  # (out_h, W+1, 3)
        sums = (rows[:, c1[0]] - rows[:, c0[0]]).to(torch.float32)  # (out_h, out_w, 3)
        area = ((r1 - r0)[0, :, None] * (c1 - c0)[0, None, :]).to(torch.float32)
        return (sums / area[:, :, None]).permute(2, 0, 1).unsqueeze(0)

    def resize_crops(self, x0: torch.Tensor, y0: torch.Tensor, x1: torch.Tensor, y1: torch.Tensor, size: int) -> torch.Tensor:
        """Crops [y0, y1) x [x0, x1) (integer, inside the frame) each resized to size x size."""
        r0, r1 = _area_windows(y0, y1 - y0, size)
        c0, c1 = _area_windows(x0, x1 - x0, size)
        stride = self.width + 1
        r0, r1 = (r0 * stride)[:, :, None], (r1 * stride)[:, :, None]
        c0, c1 = c0[:, None, :], c1[:, None, :]
        flat = self.flat
        sums = flat[r1 + c1] - flat[r0 + c1] - flat[r1 + c0] + flat[r0 + c0]  # (N, size, size, 3)
        area = (r1 - r0) // stride * (c1 - c0)
        return (sums.to(torch.float32) / area[..., None].to(torch.float32)).permute(0, 3, 1, 2)


def _square(boxes: torch.Tensor) -> torch.Tensor:
    """Grow each box to a square around its centre: R-Net and O-Net were trained on square crops."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = torch.maximum(w, h)
    x1 = boxes[:, 0] + (w - side) * 0.5
    y1 = boxes[:, 1] + (h - side) * 0.5
    return torch.stack([x1, y1, x1 + side, y1 + side], dim=1)


def _refine(boxes: torch.Tensor, reg: torch.Tensor) -> torch.Tensor:
    """Apply R-Net/O-Net box regression (offsets relative to the inclusive box size)."""
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    return boxes + reg * torch.stack([w, h, w, h], dim=1)


def _nms_min(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy NMS where overlap is intersection over the smaller box: drops a box nested in a better one.

    Exact score ties (common, the softmax saturates near 1) go the way facenet-pytorch's argsort sends them.
    """
    order = np.argsort(scores)[::-1]
    b = boxes[order].astype(np.float64)
    area = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    iw = np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0]) + 1
    ih = np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1]) + 1
    overlap = np.clip(iw, 0, None) * np.clip(ih, 0, None) / np.minimum(area[:, None], area[None, :])
    alive = np.ones(len(b), dtype=bool)
    for i in range(len(b)):
        if alive[i]:
            alive[i + 1 :] &= overlap[i, i + 1 :] <= threshold
    return order[alive]


class MtcnnCascade:
    """MTCNN face detector: same networks and thresholds as facenet-pytorch's `MTCNN`, several times faster."""

    def __init__(
        self,
        device: torch.device | str = "cpu",
        min_face_size: int = 40,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
        factor: float = 0.709,
    ) -> None:
        self.device = torch.device(device)
        self.min_face_size = min_face_size
        self.thresholds = thresholds
        self.factor = factor
        self.pnet = PNet(pretrained=True).eval().to(self.device, memory_format=torch.channels_last)
        self.rnet = RNet(pretrained=True).eval().to(self.device)
        self.onet = ONet(pretrained=True).eval().to(self.device)

    def _scales(self, height: int, width: int) -> list[float]:
        """Pyramid scales: the smallest face maps to P-Net's 12 px cell, down to a 12 px short side."""
        scale = 12.0 / self.min_face_size
        short = min(height, width) * scale
        scales = []
        while short >= 12:
            scales.append(scale)
            scale *= self.factor
            short *= self.factor
        return scales

    def _pnet_candidates(self, frame: _SummedArea) -> torch.Tensor:
        """Stage 1: P-Net on every pyramid level; returns (N, 9) boxes x1,y1,x2,y2, score, 4 offsets."""
        found, levels = [], []
        for level, scale in enumerate(self._scales(frame.height, frame.width)):
            image = frame.resize_frame(int(frame.height * scale + 1), int(frame.width * scale + 1))
            reg, prob = self.pnet((image - 127.5) * 0.0078125)
            face = prob[0, 1]
            ys, xs = torch.nonzero(face >= self.thresholds[0], as_tuple=True)
            if len(ys) == 0:
                continue
            cells = torch.stack([xs, ys], dim=1).to(torch.float32) * _PNET_STRIDE
            q1 = torch.floor((cells + 1) / scale)
            q2 = torch.floor((cells + _PNET_CELL) / scale)
            found.append(torch.cat([q1, q2, face[ys, xs, None], reg[0, :, ys, xs].T], dim=1))
            levels.append(torch.full((len(ys),), level, device=self.device))
        if not found:
            return torch.zeros((0, 9), device=self.device)
        boxes = torch.cat(found)
        boxes = boxes[batched_nms(boxes[:, :4], boxes[:, 4], torch.cat(levels), _NMS_PER_LEVEL)]
        return boxes[nms(boxes[:, :4], boxes[:, 4], _NMS_PYRAMID)]

    def _crops(self, frame: _SummedArea, boxes: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised size x size crops of the boxes clipped to the frame, and the mask of boxes kept."""
        x0 = boxes[:, 0].trunc().long().clamp(min=1) - 1
        y0 = boxes[:, 1].trunc().long().clamp(min=1) - 1
        x1 = boxes[:, 2].trunc().long().clamp(max=frame.width)
        y1 = boxes[:, 3].trunc().long().clamp(max=frame.height)
        keep = (x1 > x0) & (y1 > y0)
        crops = frame.resize_crops(x0[keep], y0[keep], x1[keep], y1[keep], size)
        return (crops - 127.5) * 0.0078125, keep

    @torch.inference_mode()
    def detect(self, rgb: np.ndarray) -> CascadeResult:
        """Faces in an HxWx3 uint8 RGB image, best score first (N may be 0)."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB image, got {rgb.dtype} {rgb.shape}")
        frame = _SummedArea(np.ascontiguousarray(rgb), self.device)

        cand = self._pnet_candidates(frame)
        if len(cand) == 0:
            return _empty_result()
        w = cand[:, 2] - cand[:, 0]
        h = cand[:, 3] - cand[:, 1]
        boxes = _square(cand[:, :4] + cand[:, 5:9] * torch.stack([w, h, w, h], dim=1))

        crops, keep = self._crops(frame, boxes, _RNET_SIZE)
        boxes = boxes[keep]
        reg, prob = self.rnet(crops)
        passed = prob[:, 1] > self.thresholds[1]
        boxes, reg, score = boxes[passed], reg[passed], prob[passed, 1]
        pick = nms(boxes, score, _NMS_RNET)
        boxes = _square(_refine(boxes[pick], reg[pick]))
        if len(boxes) == 0:
            return _empty_result()

        crops, keep = self._crops(frame, boxes, _ONET_SIZE)
        boxes = boxes[keep]
        reg, points, prob = self.onet(crops)
        passed = prob[:, 1] > self.thresholds[2]
        boxes, reg, points, score = boxes[passed], reg[passed], points[passed], prob[passed, 1]
        size = (boxes[:, 2:4] - boxes[:, 0:2] + 1)[:, None, :]
        marks = torch.stack([points[:, :5], points[:, 5:]], dim=2) * size + boxes[:, None, 0:2] - 1
        boxes = _refine(boxes, reg)

        boxes_np = boxes.cpu().numpy().astype(np.float32)
        score_np = score.cpu().numpy().astype(np.float32)
        pick = _nms_min(boxes_np, score_np, _NMS_FINAL_MIN)
        return CascadeResult(
            boxes=np.ascontiguousarray(boxes_np[pick]),
            scores=np.ascontiguousarray(score_np[pick]),
            landmarks=np.ascontiguousarray(marks.cpu().numpy().astype(np.float32)[pick]),
        )
