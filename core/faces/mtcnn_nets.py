"""MTCNN's three networks, laid out as facenet-pytorch saves them, filled from the weights its wheel ships.

Why not import them from facenet-pytorch: its package imports torchvision, whose import brings in
torch._dynamo, about 3 s of CPU in every process that detects a face (each app server, worker and command).
The layers and their names follow the saved state dicts (loaded strictly, so a different file is refused);
the weights are read from the installed package's data folder without importing it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from torch import nn

from core.faces.errors import ModelUnavailable


def _weights(name: str) -> dict[str, torch.Tensor]:
    spec = importlib.util.find_spec("facenet_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("The MTCNN face detector's weights are missing: install facenet-pytorch.")
    path = Path(spec.submodule_search_locations[0]) / "data" / f"{name}.pt"
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as exc:
        raise ModelUnavailable(f"Cannot read the MTCNN weights {path}: {exc}.") from exc


def _conv(inputs: int, outputs: int, kernel: int) -> tuple[nn.Conv2d, nn.PReLU]:
    return nn.Conv2d(inputs, outputs, kernel_size=kernel), nn.PReLU(outputs)


class PNet(nn.Module):
    """The proposal network's weights; `mtcnn._FastPNet` computes it from them, re-laid out."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = _conv(3, 10, 3)
        self.conv2, self.prelu2 = _conv(10, 16, 3)
        self.conv3, self.prelu3 = _conv(16, 32, 3)
        self.conv4_1 = nn.Conv2d(32, 2, kernel_size=1)  # face / background
        self.conv4_2 = nn.Conv2d(32, 4, kernel_size=1)  # box offsets
        self.load_state_dict(_weights("pnet"))


class RNet(nn.Module):
    """The refinement network on 24x24 crops: (box offsets, face probabilities)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = _conv(3, 28, 3)
        self.conv2, self.prelu2 = _conv(28, 48, 3)
        self.conv3, self.prelu3 = _conv(48, 64, 2)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)
        self.load_state_dict(_weights("rnet"))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = nn.functional.max_pool2d(self.prelu1(self.conv1(x)), 3, 2, ceil_mode=True)
        x = nn.functional.max_pool2d(self.prelu2(self.conv2(x)), 3, 2, ceil_mode=True)
        x = self.prelu3(self.conv3(x))
        x = self.prelu4(self.dense4(_flatten_as_trained(x)))
        return self.dense5_2(x), torch.softmax(self.dense5_1(x), dim=1)


class ONet(nn.Module):
    """The output network on 48x48 crops: (box offsets, five landmarks, face probabilities)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = _conv(3, 32, 3)
        self.conv2, self.prelu2 = _conv(32, 64, 3)
        self.conv3, self.prelu3 = _conv(64, 64, 3)
        self.conv4, self.prelu4 = _conv(64, 128, 2)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)
        self.load_state_dict(_weights("onet"))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = nn.functional.max_pool2d(self.prelu1(self.conv1(x)), 3, 2, ceil_mode=True)
        x = nn.functional.max_pool2d(self.prelu2(self.conv2(x)), 3, 2, ceil_mode=True)
        x = nn.functional.max_pool2d(self.prelu3(self.conv3(x)), 2, 2, ceil_mode=True)
        x = self.prelu5(self.dense5(_flatten_as_trained(self.prelu4(self.conv4(x)))))
        return self.dense6_2(x), self.dense6_3(x), torch.softmax(self.dense6_1(x), dim=1)


def _flatten_as_trained(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) to (N, W*H*C) in the order the dense layers were trained on (ported from Caffe)."""
    return x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)
