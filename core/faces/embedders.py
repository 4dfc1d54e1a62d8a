"""Choosing the embedder, and the thresholds calibrated for each one.

Thresholds belong to an embedder: distances from different models are not comparable. The
defaults below were calibrated on labelled pairs (see README, "Face matching thresholds");
WEBTUBE_VERIFY_THRESHOLD, WEBTUBE_SIGNIN_THRESHOLD and WEBTUBE_SIGNIN_MARGIN override them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from core.faces.types import Detection


class Embedder(Protocol):
    """Aligned chips in, one vector per chip out."""

    name: str
    dim: int
    chip_size: int

    def embed(self, chips: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Thresholds:
    """Euclidean distance limits: verify decides "same person", sign-in is stricter, and a sign-in winner
    must be `margin` closer than the runner-up account (in the model's own distance units)."""

    verify: float
    signin: float
    margin: float


# Margins: dlib's 0.08 scaled by each model's verify threshold (its distances' scale). On the people photos,
# leave-one-out 1:N, every correct identification wins by 0.186 or more with dlib and 0.414 or more with SFace.
CALIBRATED = {
    "dlib": Thresholds(verify=0.6, signin=0.5, margin=0.08),
    "facenet": Thresholds(verify=1.0, signin=0.85, margin=0.13),
    # Unit vectors: distance sqrt(2 - 2 cos). The Zoo's cosine 0.363 is distance 1.129.
    "sface": Thresholds(verify=1.129, signin=0.85, margin=0.15),
}


def resolve_device(choice: str) -> torch.device:
    """`auto` takes CUDA when present; asking for CUDA without it falls back to CPU, never crashes."""
    if choice in {"auto", "cuda"} and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def load_embedder(name: str, device: torch.device, weights_dir: Path) -> Embedder:
    """Instantiate the named embedder on `device`; raises ModelUnavailable when weights are missing."""
    if name == "facenet":
        from core.faces.facenet_embedder import FacenetEmbedder

        return FacenetEmbedder(device=device, weights_dir=weights_dir)
    if name == "sface":
        from core.faces.sface_embedder import SfaceEmbedder

        return SfaceEmbedder(device=device, weights_dir=weights_dir)
    from core.faces.dlib_resnet import DlibEmbedder

    return DlibEmbedder(device=device, weights_dir=weights_dir)


def chip_aligner(name: str, detector: str = "mtcnn") -> Callable[[np.ndarray, Detection], np.ndarray]:
    """How the named embedder wants its chips cut: SFace on the ArcFace template, the others as dlib cuts them
    from the `detector`'s box mapped to dlib's.

    Chosen from the names alone, so detecting and judging faces never loads the embedder's weights.
    """
    if name == "sface":
        from core.faces.sface_embedder import arcface_chip

        return arcface_chip
    from core.faces.alignment import align_face

    size = 160 if name == "facenet" else 150
    return lambda rgb, detection: align_face(rgb, detection.box, size, detector)
