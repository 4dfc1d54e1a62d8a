"""Fast MTCNN cascade (P-Net pyramid, R-Net, O-Net) on facenet-pytorch's pretrained networks.

Why our own cascade: facenet-pytorch's `MTCNN.detect` resizes every candidate crop with its own
`adaptive_avg_pool2d` call and runs the networks in NCHW, ~90 ms per 640x480 frame on a 2-core CPU.
Here one summed-area table of the frame serves every resize: the whole pyramid, or all crops of a
stage, is a few batched gathers and one divide. The windows are exactly those of PyTorch's 'area'
interpolation, so the networks see the pixels facenet-pytorch feeds them and find the same faces;
cv2's INTER_AREA differs just enough to move boxes by tens of pixels and lose weak faces.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.faces.box_nms import batched_nms, nms
from core.faces.mtcnn_nets import ONet, PNet, RNet

_PNET_STRIDE = 2
_PNET_CELL = 12
_NMS_PER_LEVEL = 0.5
_NMS_PYRAMID = 0.7
_NMS_RNET = 0.7
_NMS_FINAL_MIN = 0.7
_RNET_SIZE = 24
_ONET_SIZE = 48
_PIXEL_MEAN = 127.5
_PIXEL_SCALE = 0.0078125  # 1/128: the networks were trained on (x - 127.5) / 128
_INT32_TABLE_MAX_PIXELS = (2**31 - 1) // 255  # beyond this a channel's total can overflow int32 (8.4 MP)


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
    """Source windows [lo, hi) of each output pixel in PyTorch's 'area' resize (adaptive average pooling).

    `start` and `length` are (N,) integer spans in the source; returns two (N, size) index tensors.
    """
    i = torch.arange(size, device=start.device)
    lo = start[:, None] + (i * length[:, None]) // size
    hi = start[:, None] + ((i + 1) * length[:, None] + size - 1) // size
    return lo, hi


@dataclass(frozen=True)
class _PyramidPlan:
    """Gather indices of one frame size's image pyramid: built once, reused while the frame size stays."""

    height: int
    width: int
    scales: tuple[float, ...]
    shapes: tuple[tuple[int, int], ...]
    rows_lo: torch.Tensor  # (sum h,) table rows bounding each output row
    rows_hi: torch.Tensor
    cols_lo: torch.Tensor  # (sum h*w,) flat indices into the stacked row differences
    cols_hi: torch.Tensor
    areas: torch.Tensor  # (sum h*w, 1) float32 window sizes

    @classmethod
    def build(cls, height: int, width: int, min_face_size: int, factor: float, device: torch.device) -> _PyramidPlan:
        """Scales map the smallest face to P-Net's 12 px cell and go down until the short side is 12 px."""
        scales, shapes = [], []
        scale = 12.0 / min_face_size
        short = min(height, width) * scale
        while short >= 12:
            scales.append(scale)
            shapes.append((int(height * scale + 1), int(width * scale + 1)))
            scale *= factor
            short *= factor
        zero = torch.zeros(1, dtype=torch.long, device=device)
        parts: list[list[torch.Tensor]] = [[], [], [], [], []]
        row_offset = 0
        for out_h, out_w in shapes:
            r0, r1 = _area_windows(zero, zero + height, out_h)
            c0, c1 = _area_windows(zero, zero + width, out_w)
            base = (row_offset + torch.arange(out_h, device=device))[:, None] * (width + 1)
            areas = (r1 - r0)[0, :, None] * (c1 - c0)
            for part, value in zip(parts, (r0[0], r1[0], base + c0, base + c1, areas), strict=True):
                part.append(value.reshape(-1))
            row_offset += out_h
        # int32 indices halve the plan's memory whenever they fit (any frame up to ~600 MP at min face 12)
        index_type = torch.int32 if row_offset * (width + 1) < 2**31 else torch.long
        rows_lo, rows_hi, cols_lo, cols_hi, areas = (
            torch.cat(part).to(index_type) if part else torch.zeros(0, dtype=index_type, device=device)
            for part in parts
        )
        areas = areas.to(torch.float32)[:, None]
        return cls(height, width, tuple(scales), tuple(shapes), rows_lo, rows_hi, cols_lo, cols_hi, areas)


class _SummedArea:
    """Summed-area table of one RGB frame: area-resampled images come out as float32 0..255, (N, 3, h, w)."""

    def __init__(self, rgb: np.ndarray, device: torch.device) -> None:
        self.height, self.width = rgb.shape[:2]
        # int32 sums are exact and fastest; float64 stays exact far beyond int32's range.
        depth = cv2.CV_32S if self.height * self.width <= _INT32_TABLE_MAX_PIXELS else cv2.CV_64F
        self.table = torch.from_numpy(cv2.integral(rgb, sdepth=depth)).to(device)  # (H+1, W+1, 3)

    def pyramid(self, plan: _PyramidPlan) -> list[torch.Tensor]:
        """All pyramid levels, separably: one row gather for all levels, then one column gather.

        Levels come out channels-last (a view of HWC memory), the layout oneDNN's convolutions want.
        """
        rows = self.table.index_select(0, plan.rows_hi) - self.table.index_select(0, plan.rows_lo)
        flat = rows.view(-1, 3)
        sums = flat.index_select(0, plan.cols_hi) - flat.index_select(0, plan.cols_lo)
        means = (sums / plan.areas).to(torch.float32)
        levels = means.split([h * w for h, w in plan.shapes])
        return [level.view(1, h, w, 3).permute(0, 3, 1, 2) for level, (h, w) in zip(levels, plan.shapes, strict=True)]

    def crops(self, x0: torch.Tensor, y0: torch.Tensor, x1: torch.Tensor, y1: torch.Tensor, size: int) -> torch.Tensor:
        """Integer crops [y0, y1) x [x0, x1) inside the frame, each resized to size x size: four gathers."""
        r0, r1 = _area_windows(y0, y1 - y0, size)
        c0, c1 = _area_windows(x0, x1 - x0, size)
        stride = self.width + 1
        flat = self.table.view(-1, 3)

        def corner(rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
            return flat.index_select(0, (rows[:, :, None] * stride + cols[:, None, :]).view(-1))

        sums = corner(r1, c1) - corner(r0, c1) - corner(r1, c0) + corner(r0, c0)
        areas = ((r1 - r0)[:, :, None] * (c1 - c0)[:, None, :]).to(torch.float32)
        return (sums.view(-1, size, size, 3) / areas[..., None]).to(torch.float32).permute(0, 3, 1, 2)


def _fold_input_normalisation(conv: nn.Conv2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights of `conv` taking raw 0..255 pixels instead of (x - 127.5) / 128 (exact: no padding)."""
    weight = conv.weight.detach() * _PIXEL_SCALE
    bias = conv.bias.detach() - _PIXEL_MEAN * weight.sum(dim=(1, 2, 3))
    return weight, bias


class _FastPNet:
    """P-Net's pretrained weights re-laid out for speed; computes the same function.

    conv1 gets zero filters up to 16 channels (one AVX-512 vector: channels-last PReLU runs ~3x and
    max-pool ~1.5x faster than at 10), the input normalisation is folded into conv1, and of the two
    heads only the face-vs-background logit difference is computed densely: box offsets are computed
    only at the few cells that pass the threshold. Together ~25% off P-Net's time.
    """

    def __init__(self, net: PNet, device: torch.device) -> None:
        width = 16
        weight, bias = _fold_input_normalisation(net.conv1)
        used = torch.arange(len(bias))
        w1 = torch.zeros((width, *weight.shape[1:])).index_copy_(0, used, weight)
        b1 = torch.zeros(width).index_copy_(0, used, bias)
        a1 = torch.ones(width).index_copy_(0, used, net.prelu1.weight.detach())
        w2 = net.conv2.weight.detach()
        w2 = torch.zeros((w2.shape[0], width, *w2.shape[2:])).index_copy_(1, used, w2)

        def place(t: torch.Tensor) -> torch.Tensor:
            layout = torch.channels_last if t.ndim == 4 else torch.contiguous_format
            return t.detach().to(device).contiguous(memory_format=layout)

        self.layers = [
            tuple(place(t) for t in layer)
            for layer in (
                (w1, b1, a1),
                (w2, net.conv2.bias, net.prelu2.weight),
                (net.conv3.weight, net.conv3.bias, net.prelu3.weight),
            )
        ]
        face = net.conv4_1
        self.face_weight = place((face.weight[1] - face.weight[0])[None])
        self.face_bias = place((face.bias[1] - face.bias[0])[None])
        self.offset_weight = place(net.conv4_2.weight[:, :, 0, 0].T)
        self.offset_bias = place(net.conv4_2.bias)

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(1, 3, h, w) raw pixels -> face probability map (h', w') and the (32, h', w') features."""
        (w1, b1, a1), (w2, b2, a2), (w3, b3, a3) = self.layers
        x = F.max_pool2d(F.prelu(F.conv2d(image, w1, b1), a1), 2, 2, ceil_mode=True)
        x = F.prelu(F.conv2d(x, w2, b2), a2)
        x = F.prelu(F.conv2d(x, w3, b3), a3)
        return torch.sigmoid(F.conv2d(x, self.face_weight, self.face_bias))[0, 0], x[0]

    def offsets(self, features: torch.Tensor) -> torch.Tensor:
        """Box offsets (K, 4) from the (32, K) features of the cells that passed."""
        return torch.addmm(self.offset_bias, features.T, self.offset_weight)


def _square(boxes: torch.Tensor) -> torch.Tensor:
    """Grow each box to a square about its centre: R-Net and O-Net were trained on square crops."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = torch.maximum(w, h)
    x1 = boxes[:, 0] + (w - side) * 0.5
    y1 = boxes[:, 1] + (h - side) * 0.5
    return torch.stack([x1, y1, x1 + side, y1 + side], dim=1)


def _refine(boxes: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Apply R-Net/O-Net box regression (offsets relative to the inclusive box size)."""
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    return boxes + offsets * torch.stack([w, h, w, h], dim=1)


def _nms_min(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy NMS with overlap = intersection over the smaller box: drops a box nested in a better one.

    Exact score ties (common: the softmax saturates at 1) go the way facenet-pytorch's argsort sends them.
    """
    order = np.argsort(scores)[::-1]
    b = boxes[order].astype(np.float64)
    area = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    iw = np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0]) + 1
    ih = np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1]) + 1
    overlap = np.clip(iw, 0, None) * np.clip(ih, 0, None) / np.minimum(area[:, None], area[None, :])
    alive = np.ones(len(b), dtype=bool)
    for i in range(len(b)):  # sequential by nature; N is the handful of O-Net survivors
        if alive[i]:
            alive[i + 1 :] &= overlap[i, i + 1 :] <= threshold
    return order[alive]


class MtcnnCascade:
    """MTCNN face detector: facenet-pytorch's networks and thresholds, same faces, several times faster."""

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
        self.pnet = _FastPNet(PNet().eval(), self.device)
        self.rnet = RNet().eval()
        self.onet = ONet().eval()
        with torch.no_grad():
            for net in (self.rnet, self.onet):
                net.conv1.weight[:], net.conv1.bias[:] = _fold_input_normalisation(net.conv1)
                # channels-last, like our crops: on CPU R-Net and O-Net run ~4x faster than in NCHW
                net.to(self.device, memory_format=torch.channels_last)
        self._last_plan: _PyramidPlan | None = None

    def _plan(self, height: int, width: int) -> _PyramidPlan:
        """The last frame size's plan is kept: a webcam sends one size; photo imports rarely repeat one."""
        plan = self._last_plan
        if plan is None or (plan.height, plan.width) != (height, width):
            plan = _PyramidPlan.build(height, width, self.min_face_size, self.factor, self.device)
            self._last_plan = plan
        return plan

    def _proposals(self, frame: _SummedArea) -> torch.Tensor:
        """Stage 1: P-Net over the pyramid, NMS per level then across levels; squared (N, 4) boxes."""
        plan = self._plan(frame.height, frame.width)
        if not plan.scales:  # frame smaller than the smallest face
            return torch.zeros((0, 4), device=self.device)
        found, levels = [], []
        for level, (scale, image) in enumerate(zip(plan.scales, frame.pyramid(plan), strict=True)):
            face, features = self.pnet(image)
            ys, xs = torch.nonzero(face >= self.thresholds[0], as_tuple=True)
            cells = torch.stack([xs, ys], dim=1).to(torch.float32) * _PNET_STRIDE
            corners = torch.cat([torch.floor((cells + 1) / scale), torch.floor((cells + _PNET_CELL) / scale)], dim=1)
            found.append(torch.cat([corners, face[ys, xs, None], self.pnet.offsets(features[:, ys, xs])], dim=1))
            levels.append(torch.full((len(ys),), level, device=self.device))
        cand = torch.cat(found)
        cand = cand[batched_nms(cand[:, :4], cand[:, 4], torch.cat(levels), _NMS_PER_LEVEL)]
        cand = cand[nms(cand[:, :4], cand[:, 4], _NMS_PYRAMID)]
        w = cand[:, 2] - cand[:, 0]
        h = cand[:, 3] - cand[:, 1]
        return _square(cand[:, :4] + cand[:, 5:9] * torch.stack([w, h, w, h], dim=1))

    @staticmethod
    def _crops(frame: _SummedArea, boxes: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """size x size crops of the boxes clipped to the frame (as MTCNN does), and which boxes had any."""
        x0 = boxes[:, 0].trunc().long().clamp(min=1) - 1
        y0 = boxes[:, 1].trunc().long().clamp(min=1) - 1
        x1 = boxes[:, 2].trunc().long().clamp(max=frame.width)
        y1 = boxes[:, 3].trunc().long().clamp(max=frame.height)
        keep = (x1 > x0) & (y1 > y0)
        return frame.crops(x0[keep], y0[keep], x1[keep], y1[keep], size), keep

    def _refine_stage(self, frame: _SummedArea, boxes: torch.Tensor) -> torch.Tensor:
        """Stage 2: R-Net rescoring, NMS, regression; squared (N, 4) boxes."""
        crops, keep = self._crops(frame, boxes, _RNET_SIZE)
        offsets, prob = self.rnet(crops)
        passed = prob[:, 1] > self.thresholds[1]
        boxes, offsets, score = boxes[keep][passed], offsets[passed], prob[passed, 1]
        pick = nms(boxes, score, _NMS_RNET)
        return _square(_refine(boxes[pick], offsets[pick]))

    def _output_stage(self, frame: _SummedArea, boxes: torch.Tensor) -> CascadeResult:
        """Stage 3: O-Net score, landmarks and regression, then the final 'Min' NMS."""
        crops, keep = self._crops(frame, boxes, _ONET_SIZE)
        offsets, points, prob = self.onet(crops)
        passed = prob[:, 1] > self.thresholds[2]
        boxes, offsets, points, score = boxes[keep][passed], offsets[passed], points[passed], prob[passed, 1]
        size = (boxes[:, 2:4] - boxes[:, 0:2] + 1)[:, None, :]
        marks = torch.stack([points[:, :5], points[:, 5:]], dim=2) * size + boxes[:, None, 0:2] - 1
        boxes_np = _refine(boxes, offsets).cpu().numpy()
        score_np = score.cpu().numpy()
        pick = _nms_min(boxes_np, score_np, _NMS_FINAL_MIN)
        return CascadeResult(
            boxes=np.ascontiguousarray(boxes_np[pick], dtype=np.float32),
            scores=np.ascontiguousarray(score_np[pick], dtype=np.float32),
            landmarks=np.ascontiguousarray(marks.cpu().numpy()[pick], dtype=np.float32),
        )

    @torch.inference_mode()
    def detect(self, rgb: np.ndarray) -> CascadeResult:
        """Faces in an HxWx3 uint8 RGB image, best score first (N may be 0)."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB image, got {rgb.dtype} {rgb.shape}")
        frame = _SummedArea(np.ascontiguousarray(rgb), self.device)
        boxes = self._proposals(frame)
        if len(boxes) > 0:
            boxes = self._refine_stage(frame, boxes)
        if len(boxes) == 0:
            return _empty_result()
        return self._output_stage(frame, boxes)
