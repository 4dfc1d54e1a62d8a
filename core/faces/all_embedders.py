"""One face embedded by every installed face model, so enrolment can keep a sample per model.

Why: distances of different models are never compared, so a sample serves only the model that
made it. Embedding an enrolled face with every installed model as well (a few milliseconds each,
once per sample) lets WEBTUBE_EMBEDDER change later without anyone enrolling again. A model counts
as installed when it loads from local files alone: dlib always (its weights ship in a dependency),
SFace when its weights package is installed with the published hash, FaceNet only when its weights
file is in the weights folder (loading it without the file would try to download it).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from core.faces.embedders import Embedder, chip_aligner, load_embedder
from core.faces.engine import FaceEngine
from core.faces.errors import ModelUnavailable
from core.faces.facenet_embedder import WEIGHTS_FILE as FACENET_WEIGHTS
from core.faces.types import Face

MODELS = ("dlib", "sface", "facenet")


@lru_cache(maxsize=len(MODELS))
def _installed(name: str, device: torch.device, weights_dir: Path) -> Embedder | None:
    """The named model loaded once per process, or None when its weights are not installed here."""
    if name == "facenet" and not (weights_dir / FACENET_WEIGHTS).is_file():
        return None
    try:
        return load_embedder(name, device, weights_dir)
    except ModelUnavailable:
        return None


def other_embedders(engine: FaceEngine) -> list[Embedder]:
    """Every installed model other than the engine's own, in MODELS order."""
    candidates = (_installed(name, engine.device, engine.settings.weights_dir)
                  for name in MODELS if name != engine.settings.embedder)
    return [embedder for embedder in candidates if embedder is not None]


def embeddings_by_model(engine: FaceEngine, rgb: np.ndarray, face: Face) -> dict[str, np.ndarray]:
    """The face's vector from every installed model, the engine's own first, each on the chip its model wants."""
    if face.embedding is None:
        raise ValueError("the face has not been embedded by the engine")
    vectors = {engine.settings.embedder: face.embedding.astype(np.float32)}
    for embedder in other_embedders(engine):
        chip = chip_aligner(embedder.name, engine.settings.detector)(rgb, face.detection)
        vectors[embedder.name] = embedder.embed(chip[None])[0].astype(np.float32)
    return vectors
