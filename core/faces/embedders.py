"""Choosing the embedder: loading it on a device, and how it wants its chips cut.

Each embedder's calibrated thresholds live apart, in core/faces/thresholds.py, so that the code that only
compares distances (the studio's people, search and clusters, their command line) never imports torch.
"""

from __future__ import annotations

from collections.abc import Callable
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
