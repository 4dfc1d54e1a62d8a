"""Non-maximum suppression: torchvision's compiled kernel, loaded without importing torchvision.

Importing torchvision brings in torch._dynamo (about 3 s of CPU per process); its C++ library registers
`torch.ops.torchvision.nms` on its own, the same kernel `torchvision.ops.nms` calls.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import torch

from core.faces.errors import ModelUnavailable


@cache
def _kernel() -> object:
    spec = importlib.util.find_spec("torchvision")
    libraries = sorted(Path(spec.submodule_search_locations[0]).glob("_C*.so")) if spec else []
    if not libraries:
        raise ModelUnavailable("torchvision's compiled library is missing: install torchvision.")
    torch.ops.load_library(str(libraries[0]))
    return torch.ops.torchvision.nms


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Indices of the boxes kept, best score first."""
    return _kernel()(boxes, scores, iou_threshold)


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, groups: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """NMS within each group only: each group's boxes are moved apart so that no two groups overlap."""
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    apart = groups.to(boxes) * (boxes.max() + 1)
    return nms(boxes + apart[:, None], scores, iou_threshold)
